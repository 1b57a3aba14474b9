//! One node of a local Ballista cluster, run in this process by the ballista crates: the
//! scheduler, or one executor. `viewdag cluster` starts each as a separate `viewdag`
//! process (hidden `cluster-node` subcommand), so killing one is like losing a machine.
//!
//! ## Invariants
//! - Everything listens on the loopback interface only.
//! - Lost executors are noticed within seconds (short heartbeat and timeout), so a task
//!   whose executor died fails or is retried by Ballista instead of hanging for minutes.
//! - No custom codecs: what travels is what Ballista's default codecs carry (see
//!   `distributed_plan`), so Ballista's own scheduler and executor binaries can serve as
//!   well.

use std::sync::Arc;

use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;

/// The interface every node binds.
pub const LOOPBACK: &str = "127.0.0.1";

/// Seconds between an executor's heartbeats.
const HEARTBEAT_SECONDS: u64 = 2;
/// Seconds without a heartbeat after which the scheduler drops an executor.
const EXECUTOR_TIMEOUT_SECONDS: u64 = 8;

/// Serves a scheduler on `LOOPBACK:port` until the process ends.
pub fn serve_scheduler(port: u16) -> Result<(), String> {
    let config = SchedulerConfig {
        bind_host: LOOPBACK.to_string(),
        external_host: LOOPBACK.to_string(),
        bind_port: port,
        executor_timeout_seconds: EXECUTOR_TIMEOUT_SECONDS,
        expire_dead_executor_interval_seconds: HEARTBEAT_SECONDS,
        no_executors_grace_period_seconds: EXECUTOR_TIMEOUT_SECONDS,
        ..SchedulerConfig::default()
    };
    let address = format!("{LOOPBACK}:{port}").parse().map_err(|error| format!("bad scheduler address: {error}"))?;
    runtime()?.block_on(async move {
        let cluster = BallistaCluster::new_from_config(&config).await.map_err(|error| error.to_string())?;
        start_server(cluster, address, Arc::new(config)).await.map_err(|error| format!("the scheduler stopped: {error}"))
    })
}

/// Serves an executor that registers with the scheduler on `LOOPBACK:scheduler_port`,
/// serving shuffle data (Arrow Flight) on `flight_port` and tasks on `grpc_port`.
pub fn serve_executor(scheduler_port: u16, flight_port: u16, grpc_port: u16) -> Result<(), String> {
    let config = ExecutorProcessConfig {
        bind_host: LOOPBACK.to_string(),
        external_host: Some(LOOPBACK.to_string()),
        port: flight_port,
        grpc_port,
        scheduler_host: LOOPBACK.to_string(),
        scheduler_port,
        scheduler_connect_timeout_seconds: 30,
        executor_heartbeat_interval_seconds: HEARTBEAT_SECONDS,
        ..ExecutorProcessConfig::default()
    };
    runtime()?.block_on(start_executor_process(Arc::new(config))).map_err(|error| format!("the executor stopped: {error}"))
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

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    install_log();
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|error| error.to_string())
}
