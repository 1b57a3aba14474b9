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
//! - One run per project at a time (`run_lock`): a second one stops before it reads the run
//!   state or writes anything.
//! - The run state is saved before the first commit (the run marked in progress) and right
//!   after each task's commit is recorded; every commit carries the run's number as a Delta
//!   application transaction. A run killed between two commits is resumed by the next one:
//!   no append is written twice, even if the kill came between a commit and the save (see
//!   `run_state`). A failed save is an error of the run (`V0903`).
//! - A table's first commit is made without retries and every commit carries viewdag's
//!   `txn`, so a concurrent writer's commit makes this task fail (`V0902`), committing
//!   nothing, instead of landing on top of it.
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
use deltalake::delta_datafusion::planner::DeltaPlanner;
use deltalake::kernel::Transaction;
use deltalake::kernel::transaction::{CommitProperties, TransactionError};
use deltalake::protocol::SaveMode;
use deltalake::{DeltaTable, DeltaTableError};
use futures::{FutureExt, TryStreamExt};
use salsa::Setter;
use tokio::task::JoinSet;
use viewdag_ir::{Code, OutputSpec, ProjectInput, ProviderIdentity, PushdownPolicy, SurfaceInput, WriteMode};
use viewdag_lower::ViewFailure;
use viewdag_optimize::pushdown::{ExactClaim, exact_claims};
use viewdag_optimize::{optimized_view, physical_view, resolved_optimizer_pipeline, task_digest};
use viewdag_schedule::{Task, TaskKind, priority_order, reads_through_ephemeral_views};
use viewdag_surface::planning_session;
use viewdag_validate::checks::contract::check_output;

use crate::compiler::{CompileRequest, CompileResponse, Compiler, Planning, ViewStatus};
use crate::confinement::WriteConfinement;
use crate::engine::Engine;
use crate::error::DriverError;
use crate::expect::exec::ExpectationTally;
use crate::expect::{CompiledExpectations, ExpectationExec, ExpectationResult};
use crate::merge::{MergeCounts, TableWrite, merge_into};
use crate::planned_table::PlannedTable;
use crate::run_lock::{LockError, ProjectLock};
use crate::run_state::{APP_ID, RecordedTask, RunState};
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
    /// What each of the task's expectations found (empty when it has none or did not run).
    pub expectations: Vec<ExpectationResult>,
    /// For a `merge` output that merged: rows inserted, updated and deleted.
    pub merged: Option<MergeCounts>,
}

#[derive(Debug, Clone)]
pub struct RunReport {
    pub compile: CompileResponse,
    pub tasks: Vec<TaskReport>,
    /// The ids of the tasks that were planned (P0 → P2): those that were not up to date.
    /// An unchanged project plans nothing.
    pub planned: Vec<String>,
    /// Problems of the run itself that wrote nothing wrong, e.g. a materialized view left
    /// out of `--select` that has no table yet (its readers were skipped).
    pub warnings: Vec<String>,
    /// Errors of the run itself, not of one task: a run state that could not be saved after
    /// a commit (`V0903`). The commits stand; the run did not succeed.
    pub errors: Vec<String>,
}

impl RunReport {
    pub fn succeeded(&self) -> bool {
        !self.compile.has_errors() && self.errors.is_empty() && self.tasks.iter().all(|task| task.outcome.is_done())
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
    /// Run only the tasks of these views (`run --select`); the others' existing tables are
    /// read. `None`: every task.
    pub selection: Option<BTreeSet<String>>,
    /// Where task plans execute; `None` follows the spec's `profile.engine` (default local).
    pub engine: Option<Engine>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { jobs: std::thread::available_parallelism().map(usize::from).unwrap_or(1), force: false, selection: None, engine: None }
    }
}

/// What a task's execution returns to the scheduling loop.
type Execution = Result<Executed, String>;

