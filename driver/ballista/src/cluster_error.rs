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
    /// The running executable (which the nodes are started from) cannot be found.
    #[error("cannot find the viewdag executable: {0}")]
    Executable(#[source] std::io::Error),
    /// The cluster's work directory cannot be created.
    #[error("cannot create the work directory {}: {source}", path.display())]
    WorkDirectory {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A node's process cannot be started.
    #[error("cannot start `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// A node exited before it served.
    #[error("the {node} exited while starting ({status})")]
    ExitedWhileStarting {
        /// `scheduler` or `executor N`.
        node: String,
        /// How it exited.
        status: ExitStatus,
    },
    /// A node did not listen in time.
    #[error("the {node} did not listen on port {port} within {timeout:?}")]
    NotListening {
        /// `scheduler` or `executor N`.
        node: String,
        /// The port it was to listen on.
        port: u16,
        /// How long it was given.
        timeout: Duration,
    },
    /// The scheduler exited while the cluster served.
    #[error("the scheduler exited ({0}); the cluster stopped")]
    SchedulerExited(ExitStatus),
    /// No free port was found for a node.
    #[error("cannot find a free port near {0}")]
    NoFreePort(u16),
    /// The cluster's address could not be printed.
    #[error("cannot print the cluster's address: {0}")]
    Print(#[source] std::io::Error),
    /// An async runtime could not be started.
    #[error("cannot start an async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// SIGTERM cannot be listened for.
    #[error("cannot listen for SIGTERM: {0}")]
    Signal(#[source] std::io::Error),
    /// A node bound to every interface without an address others reach it at.
    #[error("a node bound to `{bind}` needs `--external-host`: the address other nodes reach it at")]
    ExternalHostNeeded {
        /// The address it binds.
        bind: String,
    },
    /// The scheduler's address does not parse.
    #[error("bad scheduler address `{address}`: {reason}")]
    SchedulerAddress {
        /// The address.
        address: String,
        /// Why it does not parse.
        reason: String,
    },
    /// The scheduler did not start (Ballista's message).
    #[error("the scheduler did not start: {0}")]
    SchedulerStart(String),
    /// The scheduler stopped serving (Ballista's message).
    #[error("the scheduler stopped: {0}")]
    SchedulerStopped(String),
    /// The executor stopped serving (Ballista's message).
    #[error("the executor stopped: {0}")]
    ExecutorStopped(String),
}
