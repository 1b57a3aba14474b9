//! `viewdag cluster [--executors N] [--port P]`: a local Ballista cluster (a scheduler and N
//! executors, each its own process) for `run --engine ballista`; and `cluster-node`, one of
//! its nodes (started by it). Neither needs a compiler.

use clap::Subcommand;
use viewdag_ballista::cluster::run_cluster;
use viewdag_ballista::cluster_node::{NodeCodec, serve_executor, serve_scheduler};

use crate::error::CliError;

/// `cluster`'s arguments.
#[derive(Debug, clap::Args)]
pub struct ClusterArgs {
    /// How many executors to start.
    #[arg(long, default_value_t = 2)]
    executors: usize,
    /// The scheduler's port (default: a free one).
    #[arg(long)]
    port: Option<u16>,
    /// Nodes with Ballista's own codec only, as Ballista's stock `ballista-scheduler` and
    /// `ballista-executor` binaries: executors cannot write data files, so tasks stream their
    /// rows back to the driver (for trying what such a deployment does).
    #[arg(long)]
    ballista_codec: bool,
}

/// A node `viewdag cluster` starts.
#[derive(Debug, Subcommand)]
pub enum ClusterNodeKind {
    /// The scheduler.
    Scheduler {
        #[arg(long)]
        port: u16,
        #[arg(long)]
        ballista_codec: bool,
    },
    /// An executor.
    Executor {
        #[arg(long)]
        scheduler_port: u16,
        #[arg(long)]
        port: u16,
        #[arg(long)]
        grpc_port: u16,
        #[arg(long)]
        ballista_codec: bool,
    },
}

fn codec(ballista_codec: bool) -> NodeCodec {
    if ballista_codec { NodeCodec::Ballista } else { NodeCodec::Viewdag }
}

pub fn execute(args: ClusterArgs) -> Result<i32, CliError> {
    run_cluster(args.executors, args.port, codec(args.ballista_codec), &mut std::io::stdout()).map_err(CliError::Cluster)?;
    Ok(0)
}

pub fn execute_node(node: ClusterNodeKind) -> Result<i32, CliError> {
    match node {
        ClusterNodeKind::Scheduler { port, ballista_codec } => serve_scheduler(port, codec(ballista_codec)),
        ClusterNodeKind::Executor { scheduler_port, port, grpc_port, ballista_codec } => {
            serve_executor(scheduler_port, port, grpc_port, codec(ballista_codec))
        }
    }
    .map_err(CliError::Cluster)?;
    Ok(0)
}
