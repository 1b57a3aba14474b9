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
//! - The stages' figures ([`StageFigures`], from the scheduler's job metrics) are asked only
//!   when a benchmark turned them on ([`record_stage_figures`]): one more call per job.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ballista_core::serde::protobuf::operator_metric::Metric;
use ballista_core::serde::protobuf::{GetJobMetricsResult, OperatorWithMetrics};

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
    /// What the job's stages did, from the scheduler's metrics (when asked for).
    pub stages: Option<StageFigures>,
}

/// What a job's stages did, summed over their tasks (from the operators' metrics each
/// executor reported to the scheduler).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageFigures {
    /// Stages the job ran.
    pub stages: usize,
    /// Tasks they ran (one per stage partition).
    pub tasks: usize,
    /// Wall time during which some stage of the job was running (its operators' first start
    /// to last end, per stage, overlapping stages counted once).
    pub busy: Duration,
    /// CPU time of the operators (their `elapsed_compute`), shuffle writers and readers left
    /// out, summed over tasks.
    pub compute: Duration,
    /// Shuffle writers' time partitioning, writing and spilling their output, summed.
    pub shuffle_write: Duration,
    /// Shuffle readers' time fetching remote partitions and reading local ones, summed.
    pub shuffle_read: Duration,
    /// Bytes the shuffle readers decoded.
    pub shuffle_bytes: u64,
}

impl StageFigures {
    /// The figures of a job's metrics.
    pub fn of(metrics: &GetJobMetricsResult) -> StageFigures {
        let mut figures = StageFigures { stages: metrics.stages.len(), ..StageFigures::default() };
        let mut spans: Vec<(i64, i64)> = Vec::new();
        for stage in &metrics.stages {
            figures.tasks += stage.partitions as usize;
            let mut span: Option<(i64, i64)> = None;
            for operator in &stage.operators {
                figures.add_operator(operator, &mut span);
            }
            spans.extend(span);
        }
        figures.busy = union_of(spans);
        figures
    }

    fn add_operator(&mut self, operator: &OperatorWithMetrics, span: &mut Option<(i64, i64)>) {
        let kind = operator.operator_type.as_str();
        let writer = kind.contains("ShuffleWriter");
        let reader = kind.contains("ShuffleReader");
        let mut named: BTreeMap<&str, u64> = BTreeMap::new();
        for metric in operator.metrics.iter().filter_map(|metric| metric.metric.as_ref()) {
            match metric {
                Metric::ElapseTime(nanos) if !writer && !reader => self.compute += Duration::from_nanos(*nanos),
                Metric::Time(time) => *named.entry(time.name.as_str()).or_default() += time.value,
                Metric::Count(count) if reader && count.name == "decoded_bytes" => self.shuffle_bytes += count.value,
                Metric::StartTimestamp(start) if *start > 0 => {
                    *span = Some(span.map_or((*start, *start), |(first, last)| (first.min(*start), last.max(*start))));
                }
                Metric::EndTimestamp(end) if *end > 0 => {
                    *span = Some(span.map_or((*end, *end), |(first, last)| (first.min(*end), last.max(*end))));
                }
                _ => {}
            }
        }
        let nanos = |names: &[&str]| Duration::from_nanos(names.iter().filter_map(|name| named.get(name)).sum());
        if writer {
            self.shuffle_write += nanos(&["write_time", "repart_time", "spill_time"]);
        }
        if reader {
            self.shuffle_read += nanos(&["fetch_time", "local_read_time"]);
        }
    }
}

/// The total length of `spans` (nanosecond timestamps), overlaps counted once.
fn union_of(mut spans: Vec<(i64, i64)>) -> Duration {
    spans.sort();
    let mut total: i64 = 0;
    let mut current: Option<(i64, i64)> = None;
    for (start, end) in spans {
        current = match current {
            Some((first, last)) if start <= last => Some((first, last.max(end))),
            Some((first, last)) => {
                total += last - first;
                Some((start, end))
            }
            None => Some((start, end)),
        };
    }
    if let Some((first, last)) = current {
        total += last - first;
    }
    Duration::from_nanos(u64::try_from(total).unwrap_or(0))
}

static STAGE_FIGURES: AtomicBool = AtomicBool::new(false);

/// Whether jobs finished from now on ask the scheduler for their stages' figures.
pub fn record_stage_figures(on: bool) {
    STAGE_FIGURES.store(on, Ordering::Relaxed);
}

pub(crate) fn stage_figures_wanted() -> bool {
    STAGE_FIGURES.load(Ordering::Relaxed)
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
