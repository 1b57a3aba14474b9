//! One file per command: each parses nothing but its own flags (a `clap::Args` struct),
//! converts them to the library's plain types and calls the library.

pub mod check;
pub mod cluster;
pub mod compile;
pub mod diff;
pub mod docs;
pub mod explain;
pub mod graph;
pub mod lab;
pub mod lsp;
pub mod plan;
pub mod replay;
pub mod run;
pub mod schedule;
pub mod test;
pub mod watch;

use clap::Subcommand;

use crate::error::CliError;

/// The `viewdag` commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a spec (every view against its inputs' schemas, outputs against their
    /// contracts) without planning; report every problem.
    Check(check::CheckArgs),
    /// Validate a spec, plan its tasks (materialized views and outputs) and write the
    /// compile envelope (`manifest.json`), one plan bundle per planned view
    /// (`<view>.bundle.json`) and its P0, P1 and P2 plan text.
    Compile(compile::CompileArgs),
    /// Recompile incrementally whenever the spec or a source changes; print diagnostics and
    /// recompile statistics each time. Stops with Ctrl-C.
    Watch(watch::WatchArgs),
    /// Print a view's P0 (unoptimized), P1 (optimized) and P2 (physical) plans.
    Explain(explain::ExplainArgs),
    /// Compile and execute every output under each rulepack; check the rows are identical.
    Lab(lab::LabArgs),
    /// Compile, then run every task (materialized views and outputs), writing Delta tables:
    /// up to `--jobs` at once, longest estimated critical path first.
    Run(run::RunArgs),
    /// A dry run: for every task, what the next `run` would do and why — up to date,
    /// incremental (which inputs appended, files, rows, bytes) or full (the reason) — with
    /// the bytes it would read. Writes nothing, takes no lock.
    Plan(plan::PlanArgs),
    /// Write a static HTML site of the project (no server needed): the DAG with zoom and
    /// search and, per view, definition, schema, lineage, plans, pass trace, pushdown
    /// report, cost, expectations and the last run's results.
    Docs(docs::DocsArgs),
    /// Evaluate every task's expectations against its table as it is now, writing nothing.
    /// Exit 1 when an expectation whose `on_fail` is `fail` fails.
    Test(test::TestArgs),
    /// Start a local Ballista cluster (a scheduler and N executors, each its own process)
    /// for `run --engine ballista`; prints `scheduler: df://HOST:PORT` once it serves and
    /// stops everything on Ctrl-C or SIGTERM.
    Cluster(cluster::ClusterArgs),
    /// One node of a Ballista cluster with viewdag's codec: the scheduler, or an executor
    /// (what `viewdag cluster` starts on this machine; on a real cluster, each machine runs
    /// one, see the README's deployment section).
    ClusterNode {
        #[command(subcommand)]
        node: cluster::ClusterNodeKind,
    },
    /// Print every task's estimated cost (bytes read and written, critical path) and the
    /// schedule `run --jobs N` follows, simulated in estimated bytes.
    Schedule(schedule::ScheduleArgs),
    /// Compare two `compile --out` directories: per view, which of definition, P0, P1,
    /// P2, lineage and trace changed. Exit 0 when identical, 1 when not.
    Diff(diff::DiffArgs),
    /// Rebuild each bundle's plan from each serialized form (datafusion-proto, SQL, and
    /// Substrait in a build with that feature) against the spec's current providers, compare
    /// its P0/P1/P2 digests with the bundle's, execute it and compare rows with the compiled
    /// plan. Exit 0 when every view replayed (the proto form exactly) with matching rows.
    Replay(replay::ReplayArgs),
    /// Serve the Language Server Protocol on stdin/stdout: live diagnostics, hover,
    /// definitions, references, completion, symbols and quick fixes for open spec files.
    Lsp,
    /// Print the view DAG.
    Graph(graph::GraphArgs),
}

impl Command {
    /// Carries out the command; returns the process exit code (0 success, 1 the spec has
    /// errors or a task failed).
    pub fn execute(self) -> Result<i32, CliError> {
        match self {
            Command::Check(args) => check::execute(args),
            Command::Compile(args) => compile::execute(args),
            Command::Watch(args) => watch::execute(args),
            Command::Explain(args) => explain::execute(args),
            Command::Lab(args) => lab::execute(args),
            Command::Run(args) => run::execute(args),
            Command::Plan(args) => plan::execute(args),
            Command::Docs(args) => docs::execute(args),
            Command::Test(args) => test::execute(args),
            Command::Cluster(args) => cluster::execute(args),
            Command::ClusterNode { node } => cluster::execute_node(node),
            Command::Schedule(args) => schedule::execute(args),
            Command::Diff(args) => diff::execute(args),
            Command::Replay(args) => replay::execute(args),
            Command::Lsp => lsp::execute(),
            Command::Graph(args) => graph::execute(args),
        }
    }
}
