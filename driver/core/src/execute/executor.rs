//! The task executor: runs a schedule's tasks, each once the tasks it reads have finished,
//! up to `jobs` at once, the ready task with the longest estimated critical path first
//! (`viewdag_schedule::priority_order`), and reports progress as it happens. `run` (Delta
//! sink), `lab` (memory sink) and every other caller drive it through [`TaskDriver`].
//!
//! ## Invariants
//! - A task starts only after every task it reads (among the scheduled ones) finished; a
//!   task that did not complete (its report says so) is named to its readers as
//!   `failed_read`, so a driver skips them — never the unrelated tasks.
//! - Deciding, planning and finishing a task happen on the calling (scheduling) thread,
//!   the only one that touches the salsa database; only the `TaskExecution` future a driver
//!   returns runs on the runtime. A task's results are bound (by `executed`) before any
//!   reader is decided.
//! - A panic inside an execution fails that task (`TaskError::Panicked`), not the run; a
//!   lost execution fails it too (`TaskError::Lost`).
//! - Reports come back in task order, whatever the order of completion; every task gets
//!   exactly one report and one `Finished` event, and a `Started` event first if it
//!   executed.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::task::JoinSet;
use viewdag_schedule::{Task, TaskCost, TaskId, priority_order};

use super::error::TaskError;
use super::panic::panic_message;

/// Progress of an execution, reported as it happens. `Started` comes only for tasks that
/// execute (a skipped task, or one that cannot be planned, only finishes); `index` counts
/// started (or finished) tasks.
#[derive(Debug)]
pub enum TaskEvent<'a, R> {
    /// A task starts executing.
    Started {
        /// The task.
        task: &'a Task,
        /// How many tasks started before it (1-based, with it).
        index: usize,
        /// How many tasks the run has.
        total: usize,
    },
    /// A task ended (done, failed, skipped or up to date).
    Finished {
        /// Its report.
        report: &'a R,
        /// How many tasks finished before it (1-based, with it).
        index: usize,
        /// How many tasks the run has.
        total: usize,
    },
}

/// What executes on the runtime for one task.
pub type TaskExecution<O> = BoxFuture<'static, Result<O, TaskError>>;

/// A driver's decision about a ready task.
pub enum Decision<Ready, Ending> {
    /// The task ends now without a worker (skipped, failed, up to date).
    End(Ending),
    /// The task needs a worker; it is planned (`prepare`) once one is free.
    Execute(Ready),
}

/// The caller's side of an execution: what each task is, on the scheduling thread.
pub trait TaskDriver {
    /// A task decided to execute, not yet planned.
    type Ready;
    /// Why a task ended without executing.
    type Ending;
    /// What a task's execution returns.
    type Output: Send + 'static;
    /// One task's report.
    type Report;

    /// Decides a ready task. `failed_read` is the first task it reads that did not
    /// complete. Called again for a task that needs a worker while none is free.
    fn decide(&mut self, task: &Task, failed_read: Option<&TaskId>) -> Decision<Self::Ready, Self::Ending>;
    /// Plans a task a worker is free for: its execution, or why it ends now.
    fn prepare(&mut self, task: &Task, ready: Self::Ready) -> Result<TaskExecution<Self::Output>, Self::Ending>;
    /// The report of a task that ended without executing, `elapsed` after it was decided.
    fn ended(&mut self, task: &Task, ending: Self::Ending, elapsed: Duration) -> Self::Report;
    /// The report of a task whose execution finished (bind its results here).
    fn executed(&mut self, task: &Task, result: Result<Self::Output, TaskError>, elapsed: Duration) -> Self::Report;
    /// Why a task whose upstream tasks can never finish ends (a cycle, which
    /// `viewdag_schedule::plan_tasks` never produces).
    fn never_ran(&self, task: &Task) -> Self::Ending;
    /// Whether a report says the task completed (its readers may run).
    fn completed(report: &Self::Report) -> bool;
}

/// What to execute: the tasks (in task order), their costs (for priority; a task without
/// one has no priority), how many at once, and tasks already known not to have completed.
pub struct Schedule<'a> {
    /// The tasks, in task order.
    pub tasks: &'a [Task],
    /// Each task's estimated cost (its critical path decides its priority).
    pub costs: &'a BTreeMap<TaskId, TaskCost>,
    /// How many tasks execute at once (at least 1).
    pub jobs: usize,
    /// Tasks known not to have completed: their readers are skipped from the start.
    pub failed: BTreeSet<TaskId>,
}

