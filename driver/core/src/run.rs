//! Running a compiled project: each task (a materialized view or an output) executes its
//! P2 plan and writes one Delta table in one commit, through the task executor
//! (`execute::executor`) and its Delta sink (`execute::delta_sink`). This file is what a
//! *run* adds to executing, as functions of a [`Snapshot`]: which tasks are up to date,
//! the run state, the write confinement, contracts, pushdown audits and expectations. The
//! loop itself, which binds each written materialization for its readers between tasks, is
//! the host's (`compiler/run_loop.rs`).
//!
//! ## Invariants
//! - Those of `execute`: one commit or none per task, readers after what they read, a
//!   failed task skips its readers only, reports in task order, a panic fails its task.
//! - One run per project at a time (`run_lock`): a second one stops before it reads the run
//!   state or writes anything.
//! - The run state is saved before the first commit (the run marked in progress) and right
//!   after each task's commit is recorded; every commit carries the run's number as a Delta
//!   application transaction. A run killed between two commits is resumed by the next one:
//!   no append is written twice, even if the kill came between a commit and the save (see
//!   `run_state`). A failed save is an error of the run (`V0903`, [`RunError`]).
//! - A concurrent writer's commit makes the task fail (`V0902`, `TaskError::CommitConflict`),
//!   committing nothing, instead of landing on top of it.
//!
//! A materialized view's readers scan the table its task just wrote: after the task, the
//! host binds the view's `materialized_table` input to that Delta version, so readers
//! are re-planned against the real table (and only they are).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use datafusion::execution::session_state::SessionState;
use deltalake::DeltaTable;
use viewdag_ir::selection::SelectedUnits;
use viewdag_ir::{OutputSpec, ProjectInput, ProviderIdentity, PushdownPolicy, SurfaceInput, WriteMode};
use viewdag_lower::reads_the_clock;
use viewdag_optimize::pushdown::{ExactClaim, exact_claims};
use viewdag_optimize::{optimized_view, resolved_optimizer_pipeline, task_digest, task_shape_digest};
use viewdag_schedule::{Task, TaskId, TaskKind, reads_through_ephemeral_views};
use viewdag_surface::planning_session;
use viewdag_validate::checks::contract::check_output;

use crate::compiler::{CompileResponse, ViewStatus};
use crate::confinement::WriteConfinement;
use crate::engine::{EngineFactory, EngineUnavailable, LocalEngines, TaskEngine, TaskPlan, TaskPlanning};
pub use crate::execute::AuditSummary;
use crate::execute::merge::{MergeCounts, TableWrite};
use crate::execute::pushdown_audit::audit_claims;
use crate::execute::{DeltaSink, RunError, TaskChecks, TaskError, TaskEvent, WrittenBy, WrittenTable};
use crate::expect::exec::ExpectationTally;
use crate::expect::{CompiledExpectations, ExpectationResult};
use crate::refresh::prepare::{PreparedRefresh, increment_write_of};
use crate::refresh::{RefreshPath, RefreshSummary};
use crate::run_state::{APP_ID, RunState, TaskFingerprint};
use crate::snapshot::Snapshot;
use crate::storage::{StoreOptions, TableLocation};

/// How a task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskOutcome {
    /// The task committed its table.
    Written {
        /// Rows the commit added.
        rows: usize,
        /// The Delta version committed.
        version: i64,
    },
    /// Not run: the task's table is still at the version it wrote last time from the same
    /// plan and inputs (see `run_state`).
    UpToDate {
        /// The table's version.
        version: i64,
    },
    /// Nothing of the task was committed; `error.code()` is its diagnostic code, if any.
    Failed {
        /// Why.
        error: TaskError,
    },
    /// Not run: a task it reads did not complete, or its source has errors.
    Skipped {
        /// Why.
        reason: String,
    },
}

impl TaskOutcome {
    /// Whether the task's table holds its current result (written now, or up to date).
    pub fn is_done(&self) -> bool {
        matches!(self, TaskOutcome::Written { .. } | TaskOutcome::UpToDate { .. })
    }
}

