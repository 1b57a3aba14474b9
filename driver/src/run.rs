//! Running a compiled project: each task (a materialized view or an output) executes its
//! P2 plan on DataFusion and writes one Delta table in one commit. Tasks run concurrently
//! (up to `RunOptions::jobs`), each once the tasks it reads are done, the ready task with
//! the longest estimated critical path first.
//!
//! ## Invariants
//! - A task's rows stream from its plan into deltalake's writer; a failure anywhere (an
//!   execution error, a panic, a broken `Exact` claim under `strict`, a contract problem)
//!   commits nothing, so the task's table stays at its previous version.
//! - A task runs only after every task it reads wrote its table; a failed or skipped task
//!   skips its readers, never the unrelated tasks.
//! - Reports are in task order, whatever the order of completion.
//! - The run state is saved right after each task's commit is recorded, so a run killed
//!   between two commits resumes without repeating the first (no append written twice); a
//!   failed save is a warning of the run.
//!
//! A materialized view's readers scan the table its task just wrote: after the task, the
//! driver binds the view's `materialized_table` input to that Delta version, so readers
//! are re-planned against the real table (and only they are).

use std::collections::{BTreeMap, BTreeSet};
use std::future::IntoFuture;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::datasource::provider_as_source;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::execution_plan::reset_plan_states;
use deltalake::DeltaTable;
use deltalake::delta_datafusion::planner::DeltaPlanner;
use deltalake::protocol::SaveMode;
use futures::FutureExt;
use salsa::Setter;
use tokio::task::JoinSet;
use viewdag_ir::{OutputSpec, ProjectInput, ProviderIdentity, PushdownPolicy, SurfaceInput, WriteMode};
use viewdag_lower::ViewFailure;
use viewdag_optimize::pushdown::{ExactClaim, exact_claims};
use viewdag_optimize::{optimized_view, physical_view, resolved_optimizer_pipeline, task_digest};
use viewdag_schedule::{Task, TaskKind, priority_order};
use viewdag_surface::planning_session;
use viewdag_validate::checks::contract::check_output;

use crate::compiler::{CompileRequest, CompileResponse, Compiler, Planning, ViewStatus};
use crate::confinement::WriteConfinement;
use crate::engine::Engine;
use crate::error::DriverError;
use crate::planned_table::PlannedTable;
use crate::run_state::{RecordedTask, RunState};
use crate::sources::{delta_volume, directory_url, relative_location};

/// Where `materialize: table` views are written, relative to the spec's directory.
pub const TABLE_STORE: &str = ".viewdag/tables";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskOutcome {
    Written {
        rows: usize,
        version: i64,
    },
    /// Not run: the task's table is still at the version it wrote last time from the same
    /// plan and inputs (see `run_state`).
    UpToDate {
        version: i64,
    },
    Failed {
        message: String,
    },
    Skipped {
        reason: String,
    },
}

impl TaskOutcome {
    /// Whether the task's table holds its current result (written now, or up to date).
    pub fn is_done(&self) -> bool {
        matches!(self, TaskOutcome::Written { .. } | TaskOutcome::UpToDate { .. })
    }
}

#[derive(Debug, Clone)]
pub struct TaskReport {
    pub id: String,
    pub view: String,
    /// The Delta table's location relative to the spec's directory.
    pub target: String,
    pub outcome: TaskOutcome,
    pub elapsed: Duration,
    /// The audit of the providers' `Exact` pushdown claims this task's plan relies on.
    pub audits: AuditSummary,
}

#[derive(Debug, Clone)]
pub struct RunReport {
    pub compile: CompileResponse,
    pub tasks: Vec<TaskReport>,
    /// The ids of the tasks that were planned (P0 → P2): those that were not up to date.
    /// An unchanged project plans nothing.
    pub planned: Vec<String>,
    /// Problems of the run itself that wrote nothing wrong, e.g. a run state that could not
    /// be saved (the next run then re-runs those tasks).
    pub warnings: Vec<String>,
}

