//! Running a compiled project: each task (a materialized view or an output) executes its
//! P2 plan and writes one Delta table in one commit, through the task executor
//! (`execute::executor`) and its Delta sink (`execute::delta_sink`). This file is what a
//! *run* adds to executing: which tasks are up to date, the run state, the write
//! confinement, contracts, pushdown audits and expectations, and binding each written
//! materialization for its readers.
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
//! driver binds the view's `materialized_table` input to that Delta version, so readers
//! are re-planned against the real table (and only they are).

use std::collections::{BTreeMap, BTreeSet};
use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use datafusion::execution::session_state::SessionState;
use deltalake::DeltaTable;
use futures::FutureExt;
use salsa::Setter;
use viewdag_ir::selection::SelectedUnits;
use viewdag_ir::{OutputSpec, ProjectInput, ProviderIdentity, PushdownPolicy, SurfaceInput, WriteMode};
use viewdag_optimize::pushdown::{ExactClaim, exact_claims};
use viewdag_optimize::{optimized_view, resolved_optimizer_pipeline, task_digest, task_shape_digest};
use viewdag_schedule::{Task, TaskId, TaskKind, reads_through_ephemeral_views};
use viewdag_surface::planning_session;
use viewdag_validate::checks::contract::check_output;

use crate::compiler::{CompileRequest, CompileResponse, Compiler, Planning, ViewStatus};
use crate::confinement::{TaskTable, WriteConfinement, shared_table_refusals};
use crate::engine::{EngineFactory, EngineUnavailable, LocalEngines, TaskEngine, TaskPlan, TaskPlanning};
use crate::error::DriverError;
pub use crate::execute::AuditSummary;
use crate::execute::merge::{MergeCounts, TableWrite};
use crate::execute::pushdown_audit::audit_claims;
use crate::execute::{
    Decision, DeltaSink, RunError, Schedule, TaskChecks, TaskDriver, TaskError, TaskEvent, TaskExecution, WrittenBy, WrittenTable, execute,
};
use crate::expect::exec::ExpectationTally;
use crate::expect::{CompiledExpectations, ExpectationResult};
use crate::refresh::prepare::{PreparedRefresh, increment_write_of};
use crate::refresh::{AppliedAs, FullRefreshReason, RefreshPath, RefreshSummary, RewriteCause};
use crate::run_lock::{LockError, ProjectLock};
use crate::run_state::{APP_ID, RecordedTask, RunState, TaskFingerprint};
use crate::sources::delta_volume;
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
struct Executed {
    written: WrittenTable,
    audits: AuditSummary,
}

/// A task whose plan is ready to execute: everything the spawned execution needs.
struct PreparedTask {
    plan: TaskPlan,
    state: Arc<SessionState>,
    write: TableWrite,
    /// The task's expectations, checked while its rows stream (see `expect`).
    expectations: Arc<CompiledExpectations>,
    tally: ExpectationTally,
    /// The `Exact` claims to audit before executing (none under the `off` policy).
    claims: Vec<ExactClaim>,
    policy: PushdownPolicy,
    /// Whether it refreshes incrementally, and from what (or fully, and why).
    refresh: RefreshSummary,
    /// Where the table is, and its store's options.
    target: TableLocation,
    options: StoreOptions,
}

/// A task decided to execute: what its record will say once it writes, and how it refreshes.
struct ReadyTask {
    fingerprint: String,
    shape: String,
    reads: BTreeMap<String, ProviderIdentity>,
    path: RefreshPath,
}

impl Compiler {
    /// Compiles the spec, then runs every task whose view compiled, with default options.
    pub fn run(&mut self, request: &CompileRequest, progress: &mut dyn FnMut(Progress)) -> Result<RunReport, DriverError> {
        self.run_with(request, &RunOptions::default(), progress)
    }

