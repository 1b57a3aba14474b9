//! `viewdag cluster [--executors N] [--port P]`: a local Ballista cluster (a scheduler and N
//! executors, each its own process) for `run --engine ballista`; and `cluster-node`, one of
//! its nodes (started by it). Neither needs a compiler.

use clap::Subcommand;
use std::path::PathBuf;

use viewdag_ballista::cluster::{ClusterOptions, run_cluster};
use viewdag_ballista::cluster_node::{ExecutorOptions, LOOPBACK, NodeAddress, NodeCodec, serve_executor, serve_scheduler};

use crate::error::CliError;

/// `cluster`'s arguments.
#[derive(Debug, clap::Args)]
pub struct ClusterArgs {
    /// How many executors to start.
    #[arg(long, default_value_t = 2, value_parser = crate::number_flags::executors)]
    executors: usize,
    /// The scheduler's port (default: a free one).
    #[arg(long)]
    port: Option<u16>,
    /// Nodes with Ballista's own codec only, as Ballista's stock `ballista-scheduler` and
    /// `ballista-executor` binaries: executors cannot write data files, so tasks stream their
    /// rows back to the driver (for trying what such a deployment does).
    #[arg(long)]
    ballista_codec: bool,
    /// Tasks each executor runs at once (default: the machine's cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    task_slots: Option<u64>,
    /// Where the executors' shuffle files go (a directory of the cluster's own is created
    /// there and removed when it stops; default: `/dev/shm` when it has 2 GiB free, else the
    /// system's temporary directory).
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

/// One node of a cluster: what `viewdag cluster` starts on this machine, and what each
/// machine of a real cluster runs.
#[derive(Debug, Subcommand)]
pub enum ClusterNodeKind {
    /// The scheduler: `viewdag run --scheduler df://EXTERNAL_HOST:PORT` submits to it.
    Scheduler {
        /// The port it serves (gRPC) on.
        #[arg(long)]
        port: u16,
        #[command(flatten)]
        address: AddressArgs,
        /// Ballista's own codec only (as its stock binaries): executors cannot write data files.
        #[arg(long)]
        ballista_codec: bool,
    },
    /// An executor: registers with the scheduler, runs stage tasks, serves shuffle data.
    Executor {
        /// The scheduler's host.
        #[arg(long, default_value = LOOPBACK)]
        scheduler_host: String,
        /// The scheduler's port.
        #[arg(long)]
        scheduler_port: u16,
        /// The port it serves shuffle data on (Arrow Flight).
        #[arg(long)]
        port: u16,
        /// The port it takes tasks on (gRPC).
        #[arg(long)]
        grpc_port: u16,
        #[command(flatten)]
        address: AddressArgs,
        /// Ballista's own codec only (as its stock binaries): it cannot write data files.
        #[arg(long)]
        ballista_codec: bool,
        /// Tasks it runs at once (default: the machine's cores).
        #[arg(long)]
        task_slots: Option<usize>,
        /// Where its shuffle files go (default: a temporary directory).
        #[arg(long)]
        work_dir: Option<PathBuf>,
    },
}

/// Where a node listens and how the others reach it.
#[derive(Debug, clap::Args)]
pub struct AddressArgs {
    /// The interface to listen on (`0.0.0.0`: every one).
    #[arg(long, default_value = LOOPBACK)]
    bind: String,
    /// The host name or address the other nodes and clients reach this node at (needed with
    /// `--bind 0.0.0.0`).
    #[arg(long)]
    external_host: Option<String>,
}

impl From<AddressArgs> for NodeAddress {
    fn from(AddressArgs { bind, external_host }: AddressArgs) -> NodeAddress {
        NodeAddress { bind, external_host }
    }
}

fn codec(ballista_codec: bool) -> NodeCodec {
    if ballista_codec { NodeCodec::Ballista } else { NodeCodec::Viewdag }
}

pub fn execute(args: ClusterArgs) -> Result<i32, CliError> {
    let ClusterArgs { executors, port, ballista_codec, task_slots, work_dir } = args;
    let executor = ExecutorOptions {
        address: NodeAddress::default(),
        codec: codec(ballista_codec),
        task_slots: task_slots.map(|slots| usize::try_from(slots).unwrap_or(usize::MAX)),
        work_dir,
    };
    run_cluster(&ClusterOptions { executors, port, executor }, &mut std::io::stdout()).map_err(CliError::Cluster)?;
    Ok(0)
}

pub fn execute_node(node: ClusterNodeKind) -> Result<i32, CliError> {
    match node {
        ClusterNodeKind::Scheduler { port, address, ballista_codec } => serve_scheduler(port, &address.into(), codec(ballista_codec)),
        ClusterNodeKind::Executor { scheduler_host, scheduler_port, port, grpc_port, address, ballista_codec, task_slots, work_dir } => {
            let options = ExecutorOptions { address: address.into(), codec: codec(ballista_codec), task_slots, work_dir };
            serve_executor(&scheduler_host, scheduler_port, port, grpc_port, &options)
        }
    }
    .map_err(CliError::Cluster)?;
    Ok(0)
}
