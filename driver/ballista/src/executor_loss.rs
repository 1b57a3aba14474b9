//! What viewdag's scheduler (`viewdag cluster-node scheduler`) does when executors leave, and
//! how a job's failure names that cause to the client.
//!
//! Ballista 55 alone: a lost executor's running tasks are reset and re-run elsewhere (a
//! recovery that was seen to count shuffled rows twice, see `cluster_node`), and when the
//! last executor is lost the jobs that were running then are failed after
//! `no_executors_grace_period_seconds` — but a job submitted after the last executor left
//! waits for an executor forever (Ballista's cold-start rule), so a run hangs until each
//! task's timeout.
//!
//! ## Invariants
//! - An executor removed while others stay alive: every running job is cancelled (the job's
//!   task fails and commits nothing rather than trust Ballista's recovery).
//! - Once the cluster has had an executor and none is alive (the scheduler's own count of
//!   executors with a fresh heartbeat, `SchedulerServer::is_ready` with
//!   `min_ready_executors = 1`), every job still running, including one submitted after
//!   the last executor left, is failed within [`SWEEP_INTERVAL`] with an error that starts
//!   with [`NO_EXECUTOR_ALIVE`]; the job client turns that into one
//!   `V0803 engine-no-executor` per task, which commits nothing.
//! - A job failed for lack of executors is evicted (cancelled) from the scheduler's running
//!   jobs [`EVICT_AFTER`] later, so a dead cluster's failed jobs do not pile up; a client that
//!   asks after that sees `Cancelled`.
//! - A scheduler that never had an executor fails nothing (jobs wait for the first one, as
//!   Ballista's cold start does).

use std::time::Duration;

use ballista_core::serde::protobuf::job_status;
use ballista_scheduler::cluster::{ClusterStateEvent, ClusterStateEventStream};
use ballista_scheduler::scheduler_server::SchedulerServer;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use futures::StreamExt;

/// The start of the failure message of a job failed because no executor is alive.
pub(crate) const NO_EXECUTOR_ALIVE: &str = "no executor of the cluster is alive";
/// Ballista 55's own failure message for jobs running when the last executor was lost (after
/// its grace period): a stock scheduler's way of saying the same.
const BALLISTA_NO_EXECUTORS_REMAIN: &str = "no executors remain";

/// How often the scheduler checks for running jobs on a cluster without executors.
pub(crate) const SWEEP_INTERVAL: Duration = Duration::from_secs(1);
/// How long a job failed for lack of executors stays among the scheduler's running jobs.
const EVICT_AFTER: Duration = Duration::from_secs(30);

/// True when a job's failure message says that no executor of its cluster is alive
/// (viewdag's scheduler, or Ballista's own after its grace period).
pub(crate) fn says_no_executor_alive(failure: &str) -> bool {
    failure.starts_with(NO_EXECUTOR_ALIVE) || failure.contains(BALLISTA_NO_EXECUTORS_REMAIN)
}

type Scheduler = SchedulerServer<LogicalPlanNode, PhysicalPlanNode>;

/// Watches the cluster's executors for as long as the scheduler serves: cancels running jobs
/// when an executor is removed while others live, and fails them when none is alive.
pub(crate) async fn fail_jobs_on_executor_loss(scheduler: Scheduler, mut events: ClusterStateEventStream) {
    let mut had_executors = false;
    let mut events_open = true;
    let mut sweep = tokio::time::interval(SWEEP_INTERVAL);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            event = events.next(), if events_open => match event {
                None => events_open = false,
                Some(ClusterStateEvent::RegisteredExecutor { .. }) => had_executors = true,
                Some(ClusterStateEvent::RemovedExecutor { executor_id }) => {
                    if scheduler.is_ready() {
                        cancel_running_jobs(&scheduler, &executor_id).await;
                    } else {
                        fail_running_jobs_without_executors(&scheduler).await;
                    }
                }
            },
            _ = sweep.tick() => {
                if scheduler.is_ready() {
                    had_executors = true;
                } else if had_executors {
                    fail_running_jobs_without_executors(&scheduler).await;
                }
            }
        }
    }
}

/// The running jobs, ordered by id (for stable log lines).
fn running_jobs(scheduler: &Scheduler) -> Vec<ballista_scheduler::state::task_manager::JobInfoCache> {
    let running = scheduler.state.task_manager.get_running_job_cache();
    let mut jobs: Vec<_> = running.iter().collect();
    jobs.sort_by(|left, right| left.0.as_str().cmp(right.0.as_str()));
    jobs.into_iter().map(|(_, job)| job.clone()).collect()
}

/// Cancels every running job: an executor was lost while others stay alive.
async fn cancel_running_jobs(scheduler: &Scheduler, executor_id: &str) {
    let running = scheduler.state.task_manager.get_running_job_cache();
    let mut jobs: Vec<_> = running.keys().cloned().collect();
    jobs.sort_by(|left, right| left.as_str().cmp(right.as_str()));
    for job_id in jobs {
        eprintln!("viewdag cluster: executor {executor_id} was lost while job {job_id} ran; cancelling the job");
        if let Err(error) = scheduler.cancel_job(job_id.clone()).await {
            eprintln!("viewdag cluster: cancelling job {job_id} failed: {error}");
        }
    }
}

/// Fails every job still running, with [`NO_EXECUTOR_ALIVE`]: no executor is alive to run
/// its tasks (the lost executors' tasks were reset by Ballista, none runs anywhere).
async fn fail_running_jobs_without_executors(scheduler: &Scheduler) {
    for job in running_jobs(scheduler) {
        let mut graph = job.execution_graph.write().await;
        if !matches!(graph.status().status, Some(job_status::Status::Running(_) | job_status::Status::Queued(_))) {
            continue;
        }
        let job_id = graph.job_id().clone();
        eprintln!("viewdag cluster: no executor is alive; failing job {job_id}");
        graph.abort_running(format!(
            "{NO_EXECUTOR_ALIVE} to run its tasks (every executor was lost: heartbeat timed out or a task could not be launched)"
        ));
        drop(graph);
        let scheduler = scheduler.clone();
        tokio::spawn(async move {
            tokio::time::sleep(EVICT_AFTER).await;
            let _ = scheduler.cancel_job(job_id).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_schedulers_ways_of_saying_no_executor_is_alive_are_recognised() {
        assert!(says_no_executor_alive(&format!("{NO_EXECUTOR_ALIVE} to run its tasks")));
        assert!(says_no_executor_alive(
            "all executors were lost and no executor re-registered within 8s; no executors remain to run the tasks for this job"
        ));
        assert!(!says_no_executor_alive("Cancelled"));
        assert!(!says_no_executor_alive("Task failed due to runtime execution error: no executor"));
    }
}
