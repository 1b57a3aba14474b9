//! Where a run executes its tasks' plans: in this process (`local`, the default) or on an
//! Apache Ballista cluster (`ballista`, with the `ballista` cargo feature).
//!
//! The engine decides only how a task's rows are produced. Everything else a run does is
//! the same for both: the schedule, up-to-date checks, contracts, pushdown audits, progress
//! lines, the run report, and the one Delta commit per task, made by the driver.
//!
//! ## Invariants
//! - Choosing an engine never changes a digest, a bundle or the run state: a table written
//!   on the cluster is up to date for a local run and the other way round.
//! - A scheduler address is `df://HOST:PORT`; anything else is refused before any task runs.
//! - Every cluster job has a deadline (`task_timeout`, default `DEFAULT_TASK_TIMEOUT`): a
//!   job that has not delivered its last row by then is cancelled and its task fails.
//!
//! With the feature: `delta_files` (Delta snapshots as Parquet file scans),
//! `distributed_plan` (a task's plan for the cluster), `ballista_job` (the plan node),
//! `job_client` (submitting, watching, cancelling and fetching one job), `job_phases` (where a
//! job's time went), `scalar_subqueries` (single-row scalar subqueries as joins), `cluster_node` and `cluster` (`viewdag cluster`: a local scheduler and
//! executors).

#[cfg(feature = "ballista")]
pub mod ballista_job;
#[cfg(feature = "ballista")]
pub mod cluster;
#[cfg(feature = "ballista")]
pub mod cluster_node;
#[cfg(feature = "ballista")]
pub mod delta_files;
#[cfg(feature = "ballista")]
pub mod distributed_plan;
#[cfg(feature = "ballista")]
pub mod job_client;
#[cfg(feature = "ballista")]
pub mod job_phases;
#[cfg(feature = "ballista")]
pub mod scalar_subqueries;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use datafusion::physical_plan::ExecutionPlan;

use crate::compiler::Compiler;

/// Where tasks execute.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Engine {
    /// In this process, on the driver's DataFusion runtime.
    #[default]
    Local,
    /// On the Ballista cluster whose scheduler listens at this address; a task whose job has
    /// not finished after `task_timeout` is cancelled and fails.
    Ballista {
        /// Where the scheduler listens.
        scheduler: SchedulerAddress,
        /// How long one task's job may take.
        task_timeout: Duration,
    },
}

/// How long a cluster task may take when neither `--task-timeout` nor
/// `profile.engine.task_timeout` says: generous (an hour), so it only ends jobs that cannot
/// finish, such as one whose executors all stopped responding.
pub const DEFAULT_TASK_TIMEOUT: Duration = Duration::from_secs(3600);

impl Engine {
    /// The cluster behind `scheduler`, with the default task timeout.
    pub fn ballista(scheduler: SchedulerAddress) -> Engine {
        Engine::Ballista { scheduler, task_timeout: DEFAULT_TASK_TIMEOUT }
    }

    /// This engine with `timeout` as its task timeout (the local engine has none).
    pub fn with_task_timeout(self, timeout: Duration) -> Engine {
        match self {
            Engine::Local => Engine::Local,
            Engine::Ballista { scheduler, .. } => Engine::Ballista { scheduler, task_timeout: timeout },
        }
    }

    /// Whether this build can run on the engine (`ballista` needs the cargo feature).
    pub fn is_available(&self) -> bool {
        match self {
            Engine::Local => true,
            Engine::Ballista { .. } => cfg!(feature = "ballista"),
        }
    }

    /// The engine a spec's `profile.engine` names.
    pub fn from_profile(profile: &viewdag_ir::EngineProfile) -> Result<Engine, String> {
        match profile.kind {
            viewdag_ir::EngineKind::Local => Ok(Engine::Local),
            viewdag_ir::EngineKind::Ballista => {
                let address = profile
                    .scheduler
                    .as_deref()
                    .ok_or_else(|| "`profile.engine` is `ballista` but names no `scheduler: df://HOST:PORT`".to_string())?;
                let timeout = match profile.task_timeout {
                    Some(0) => return Err("`profile.engine.task_timeout` must be at least 1 second".to_string()),
                    Some(seconds) => Duration::from_secs(seconds),
                    None => DEFAULT_TASK_TIMEOUT,
                };
                Ok(Engine::Ballista { scheduler: SchedulerAddress::parse(address)?, task_timeout: timeout })
            }
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Engine::Local => f.write_str("local"),
            Engine::Ballista { scheduler, task_timeout } => {
                write!(f, "ballista at {scheduler} (task timeout {} s)", task_timeout.as_secs())
            }
        }
    }
}

