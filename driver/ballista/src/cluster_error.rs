//! Why `viewdag cluster` or one of its nodes (`viewdag cluster-node …`) could not start or
//! stopped serving.
//!
//! ## Invariants
//! - Every message names the node or the resource it is about; none carries a secret (a
//!   node's configuration holds addresses and paths only).

use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// A local cluster's or a node's failure.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot find the viewdag executable: {0}")]
    Executable(#[source] std::io::Error),
    #[error("cannot create the work directory {}: {source}", path.display())]
    WorkDirectory { path: PathBuf, source: std::io::Error },
    #[error("cannot start `{command}`: {source}")]
    Spawn { command: String, source: std::io::Error },
    #[error("the {node} exited while starting ({status})")]
    ExitedWhileStarting { node: String, status: ExitStatus },
    #[error("the {node} did not listen on port {port} within {timeout:?}")]
    NotListening { node: String, port: u16, timeout: Duration },
    #[error("the scheduler exited ({0}); the cluster stopped")]
    SchedulerExited(ExitStatus),
    #[error("cannot find a free port near {0}")]
    NoFreePort(u16),
    #[error("cannot print the cluster's address: {0}")]
    Print(#[source] std::io::Error),
    #[error("cannot start an async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("cannot listen for SIGTERM: {0}")]
    Signal(#[source] std::io::Error),
    #[error("a node bound to `{bind}` needs `--external-host`: the address other nodes reach it at")]
    ExternalHostNeeded { bind: String },
    #[error("bad scheduler address `{address}`: {reason}")]
    SchedulerAddress { address: String, reason: String },
    #[error("the scheduler did not start: {0}")]
    SchedulerStart(String),
    #[error("the scheduler stopped: {0}")]
    SchedulerStopped(String),
    #[error("the executor stopped: {0}")]
    ExecutorStopped(String),
}
