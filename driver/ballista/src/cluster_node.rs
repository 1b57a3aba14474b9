//! One node of a Ballista cluster, run in this process by the ballista crates: the
//! scheduler, or one executor. `viewdag cluster` starts each as a separate `viewdag
//! cluster-node …` process on this machine (so killing one is like losing a machine); on a
//! real cluster each machine runs `viewdag cluster-node scheduler|executor` itself, listening
//! on `--bind` and advertising `--external-host` (see the README's *Deploying on several machines*).
//!
//! ## Invariants
//! - A node listens on the loopback interface unless told another one.
//! - Lost executors are noticed within seconds (short heartbeat and timeout).
//! - A job never survives the loss of an executor: Ballista 55's recovery re-runs a rolled
//!   back stage in full while the partial output of its first attempt stays registered with
//!   the stage that reads it (`StageOutput::add_partition` keeps every location, and a
//!   rollback removes only the lost executor's), so the reader counts those rows twice and
//!   the job "succeeds" with wrong totals. So the scheduler cancels every running job when an
//!   executor is removed, and fails a stage on its first shuffle-fetch failure
//!   (`stage_max_failures = 1`) instead of rolling it back; such a task fails and commits
//!   nothing. When no executor is left alive, every running job (also one submitted after the
//!   last executor left) fails within a second, naming that cause (`executor_loss`).
//! - Every node has viewdag's physical codec (`codec`: Ballista's own plus the node with which
//!   executors write data files), unless started as Ballista's stock binaries would be
//!   ([`NodeCodec::Ballista`], for trying such a deployment): then tasks stream their rows
//!   back instead. Everything else that travels is what Ballista's default codecs carry (see
//!   `distributed_plan`).
//! - The scheduler's and executors' runtimes find object stores from their own environment
//!   (`viewdag_driver::storage::object_store_registry`): a plan naming `s3://…` (a scan of
//!   Parquet/CSV objects, the files `DeltaWriteExec` writes) carries no credential; each
//!   node reads `AWS_*` (`AZURE_*`, `GOOGLE_*`) from where it runs. Spills go to the
//!   executor's `--work-dir` (else the system's temporary directory).

use std::sync::Arc;

use ballista_core::RuntimeProducer;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion_proto::physical_plan::PhysicalExtensionCodec;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};

use crate::cluster_error::ClusterError;
use crate::codec::ViewdagPhysicalCodec;
use crate::executor_loss::fail_jobs_on_executor_loss;

/// The interface every node binds.
pub const LOOPBACK: &str = "127.0.0.1";

/// Which physical codec a node decodes plans with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NodeCodec {
    /// viewdag's: Ballista's own and viewdag's writer node.
    #[default]
    Viewdag,
    /// Ballista's own only, as Ballista's stock `ballista-scheduler`/`ballista-executor`.
    Ballista,
}

impl NodeCodec {
    fn physical(self) -> Option<Arc<dyn PhysicalExtensionCodec>> {
        match self {
            NodeCodec::Viewdag => Some(Arc::new(ViewdagPhysicalCodec::default())),
            NodeCodec::Ballista => None,
        }
    }
}

/// Seconds between an executor's heartbeats.
const HEARTBEAT_SECONDS: u64 = 2;
/// Seconds without a heartbeat after which the scheduler drops an executor.
const EXECUTOR_TIMEOUT_SECONDS: u64 = 8;

/// Where a node listens and how others reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddress {
    /// The interface it binds (`0.0.0.0`: every one).
    pub bind: String,
    /// The host name or address other nodes and clients reach it at (defaults to `bind`,
    /// which must then be a reachable address).
    pub external_host: Option<String>,
}

impl Default for NodeAddress {
    fn default() -> Self {
        NodeAddress { bind: LOOPBACK.to_string(), external_host: None }
    }
}

impl NodeAddress {
    fn external(&self) -> Result<String, ClusterError> {
        match &self.external_host {
            Some(host) => Ok(host.clone()),
            None if self.bind == "0.0.0.0" || self.bind == "::" => Err(ClusterError::ExternalHostNeeded { bind: self.bind.clone() }),
            None => Ok(self.bind.clone()),
        }
    }
}

