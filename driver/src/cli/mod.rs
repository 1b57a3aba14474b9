//! The `viewdag` command line: check, compile, explain, run, diff, graph.
//!
//! Exit codes: 0 success; 1 the spec has errors (or a task failed); 2 usage or I/O error.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

mod optimizer;
mod reports;
mod schedule;

use crate::compiler::{CompileRequest, CompileResponse, Compiler, Planning, ViewStatus};
use crate::engine::{Engine, SchedulerAddress};
use crate::error::DriverError;
use crate::graph::{to_dot, to_mermaid};
use crate::render::{check_report, render_human, short_digest, summary, summary_with_failed_tasks};
use crate::run::{Progress, RunOptions, TaskOutcome};
use crate::select::SelectionArgs;

#[derive(Debug, Parser)]
#[command(name = "viewdag", version, about = "Compile and run view DAGs over DataFusion and Delta Lake")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DiagnosticFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a spec (every view against its inputs' schemas, outputs against their
    /// contracts) without planning; report every problem.
    Check {
        /// The spec file (YAML, or JSON with a `.json` extension).
        spec: PathBuf,
        #[arg(long, value_enum, default_value = "human")]
        format: DiagnosticFormat,
        #[command(flatten)]
        selection: SelectionArgs,
    },
    /// Validate a spec, plan its tasks (materialized views and outputs) and write the
    /// compile envelope (`manifest.json`), one plan bundle per planned view
    /// (`<view>.bundle.json`) and its P0, P1 and P2 plan text.
    Compile {
        spec: PathBuf,
        /// Output directory (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Plan and write every view, not only the tasks.
        #[arg(long)]
        all_views: bool,
        /// Print how many queries executed and were reused, per stage.
        #[arg(long)]
        stats: bool,
        #[command(flatten)]
        selection: SelectionArgs,
    },
    /// Recompile incrementally whenever the spec or a source changes; print diagnostics and
    /// recompile statistics each time. Stops with Ctrl-C.
    Watch { spec: PathBuf },
    /// Print a view's P0 (unoptimized), P1 (optimized) and P2 (physical) plans.
    Explain {
        spec: PathBuf,
        /// The view (or give `--select` to explain every selected view).
        view: Option<String>,
        #[command(flatten)]
        selection: SelectionArgs,
        /// Print the optimizer trace (a table, and a plan diff per changing pass) instead.
        #[arg(long)]
        passes: bool,
        #[arg(long, value_enum, default_value = "human")]
        format: DiagnosticFormat,
    },
    /// Compile and execute every output under each rulepack; check the rows are identical.
    Lab {
        spec: PathBuf,
        #[arg(long, value_delimiter = ',', default_value = "default,minimal,none")]
        rulepacks: Vec<String>,
        #[arg(long, value_enum, default_value = "human")]
        format: DiagnosticFormat,
    },
    /// Compile, then run every task (materialized views and outputs), writing Delta tables:
    /// up to `--jobs` at once, longest estimated critical path first.
    Run {
        spec: PathBuf,
        /// Tasks executing at once (default: the number of CPUs).
        #[arg(long)]
        jobs: Option<usize>,
        /// Run every task, even those whose tables are up to date (same plan, same inputs,
        /// table still at the version the last run wrote).
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        selection: SelectionArgs,
        /// `json`: print the run report (tasks, rows, expectations, merges) on stdout.
        #[arg(long, value_enum, default_value = "human")]
        format: DiagnosticFormat,
        /// Where task plans execute: `local` (this process) or `ballista` (a Ballista
        /// cluster, with `--scheduler`). Default: the spec's `profile.engine`, else local.
        #[arg(long, value_parser = ["local", "ballista"])]
        engine: Option<String>,
        /// The Ballista scheduler, `df://HOST:PORT` (implies `--engine ballista`).
        #[arg(long)]
        scheduler: Option<String>,
        /// Seconds a task's Ballista job may take before it is cancelled and the task fails
        /// (`V0802`; default 3600, or the spec's `profile.engine.task_timeout`). Needs
        /// `--scheduler`.
        #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
        task_timeout: Option<u64>,
    },
    /// Write a static HTML site of the project (no server needed): the DAG with zoom and
    /// search and, per view, definition, schema, lineage, plans, pass trace, pushdown
    /// report, cost, expectations and the last run's results.
    Docs {
        spec: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Evaluate every task's expectations against its table as it is now, writing nothing.
    /// Exit 1 when an expectation whose `on_fail` is `fail` fails.
    Test {
        spec: PathBuf,
        #[arg(long, value_enum, default_value = "human")]
        format: DiagnosticFormat,
    },
    /// Start a local Ballista cluster (a scheduler and N executors, each its own process)
    /// for `run --engine ballista`; prints `scheduler: df://HOST:PORT` once it serves and
    /// stops everything on Ctrl-C or SIGTERM. Needs the `ballista` feature.
    Cluster {
        /// How many executors to start.
        #[arg(long, default_value_t = 2)]
        executors: usize,
        /// The scheduler's port (default: a free one).
        #[arg(long)]
        port: Option<u16>,
    },
    /// One node of `viewdag cluster` (started by it).
    #[command(hide = true)]
    ClusterNode {
        #[command(subcommand)]
        node: ClusterNodeKind,
    },
    /// Print every task's estimated cost (bytes read and written, critical path) and the
    /// schedule `run --jobs N` follows, simulated in estimated bytes.
    Schedule {
        spec: PathBuf,
        /// Workers to schedule on (default: the number of CPUs).
        #[arg(long)]
        jobs: Option<usize>,
        #[arg(long, value_enum, default_value = "human")]
        format: DiagnosticFormat,
    },
    /// Compare two `compile --out` directories: per view, which of definition, P0, P1,
    /// P2, lineage and trace changed. Exit 0 when identical, 1 when not.
    Diff {
        old: PathBuf,
        new: PathBuf,
        #[arg(long, value_enum, default_value = "human")]
        format: DiagnosticFormat,
    },
    /// Rebuild each bundle's plan from each serialized form (datafusion-proto, SQL, and
    /// Substrait in a build with that feature) against the spec's current providers, compare
    /// its P0/P1/P2 digests with the bundle's, execute it and compare rows with the compiled
    /// plan. Exit 0 when every view replayed (the proto form exactly) with matching rows.
    Replay {
        /// A `compile --out` directory.
        dir: PathBuf,
        /// The spec the bundles were compiled from (its directory resolves provider paths).
        #[arg(long)]
        spec: PathBuf,
    },
    /// Serve the Language Server Protocol on stdin/stdout: live diagnostics, hover,
    /// definitions, references, completion, symbols and quick fixes for open spec files.
    Lsp,
    /// Print the view DAG.
    Graph {
        spec: PathBuf,
        #[arg(long, value_enum, default_value = "dot")]
        format: GraphFormat,
        #[command(flatten)]
        selection: SelectionArgs,
    },
}