impl RunReport {
    pub fn succeeded(&self) -> bool {
        !self.compile.has_errors() && self.tasks.iter().all(|task| task.outcome.is_done())
    }
}

/// Progress of a run, reported as it happens. `Started` comes only for tasks that execute
/// (a skipped task, or one that cannot be planned, only finishes); `index` counts started
/// (or finished) tasks.
#[derive(Debug)]
pub enum Progress<'a> {
    Started { task: &'a Task, index: usize, total: usize },
    Finished { report: &'a TaskReport, index: usize, total: usize },
}

/// How a run executes its tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOptions {
    /// How many tasks execute at once (at least 1). Each task's plan is itself parallel
    /// (DataFusion partitions), so this bounds concurrent tasks, not threads.
    pub jobs: usize,
    /// Run every task, even those whose tables are up to date.
    pub force: bool,
    /// Where task plans execute; `None` follows the spec's `profile.engine` (default local).
    pub engine: Option<Engine>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { jobs: std::thread::available_parallelism().map(usize::from).unwrap_or(1), force: false, engine: None }
    }
}

/// What a task's execution returns to the scheduling loop.
type Execution = Result<Executed, String>;

/// A task's table, written.
struct Executed {
    rows: usize,
    table: DeltaTable,
    audits: AuditSummary,
}

/// What the execution-time audit of `Exact` pushdown claims found (see
/// `viewdag_optimize::pushdown::exact_audit`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditSummary {
    /// How many `Exact` claims were checked against the data.
    pub claims_checked: usize,
    /// One line per broken claim, under the `warn` policy (under `strict` the task fails).
    pub warnings: Vec<String>,
}

