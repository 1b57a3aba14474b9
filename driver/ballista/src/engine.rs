//! The `ballista` engine: [`BallistaEngine`] plans a task for the cluster; [`Engines`] is the
//! factory that also knows `profile.engine: ballista`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use viewdag_driver::execute::TaskError;
use viewdag_driver::{EngineFactory, EngineUnavailable, LocalEngine, TaskEngine, TaskPlan, TaskPlanning};
use viewdag_ir::number_bounds::TASK_TIMEOUT_SECONDS;
use viewdag_ir::{Diagnostic, EngineKind, EngineProfile};

use crate::distributed_plan;
use crate::scheduler_address::SchedulerAddress;

/// How long a cluster task may take when neither `--task-timeout` nor
/// `profile.engine.task_timeout` says: generous (an hour), so it only ends jobs that cannot
/// finish, such as one whose executors all stopped responding.
pub const DEFAULT_TASK_TIMEOUT: Duration = Duration::from_secs(3600);

/// Runs task plans on the Ballista cluster whose scheduler listens at `scheduler`; a task
/// whose job has not finished after `task_timeout` is cancelled and fails. The executors
/// write each task's data files where they can (see `cluster_files`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BallistaEngine {
    /// Where the scheduler listens.
    pub scheduler: SchedulerAddress,
    /// How long one task's job may take.
    pub task_timeout: Duration,
    /// Session settings added to every job (`ballista.*` or `datafusion.*` keys), e.g.
    /// `ballista.shuffle.force_remote_read`. The shuffle transport is viewdag's own choice
    /// (Ballista's block transport) whatever these say.
    pub settings: BTreeMap<String, String>,
    /// Whether the executors write a task's files from the partitions of its plan's last
    /// stage, without its final merge into one partition (`cluster_files`; one file per
    /// partition, written in parallel); default false (one task writes after the merge: no
    /// wall-time gain was measured on TPC-H, see BENCHMARKS.md).
    pub write_without_final_merge: bool,
}

impl BallistaEngine {
    /// The cluster behind `scheduler`, with the default task timeout.
    pub fn new(scheduler: SchedulerAddress) -> BallistaEngine {
        BallistaEngine { scheduler, task_timeout: DEFAULT_TASK_TIMEOUT, settings: BTreeMap::new(), write_without_final_merge: false }
    }

    /// This engine with `timeout` as its task timeout.
    pub fn with_task_timeout(self, timeout: Duration) -> BallistaEngine {
        BallistaEngine { task_timeout: timeout, ..self }
    }

    /// This engine writing each task's files without (`true`) or after (`false`) its plan's
    /// final merge into one partition.
    pub fn with_write_without_final_merge(self, without: bool) -> BallistaEngine {
        BallistaEngine { write_without_final_merge: without, ..self }
    }

    /// This engine sending `key = value` with every job.
    pub fn with_setting(mut self, key: &str, value: &str) -> BallistaEngine {
        self.settings.insert(key.to_string(), value.to_string());
        self
    }
}

impl TaskEngine for BallistaEngine {
    fn task_plan(&self, planning: &TaskPlanning<'_>, diagnostics: &mut Vec<Diagnostic>) -> Result<TaskPlan, TaskError> {
        distributed_plan::distributed_task_plan(
            planning,
            &self.scheduler,
            &self.settings,
            self.task_timeout,
            self.write_without_final_merge,
            diagnostics,
        )
    }

    // `runs_increments` keeps its default (false): every task the cluster runs is refreshed
    // fully, and its run line says `full (the ballista engine refreshes fully)`.
    fn name(&self) -> &'static str {
        "ballista"
    }
}

impl fmt::Display for BallistaEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ballista at {} (task timeout {} s)", self.scheduler, self.task_timeout.as_secs())
    }
}

/// The engines `profile.engine` may name in a program with this crate: `local` and
/// `ballista` (with `scheduler: df://HOST:PORT` and an optional `task_timeout`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Engines;

impl EngineFactory for Engines {
    fn engine_for(&self, profile: &EngineProfile) -> Result<Arc<dyn TaskEngine>, EngineUnavailable> {
        match profile.kind {
            EngineKind::Local => Ok(Arc::new(LocalEngine)),
            EngineKind::Ballista => Ok(Arc::new(ballista_from_profile(profile)?)),
        }
    }
}

/// The cluster a `profile.engine: ballista` names.
fn ballista_from_profile(profile: &EngineProfile) -> Result<BallistaEngine, EngineUnavailable> {
    let address = profile
        .scheduler
        .as_deref()
        .ok_or_else(|| EngineUnavailable("`profile.engine` is `ballista` but names no `scheduler: df://HOST:PORT`".to_string()))?;
    let timeout = match profile.task_timeout {
        // Out of range is `V0008` when the spec is read; never a clock overflow here.
        Some(seconds) => Duration::from_secs(TASK_TIMEOUT_SECONDS.check(seconds).map_err(|error| EngineUnavailable(error.to_string()))?),
        None => DEFAULT_TASK_TIMEOUT,
    };
    let scheduler = SchedulerAddress::parse(address).map_err(|error| EngineUnavailable(error.to_string()))?;
    Ok(BallistaEngine { task_timeout: timeout, ..BallistaEngine::new(scheduler) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_sets_the_task_timeout() {
        let profile =
            |task_timeout| EngineProfile { kind: EngineKind::Ballista, scheduler: Some("df://127.0.0.1:50050".to_string()), task_timeout };
        let timeout = |engine: BallistaEngine| engine.task_timeout;
        assert_eq!(ballista_from_profile(&profile(None)).map(timeout), Ok(DEFAULT_TASK_TIMEOUT));
        assert_eq!(ballista_from_profile(&profile(Some(7))).map(timeout), Ok(Duration::from_secs(7)));
        assert!(ballista_from_profile(&profile(Some(0))).is_err(), "a zero timeout is refused");
        assert!(ballista_from_profile(&profile(Some(u64::MAX))).is_err(), "an overflowing timeout is refused");
        let engine = ballista_from_profile(&profile(Some(7))).unwrap().with_task_timeout(Duration::from_secs(3));
        assert_eq!(timeout(engine), Duration::from_secs(3), "the command line wins");
    }
}