/// The stack of the thread commands run on (virtual memory: only what is touched is used).
const PLANNING_STACK_BYTES: usize = 256 << 20;

/// A node `viewdag cluster` starts.
#[derive(Debug, Subcommand)]
pub enum ClusterNodeKind {
    Scheduler {
        #[arg(long)]
        port: u16,
    },
    Executor {
        #[arg(long)]
        scheduler_port: u16,
        #[arg(long)]
        port: u16,
        #[arg(long)]
        grpc_port: u16,
    },
}

/// `run`'s engine from its `--engine`/`--scheduler` flags (`None`: the spec decides).
fn engine_from_flags(engine: Option<&str>, scheduler: Option<&str>) -> Result<Option<Engine>, String> {
    match (engine, scheduler) {
        (None, None) => Ok(None),
        (Some("local"), None) => Ok(Some(Engine::Local)),
        (Some("local"), Some(_)) => Err("`--scheduler` applies to `--engine ballista` only".to_string()),
        (Some("ballista") | None, Some(address)) => Ok(Some(Engine::ballista(SchedulerAddress::parse(address)?))),
        (Some("ballista"), None) => Err("`--engine ballista` needs `--scheduler df://HOST:PORT`".to_string()),
        (Some(other), _) => Err(format!("unknown engine `{other}`")),
    }
}

/// `viewdag cluster` and its nodes, which need no compiler.
fn execute_cluster(command: &Command) -> Option<Result<i32, DriverError>> {
    let result: Result<(), String> = match command {
        #[cfg(feature = "ballista")]
        Command::Cluster { executors, port } => crate::engine::cluster::run_cluster(*executors, *port, &mut std::io::stdout()),
        #[cfg(feature = "ballista")]
        Command::ClusterNode { node: ClusterNodeKind::Scheduler { port } } => crate::engine::cluster_node::serve_scheduler(*port),
        #[cfg(feature = "ballista")]
        Command::ClusterNode { node: ClusterNodeKind::Executor { scheduler_port, port, grpc_port } } => {
            crate::engine::cluster_node::serve_executor(*scheduler_port, *port, *grpc_port)
        }
        #[cfg(not(feature = "ballista"))]
        Command::Cluster { .. } | Command::ClusterNode { .. } => {
            Err("this viewdag was built without the `ballista` feature (build with `--features ballista`)".to_string())
        }
        _ => return None,
    };
    Some(match result {
        Ok(()) => Ok(0),
        Err(message) => {
            eprintln!("error: {message}");
            Ok(2)
        }
    })
}