/// Serves a scheduler on `address:port` until the process ends.
pub fn serve_scheduler(port: u16, address: &NodeAddress, codec: NodeCodec) -> Result<(), ClusterError> {
    let config = SchedulerConfig {
        override_physical_codec: codec.physical(),
        // The scheduler decodes every submitted plan, so it resolves the plan's object stores too.
        override_session_builder: Some(scheduler_session()),
        bind_host: address.bind.clone(),
        external_host: address.external()?,
        bind_port: port,
        executor_timeout_seconds: EXECUTOR_TIMEOUT_SECONDS,
        expire_dead_executor_interval_seconds: HEARTBEAT_SECONDS,
        no_executors_grace_period_seconds: EXECUTOR_TIMEOUT_SECONDS,
        // A shuffle fetch that fails (its executor is gone) fails the job rather than rolling
        // the stage back, which would count rows twice (see the module docs).
        stage_max_failures: 1,
        // "No executor alive" (`executor_loss`) is `is_ready() == false`.
        min_ready_executors: 1,
        ..SchedulerConfig::default()
    };
    let text = format!("{}:{port}", address.bind);
    let address = text
        .parse()
        .map_err(|error: std::net::AddrParseError| ClusterError::SchedulerAddress { address: text.clone(), reason: error.to_string() })?;
    runtime()?.block_on(async move {
        let not_started = |error: &dyn std::fmt::Display| ClusterError::SchedulerStart(error.to_string());
        config.validate().map_err(|error| not_started(&error))?;
        let cluster = BallistaCluster::new_from_config(&config).await.map_err(|error| not_started(&error))?;
        let scheduler =
            create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, Arc::new(config)).await.map_err(|error| not_started(&error))?;
        let events = scheduler.state.executor_manager.cluster_state_events().await.map_err(|error| not_started(&error))?;
        tokio::spawn(fail_jobs_on_executor_loss(scheduler.clone(), events));
        start_grpc_service(address, scheduler).await.map_err(|error| ClusterError::SchedulerStopped(error.to_string()))
    })
}

/// How an executor runs its tasks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutorOptions {
    /// Where it listens (its Arrow Flight and gRPC ports) and is reached.
    pub address: NodeAddress,
    /// The codec it decodes plans with.
    pub codec: NodeCodec,
    /// Tasks it runs at once (Ballista's `vcores`; default: the machine's cores).
    pub task_slots: Option<usize>,
    /// Where it writes shuffle files (default: a temporary directory).
    pub work_dir: Option<std::path::PathBuf>,
}

/// Serves an executor that registers with the scheduler at `scheduler_host:scheduler_port`,
/// serving shuffle data (Arrow Flight) on `flight_port` and tasks on `grpc_port`.
pub fn serve_executor(
    scheduler_host: &str,
    scheduler_port: u16,
    flight_port: u16,
    grpc_port: u16,
    options: &ExecutorOptions,
) -> Result<(), ClusterError> {
    let defaults = ExecutorProcessConfig::default();
    let config = ExecutorProcessConfig {
        override_physical_codec: options.codec.physical(),
        override_runtime_producer: Some(executor_runtime(options.work_dir.clone())),
        vcores: options.task_slots.unwrap_or(defaults.vcores),
        work_dir: options.work_dir.as_ref().map(|directory| directory.to_string_lossy().into_owned()),
        bind_host: options.address.bind.clone(),
        external_host: Some(options.address.external()?),
        port: flight_port,
        grpc_port,
        scheduler_host: scheduler_host.to_string(),
        scheduler_port,
        scheduler_connect_timeout_seconds: 30,
        executor_heartbeat_interval_seconds: HEARTBEAT_SECONDS,
        ..defaults
    };
    runtime()?.block_on(start_executor_process(Arc::new(config))).map_err(|error| ClusterError::ExecutorStopped(error.to_string()))
}

/// The scheduler's sessions: Ballista's default, with object stores discovered from the
/// scheduler's environment.
fn scheduler_session() -> ballista_scheduler::scheduler_server::SessionBuilder {
    let registry = viewdag_driver::storage::object_store_registry();
    Arc::new(move |config| {
        let state = ballista_core::utils::default_session_builder(config)?;
        let runtime = RuntimeEnvBuilder::new().with_object_store_registry(Arc::clone(&registry)).build()?;
        Ok(SessionStateBuilder::new_from_existing(state).with_runtime_env(Arc::new(runtime)).build())
    })
}

/// The runtime of each of an executor's sessions: Ballista's default (spills under
/// `work_dir`) with object stores discovered from the executor's environment.
fn executor_runtime(work_dir: Option<std::path::PathBuf>) -> RuntimeProducer {
    let registry = viewdag_driver::storage::object_store_registry();
    Arc::new(move |_| {
        let builder = RuntimeEnvBuilder::new().with_object_store_registry(Arc::clone(&registry));
        let builder = match &work_dir {
            Some(directory) => builder.with_temp_file_path(directory),
            None => builder,
        };
        Ok(Arc::new(builder.build()?))
    })
}

/// Ballista's log lines on stderr, at the level `VIEWDAG_CLUSTER_LOG` names (`error`,
/// `warn`, `info`, `debug`, `trace`); none without it.
struct StderrLog;

impl log::Log for StderrLog {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            eprintln!("[{} {}] {}", record.level(), record.target(), record.args());
        }
    }

    fn flush(&self) {}
}

fn install_log() {
    let Some(level) = std::env::var("VIEWDAG_CLUSTER_LOG").ok().and_then(|text| text.parse::<log::LevelFilter>().ok()) else {
        return;
    };
    if log::set_logger(&StderrLog).is_ok() {
        log::set_max_level(level);
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, ClusterError> {
    install_log();
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(ClusterError::Runtime)
}