/// One task's part of a run.
#[derive(Debug, Clone)]
pub struct TaskReport {
    /// The task's id (`output:NAME` or `view:NAME`).
    pub id: TaskId,
    /// The view it executes.
    pub view: String,
    /// The Delta table's location relative to the spec's directory, or its URL.
    pub target: String,
    /// How it ended.
    pub outcome: TaskOutcome,
    /// How long it took, from start to commit (zero when it did not run).
    pub elapsed: Duration,
    /// The audit of the providers' `Exact` pushdown claims this task's plan relies on.
    pub audits: AuditSummary,
    /// What each of the task's expectations found (empty when it has none or did not run).
    pub expectations: Vec<ExpectationResult>,
    /// For a `merge` output that merged: rows inserted, updated and deleted.
    pub merged: Option<MergeCounts>,
    /// For a task that wrote its table: who wrote the data files (the driver from streamed
    /// rows, or the engine where the rows were computed).
    pub written_by: Option<WrittenBy>,
    /// For a task that executed: whether it was refreshed incrementally (from which appended
    /// files) or fully (and why).
    pub refresh: Option<RefreshSummary>,
    /// Whether its commit replaced the table's columns (an overwrite whose columns changed).
    pub schema_replaced: bool,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The check the run started with (its diagnostics).
    pub compile: CompileResponse,
    /// One report per task, in task order.
    pub tasks: Vec<TaskReport>,
    /// The ids of the tasks that were planned (P0 → P2): those that were not up to date.
    /// An unchanged project plans nothing.
    pub planned: Vec<TaskId>,
    /// Problems of the run itself that wrote nothing wrong, e.g. a materialized view left
    /// out of `--select` that has no table yet (its readers were skipped).
    pub warnings: Vec<String>,
    /// Errors of the run itself, not of one task: a run state that could not be saved after
    /// a commit (`V0903`). The commits stand; the run did not succeed.
    pub errors: Vec<RunError>,
}

impl RunReport {
    /// No spec error, no run error, and every task done (written or up to date).
    pub fn succeeded(&self) -> bool {
        !self.compile.has_errors() && self.errors.is_empty() && self.tasks.iter().all(|task| task.outcome.is_done())
    }
}

/// Progress of a run, reported as it happens (see [`TaskEvent`]).
pub type Progress<'a> = TaskEvent<'a, TaskReport>;

/// How a run executes its tasks.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How many tasks execute at once (at least 1). Each task's plan is itself parallel
    /// (DataFusion partitions), so this bounds concurrent tasks, not threads.
    pub jobs: usize,
    /// Run every task, even those whose tables are up to date (fully).
    pub force: bool,
    /// Refresh fully every task that runs, even one whose change could be derived
    /// (`run --full-refresh`).
    pub full_refresh: bool,
    /// Run only the selected tasks (`run --select`): the materializations of the views
    /// selected themselves and the outputs selected; the others' existing tables are read.
    /// `None`: every task.
    pub selection: Option<SelectedUnits>,
    /// Where task plans execute; `None` follows the spec's `profile.engine` through
    /// `engines` (default: local).
    pub engine: Option<Arc<dyn TaskEngine>>,
    /// The engines `profile.engine` may name ([`LocalEngines`]: `local` only).
    pub engines: Arc<dyn EngineFactory>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            jobs: std::thread::available_parallelism().map(usize::from).unwrap_or(1),
            force: false,
            full_refresh: false,
            selection: None,
            engine: None,
            engines: Arc::new(LocalEngines),
        }
    }
}

/// A task's execution, finished: its table written, and what the audits found.
pub(crate) struct Executed {
    pub(crate) written: WrittenTable,
    pub(crate) audits: AuditSummary,
}

/// A task whose plan is ready to execute: everything the spawned execution needs.
pub(crate) struct PreparedTask {
    pub(crate) plan: TaskPlan,
    pub(crate) state: Arc<SessionState>,
    pub(crate) write: TableWrite,
    /// The task's expectations, checked while its rows stream (see `expect`).
    pub(crate) expectations: Arc<CompiledExpectations>,
    pub(crate) tally: ExpectationTally,
    /// The `Exact` claims to audit before executing (none under the `off` policy).
    pub(crate) claims: Vec<ExactClaim>,
    pub(crate) policy: PushdownPolicy,
    /// Whether it refreshes incrementally, and from what (or fully, and why).
    pub(crate) refresh: RefreshSummary,
    /// Where the table is, and its store's options.
    pub(crate) target: TableLocation,
    pub(crate) options: StoreOptions,
}

/// A task decided to execute: what its record will say once it writes, and how it refreshes.
pub(crate) struct ReadyTask {
    pub(crate) fingerprint: String,
    pub(crate) shape: String,
    pub(crate) reads: BTreeMap<String, ProviderIdentity>,
    pub(crate) path: RefreshPath,
}