/// A task's table, written.
struct Executed {
    rows: usize,
    table: DeltaTable,
    audits: AuditSummary,
    merged: Option<MergeCounts>,
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
    write: TableWrite,
    /// The task's expectations, checked while its rows stream (see `expect`).
    expectations: Arc<CompiledExpectations>,
    tally: ExpectationTally,
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
        let _lock = ProjectLock::acquire(&self.root).map_err(|error| match error {
            LockError::Held { .. } => DriverError::Locked(error),
            LockError::Io { path, message } => DriverError::Write { path: path.into(), source: std::io::Error::other(message) },
        })?;
        let mut run_state = RunState::load(&self.root);
        let (run, resuming) = run_state.begin_run();
        run_state.save(&self.root).map_err(DriverError::RunState)?;
        let (tasks, costs) = self.task_costs();
        let (tasks, unselected_failures) = self.select_tasks(tasks, options.selection.as_ref());
        let total = tasks.len();
        let index_of: BTreeMap<&str, usize> = tasks.iter().enumerate().map(|(index, task)| (task.id.as_str(), index)).collect();
        let runtime = Arc::clone(self.db.tokio());
        let mut reports: Vec<Option<TaskReport>> = vec![None; total];
        let mut failed: BTreeSet<String> = unselected_failures.keys().cloned().collect();
        let mut tallies: BTreeMap<usize, ExpectationTally> = BTreeMap::new();
        let mut done: BTreeSet<String> = BTreeSet::new();
        let mut waiting: Vec<usize> = (0..total).collect();
        let mut running: JoinSet<Execution> = JoinSet::new();
        let mut running_index: BTreeMap<tokio::task::Id, usize> = BTreeMap::new();
        let mut started_at: Vec<Option<Instant>> = vec![None; total];
        let mut fingerprints: Vec<Option<String>> = vec![None; total];
        // Tasks that wrote their table in this run: their readers are not up to date.
        let mut rewritten: BTreeSet<String> = BTreeSet::new();
        let mut plan_diagnostics: Vec<viewdag_ir::Diagnostic> = Vec::new();
        let mut planned: Vec<String> = Vec::new();
        let mut errors: Vec<String> = Vec::new();
        let warnings: Vec<String> = unselected_failures.into_values().collect();
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
                            // An append always adds rows; an overwrite, merge or replace of the
                            // same rows into the same table version changes nothing.
                            && self.task_write_mode(task) != WriteMode::Append
                            && !task.reads.iter().any(|read| rewritten.contains(read)) =>
                    {
                        self.up_to_date(task, fingerprint, &run_state)
                    }
                    // An append the interrupted run already committed is not appended again.
                    Some(_) if resuming && self.task_write_mode(task) == WriteMode::Append => self.committed_by_run(task, run),
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
                        tallies.insert(index, Arc::clone(&prepared.tally));
                        let target = self.task_target(task);
                        let view = task.view.clone();
                        let handle = running.spawn_on(async move { execute_task(&view, prepared, &target, run).await }, runtime.handle());
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
                Ok(Executed { rows, table, audits, merged }) => match self.record_written(task, rows, table) {
                    Ok(outcome) => (outcome, audits, merged),
                    Err(message) => (TaskOutcome::Failed { message }, audits, merged),
                },
                Err(message) => (TaskOutcome::Failed { message }, AuditSummary::default(), None),
            };
            let (outcome, audits, merged) = ended;
            let mut report = self.finish_task(task, (outcome, audits), started_at[index], &mut failed, &mut done);
            report.merged = merged;
            if let Some(tally) = tallies.remove(&index) {
                report.expectations = tally.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
            }
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
                errors.push(format!("error[{}]: the run state was not saved after `{}`: {error}", Code::RunStateUnsaved.id(), task.id));
            }
            progress(Progress::Finished { report: &report, index: finished, total });
            finished += 1;
            reports[index] = Some(report);
        }
        self.unbind_materialized_tables();
        run_state.complete = true;
        if let Err(error) = run_state.save(&self.root) {
            errors.push(format!("error[{}]: the run state was not saved at the end of the run: {error}", Code::RunStateUnsaved.id()));
        }
        if !plan_diagnostics.is_empty() {
            compile.diagnostics.extend(plan_diagnostics);
            if let Some(spec) = &self.spec {
                crate::compiler::sort_by_position(&mut compile.diagnostics, &spec.spans);
            }
            compile.diagnostics.dedup();
        }
        Ok(RunReport { compile, tasks: reports.into_iter().flatten().collect(), planned, warnings, errors })
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
            expectations: Vec::new(),
            merged: None,
        }
    }

    pub(crate) fn task_target(&self, task: &Task) -> PathBuf {
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
        let mut fingerprint = format!("{digest} {:?} {partition_by:?}", self.task_write_mode(task));
        // An output's expectations and merge settings decide what lands in its table too
        // (a view's expectations are in its definition digest already).
        if let TaskKind::Output { output } = &task.kind
            && let Some(spec) = self.output_spec(output)
            && (spec.expect.is_some() || spec.mode != WriteMode::Overwrite)
        {
            fingerprint.push_str(&format!(" {:?} {:?}", spec.expect, TableWrite::of_output(spec)));
        }
        Some(fingerprint)
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
        let write = match &task.kind {
            TaskKind::Materialize => TableWrite::materialized(),
            TaskKind::Output { output } => {
                let spec = self.output_spec(output).expect("tasks come from the outputs").clone();
                let problems = check_output(output, &spec, physical.plan.schema().as_ref());
                if let Some(problem) = problems.iter().find(|diagnostic| diagnostic.is_error()) {
                    return Err(format!("{} (nothing was written)", problem.message));
                }
                TableWrite::of_output(&spec)
            }
        };
        let state = Arc::clone(&planning_session(&self.db, SurfaceInput::get(&self.db)).state);
        let expectations = Arc::new(self.task_expectations(task, &physical.plan.schema(), &state, &write.unique_key)?);
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
        let tally = ExpectationTally::default();
        Ok(PreparedTask { plan, state, write, expectations, tally, claims, policy, fingerprint })
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
        let recorded = run_state.recorded_version(&task.id, &relative_location(&self.root, &self.task_target(task)), fingerprint)?;
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
        let url = directory_url(&self.task_target(task)).ok()?;
        let table = self.db.tokio().block_on(deltalake::open_table(url)).ok()?;
        let version = table.version().and_then(|version| i64::try_from(version).ok())?;
        if !keep(&table, version)? {
            return None;
        }
        self.bind_materialized(task, &table, version).ok()?;
        Some(TaskOutcome::UpToDate { version })
    }

    /// After a task wrote its table: a materialized view's readers now scan that version.
    fn record_written(&mut self, task: &Task, rows: usize, table: DeltaTable) -> Result<TaskOutcome, String> {
        let version = table.version().map(|version| i64::try_from(version).unwrap_or(i64::MAX)).unwrap_or(0);
        self.bind_materialized(task, &table, version)?;
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
async fn execute_task(view: &str, prepared: PreparedTask, target: &Path, run: u64) -> Execution {
    let PreparedTask { plan, state, write, expectations, tally, claims, policy, fingerprint: _ } = prepared;
    let audits = audit_claims(view, &claims, policy, &state).await?;
    let plan: Arc<dyn ExecutionPlan> =
        if expectations.is_empty() { plan } else { Arc::new(ExpectationExec::new(plan, expectations, tally)) };
    let written = std::panic::AssertUnwindSafe(write_plan(target, Arc::clone(&plan), &state, &write, run)).catch_unwind().await;
    let (table, rows, merged) = written.map_err(|panic| format!("executing `{view}` panicked: {}", panic_message(panic.as_ref())))??;
    Ok(Executed { rows, table, audits, merged })
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
/// if needed) and returns the table, how many rows were written and, for a merge, what it
/// did. deltalake casts types Delta stores differently (e.g. `Utf8View` as `Utf8`). The
/// commit carries viewdag's application transaction at `run`; a concurrent commit to the
/// table fails it (`V0902`).
pub async fn write_plan(
    target: &Path,
    plan: Arc<dyn ExecutionPlan>,
    state: &SessionState,
    write: &TableWrite,
    run: u64,
) -> Result<(DeltaTable, usize, Option<MergeCounts>), String> {
    let TableWrite { mode, partition_by, unique_key: _, delete_not_matched_by_source: _, replace_where, merge_schema } = write;
    let mode = *mode;
    std::fs::create_dir_all(target).map_err(|error| format!("cannot create {}: {error}", target.display()))?;
    let url = directory_url(target)?;
    let table = DeltaTable::try_from_url(url).await.map_err(|error| format!("cannot open {}: {error}", target.display()))?;
    let input = LogicalPlanBuilder::scan("viewdag_task", provider_as_source(Arc::new(PlannedTable::new(Arc::clone(&plan)))), None)
        .and_then(LogicalPlanBuilder::build)
        .map_err(|error| error.strip_backtrace())?;
    // The planning session (its object stores serve the plan's scans) with deltalake's planner
    // for the writer's own nodes; the plan is already optimized, so no physical rule runs again.
    let writer_state = SessionStateBuilder::new_from_existing(state.clone())
        .with_query_planner(DeltaPlanner::new())
        .with_physical_optimizer_rules(Vec::new())
        .build();
    // A first commit must not retry: deltalake would land it as version 1 on top of a
    // concurrent creator's version 0 without removing that one's files.
    let creating = table.version().is_none();
    let mut commit =
        CommitProperties::default().with_application_transaction(Transaction::new(APP_ID, i64::try_from(run).unwrap_or(i64::MAX)));
    if creating {
        commit = commit.with_max_retries(0);
    }
    if mode == WriteMode::Merge && !creating {
        // The merge plans its own join over the new rows, so it keeps the session's physical
        // rules (join selection); the task's plan inside is already optimized.
        let (merged, counts) = merge_into(table, input, Arc::new(state.clone()), write, commit).await?;
        let rows = counts.inserted + counts.updated;
        return Ok((merged, rows, Some(counts)));
    }
    let save_mode = match mode {
        // The first merge creates the table: there is nothing to match.
        WriteMode::Overwrite | WriteMode::ReplaceWhere | WriteMode::Merge => SaveMode::Overwrite,
        WriteMode::Append => SaveMode::Append,
    };
    let mut builder = table
        .write(Vec::new())
        .with_input_plan(input)
        .with_session_state(Arc::new(writer_state))
        .with_save_mode(save_mode)
        .with_commit_properties(commit);
    if !partition_by.is_empty() {
        builder = builder.with_partition_columns(partition_by.to_vec());
    }
    if mode == WriteMode::ReplaceWhere
        && let Some(predicate) = replace_where
    {
        builder = builder.with_replace_where(predicate.as_str());
    }
    if *merge_schema {
        builder = builder.with_schema_mode(deltalake::operations::write::SchemaMode::Merge);
    }
    let written = builder.await.map_err(|error| write_failure(target, error))?;
    // Rows written: what this very commit records (deltalake's `operationMetrics` of the
    // version it made), else the plan's metrics.
    let rows = committed_rows(&written).await.or_else(|| plan.metrics().and_then(|metrics| metrics.output_rows())).unwrap_or(0);
    Ok((written, rows, None))
}

/// `num_added_rows` of the commit `table`'s state is at (the one just made).
async fn committed_rows(table: &DeltaTable) -> Option<usize> {
    let history: Vec<_> = table.history(Some(1)).try_collect().await.ok()?;
    let metrics = history.first()?.info.get("operationMetrics")?;
    metrics.get("num_added_rows")?.as_u64().and_then(|rows| usize::try_from(rows).ok())
}

/// A failed write as the task's message: a commit conflict coded `V0902`, naming the table
/// and what to do.
fn write_failure(target: &Path, error: DeltaTableError) -> String {
    if is_commit_conflict(&error) {
        format!(
            "error[{}]: another writer committed to the Delta table {} while this task wrote it ({error}); nothing of this task was committed — run again once the other writer is done",
            Code::CommitConflict.id(),
            target.display()
        )
    } else {
        format!("writing {} failed: {error}", target.display())
    }
}

/// Whether a failed commit lost to another writer's commit.
pub(crate) fn is_commit_conflict(error: &DeltaTableError) -> bool {
    matches!(
        error,
        DeltaTableError::VersionAlreadyExists(_)
            | DeltaTableError::Transaction {
                source: TransactionError::CommitConflict(_)
                    | TransactionError::MaxCommitAttempts(_)
                    | TransactionError::VersionAlreadyExists(_)
            }
    )
}