/// Runs the CLI and returns the process exit code.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() { 2 } else { 0 };
        }
    };
    // Planning walks plans recursively (DataFusion) up to `MAX_INLINED_DEPTH` views deep:
    // give it a deep stack, whatever thread called us.
    let executed = std::thread::Builder::new()
        .name("viewdag".to_string())
        .stack_size(PLANNING_STACK_BYTES)
        .spawn(move || execute(cli.command))
        .map_err(|source| DriverError::Start { what: "the planning thread", source })
        .and_then(|thread| thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
    match executed {
        Ok(code) => code,
        Err(error) => {
            // Coded errors say `error[Vxxxx]: ` themselves.
            let text = error.to_string();
            if text.starts_with("error[") {
                eprintln!("{text}")
            } else {
                eprintln!("error: {text}")
            }
            2
        }
    }
}

fn print_diagnostics(compiler: &Compiler, response: &CompileResponse) {
    if response.diagnostics.is_empty() {
        return;
    }
    let source = compiler.spec_source().expect("a compiled spec has a source");
    let color = std::io::stderr().is_terminal();
    eprint!("{}", render_human(source, &response.diagnostics, color));
}

fn compile(compiler: &mut Compiler, spec: &Path) -> Result<CompileResponse, DriverError> {
    compiler.compile(&CompileRequest::new(spec))
}