/// A task whose plan is ready to execute: everything the spawned execution needs.
struct PreparedTask {
    plan: Arc<dyn ExecutionPlan>,
    state: Arc<SessionState>,
    mode: WriteMode,
    partition_by: Vec<String>,
    /// The `Exact` claims to audit before executing (none under the `off` policy).
    claims: Vec<ExactClaim>,
    policy: PushdownPolicy,
    /// What produced the table: the task digest and how it is written (see `run_state`).
    fingerprint: String,
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
        let (tasks, costs) = self.task_costs();
        let total = tasks.len();
        let index_of: BTreeMap<&str, usize> = tasks.iter().enumerate().map(|(index, task)| (task.id.as_str(), index)).collect();
        let runtime = Arc::clone(self.db.tokio());
        let mut reports: Vec<Option<TaskReport>> = vec![None; total];
        let mut failed: BTreeSet<String> = BTreeSet::new();
        let mut done: BTreeSet<String> = BTreeSet::new();
        let mut waiting: Vec<usize> = (0..total).collect();
        let mut running: JoinSet<Execution> = JoinSet::new();
        let mut running_index: BTreeMap<tokio::task::Id, usize> = BTreeMap::new();
        let mut started_at: Vec<Option<Instant>> = vec![None; total];
        let mut run_state = RunState::load(&self.root);
        let mut fingerprints: Vec<Option<String>> = vec![None; total];
        // Tasks that wrote their table in this run: their readers are not up to date.
        let mut rewritten: BTreeSet<String> = BTreeSet::new();
        let mut plan_diagnostics: Vec<viewdag_ir::Diagnostic> = Vec::new();
        let mut planned: Vec<String> = Vec::new();
        let mut warnings: Vec<String> = Vec::new();
        let (mut started, mut finished) = (0, 0);
        // Where every task's table really lands (symlinks resolved), decided before anything
        // is written.
        let confinement = self.write_confinement();
        let refusals: Vec<Option<String>> = tasks.iter().map(|task| confinement.refusal(&self.task_target(task))).collect();
        // Where plans execute: chosen once, before any task; an unusable engine fails every
        // task that would execute (up-to-date tasks stay up to date).
        let engine = self.run_engine(options, &mut plan_diagnostics);
        while finished < total {
            // Start ready tasks, longest critical path first, while workers are free.
            let mut ready: Vec<&Task> = waiting
                .iter()
                .map(|&index| &tasks[index])
                .filter(|task| task.reads.iter().all(|read| done.contains(read) || !index_of.contains_key(read.as_str())))
                .collect();
            priority_order(&mut ready, &tasks, &costs);
            // Whether a task ended without running (skipped or unplannable): its readers may
            // be decidable now, so look again before waiting.
            let mut ended_without_running = false;
            let ready: Vec<usize> = ready.iter().map(|task| index_of[task.id.as_str()]).collect();
            for index in ready {
                let task = &tasks[index];
                let blocker = self.blocker(&compile, task, &failed);
                let refusal = if blocker.is_none() { refusals[index].clone() } else { None };
                // Decided from digests, before planning: an up-to-date task needs no worker.
                let fingerprint = match (&blocker, &refusal) {
                    (None, None) => self.task_fingerprint(task),
                    _ => None,
                };
                let up_to_date = match &fingerprint {
                    Some(fingerprint)
                        if !options.force
                            && self.task_write_mode(task) == WriteMode::Overwrite
                            && !task.reads.iter().any(|read| rewritten.contains(read)) =>
                    {
                        self.up_to_date(task, fingerprint, &run_state)
                    }
                    _ => None,
                };
                if blocker.is_none() && refusal.is_none() && up_to_date.is_none() && running.len() >= options.jobs.max(1) {
                    // No free worker; a skipped or up-to-date task needs none, so keep looking.
                    continue;
                }
                waiting.retain(|&other| other != index);
                started_at[index] = Some(Instant::now());
                let prepared = match (blocker, refusal, up_to_date, fingerprint) {
                    (Some(reason), _, _, _) => Err(TaskOutcome::Skipped { reason }),
                    (None, Some(message), _, _) => Err(TaskOutcome::Failed { message }),
                    (None, None, Some(outcome), _) => Err(outcome),
                    (None, None, None, None) => Err(TaskOutcome::Failed { message: format!("view `{}` has no task digest", task.view) }),
                    (None, None, None, Some(fingerprint)) => {
                        planned.push(task.id.clone());
                        self.prepare_task(task, fingerprint, &engine, &mut plan_diagnostics)
                            .map_err(|message| TaskOutcome::Failed { message })
                    }
                };
                match prepared {
                    Ok(prepared) => {
                        progress(Progress::Started { task, index: started, total });
                        started += 1;
                        fingerprints[index] = Some(prepared.fingerprint.clone());
                        let target = self.task_target(task);
                        let view = task.view.clone();
                        let handle = running.spawn_on(async move { execute_task(&view, prepared, &target).await }, runtime.handle());
                        running_index.insert(handle.id(), index);
                    }
                    Err(outcome) => {
                        let report = self.finish_task(task, (outcome, AuditSummary::default()), started_at[index], &mut failed, &mut done);
                        progress(Progress::Finished { report: &report, index: finished, total });
                        finished += 1;
                        reports[index] = Some(report);
                        ended_without_running = true;
                    }
                }
            }
            if finished == total {
                break;
            }
            if ended_without_running {
                continue;
            }
            let Some(joined) = runtime.block_on(running.join_next_with_id()) else {
                // Nothing runs and nothing can start: the waiting tasks read each other in a
                // cycle (which `plan_tasks` never produces), so skip them.
                for index in std::mem::take(&mut waiting) {
                    let outcome = TaskOutcome::Skipped { reason: "its upstream tasks never ran".to_string() };
                    let report = self.finish_task(&tasks[index], (outcome, AuditSummary::default()), None, &mut failed, &mut done);
                    progress(Progress::Finished { report: &report, index: finished, total });
                    finished += 1;
                    reports[index] = Some(report);
                }
                break;
            };
            let (index, execution) = match joined {
                Ok((id, execution)) => (running_index[&id], execution),
                Err(error) => (running_index[&error.id()], Err(format!("the task's execution was lost: {error}"))),
            };
            let task = &tasks[index];
            let ended = match execution {
                Ok(Executed { rows, table, audits }) => match self.record_written(task, rows, table) {
                    Ok(outcome) => (outcome, audits),
                    Err(message) => (TaskOutcome::Failed { message }, audits),
                },
                Err(message) => (TaskOutcome::Failed { message }, AuditSummary::default()),
            };
            let report = self.finish_task(task, ended, started_at[index], &mut failed, &mut done);
            let target = relative_location(&self.root, &self.task_target(task));
            let state_changed = match (&report.outcome, fingerprints[index].take()) {
                (TaskOutcome::Written { version, .. }, Some(fingerprint)) => {
                    rewritten.insert(task.id.clone());
                    run_state.tasks.insert(task.id.clone(), RecordedTask { target, fingerprint, version: *version });
                    true
                }
                _ => run_state.tasks.remove(&task.id).is_some(),
            };
            // Saved at each commit, so a run killed after it never repeats it (an append
            // would add its rows twice).
            if state_changed && let Err(error) = run_state.save(&self.root) {
                let warning = format!("the run state was not saved after `{}`: {error} (the next run re-runs this task)", task.id);
                warnings.push(warning);
            }
            progress(Progress::Finished { report: &report, index: finished, total });
            finished += 1;
            reports[index] = Some(report);
        }
        self.unbind_materialized_tables();
        if !plan_diagnostics.is_empty() {
            compile.diagnostics.extend(plan_diagnostics);
            if let Some(spec) = &self.spec {
                crate::compiler::sort_by_position(&mut compile.diagnostics, &spec.spans);
            }
            compile.diagnostics.dedup();
        }
        Ok(RunReport { compile, tasks: reports.into_iter().flatten().collect(), planned, warnings })
    }

    fn finish_task(
        &self,
        task: &Task,
        (outcome, audits): (TaskOutcome, AuditSummary),
        started_at: Option<Instant>,
        failed: &mut BTreeSet<String>,
        done: &mut BTreeSet<String>,
    ) -> TaskReport {
        if !outcome.is_done() {
            failed.insert(task.id.clone());
        }
        done.insert(task.id.clone());
        TaskReport {
            id: task.id.clone(),
            view: task.view.clone(),
            target: relative_location(&self.root, &self.task_target(task)),
            outcome,
            elapsed: started_at.map(|instant| instant.elapsed()).unwrap_or(Duration::ZERO),
            audits,
        }
    }

    fn task_target(&self, task: &Task) -> PathBuf {
        match &task.kind {
            TaskKind::Materialize => self.root.join(TABLE_STORE).join(&task.view),
            TaskKind::Output { output } => {
                let spec = self.output_spec(output).expect("tasks come from the outputs");
                self.root.join(&spec.path)
            }
        }
    }

    /// The resolved roots this run may write into and the sources it may not write.
    fn write_confinement(&self) -> WriteConfinement {
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
    fn blocker(&self, compile: &CompileResponse, task: &Task, failed: &BTreeSet<String>) -> Option<String> {
        match compile.view(&task.view).map(|view| &view.status) {
            Some(status) if status.is_valid() => {}
            Some(ViewStatus::Blocked { upstream }) => return Some(format!("view `{}` is blocked by errors in `{upstream}`", task.view)),
            _ => return Some(format!("view `{}` has errors", task.view)),
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
        task.reads.iter().find(|read| failed.contains(*read)).map(|read| format!("upstream task `{read}` did not complete"))
    }

    /// How a task writes its table.
    fn task_write_mode(&self, task: &Task) -> WriteMode {
        match &task.kind {
            TaskKind::Materialize => WriteMode::Overwrite,
            TaskKind::Output { output } => self.output_spec(output).map(|spec| spec.mode).unwrap_or(WriteMode::Overwrite),
        }
    }

    /// What produces a task's table, without planning it: the task digest (the view's
    /// Merkle definition digest and the optimizer pipeline) and how the table is written.
    fn task_fingerprint(&self, task: &Task) -> Option<String> {
        let view = self.view_input(&task.view)?;
        let digest = task_digest(&self.db, view).as_ref().ok()?;
        let partition_by: &[String] = match &task.kind {
            TaskKind::Materialize => &[],
            TaskKind::Output { output } => self.output_spec(output).map(|spec| spec.partition_by.as_slice()).unwrap_or(&[]),
        };
        Some(format!("{digest} {:?} {partition_by:?}", self.task_write_mode(task)))
    }

    /// Plans a task on this thread: its P2 (against the tables of the tasks it reads), its
    /// output contract, and how it writes. The plan's warnings (and errors) are added to
    /// `diagnostics`.
    fn prepare_task(
        &self,
        task: &Task,
        fingerprint: String,
        engine: &Result<Engine, String>,
        diagnostics: &mut Vec<viewdag_ir::Diagnostic>,
    ) -> Result<PreparedTask, String> {
        let engine = engine.as_ref().map_err(|message| format!("{message} (nothing was written)"))?;
        let view = self.view_input(&task.view).ok_or_else(|| format!("view `{}` is gone", task.view))?;
        let physical = match physical_view(&self.db, view) {
            Ok(physical) => physical.clone(),
            Err(failure) => {
                if let ViewFailure::Errors(errors) = failure {
                    diagnostics.extend(errors.iter().cloned());
                }
                return Err(format!("view `{}` failed to plan: {failure:?}", task.view));
            }
        };
        if let Ok(optimized) = optimized_view(&self.db, view) {
            diagnostics.extend(optimized.diagnostics.iter().cloned());
        }
        diagnostics.extend(physical.diagnostics.iter().cloned());
        let (mode, partition_by) = match &task.kind {
            TaskKind::Materialize => (WriteMode::Overwrite, Vec::new()),
            TaskKind::Output { output } => {
                let spec = self.output_spec(output).expect("tasks come from the outputs").clone();
                let problems = check_output(output, &spec, physical.plan.schema().as_ref());
                if let Some(problem) = problems.iter().find(|diagnostic| diagnostic.is_error()) {
                    return Err(format!("{} (nothing was written)", problem.message));
                }
                (spec.mode, spec.partition_by.clone())
            }
        };
        let state = Arc::clone(&planning_session(&self.db, SurfaceInput::get(&self.db)).state);
        // A physical plan keeps execution state: run a fresh copy of the compiled one.
        let plan = reset_plan_states(Arc::clone(&physical.plan)).map_err(|error| error.strip_backtrace())?;
        let plan = self.plan_for_engine(engine, task, plan, diagnostics)?;
        let policy = resolved_optimizer_pipeline(&self.db, SurfaceInput::get(&self.db))
            .as_ref()
            .map(|pipeline| pipeline.pushdown)
            .unwrap_or(PushdownPolicy::Warn);
        let claims = match policy {
            PushdownPolicy::Off => Vec::new(),
            PushdownPolicy::Warn | PushdownPolicy::Strict => {
                let optimized = optimized_view(&self.db, view)
                    .as_ref()
                    .map_err(|failure| format!("view `{}` failed to optimize: {failure:?}", task.view))?;
                exact_claims(&optimized.plan).map_err(|error| format!("cannot build the pushdown audit: {}", error.strip_backtrace()))?
            }
        };
        Ok(PreparedTask { plan, state, mode, partition_by, claims, policy, fingerprint })
    }

    /// The run's engine: `options.engine`, else the spec's `profile.engine`. A profile that
    /// names an unusable engine adds a diagnostic at `profile.engine`.
    fn run_engine(&self, options: &RunOptions, diagnostics: &mut Vec<viewdag_ir::Diagnostic>) -> Result<Engine, String> {
        let engine = match &options.engine {
            Some(engine) => Ok(engine.clone()),
            None => Engine::from_profile(&ProjectInput::get(&self.db).profile(&self.db).engine).inspect_err(|message| {
                let location = viewdag_ir::SpecLocation::entry(viewdag_ir::Section::Profile, "engine");
                diagnostics.push(viewdag_ir::Diagnostic::new(viewdag_ir::Code::InvalidValue, location, message.clone()));
            }),
        }?;
        if !engine.is_available() {
            return Err(format!("this viewdag was built without the `ballista` feature, so it cannot run on {engine}"));
        }
        Ok(engine)
    }

    /// `Some(UpToDate)` when the task's table is still at the version it last wrote from the
    /// same fingerprint (a materialized view's readers are then bound to that version).
    fn up_to_date(&mut self, task: &Task, fingerprint: &str, run_state: &RunState) -> Option<TaskOutcome> {
        let target = self.task_target(task);
        let recorded = run_state.recorded_version(&task.id, &relative_location(&self.root, &target), fingerprint)?;
        let url = directory_url(&target).ok()?;
        let table = self.db.tokio().block_on(deltalake::open_table(url)).ok()?;
        let version = table.version().and_then(|version| i64::try_from(version).ok())?;
        if version != recorded {
            return None;
        }
        match self.bind_materialized(task, &table, version) {
            Ok(()) => Some(TaskOutcome::UpToDate { version }),
            Err(_) => None,
        }
    }

    /// After a task wrote its table: a materialized view's readers now scan that version.
    fn record_written(&mut self, task: &Task, rows: usize, table: DeltaTable) -> Result<TaskOutcome, String> {
        let version = table.version().map(|version| i64::try_from(version).unwrap_or(i64::MAX)).unwrap_or(0);
        self.bind_materialized(task, &table, version)?;
        Ok(TaskOutcome::Written { rows, version })
    }

    /// For a materialization task: its readers scan `table` at `version` from now on.
    fn bind_materialized(&mut self, task: &Task, table: &DeltaTable, version: i64) -> Result<(), String> {
        if task.kind == TaskKind::Materialize {
            let view = self.view_input(&task.view).ok_or_else(|| format!("view `{}` is gone", task.view))?;
            let state = Arc::clone(&planning_session(&self.db, SurfaceInput::get(&self.db)).state);
            table.update_datafusion_session(state.as_ref()).map_err(|error| error.to_string())?;
            let runtime = Arc::clone(self.db.tokio());
            let provider = runtime.block_on(table.table_provider().into_future()).map_err(|error| error.to_string())?;
            let target = self.task_target(task);
            let identity = ProviderIdentity::Delta { location: relative_location(&self.root, &target), version };
            self.db.register_provider(identity.clone(), provider);
            if let Some(volume) = delta_volume(table) {
                self.db.register_volume(identity.clone(), volume);
            }
            view.set_materialized_table(&mut self.db).to(Some(identity));
        }
        Ok(())
    }

    fn unbind_materialized_tables(&mut self) {
        for name in self.view_names() {
            if let Some(view) = self.view_input(&name)
                && view.materialized_table(&self.db).is_some()
            {
                view.set_materialized_table(&mut self.db).to(None);
            }
        }
    }
}

/// Executes a prepared plan, streaming its rows into one Delta commit. Runs on the tokio
/// runtime; a panic inside DataFusion or deltalake fails this task, not the run.
async fn execute_task(view: &str, prepared: PreparedTask, target: &Path) -> Execution {
    let PreparedTask { plan, state, mode, partition_by, claims, policy, fingerprint: _ } = prepared;
    let audits = audit_claims(view, &claims, policy, &state).await?;
    let write = std::panic::AssertUnwindSafe(write_plan(target, Arc::clone(&plan), &state, mode, &partition_by)).catch_unwind().await;
    let (table, rows) = write.map_err(|panic| format!("executing `{view}` panicked: {}", panic_message(panic.as_ref())))??;
    Ok(Executed { rows, table, audits })
}

/// Checks every `Exact` claim against the data. A broken claim fails the task under
/// `strict` (before anything is written) and is a warning under `warn`.
async fn audit_claims(view: &str, claims: &[ExactClaim], policy: PushdownPolicy, state: &SessionState) -> Result<AuditSummary, String> {
    let mut summary = AuditSummary::default();
    for claim in claims {
        let audit = claim.audit(state).await.map_err(|error| {
            format!("auditing the pushdown of `{}` into `{}` failed: {}", claim.predicate, claim.relation, error.strip_backtrace())
        })?;
        summary.claims_checked += 1;
        if audit.violating_rows == 0 {
            continue;
        }
        let problem = format!(
            "the provider of `{}` claims to apply `{}` exactly, but returned {} row(s) that fail it, so `{view}` would be wrong",
            audit.relation, audit.predicate, audit.violating_rows
        );
        match policy {
            PushdownPolicy::Strict => return Err(format!("{problem} (nothing was written)")),
            PushdownPolicy::Warn | PushdownPolicy::Off => summary.warnings.push(problem),
        }
    }
    Ok(summary)
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|message| message.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Streams `plan`'s rows into the Delta table at `target` in one commit (creating the table
/// if needed) and returns the table and how many rows were written. deltalake casts types
/// Delta stores differently (e.g. `Utf8View` as `Utf8`).
pub async fn write_plan(
    target: &Path,
    plan: Arc<dyn ExecutionPlan>,
    state: &SessionState,
    mode: WriteMode,
    partition_by: &[String],
) -> Result<(DeltaTable, usize), String> {
    std::fs::create_dir_all(target).map_err(|error| format!("cannot create {}: {error}", target.display()))?;
    let url = directory_url(target)?;
    let table = DeltaTable::try_from_url(url).await.map_err(|error| format!("cannot open {}: {error}", target.display()))?;
    let rows_before = if mode == WriteMode::Append { delta_volume(&table).and_then(|volume| volume.rows) } else { Some(0) };
    let input = LogicalPlanBuilder::scan("viewdag_task", provider_as_source(Arc::new(PlannedTable::new(Arc::clone(&plan)))), None)
        .and_then(LogicalPlanBuilder::build)
        .map_err(|error| error.strip_backtrace())?;
    // The planning session (its object stores serve the plan's scans) with deltalake's planner
    // for the writer's own nodes; the plan is already optimized, so no physical rule runs again.
    let writer_state = SessionStateBuilder::new_from_existing(state.clone())
        .with_query_planner(DeltaPlanner::new())
        .with_physical_optimizer_rules(Vec::new())
        .build();
    let save_mode = match mode {
        WriteMode::Overwrite => SaveMode::Overwrite,
        WriteMode::Append => SaveMode::Append,
    };
    let mut builder = table.write(Vec::new()).with_input_plan(input).with_session_state(Arc::new(writer_state)).with_save_mode(save_mode);
    if !partition_by.is_empty() {
        builder = builder.with_partition_columns(partition_by.to_vec());
    }
    let written = builder.await.map_err(|error| format!("writing {} failed: {error}", target.display()))?;
    // Rows written: from the Delta log's record counts when it has them, else the plan's metrics.
    let from_log =
        delta_volume(&written).and_then(|volume| volume.rows).zip(rows_before).map(|(after, before)| after.saturating_sub(before));
    let rows = from_log
        .and_then(|rows| usize::try_from(rows).ok())
        .or_else(|| plan.metrics().and_then(|metrics| metrics.output_rows()))
        .unwrap_or(0);
    Ok((written, rows))
}