impl Compiler {
    /// The plan that produces `task`'s rows on `engine`: the compiled P2 (`local`) itself,
    /// or a Ballista job built from the task's P1.
    pub(crate) fn plan_for_engine(
        &self,
        engine: &Engine,
        task: &viewdag_schedule::Task,
        local: Arc<dyn ExecutionPlan>,
        diagnostics: &mut Vec<viewdag_ir::Diagnostic>,
    ) -> Result<Arc<dyn ExecutionPlan>, crate::execute::TaskError> {
        match engine {
            Engine::Local => Ok(local),
            #[cfg(feature = "ballista")]
            Engine::Ballista { scheduler, task_timeout } => {
                self.distributed_task_plan(&task.view, &task.id, scheduler, *task_timeout, diagnostics)
            }
            #[cfg(not(feature = "ballista"))]
            Engine::Ballista { .. } => {
                let _ = (task, diagnostics);
                Err(crate::execute::TaskError::Engine(
                    "this viewdag was built without the `ballista` feature, so it cannot run on a Ballista cluster".to_string(),
                ))
            }
        }
    }
}

/// A Ballista scheduler's address, written `df://HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerAddress {
    /// Host name or IP address.
    pub host: String,
    /// The scheduler's gRPC port.
    pub port: u16,
}

impl SchedulerAddress {
    /// Parses `df://HOST:PORT`.
    pub fn parse(text: &str) -> Result<SchedulerAddress, String> {
        let problem = || format!("`{text}` is not a scheduler address (expected `df://HOST:PORT`)");
        let rest = text.strip_prefix("df://").ok_or_else(problem)?;
        let (host, port) = rest.rsplit_once(':').ok_or_else(problem)?;
        let port: u16 = port.parse().map_err(|_| problem())?;
        if host.is_empty() || host.contains('/') || port == 0 {
            return Err(problem());
        }
        Ok(SchedulerAddress { host: host.to_string(), port })
    }

    /// The scheduler's gRPC endpoint.
    pub fn grpc_url(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }
}

impl fmt::Display for SchedulerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "df://{}:{}", self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduler_addresses_parse_or_are_refused() {
        assert_eq!(SchedulerAddress::parse("df://127.0.0.1:50050"), Ok(SchedulerAddress { host: "127.0.0.1".into(), port: 50050 }));
        assert_eq!(SchedulerAddress::parse("df://localhost:7").map(|address| address.grpc_url()), Ok("http://localhost:7".into()));
        for bad in ["127.0.0.1:50050", "df://:50050", "df://host", "df://host:0", "df://host:99999", "http://host:1"] {
            assert!(SchedulerAddress::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn the_profile_sets_the_task_timeout() {
        let profile = |task_timeout| viewdag_ir::EngineProfile {
            kind: viewdag_ir::EngineKind::Ballista,
            scheduler: Some("df://127.0.0.1:50050".to_string()),
            task_timeout,
        };
        let timeout = |engine: Engine| match engine {
            Engine::Ballista { task_timeout, .. } => task_timeout,
            Engine::Local => panic!("a cluster engine"),
        };
        assert_eq!(Engine::from_profile(&profile(None)).map(timeout), Ok(DEFAULT_TASK_TIMEOUT));
        assert_eq!(Engine::from_profile(&profile(Some(7))).map(timeout), Ok(Duration::from_secs(7)));
        assert!(Engine::from_profile(&profile(Some(0))).is_err(), "a zero timeout is refused");
        let engine = Engine::from_profile(&profile(Some(7))).unwrap().with_task_timeout(Duration::from_secs(3));
        assert_eq!(timeout(engine), Duration::from_secs(3), "the command line wins");
    }
}