fn execute(command: Command) -> Result<i32, DriverError> {
    if let Some(result) = execute_cluster(&command) {
        return result;
    }
    let mut compiler = Compiler::new()?;
    match command {
        Command::Check { spec, format, selection } => {
            let response = compiler.compile(&CompileRequest::check(&spec))?;
            let response = match compiler.select_views(&response, &selection)? {
                Some(selected) => compiler.restrict_to_selection(&response, &selected),
                None => response,
            };
            match format {
                DiagnosticFormat::Human => {
                    print_diagnostics(&compiler, &response);
                    let valid = response.views.iter().filter(|view| view.status.is_valid()).count();
                    eprintln!("{}: {} of {} views valid; {}", spec.display(), valid, response.views.len(), summary(&response.diagnostics));
                }
                DiagnosticFormat::Json => {
                    let source = compiler.spec_source().expect("a compiled spec has a source");
                    let document = check_report(&spec, source, &response);
                    println!("{}", serde_json::to_string_pretty(&document).expect("JSON serializes"));
                }
            }
            Ok(exit_code(&response))
        }
        Command::Compile { spec, out, all_views, stats, selection } => {
            let planning = if all_views { Planning::AllViews } else { Planning::Tasks };
            let planning = if selection.is_empty() { planning } else { Planning::CheckOnly };
            let response = compiler.compile(&CompileRequest::new(&spec).with_planning(planning))?;
            let response = match compiler.select_views(&response, &selection)? {
                Some(selected) => compiler.plan_selection(&response, &selected, all_views),
                None => response,
            };
            print_diagnostics(&compiler, &response);
            if stats {
                eprint!("{}", response.stats.render());
            }
            std::fs::create_dir_all(&out).map_err(DriverError::write(&out))?;
            let mut written = 0;
            for outcome in response.views.iter().filter(|outcome| matches!(outcome.status, ViewStatus::Compiled { .. })) {
                let view = &outcome.name;
                let Some(Ok(plans)) = compiler.view_plans(view) else { continue };
                for (stage, text) in [("p0", &plans.p0_text), ("p1", &plans.optimized.text), ("p2", &plans.physical.text)] {
                    let path = out.join(format!("{view}.{stage}.txt"));
                    std::fs::write(&path, text).map_err(DriverError::write(&path))?;
                }
                written += 1;
            }
            let artifacts = crate::artifacts::write_compile_output(&compiler, &response, &out)?;
            eprintln!(
                "wrote plans and {} bundle(s) of {written} view(s) to {}; {}",
                artifacts.bundle_files.len(),
                out.display(),
                summary(&response.diagnostics)
            );
            Ok(exit_code(&response))
        }
        Command::Diff { old, new, format } => {
            let diff = crate::artifacts::diff_directories(&old, &new)?;
            match format {
                DiagnosticFormat::Human => print!("{}", diff.render_text()),
                DiagnosticFormat::Json => println!("{}", serde_json::to_string_pretty(&diff).expect("JSON serializes")),
            }
            Ok(if diff.is_identical() { 0 } else { 1 })
        }
        Command::Replay { dir, spec } => {
            let replayed = compiler.replay(&dir, &spec)?;
            let mut all_match = true;
            for view in &replayed {
                all_match &= view.succeeded();
                if let Some(reason) = &view.skipped {
                    println!("{:<28} skipped: {reason}", view.view);
                }
                for (index, form) in view.forms.iter().enumerate() {
                    let name = if index == 0 { view.view.as_str() } else { "" };
                    println!("{name:<28} {:<10} {}", form.form.name(), crate::replay::describe_outcome(&form.outcome));
                }
                for problem in &view.incompatibilities {
                    println!("{:<28}   not replay-compatible: {problem}", "");
                }
            }
            Ok(if all_match { 0 } else { 1 })
        }
        Command::Lab { spec, rulepacks, format } => optimizer::lab(&spec, &rulepacks, format == DiagnosticFormat::Json),
        Command::Explain { spec, view: None, selection, passes: _, format: _ } => {
            let response = compile(&mut compiler, &spec)?;
            let Some(selected) = compiler.select_views(&response, &selection)? else {
                return Err(DriverError::Usage("explain needs a VIEW or `--select`".to_string()));
            };
            reports::explain_selected(&compiler, &selected)
        }
        Command::Explain { spec, view: Some(view), selection: _, passes, format } => {
            let response = if passes {
                match optimizer::explain_passes(&spec, &view, format == DiagnosticFormat::Json)? {
                    (code, None, _) => return Ok(code),
                    (_, Some(response), passes_compiler) => {
                        compiler = passes_compiler;
                        response
                    }
                }
            } else {
                compile(&mut compiler, &spec)?
            };
            let Some(plans) = compiler.view_plans(&view) else {
                eprintln!("error: view `{view}` is not declared in {}", spec.display());
                return Ok(2);
            };
            match plans {
                Ok(plans) => {
                    println!("== P0: unoptimized logical plan ({}) ==\n{}\n", short_digest(&plans.p0_digest), plans.p0_text.trim_end());
                    println!(
                        "== P1: optimized logical plan ({}) ==\n{}\n",
                        short_digest(&plans.optimized.digest),
                        plans.optimized.text.trim_end()
                    );
                    println!("== P2: physical plan ({}) ==\n{}", short_digest(&plans.physical.digest), plans.physical.text.trim_end());
                    Ok(0)
                }
                Err(_) => {
                    let relevant: Vec<_> =
                        response.diagnostics.iter().filter(|diagnostic| diagnostic.entry() == Some(view.as_str())).cloned().collect();
                    let filtered = CompileResponse { diagnostics: relevant, ..response };
                    print_diagnostics(&compiler, &filtered);
                    eprintln!("view `{view}` did not compile");
                    Ok(1)
                }
            }
        }
        Command::Schedule { spec, jobs, format } => {
            let jobs = jobs.unwrap_or(RunOptions::default().jobs);
            schedule::schedule(&spec, jobs, format == DiagnosticFormat::Json)
        }
        Command::Docs { spec, out } => {
            let (code, views) = crate::docs_site::write_docs_site(&spec, &out)?;
            eprintln!("wrote the docs site of {views} view(s) to {}", out.join("index.html").display());
            Ok(code)
        }
        Command::Test { spec, format } => reports::test_command(&spec, format == DiagnosticFormat::Json),
        Command::Run { spec, jobs, force, selection, format, engine, scheduler, task_timeout } => {
            let mut stderr = std::io::stderr();
            let engine = match engine_from_flags(engine.as_deref(), scheduler.as_deref()).and_then(|engine| match (engine, task_timeout) {
                (engine, None) => Ok(engine),
                (Some(engine @ Engine::Ballista { .. }), Some(seconds)) => Ok(Some(engine.with_task_timeout(Duration::from_secs(seconds)))),
                (_, Some(_)) => {
                    Err("`--task-timeout` needs `--scheduler df://HOST:PORT` (in the spec: `profile.engine.task_timeout`)".to_string())
                }
            }) {
                Ok(engine) => engine,
                Err(message) => {
                    eprintln!("error: {message}");
                    return Ok(2);
                }
            };
            let selected = if selection.is_empty() {
                None
            } else {
                let checked = compiler.compile(&CompileRequest::check(&spec))?;
                compiler.select_views(&checked, &selection)?
            };
            let options = RunOptions { jobs: jobs.unwrap_or(RunOptions::default().jobs).max(1), force, selection: selected, engine };
            if let Some(engine @ Engine::Ballista { .. }) = &options.engine {
                let _ = writeln!(stderr, "running task plans on {engine}");
            }
            let report = compiler.run_with(&CompileRequest::new(&spec), &options, &mut |progress| {
                // A task can run for long: say when it starts, not only when it ends.
                if let Progress::Started { task, .. } = &progress {
                    let _ = writeln!(stderr, "      {:<28} started", task.id);
                }
                if let Progress::Finished { report, index, total } = progress {
                    let line = match &report.outcome {
                        TaskOutcome::Written { rows, version } => format!(
                            "[{}/{total}] {:<28} {rows:>10} rows  → {} (v{version})  {:.2?}",
                            index + 1,
                            report.id,
                            report.target,
                            report.elapsed
                        ),
                        TaskOutcome::UpToDate { version } => {
                            format!("[{}/{total}] {:<28} up to date → {} (v{version})", index + 1, report.id, report.target)
                        }
                        TaskOutcome::Failed { error } => format!("[{}/{total}] {:<28} FAILED: {error}", index + 1, report.id),
                        TaskOutcome::Skipped { reason } => format!("[{}/{total}] {:<28} skipped: {reason}", index + 1, report.id),
                    };
                    let _ = writeln!(stderr, "{line}");
                    for warning in &report.audits.warnings {
                        let _ = writeln!(stderr, "      warning: {warning}");
                    }
                    for line in crate::run_report::task_detail_lines(report) {
                        let _ = writeln!(stderr, "      {line}");
                    }
                }
            })?;
            if !report.compile.diagnostics.is_empty() {
                print_diagnostics(&compiler, &report.compile);
            }
            for warning in &report.warnings {
                eprintln!("warning: {warning}");
            }
            for error in &report.errors {
                eprintln!("{error}");
            }
            if let Some(warning) = crate::docs_site::save_last_run(&compiler, &report) {
                eprintln!("warning: {warning}");
            }
            if format == DiagnosticFormat::Json {
                println!("{}", serde_json::to_string_pretty(&crate::run_report::run_report_json(&report)).expect("JSON serializes"));
            }
            let written = report.tasks.iter().filter(|task| matches!(task.outcome, TaskOutcome::Written { .. })).count();
            let up_to_date = report.tasks.iter().filter(|task| matches!(task.outcome, TaskOutcome::UpToDate { .. })).count();
            let failed = report.tasks.iter().filter(|task| matches!(task.outcome, TaskOutcome::Failed { .. })).count();
            eprintln!(
                "{written} of {} task(s) written, {up_to_date} up to date; {}",
                report.tasks.len(),
                summary_with_failed_tasks(&report.compile.diagnostics, failed)
            );
            Ok(if report.succeeded() { 0 } else { 1 })
        }
        Command::Watch { spec } => {
            crate::watch::watch(&spec, &crate::watch::WatchOptions::default(), &mut std::io::stderr())?;
            Ok(0)
        }
        Command::Lsp => {
            crate::lsp::serve_stdio()?;
            Ok(0)
        }
        Command::Graph { spec, format, selection } => {
            let response = compile(&mut compiler, &spec)?;
            let selected = compiler.select_views(&response, &selection)?;
            let outputs: Vec<(String, String)> = compiler.outputs.iter().map(|(name, spec)| (name.clone(), spec.view.clone())).collect();
            let materialized = |name: &str| compiler.is_materialized(name);
            let full = &compiler.structure().dag;
            let narrowed = selected.as_ref().map(|selected| crate::select::selected_subgraph(full, selected));
            let outputs: Vec<(String, String)> =
                outputs.into_iter().filter(|(_, view)| selected.as_ref().is_none_or(|selected| selected.contains(view))).collect();
            let dag = narrowed.as_ref().unwrap_or(full);
            let text = match format {
                GraphFormat::Dot => to_dot(dag, &materialized, &outputs),
                GraphFormat::Mermaid => to_mermaid(dag, &materialized, &outputs),
            };
            print!("{text}");
            print_diagnostics(&compiler, &response);
            Ok(exit_code(&response))
        }
        Command::Cluster { .. } | Command::ClusterNode { .. } => unreachable!("handled by `execute_cluster`"),
    }
}

fn exit_code(response: &CompileResponse) -> i32 {
    if response.has_errors() { 1 } else { 0 }
}
