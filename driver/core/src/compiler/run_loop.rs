//! The host's loops that bind tables between tasks: `run` (each task decided and planned
//! from a snapshot, executed by the task executor, its written table bound for its readers)
//! and its forecast, `plan_refresh` (each task decided from a snapshot, its existing table
//! bound for its readers). What a run is — its reports, options and the decisions of one
//! task — lives in `run.rs` and `refresh/`, as functions of a snapshot.
//!
//! ## Invariants
//! - The salsa database is only touched on the host's thread: executions are spawned with
//!   their own plan and session, and a finished materialization is bound to its readers
//!   before any of them is decided.
//! - Every table bound during a run or a forecast is unbound when it ends.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use viewdag_ir::WriteMode;
use viewdag_schedule::{Task, TaskId, TaskKind};

use super::{CompileRequest, CompileResponse, Compiler, Planning};
use crate::confinement::{TaskTable, shared_table_refusals};
use crate::engine::{EngineUnavailable, TaskEngine};
use crate::error::DriverError;
use crate::execute::{Decision, RunError, Schedule, TaskDriver, TaskError, TaskExecution, WrittenTable, execute};
use crate::expect::exec::ExpectationTally;
use crate::refresh::forecast::{RefreshForecast, RefreshPlan};
use crate::refresh::{AppliedAs, FullRefreshReason, RefreshPath, RefreshSummary, RewriteCause};
use crate::run::{AuditSummary, Executed, Progress, ReadyTask, RunOptions, RunReport, TaskOutcome, TaskReport, execute_task};
use crate::run_lock::{LockError, ProjectLock};
use crate::run_state::{RecordedTask, RunState};
use crate::storage::TableLocation;

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
        let snapshot = self.snapshot();
        let (tasks, costs) = snapshot.task_costs();
        // Tables that are one once symlinks are resolved: every task's that can run, selected
        // or not (a path `check` refused is its own error).
        let tables: Vec<TaskTable> = tasks
            .iter()
            .filter(|task| snapshot.blocker(&compile, task, None).is_none())
            .filter_map(|task| match snapshot.task_target(task) {
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
        let snapshot = self.snapshot();
        let confinement = snapshot.write_confinement();
        let refusals: BTreeMap<TaskId, String> = tasks
            .iter()
            .filter_map(|task| {
                let refusal =
                    confinement.refusal(&snapshot.task_target(task)).or_else(|| shared_tables.get(&task.id.to_string()).cloned())?;
                Some((task.id.clone(), refusal))
            })
            .collect();
        // Where plans execute: chosen once, before any task; an unusable engine fails every
        // task that would execute (up-to-date tasks stay up to date).
        let mut plan_diagnostics: Vec<viewdag_ir::Diagnostic> = Vec::new();
        let engine = snapshot.run_engine(options, &mut plan_diagnostics);
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
            started_at: chrono::Utc::now(),
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
                super::sort_by_position(&mut compile.diagnostics, &spec.spans);
            }
            compile.diagnostics.dedup();
        }
        let warnings: Vec<String> = unselected_failures.into_values().collect();
        Ok(RunReport { compile, tasks: reports, planned, warnings, errors })
    }

    /// What `run` with `options` (selection, `--force`, `--full-refresh`, engine) would do
    /// with every task, without writing or locking anything: each task is decided as `run`
    /// decides it, and a materialization's existing table is bound for its readers' decisions
    /// (unbound at the end).
    pub fn plan_refresh(&mut self, request: &CompileRequest, options: &RunOptions) -> Result<(CompileResponse, RefreshPlan), DriverError> {
        let compile = self.compile(&request.clone().with_planning(Planning::CheckOnly))?;
        let (tasks, costs) = self.snapshot().task_costs();
        let (tasks, unselected_failures) = self.select_tasks(tasks, options.selection.as_ref());
        let mut forecast = RefreshForecast::new(self.snapshot(), &compile, options, costs, unselected_failures);
        for task in &tasks {
            forecast.decide(self.snapshot(), task);
            if task.kind == TaskKind::Materialize {
                // A table that does not exist yet stays unbound.
                let _ = self.bind_existing_table(task);
            }
        }
        let plan = forecast.finish();
        self.unbind_materialized_tables();
        Ok((compile, plan))
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
    /// When the run started: what `now()` and `current_date()` are in every task it plans
    /// (never in a digest, a bundle or the run state).
    started_at: chrono::DateTime<chrono::Utc>,
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
        if let Some(reason) = self.compiler.snapshot().blocker(self.compile, task, failed_read) {
            return Decision::End(TaskOutcome::Skipped { reason });
        }
        if let Some(refusal) = self.refusals.get(&task.id) {
            return Decision::End(TaskOutcome::Failed { error: TaskError::Refused(refusal.clone()) });
        }
        // Decided from digests and what the task reads, before planning: an up-to-date task
        // needs no worker.
        let snapshot = self.compiler.snapshot();
        let (Some(fingerprint), Some(shape)) = (snapshot.task_fingerprint(task), snapshot.task_shape(task)) else {
            return Decision::End(TaskOutcome::Failed { error: TaskError::Planning(format!("view `{}` has no task digest", task.view)) });
        };
        let reads = snapshot.task_reads(task);
        let mode = snapshot.task_write_mode(task);
        if self.resuming && mode != WriteMode::Append {
            // A commit the interrupted run made, and did not live to record, is recorded now.
            snapshot.adopt_pending_commit(task, self.run, &mut self.run_state);
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
        let snapshot = self.compiler.snapshot();
        let facts = snapshot.refresh_facts(task, &self.run_state, &shape, (self.force, self.full_refresh), engine_refreshes_fully);
        let path = snapshot.refresh_path(task, mode, &facts, &reads);
        let rewritten_first = self.rewrote_tables.values().find(|view| reads.contains_key(*view));
        let path = match (path, rewritten_first) {
            (RefreshPath::Incremental(_), Some(view)) => {
                RefreshPath::Full(FullRefreshReason::InputRewritten { relation: view.clone(), cause: RewriteCause::RefreshedFirst })
            }
            (path, _) => path,
        };
        if let Some(refusal) = snapshot.refusal_of_incremental(task, &path) {
            return Decision::End(TaskOutcome::Failed { error: refusal });
        }
        Decision::Execute(ReadyTask { fingerprint, shape, reads, path })
    }

    fn prepare(&mut self, task: &Task, ready: ReadyTask) -> Result<TaskExecution<Executed>, TaskOutcome> {
        self.planned.push(task.id.clone());
        let snapshot = self.compiler.snapshot();
        if self.run_state.recorded(&task.id, &snapshot.task_target_text(task)).is_none() {
            self.first_writes.insert(task.id.clone());
        }
        let prepared = snapshot
            .prepare_task(task, &ready, &self.engine, self.started_at, &mut self.plan_diagnostics)
            .map_err(|error| TaskOutcome::Failed { error })?;
        let record = RecordedTask {
            target: snapshot.task_target_text(task),
            fingerprint: ready.fingerprint,
            version: -1,
            shape: ready.shape,
            reads: ready.reads,
        };
        if snapshot.task_write_mode(task) != WriteMode::Append {
            // Recorded before it commits: a run killed after the commit and before the save
            // below still knows what the commit read (see `adopt_pending_commit`).
            let base = snapshot.table_version(task).unwrap_or(-1);
            self.run_state.pending.insert(task.id.clone(), RecordedTask { version: base, ..record.clone() });
            if let Err(cause) = self.run_state.save(&self.compiler.root) {
                self.errors.push(RunError::StateUnsavedAfterTask { task: task.id.clone(), cause });
            }
        }
        self.pending.insert(task.id.clone(), (record, prepared.refresh.clone(), Arc::clone(&prepared.tally)));
        Ok(execute_task(task.view.clone(), prepared, self.run).boxed())
    }

    fn ended(&mut self, task: &Task, outcome: TaskOutcome, elapsed: Duration) -> TaskReport {
        let snapshot = self.compiler.snapshot();
        snapshot.task_report(task, snapshot.redacted(outcome), AuditSummary::default(), elapsed)
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
        let snapshot = self.compiler.snapshot();
        let mut report = snapshot.task_report(task, snapshot.redacted(outcome), audits, elapsed);
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