    /// Compiles the spec, then runs every task whose view compiled: up to `options.jobs` at
    /// once, each as soon as the tasks it reads are done, the ready task with the longest
    /// estimated critical path first (see `viewdag_schedule`). Reports come back in task
    /// order whatever the order of completion.
    ///
    /// The salsa database is only touched on this thread: executions are spawned with their
    /// own plan and session, and a finished materialization is bound to its readers here
    /// before any of them is planned.
    pub fn run_with(
        &mut self,
        request: &CompileRequest,
        options: &RunOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<RunReport, DriverError> {
        // Validate only: a task is planned when it is about to execute, so an unchanged
        // project plans nothing.
        let mut compile = self.compile(&request.clone().with_planning(Planning::CheckOnly))?;
        let _lock = ProjectLock::acquire(&self.root).map_err(|error| match error {
            LockError::Held { .. } => DriverError::Locked(error),
            LockError::Io { path, message } => DriverError::Write { path: path.into(), source: std::io::Error::other(message) },
        })?;
        let mut run_state = RunState::load(&self.root);
        let (run, resuming) = run_state.begin_run();
        run_state.save(&self.root).map_err(DriverError::RunState)?;
        let (tasks, costs) = self.task_costs();
        // Tables that are one once symlinks are resolved: every task's that can run, selected
        // or not (a path `check` refused is its own error).
        let tables: Vec<TaskTable> = tasks
            .iter()
            .filter(|task| self.blocker(&compile, task, None).is_none())
            .filter_map(|task| match self.task_target(task) {
                TableLocation::Local(target) => {
                    Some(TaskTable { id: task.id.to_string(), target, materialized: task.kind == TaskKind::Materialize })
                }
                // An object store has no links: `check`'s lexical rule is the whole rule.
                TableLocation::Url(_) => None,
            })
            .collect();
        let shared_tables = shared_table_refusals(&self.root, &tables);
        let (tasks, unselected_failures) = self.select_tasks(tasks, options.selection.as_ref());
        let runtime = Arc::clone(self.db.tokio());
        // Where every task's table really lands (symlinks resolved), decided before anything
        // is written.
        let confinement = self.write_confinement();
        let refusals: BTreeMap<TaskId, String> = tasks
            .iter()
            .filter_map(|task| {
                let refusal = confinement.refusal(&self.task_target(task)).or_else(|| shared_tables.get(&task.id.to_string()).cloned())?;
                Some((task.id.clone(), refusal))
            })
            .collect();
        // Where plans execute: chosen once, before any task; an unusable engine fails every
        // task that would execute (up-to-date tasks stay up to date).
        let mut plan_diagnostics: Vec<viewdag_ir::Diagnostic> = Vec::new();
        let engine = self.run_engine(options, &mut plan_diagnostics);
        let schedule = Schedule { tasks: &tasks, costs: &costs, jobs: options.jobs, failed: unselected_failures.keys().cloned().collect() };
        let mut driver = RunDriver {
            compiler: self,
            compile: &compile,
            force: options.force,
            full_refresh: options.full_refresh,
            run,
            resuming,
            run_state,
            refusals,
            engine,
            rewritten: BTreeSet::new(),
            rewrote_tables: BTreeMap::new(),
            first_writes: BTreeSet::new(),
            plan_diagnostics,
            planned: Vec::new(),
            errors: Vec::new(),
            pending: BTreeMap::new(),
        };
        let reports = execute(&runtime, schedule, &mut driver, progress);
        let RunDriver { mut run_state, plan_diagnostics, planned, mut errors, .. } = driver;
        self.unbind_materialized_tables();
        run_state.complete = true;
        if let Err(cause) = run_state.save(&self.root) {
            errors.push(RunError::StateUnsavedAtEnd { cause });
        }
        if !plan_diagnostics.is_empty() {
            compile.diagnostics.extend(plan_diagnostics);
            if let Some(spec) = &self.spec {
                crate::compiler::sort_by_position(&mut compile.diagnostics, &spec.spans);
            }
            compile.diagnostics.dedup();
        }
        let warnings: Vec<String> = unselected_failures.into_values().collect();
        Ok(RunReport { compile, tasks: reports, planned, warnings, errors })
    }

    fn task_report(&self, task: &Task, outcome: TaskOutcome, audits: AuditSummary, elapsed: Duration) -> TaskReport {
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
        let project = ProjectInput::get(&self.db);
        let sources: Vec<(String, String)> = project
            .sources(&self.db)
            .iter()
            .filter_map(|source| Some((source.name(&self.db).clone(), source.declaration(&self.db).as_ref()?.path.clone())))
            .collect();
        WriteConfinement::new(&self.root, &project.profile(&self.db).paths.allow, &sources)
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
        self.fingerprint_over(task, task_digest(&self.db, view).as_ref().ok()?)
    }

    /// The task's fingerprint over its *shape* digest (`viewdag_optimize::task_shape_digest`:
    /// no source's data version): an incremental refresh requires it unchanged.
    pub(crate) fn task_shape(&self, task: &Task) -> Option<String> {
        let view = self.view_input(&task.view)?;
        self.fingerprint_over(task, task_shape_digest(&self.db, view).as_ref().ok()?)
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
    fn prepare_task(
        &self,
        task: &Task,
        ready: &ReadyTask,
        engine: &Result<Arc<dyn TaskEngine>, EngineUnavailable>,
        diagnostics: &mut Vec<viewdag_ir::Diagnostic>,
    ) -> Result<PreparedTask, TaskError> {
        let engine = engine.as_ref().map_err(|unavailable| TaskError::Engine(unavailable.to_string()))?;
        // Where the table goes, before planning: a store that cannot be configured fails the
        // task without planning it.
        let target = self.task_target(task);
        let options = self.location_options(&target).map_err(TaskError::from)?;
        let view = self.view_input(&task.view).ok_or_else(|| TaskError::Planning(format!("view `{}` is gone", task.view)))?;
        let planning = TaskPlanning { db: &self.db, view, task, root: &self.root };
        let increment = self.prepare_increment(task, view, &ready.path, &ready.reads, diagnostics)?;
        let (plan, refresh, increment_write) = match increment {
            PreparedRefresh::Incremental { plan, apply, summary } => (TaskPlan::rows(plan), summary, Some(apply)),
            PreparedRefresh::Full(reason) => {
                if let Ok(optimized) = optimized_view(&self.db, view) {
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
        let state = Arc::clone(&planning_session(&self.db, SurfaceInput::get(&self.db)).state);
        let expectations = Arc::new(
            self.task_expectations(task, &plan.rows.schema(), &state, &write.unique_key)
                .map_err(|error| TaskError::Planning(error.to_string()))?,
        );
        let policy = resolved_optimizer_pipeline(&self.db, SurfaceInput::get(&self.db))
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
        options.engines.engine_for(&ProjectInput::get(&self.db).profile(&self.db).engine).inspect_err(|unavailable| {
            let location = viewdag_ir::SpecLocation::entry(viewdag_ir::Section::Profile, "engine");
            diagnostics.push(viewdag_ir::Diagnostic::new(viewdag_ir::Code::InvalidValue, location, unavailable.to_string()));
        })
    }

    /// `Some(UpToDate)` when the task's table is still at the version it last wrote from the
    /// same fingerprint (a materialized view's readers are then bound to that version).
    pub(crate) fn up_to_date(
        &mut self,
        task: &Task,
        fingerprint: &str,
        reads: &BTreeMap<String, ProviderIdentity>,
        run_state: &RunState,
    ) -> Option<TaskOutcome> {
        let recorded = run_state.recorded_version(&task.id, &self.task_target_text(task), fingerprint, reads)?;
        self.keep_table_if(task, |_, version| Some(version == recorded))
    }

    /// `Some(UpToDate)` when the task's table carries viewdag's application transaction at
    /// `run`: the interrupted run this one resumes already committed the task.
    fn committed_by_run(&mut self, task: &Task, run: u64) -> Option<TaskOutcome> {
        let runtime = Arc::clone(self.db.tokio());
        self.keep_table_if(task, |table, _| {
            let committed = runtime.block_on(table.snapshot().ok()?.transaction_version(table.log_store().as_ref(), APP_ID)).ok()??;
            Some(u64::try_from(committed).ok()? == run)
        })
    }

    /// Opens the task's table; when `keep(table, version)` says so, binds it for the task's
    /// readers and returns `UpToDate` (the task does not run).
    fn keep_table_if(&mut self, task: &Task, keep: impl FnOnce(&DeltaTable, i64) -> Option<bool>) -> Option<TaskOutcome> {
        let table = self.open_task_table(task).ok()?;
        let version = table.version().and_then(|version| i64::try_from(version).ok())?;
        if !keep(&table, version)? {
            return None;
        }
        self.bind_materialized(task, &table, version).ok()?;
        Some(TaskOutcome::UpToDate { version })
    }

    /// After a task wrote its table: a materialized view's readers now scan that version.
    fn record_written(&mut self, task: &Task, rows: usize, table: DeltaTable) -> Result<TaskOutcome, TaskError> {
        let version = table.version().map(|version| i64::try_from(version).unwrap_or(i64::MAX)).unwrap_or(0);
        self.bind_materialized(task, &table, version).map_err(TaskError::Bind)?;
        Ok(TaskOutcome::Written { rows, version })
    }

    /// For a materialization task: its readers scan `table` at `version` from now on.
    pub(crate) fn bind_materialized(&mut self, task: &Task, table: &DeltaTable, version: i64) -> Result<(), String> {
        if task.kind == TaskKind::Materialize {
            let view = self.view_input(&task.view).ok_or_else(|| format!("view `{}` is gone", task.view))?;
            let state = Arc::clone(&planning_session(&self.db, SurfaceInput::get(&self.db)).state);
            table.update_datafusion_session(state.as_ref()).map_err(|error| error.to_string())?;
            let runtime = Arc::clone(self.db.tokio());
            let provider = runtime.block_on(table.table_provider().into_future()).map_err(|error| error.to_string())?;
            let identity = ProviderIdentity::Delta { location: self.task_target_text(task), version };
            self.db.register_provider(identity.clone(), provider);
            if let Some(volume) = delta_volume(table) {
                self.db.register_volume(identity.clone(), volume);
            }
            view.set_materialized_table(&mut self.db).to(Some(identity));
        }
        Ok(())
    }

    /// `outcome` with every credential of the environment removed from its error's messages.
    fn redacted(&self, outcome: TaskOutcome) -> TaskOutcome {
        match outcome {
            TaskOutcome::Failed { error } => TaskOutcome::Failed { error: error.redacted(self.storage.redactor()) },
            outcome => outcome,
        }
    }

    pub(crate) fn unbind_materialized_tables(&mut self) {
        for name in self.view_names() {
            if let Some(view) = self.view_input(&name)
                && view.materialized_table(&self.db).is_some()
            {
                view.set_materialized_table(&mut self.db).to(None);
            }
        }
    }
}

/// A run's side of the executor: up-to-date checks, planning, the Delta sink, the run state.
struct RunDriver<'a> {
    compiler: &'a mut Compiler,
    compile: &'a CompileResponse,
    force: bool,
    full_refresh: bool,
    run: u64,
    resuming: bool,
    run_state: RunState,
    /// Tasks whose target the write confinement refuses, with why.
    refusals: BTreeMap<TaskId, String>,
    engine: Result<Arc<dyn TaskEngine>, EngineUnavailable>,
    /// Tasks that wrote their table in this run: their readers are not up to date.
    rewritten: BTreeSet<TaskId>,
    /// Materializations that rewrote their table in this run (a merge, or a full refresh of a
    /// table refreshed before), with their views: a reader of that table is refreshed fully,
    /// as `viewdag plan` foresees (its log may still read as an append, e.g. an overwrite of
    /// an empty table).
    rewrote_tables: BTreeMap<TaskId, String>,
    /// Tasks writing their table for the first time in this run.
    first_writes: BTreeSet<TaskId>,
    plan_diagnostics: Vec<viewdag_ir::Diagnostic>,
    planned: Vec<TaskId>,
    errors: Vec<RunError>,
    /// Executing tasks' records-to-be, refresh summaries and expectation tallies, by task id.
    pending: BTreeMap<TaskId, (RecordedTask, RefreshSummary, ExpectationTally)>,
}

impl TaskDriver for RunDriver<'_> {
    /// What the task will record, and how it refreshes.
    type Ready = ReadyTask;
    type Ending = TaskOutcome;
    type Output = Executed;
    type Report = TaskReport;

    fn decide(&mut self, task: &Task, failed_read: Option<&TaskId>) -> Decision<ReadyTask, TaskOutcome> {
        if let Some(reason) = self.compiler.blocker(self.compile, task, failed_read) {
            return Decision::End(TaskOutcome::Skipped { reason });
        }
        if let Some(refusal) = self.refusals.get(&task.id) {
            return Decision::End(TaskOutcome::Failed { error: TaskError::Refused(refusal.clone()) });
        }
        // Decided from digests and what the task reads, before planning: an up-to-date task
        // needs no worker.
        let (Some(fingerprint), Some(shape)) = (self.compiler.task_fingerprint(task), self.compiler.task_shape(task)) else {
            return Decision::End(TaskOutcome::Failed { error: TaskError::Planning(format!("view `{}` has no task digest", task.view)) });
        };
        let reads = self.compiler.task_reads(task);
        let mode = self.compiler.task_write_mode(task);
        if self.resuming && mode != WriteMode::Append {
            // A commit the interrupted run made, and did not live to record, is recorded now.
            self.compiler.adopt_pending_commit(task, self.run, &mut self.run_state);
        }
        // An append always adds rows; an overwrite, merge or replace of the same rows into
        // the same table version changes nothing.
        let up_to_date = if !self.force && mode != WriteMode::Append && !task.reads.iter().any(|read| self.rewritten.contains(read)) {
            self.compiler.up_to_date(task, &fingerprint, &reads, &self.run_state)
        } else if self.resuming && mode == WriteMode::Append {
            // An append the interrupted run already committed is not appended again.
            self.compiler.committed_by_run(task, self.run)
        } else {
            None
        };
        if let Some(outcome) = up_to_date {
            return Decision::End(outcome);
        }
        let engine_refreshes_fully = match &self.engine {
            Ok(engine) if !engine.runs_increments() => Some(engine.name().to_string()),
            _ => None,
        };
        let facts = self.compiler.refresh_facts(task, &self.run_state, &shape, (self.force, self.full_refresh), engine_refreshes_fully);
        let path = self.compiler.refresh_path(task, mode, &facts, &reads);
        let rewritten_first = self.rewrote_tables.values().find(|view| reads.contains_key(*view));
        let path = match (path, rewritten_first) {
            (RefreshPath::Incremental(_), Some(view)) => {
                RefreshPath::Full(FullRefreshReason::InputRewritten { relation: view.clone(), cause: RewriteCause::RefreshedFirst })
            }
            (path, _) => path,
        };
        if let Some(refusal) = self.compiler.refusal_of_incremental(task, &path) {
            return Decision::End(TaskOutcome::Failed { error: refusal });
        }
        Decision::Execute(ReadyTask { fingerprint, shape, reads, path })
    }

    fn prepare(&mut self, task: &Task, ready: ReadyTask) -> Result<TaskExecution<Executed>, TaskOutcome> {
        self.planned.push(task.id.clone());
        if self.run_state.recorded(&task.id, &self.compiler.task_target_text(task)).is_none() {
            self.first_writes.insert(task.id.clone());
        }
        let prepared = self
            .compiler
            .prepare_task(task, &ready, &self.engine, &mut self.plan_diagnostics)
            .map_err(|error| TaskOutcome::Failed { error })?;
        let record = RecordedTask {
            target: self.compiler.task_target_text(task),
            fingerprint: ready.fingerprint,
            version: -1,
            shape: ready.shape,
            reads: ready.reads,
        };
        if self.compiler.task_write_mode(task) != WriteMode::Append {
            // Recorded before it commits: a run killed after the commit and before the save
            // below still knows what the commit read (see `adopt_pending_commit`).
            let base = self.compiler.table_version(task).unwrap_or(-1);
            self.run_state.pending.insert(task.id.clone(), RecordedTask { version: base, ..record.clone() });
            if let Err(cause) = self.run_state.save(&self.compiler.root) {
                self.errors.push(RunError::StateUnsavedAfterTask { task: task.id.clone(), cause });
            }
        }
        self.pending.insert(task.id.clone(), (record, prepared.refresh.clone(), Arc::clone(&prepared.tally)));
        Ok(execute_task(task.view.clone(), prepared, self.run).boxed())
    }

    fn ended(&mut self, task: &Task, outcome: TaskOutcome, elapsed: Duration) -> TaskReport {
        let outcome = self.compiler.redacted(outcome);
        self.compiler.task_report(task, outcome, AuditSummary::default(), elapsed)
    }

    fn executed(&mut self, task: &Task, result: Result<Executed, TaskError>, elapsed: Duration) -> TaskReport {
        let (outcome, audits, merged, written_by, schema_replaced) = match result {
            Ok(Executed { written: WrittenTable { table, rows, merged, written_by, schema_replaced }, audits }) => {
                match self.compiler.record_written(task, rows, table) {
                    Ok(outcome) => (outcome, audits, merged, Some(written_by), schema_replaced),
                    Err(error) => (TaskOutcome::Failed { error }, audits, merged, None, false),
                }
            }
            Err(error) => (TaskOutcome::Failed { error }, AuditSummary::default(), None, None, false),
        };
        let outcome = self.compiler.redacted(outcome);
        let mut report = self.compiler.task_report(task, outcome, audits, elapsed);
        report.merged = merged;
        report.written_by = written_by;
        report.schema_replaced = schema_replaced;
        let pending = self.pending.remove(&task.id);
        let had_pending = self.run_state.pending.remove(&task.id).is_some();
        let state_changed = match (&report.outcome, pending) {
            (TaskOutcome::Written { version, .. }, Some((record, refresh, tally))) => {
                report.expectations = tally.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
                let rewrote = match &refresh {
                    RefreshSummary::Incremental { apply, .. } => *apply == AppliedAs::Merge,
                    RefreshSummary::Full { .. } => !self.first_writes.contains(&task.id),
                };
                if rewrote && task.kind == TaskKind::Materialize {
                    self.rewrote_tables.insert(task.id.clone(), task.view.clone());
                }
                report.refresh = Some(refresh);
                self.rewritten.insert(task.id.clone());
                self.run_state.tasks.insert(task.id.clone(), RecordedTask { version: *version, ..record });
                true
            }
            (_, pending) => {
                if let Some((_, refresh, tally)) = pending {
                    report.expectations = tally.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
                    report.refresh = Some(refresh);
                }
                // Nothing was committed: the table and its record still agree.
                had_pending
            }
        };
        // Saved at each commit, so a run killed after it never repeats it (an append
        // would add its rows twice).
        if state_changed && let Err(cause) = self.run_state.save(&self.compiler.root) {
            self.errors.push(RunError::StateUnsavedAfterTask { task: task.id.clone(), cause });
        }
        report
    }

    fn never_ran(&self, _task: &Task) -> TaskOutcome {
        TaskOutcome::Skipped { reason: "its upstream tasks never ran".to_string() }
    }

    fn completed(report: &TaskReport) -> bool {
        report.outcome.is_done()
    }
}

/// Executes a prepared plan: audits its `Exact` claims, then writes its table — through its
/// engine's data-file writer when it has one and the table takes its files (the engine then
/// checks the task's expectations where it writes), else by streaming the rows into the
/// Delta sink, checking the expectations on the way. Runs on the runtime (the executor
/// catches its panics).
async fn execute_task(view: String, prepared: PreparedTask, run: u64) -> Result<Executed, TaskError> {
    let PreparedTask { plan, state, write, expectations, tally, claims, policy, refresh: _, target, options } = prepared;
    let audits = audit_claims(&view, &claims, policy, &state).await?;
    let written = DeltaSink { target, options, write, run }.write_task(plan, state, TaskChecks { expectations, tally }).await?;
    Ok(Executed { written, audits })
}