impl Snapshot<'_> {
    pub(crate) fn task_report(&self, task: &Task, outcome: TaskOutcome, audits: AuditSummary, elapsed: Duration) -> TaskReport {
        TaskReport {
            id: task.id.clone(),
            view: task.view.clone(),
            target: self.task_target_text(task),
            outcome,
            elapsed,
            audits,
            expectations: Vec::new(),
            merged: None,
            written_by: None,
            refresh: None,
            schema_replaced: false,
        }
    }

    /// The resolved roots this run may write into and the sources it may not write.
    pub(crate) fn write_confinement(&self) -> WriteConfinement {
        let project = ProjectInput::get(self.db);
        let sources: Vec<(String, String)> = project
            .sources(self.db)
            .iter()
            .filter_map(|source| Some((source.name(self.db).clone(), source.declaration(self.db).as_ref()?.path.clone())))
            .collect();
        WriteConfinement::new(self.root, &project.profile(self.db).paths.allow, &sources)
    }

    fn output_spec(&self, output: &str) -> Option<&OutputSpec> {
        self.outputs.iter().find(|(name, _)| name == output).map(|(_, spec)| spec)
    }

    /// Why a task cannot run, if it cannot.
    pub(crate) fn blocker(&self, compile: &CompileResponse, task: &Task, failed_read: Option<&TaskId>) -> Option<String> {
        match compile.view(&task.view).map(|view| &view.status) {
            Some(status) if status.is_valid() => {}
            Some(ViewStatus::Blocked { upstream }) => return Some(format!("view `{}` is blocked by errors in `{upstream}`", task.view)),
            _ => return Some(format!("view `{}` has errors", task.view)),
        }
        // The profile decides how every task is planned: with an error in it (a number out of
        // range, `V0008`) nothing runs on settings the spec did not ask for.
        let is_error_in = |section: viewdag_ir::Section, entry: Option<&str>, field: Option<&str>| {
            compile.diagnostics.iter().any(|diagnostic| {
                diagnostic.is_error()
                    && diagnostic.location.section == section
                    && entry.is_none_or(|entry| diagnostic.location.entry.as_deref() == Some(entry))
                    && field.is_none_or(|field| diagnostic.location.field.0.first().map(String::as_str) == Some(field))
            })
        };
        if is_error_in(viewdag_ir::Section::Profile, None, None) {
            return Some("the spec's `profile` has errors; nothing was written".to_string());
        }
        // Expectations that do not compile (`V0701`, `V0704`, `V0705`, …) would fail the task
        // after planning it; `check` has said where.
        if is_error_in(viewdag_ir::Section::Views, Some(&task.view), Some("expect")) {
            return Some(format!("view `{}` has errors in its expectations; nothing was written", task.view));
        }
        // A source with an error (e.g. a CSV header that disagrees with its declared schema)
        // loads, so its readers validate; they must not run on it.
        let materialized = |name: &str| self.is_materialized(name);
        let broken_source = reads_through_ephemeral_views(&self.structure().dag, &task.view, &materialized).into_iter().find(|name| {
            compile.diagnostics.iter().any(|diagnostic| {
                diagnostic.is_error()
                    && diagnostic.location.section == viewdag_ir::Section::Sources
                    && diagnostic.location.entry.as_deref() == Some(name.as_str())
            })
        });
        if let Some(source) = broken_source {
            return Some(format!("source `{source}` has errors; nothing was written"));
        }
        if let Some(setting) = self.broken_storage_setting(compile, task) {
            return Some(format!("`profile.{setting}` has errors; nothing was written"));
        }
        if let TaskKind::Output { output } = &task.kind {
            let has_contract_error = compile.diagnostics.iter().any(|diagnostic| {
                diagnostic.is_error()
                    && diagnostic.location.entry.as_deref() == Some(output.as_str())
                    && diagnostic.location.section == viewdag_ir::Section::Outputs
            });
            if has_contract_error {
                return Some(format!("output `{output}` has errors (its contract, partitioning or path); nothing was written"));
            }
        }
        failed_read.map(|read| format!("upstream task `{read}` did not complete"))
    }

    /// The profile setting with an error that decides where `task` writes, if there is one:
    /// `tables` for a materialized view (an unusable or conflicting `profile.tables`),
    /// `storage` for any task writing to an object store (an option that cannot be used).
    fn broken_storage_setting(&self, compile: &CompileResponse, task: &Task) -> Option<&'static str> {
        let writes_object_store = self.task_target(task).storage_url().is_some();
        let settings: &[&'static str] = match (&task.kind, writes_object_store) {
            (TaskKind::Materialize, true) => &["tables", "storage"],
            (TaskKind::Materialize, false) => &["tables"],
            (TaskKind::Output { .. }, true) => &["storage"],
            (TaskKind::Output { .. }, false) => &[],
        };
        settings.iter().copied().find(|setting| {
            compile.diagnostics.iter().any(|diagnostic| {
                diagnostic.is_error()
                    && diagnostic.location.section == viewdag_ir::Section::Profile
                    && diagnostic.location.field.0.first().is_some_and(|field| field == setting)
            })
        })
    }

    /// How a task writes its table.
    pub(crate) fn task_write_mode(&self, task: &Task) -> WriteMode {
        match &task.kind {
            TaskKind::Materialize => WriteMode::Overwrite,
            TaskKind::Output { output } => self.output_spec(output).map(|spec| spec.mode).unwrap_or(WriteMode::Overwrite),
        }
    }

    /// What produces a task's table, without planning it (see [`TaskFingerprint`]): the
    /// task digest (the view's Merkle definition digest and the optimizer pipeline), how the
    /// table is written and, for an output, its expectations (a view's are in its definition
    /// digest already).
    pub(crate) fn task_fingerprint(&self, task: &Task) -> Option<String> {
        let view = self.view_input(&task.view)?;
        self.fingerprint_over(task, task_digest(self.db, view).as_ref().ok()?)
    }

    /// The task's fingerprint over its *shape* digest (`viewdag_optimize::task_shape_digest`:
    /// no source's data version): an incremental refresh requires it unchanged.
    pub(crate) fn task_shape(&self, task: &Task) -> Option<String> {
        let view = self.view_input(&task.view)?;
        self.fingerprint_over(task, task_shape_digest(self.db, view).as_ref().ok()?)
    }

    /// `digest` with how the task's table is written and, for an output, its expectations.
    fn fingerprint_over(&self, task: &Task, digest: &str) -> Option<String> {
        let (write, output_expectations) = match &task.kind {
            TaskKind::Materialize => (TableWrite::materialized(), None),
            TaskKind::Output { output } => {
                let spec = self.output_spec(output)?;
                (TableWrite::of_output(spec), spec.expect.as_ref())
            }
        };
        Some(TaskFingerprint { task_digest: digest, write: &write, output_expectations }.canonical_text())
    }

    /// Plans a task on this thread, once, by its engine (the local engine takes the compiled
    /// P2), then its output contract, expectations and how it writes. The plan's warnings
    /// (and errors) are added to `diagnostics`.
    pub(crate) fn prepare_task(
        &self,
        task: &Task,
        ready: &ReadyTask,
        engine: &Result<Arc<dyn TaskEngine>, EngineUnavailable>,
        started_at: chrono::DateTime<chrono::Utc>,
        diagnostics: &mut Vec<viewdag_ir::Diagnostic>,
    ) -> Result<PreparedTask, TaskError> {
        let engine = engine.as_ref().map_err(|unavailable| TaskError::Engine(unavailable.to_string()))?;
        // Where the table goes, before planning: a store that cannot be configured fails the
        // task without planning it.
        let target = self.task_target(task);
        let options = self.location_options(&target).map_err(TaskError::from)?;
        let view = self.view_input(&task.view).ok_or_else(|| TaskError::Planning(format!("view `{}` is gone", task.view)))?;
        let planning = TaskPlanning { db: self.db, view, task, root: self.root, storage: self.storage, started_at };
        let increment = self.prepare_increment(task, view, &ready.path, &ready.reads, diagnostics)?;
        let (plan, refresh, increment_write) = match increment {
            PreparedRefresh::Incremental { plan, apply, summary } => (TaskPlan::rows(plan), summary, Some(apply)),
            PreparedRefresh::Full(reason) => {
                if let Ok(optimized) = optimized_view(self.db, view) {
                    diagnostics.extend(optimized.diagnostics.iter().cloned());
                }
                (engine.task_plan(&planning, diagnostics)?, RefreshSummary::Full { reason: reason.to_string() }, None)
            }
        };
        let write = match &task.kind {
            TaskKind::Materialize => TableWrite::materialized(),
            TaskKind::Output { output } => {
                let spec = self.output_spec(output).expect("tasks come from the outputs").clone();
                let problems = check_output(output, &spec, plan.rows.schema().as_ref());
                if let Some(problem) = problems.iter().find(|diagnostic| diagnostic.is_error()) {
                    return Err(TaskError::Contract { code: problem.code, message: problem.message.clone() });
                }
                TableWrite::of_output(&spec)
            }
        };
        let write = match increment_write {
            Some(apply) => increment_write_of(write, apply),
            None => write,
        };
        let state = Arc::clone(&planning_session(self.db, SurfaceInput::get(self.db)).state);
        let expectations = Arc::new(
            self.task_expectations(task, &plan.rows.schema(), &state, &write.unique_key, started_at)
                .map_err(|error| TaskError::Planning(error.to_string()))?,
        );
        let policy = resolved_optimizer_pipeline(self.db, SurfaceInput::get(self.db))
            .as_ref()
            .map(|pipeline| pipeline.pushdown)
            .unwrap_or(PushdownPolicy::Warn);
        let claims = match policy {
            PushdownPolicy::Off => Vec::new(),
            PushdownPolicy::Warn | PushdownPolicy::Strict => exact_claims(&planning.optimized()?.plan)
                .map_err(|error| TaskError::Audit(format!("cannot build the pushdown audit: {}", error.strip_backtrace())))?,
        };
        let tally = ExpectationTally::default();
        Ok(PreparedTask { plan, state, write, expectations, tally, claims, policy, refresh, target, options })
    }

    /// The run's engine: `options.engine`, else the one the spec's `profile.engine` names
    /// (through `options.engines`). A profile that names an unusable engine adds a
    /// diagnostic at `profile.engine`.
    pub(crate) fn run_engine(
        &self,
        options: &RunOptions,
        diagnostics: &mut Vec<viewdag_ir::Diagnostic>,
    ) -> Result<Arc<dyn TaskEngine>, EngineUnavailable> {
        if let Some(engine) = &options.engine {
            return Ok(Arc::clone(engine));
        }
        options.engines.engine_for(&ProjectInput::get(self.db).profile(self.db).engine).inspect_err(|unavailable| {
            let location = viewdag_ir::SpecLocation::entry(viewdag_ir::Section::Profile, "engine");
            diagnostics.push(viewdag_ir::Diagnostic::new(viewdag_ir::Code::InvalidValue, location, unavailable.to_string()));
        })
    }

    /// `task`'s table when it is still at the version it last wrote from the same
    /// fingerprint (see `run_state`): the task is up to date. Never for a view whose rows
    /// depend on when it runs (`now()`, `current_date()`: `viewdag_lower::clock`).
    pub(crate) fn unchanged_table(
        &self,
        task: &Task,
        fingerprint: &str,
        reads: &BTreeMap<String, ProviderIdentity>,
        run_state: &RunState,
    ) -> Option<(DeltaTable, i64)> {
        if self.view_input(&task.view).is_none_or(|view| reads_the_clock(self.db, view)) {
            return None;
        }
        let recorded = run_state.recorded_version(&task.id, &self.task_target_text(task), fingerprint, reads)?;
        let (table, version) = self.task_table_version(task)?;
        (version == recorded).then_some((table, version))
    }

    /// `task`'s table when it carries viewdag's application transaction at `run`: the
    /// interrupted run this one resumes already committed the task.
    pub(crate) fn table_committed_by_run(&self, task: &Task, run: u64) -> Option<(DeltaTable, i64)> {
        let (table, version) = self.task_table_version(task)?;
        let runtime = Arc::clone(self.db.tokio());
        let committed = runtime.block_on(table.snapshot().ok()?.transaction_version(table.log_store().as_ref(), APP_ID)).ok()??;
        (u64::try_from(committed).ok()? == run).then_some((table, version))
    }

    /// `task`'s table at its latest version, with that version.
    fn task_table_version(&self, task: &Task) -> Option<(DeltaTable, i64)> {
        let table = self.open_task_table(task).ok()?;
        let version = table.version().and_then(|version| i64::try_from(version).ok())?;
        Some((table, version))
    }

    /// `outcome` with every credential of the environment removed from its error's messages.
    pub(crate) fn redacted(&self, outcome: TaskOutcome) -> TaskOutcome {
        match outcome {
            TaskOutcome::Failed { error } => TaskOutcome::Failed { error: error.redacted(self.storage.redactor()) },
            outcome => outcome,
        }
    }
}

/// Executes a prepared plan: audits its `Exact` claims, then writes its table — through its
/// engine's data-file writer when it has one and the table takes its files (the engine then
/// checks the task's expectations where it writes), else by streaming the rows into the
/// Delta sink, checking the expectations on the way. Runs on the runtime (the executor
/// catches its panics).
pub(crate) async fn execute_task(view: String, prepared: PreparedTask, run: u64) -> Result<Executed, TaskError> {
    let PreparedTask { plan, state, write, expectations, tally, claims, policy, refresh: _, target, options } = prepared;
    let audits = audit_claims(&view, &claims, policy, &state).await?;
    let written = DeltaSink { target, options, write, run }.write_task(plan, state, TaskChecks { expectations, tally }).await?;
    Ok(Executed { written, audits })
}
