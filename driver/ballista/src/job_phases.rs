//! Where a Ballista job's time went, measured by the client as the job runs: building the
//! cluster plan, encoding and submitting it, the job executing on the cluster (every stage and
//! its shuffles), and fetching its rows back. Benchmarks read the phases of every job the
//! process ran (`finished_jobs`); what happens after the last row (the driver's Delta commit)
//! is timed by the caller from `streamed_until`.
//!
//! ## Invariants
//! - Phases are wall-clock durations and are never written into a table, an artifact or a
//!   digest: they only feed benchmark output.
//! - One record per job that delivered its last row, appended when it does; failed and
//!   timed-out jobs leave none.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The measured phases of one job that finished.
#[derive(Debug, Clone)]
pub struct JobPhases {
    /// The Ballista session id of the job (`viewdag-<pid>-<task id>`).
    pub session_id: String,
    /// Rewriting and physically planning the task's P1 for the cluster.
    pub planning: Duration,
    /// Encoding the plan, connecting to the scheduler and having the job accepted.
    pub submission: Duration,
    /// From acceptance to the scheduler reporting success: scheduling, every stage's tasks on
    /// the executors, and the shuffles between stages.
    pub execution: Duration,
    /// The scheduler's own figure for the job's execution (its `started_at`..`ended_at`).
    pub execution_on_scheduler: Duration,
    /// From success to the last row received: the result partitions fetched from the
    /// executors (Arrow Flight), while the driver's writer writes them as Parquet.
    pub fetching: Duration,
    /// Rows the job returned.
    pub rows: usize,
    /// When the last row arrived (the caller's commit time starts here).
    pub streamed_until: Instant,
}

static FINISHED: Mutex<Vec<JobPhases>> = Mutex::new(Vec::new());

/// Records a job that delivered its last row.
pub(crate) fn record(phases: JobPhases) {
    FINISHED.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(phases);
}

/// The phases of every job this process finished so far, in the order they finished, and
/// forgets them (so consecutive measurements do not mix).
pub fn take_finished_jobs() -> Vec<JobPhases> {
    std::mem::take(&mut *FINISHED.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
}