/// Executes `schedule` with `driver`, returning one report per task in task order.
pub fn execute<D: TaskDriver>(
    runtime: &tokio::runtime::Runtime,
    schedule: Schedule<'_>,
    driver: &mut D,
    events: &mut dyn FnMut(TaskEvent<'_, D::Report>),
) -> Vec<D::Report> {
    let Schedule { tasks, costs, jobs, failed } = schedule;
    let total = tasks.len();
    let index_of: BTreeMap<&TaskId, usize> = tasks.iter().enumerate().map(|(index, task)| (&task.id, index)).collect();
    let mut book = Book { reports: (0..total).map(|_| None).collect(), failed, done: BTreeSet::new(), finished: 0, total };
    let mut waiting: Vec<usize> = (0..total).collect();
    let mut running: JoinSet<Result<D::Output, TaskError>> = JoinSet::new();
    let mut running_index: BTreeMap<tokio::task::Id, usize> = BTreeMap::new();
    let mut started_at: Vec<Option<Instant>> = vec![None; total];
    let mut started = 0;
    let elapsed = |started_at: Option<Instant>| started_at.map(|instant| instant.elapsed()).unwrap_or(Duration::ZERO);
    while book.finished < total {
        // Start ready tasks, longest critical path first, while workers are free.
        let mut ready: Vec<&Task> = waiting
            .iter()
            .map(|&index| &tasks[index])
            .filter(|task| task.reads.iter().all(|read| book.done.contains(read) || !index_of.contains_key(read)))
            .collect();
        priority_order(&mut ready, tasks, costs);
        // Whether a task ended without running: its readers may be decidable now, so look
        // again before waiting.
        let mut ended_without_running = false;
        let ready: Vec<usize> = ready.iter().map(|task| index_of[&task.id]).collect();
        for index in ready {
            let task = &tasks[index];
            let failed_read = task.reads.iter().find(|read| book.failed.contains(*read));
            let decision = driver.decide(task, failed_read);
            if matches!(decision, Decision::Execute(_)) && running.len() >= jobs.max(1) {
                // No free worker; a task that ends now needs none, so keep looking.
                continue;
            }
            waiting.retain(|&other| other != index);
            started_at[index] = Some(Instant::now());
            let prepared = match decision {
                Decision::End(ending) => Err(ending),
                Decision::Execute(ready) => driver.prepare(task, ready),
            };
            match prepared {
                Ok(execution) => {
                    events(TaskEvent::Started { task, index: started, total });
                    started += 1;
                    let view = task.view.clone();
                    let caught = std::panic::AssertUnwindSafe(execution).catch_unwind().map(move |executed| {
                        executed.unwrap_or_else(|panic| Err(TaskError::Panicked { view, message: panic_message(panic.as_ref()) }))
                    });
                    let handle = running.spawn_on(caught, runtime.handle());
                    running_index.insert(handle.id(), index);
                }
                Err(ending) => {
                    let report = driver.ended(task, ending, elapsed(started_at[index]));
                    book.finish::<D>(tasks, index, report, events);
                    ended_without_running = true;
                }
            }
        }
        if book.finished == total {
            break;
        }
        if ended_without_running {
            continue;
        }
        let Some(joined) = runtime.block_on(running.join_next_with_id()) else {
            // Nothing runs and nothing can start: the waiting tasks read each other in a
            // cycle (which `plan_tasks` never produces), so end them.
            for index in std::mem::take(&mut waiting) {
                let ending = driver.never_ran(&tasks[index]);
                let report = driver.ended(&tasks[index], ending, Duration::ZERO);
                book.finish::<D>(tasks, index, report, events);
            }
            break;
        };
        let (index, result) = match joined {
            Ok((id, result)) => (running_index[&id], result),
            Err(error) => (running_index[&error.id()], Err(TaskError::Lost(error.to_string()))),
        };
        let report = driver.executed(&tasks[index], result, elapsed(started_at[index]));
        book.finish::<D>(tasks, index, report, events);
    }
    book.reports.into_iter().flatten().collect()
}

/// The executor's record of finished tasks.
struct Book<R> {
    reports: Vec<Option<R>>,
    /// Tasks that did not complete (their readers are told).
    failed: BTreeSet<TaskId>,
    /// Tasks that finished, completed or not.
    done: BTreeSet<TaskId>,
    finished: usize,
    total: usize,
}

impl<R> Book<R> {
    fn finish<D: TaskDriver<Report = R>>(&mut self, tasks: &[Task], index: usize, report: R, events: &mut dyn FnMut(TaskEvent<'_, R>)) {
        let task = &tasks[index];
        if !D::completed(&report) {
            self.failed.insert(task.id.clone());
        }
        self.done.insert(task.id.clone());
        events(TaskEvent::Finished { report: &report, index: self.finished, total: self.total });
        self.finished += 1;
        self.reports[index] = Some(report);
    }
}
