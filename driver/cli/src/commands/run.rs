//! `viewdag run SPEC`: compile, then run every task (materialized views and outputs)
//! writing Delta tables, up to `--jobs` at once, longest estimated critical path first;
//! locally or on a Ballista cluster (`--engine ballista --scheduler df://HOST:PORT`).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::ValueEnum;
use viewdag_ballista::{BallistaEngine, Engines, SchedulerAddress};
use viewdag_driver::docs_data::save_last_run;
use viewdag_driver::run_report::{progress_lines, run_report_json, run_summary_line};
use viewdag_driver::select::Selection;
use viewdag_driver::{CompileRequest, LocalEngine, RunOptions, TaskEngine};

use crate::error::CliError;
use crate::output::{Format, print_diagnostics};
use crate::selection::SelectionArgs;

/// Where task plans execute.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum EngineKind {
    /// In this process.
    Local,
    /// On a Ballista cluster (with `--scheduler`).
    Ballista,
}

/// `run`'s arguments.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    spec: PathBuf,
    /// Tasks executing at once (default: the number of CPUs; 1–1024).
    #[arg(long, value_parser = crate::number_flags::jobs)]
    jobs: Option<usize>,
    /// Run every task, even those whose tables are up to date (same plan, same inputs,
    /// table still at the version the last run wrote).
    #[arg(long)]
    force: bool,
    /// Refresh every task that runs fully, even one whose change could be derived from
    /// the rows its inputs appended (see the README's "Incremental refresh").
    #[arg(long)]
    full_refresh: bool,
    #[command(flatten)]
    selection: SelectionArgs,
    /// `json`: print the run report (tasks, rows, expectations, merges) on stdout.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Where task plans execute: `local` (this process) or `ballista` (a Ballista
    /// cluster, with `--scheduler`). Default: the spec's `profile.engine`, else local.
    #[arg(long, value_enum)]
    engine: Option<EngineKind>,
    /// The Ballista scheduler, `df://HOST:PORT` (implies `--engine ballista`).
    #[arg(long)]
    scheduler: Option<String>,
    /// Seconds a task's Ballista job may take before it is cancelled and the task fails
    /// (`V0802`; default 3600, or the spec's `profile.engine.task_timeout`; 1–2592000). Needs
    /// `--scheduler`.
    #[arg(long, value_name = "SECS", value_parser = crate::number_flags::task_timeout)]
    task_timeout: Option<u64>,
    /// A session setting sent with every Ballista job (repeatable), e.g.
    /// `ballista.shuffle.compression.codec=none` or `datafusion.execution.target_partitions=8`
    /// (the partitions of every shuffle). Needs `--scheduler`.
    #[arg(long, value_name = "KEY=VALUE")]
    cluster_setting: Vec<String>,
    #[command(flatten)]
    cache: crate::cache_flag::CacheArgs,
}

/// The engine the flags ask for (`None`: the spec decides).
fn engine_from_flags(
    engine: Option<EngineKind>,
    scheduler: Option<&str>,
    task_timeout: Option<u64>,
    cluster_settings: &[String],
) -> Result<Option<Arc<dyn TaskEngine>>, String> {
    let ballista = |address: &str| -> Result<BallistaEngine, String> {
        let mut engine = BallistaEngine::new(SchedulerAddress::parse(address).map_err(|error| error.to_string())?);
        if let Some(seconds) = task_timeout {
            engine = engine.with_task_timeout(Duration::from_secs(seconds));
        }
        for setting in cluster_settings {
            let (key, value) = setting.split_once('=').ok_or_else(|| format!("`--cluster-setting {setting}` is not KEY=VALUE"))?;
            engine = engine.with_setting(key.trim(), value.trim());
        }
        Ok(engine)
    };
    let engine: Option<Arc<dyn TaskEngine>> = match (engine, scheduler) {
        (None, None) => None,
        (Some(EngineKind::Local), None) => Some(Arc::new(LocalEngine)),
        (Some(EngineKind::Local), Some(_)) => return Err("`--scheduler` applies to `--engine ballista` only".to_string()),
        (Some(EngineKind::Ballista) | None, Some(address)) => Some(Arc::new(ballista(address)?)),
        (Some(EngineKind::Ballista), None) => return Err("`--engine ballista` needs `--scheduler df://HOST:PORT`".to_string()),
    };
    if task_timeout.is_some() && scheduler.is_none() {
        return Err("`--task-timeout` needs `--scheduler df://HOST:PORT` (in the spec: `profile.engine.task_timeout`)".to_string());
    }
    if !cluster_settings.is_empty() && scheduler.is_none() {
        return Err("`--cluster-setting` needs `--scheduler df://HOST:PORT`".to_string());
    }
    Ok(engine)
}

pub fn execute(args: RunArgs) -> Result<i32, CliError> {
    let RunArgs { spec, jobs, force, full_refresh, selection, format, engine, scheduler, task_timeout, cluster_setting, cache } = args;
    let mut stderr = std::io::stderr();
    let engine = match engine_from_flags(engine, scheduler.as_deref(), task_timeout, &cluster_setting) {
        Ok(engine) => engine,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(2);
        }
    };
    let mut compiler = cache.compiler()?;
    let selection: Selection = selection.into();
    let selected = if selection.is_empty() {
        None
    } else {
        let checked = compiler.compile(&CompileRequest::check(&spec))?;
        compiler.snapshot().select_units(&checked, &selection)?
    };
    if let Some(engine) = engine.as_ref().filter(|_| scheduler.is_some()) {
        let _ = writeln!(stderr, "running task plans on {engine}");
    }
    let options = RunOptions {
        jobs: jobs.unwrap_or(RunOptions::default().jobs).max(1),
        force,
        full_refresh,
        selection: selected,
        engine,
        engines: Arc::new(Engines),
    };
    let report = compiler.run_with(&CompileRequest::new(&spec), &options, &mut |progress| {
        for line in progress_lines(&progress) {
            let _ = writeln!(stderr, "{line}");
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
    if let Some(warning) = save_last_run(compiler.snapshot(), &report) {
        eprintln!("warning: {warning}");
    }
    if format.is_json() {
        println!("{}", serde_json::to_string_pretty(&run_report_json(&report)).expect("JSON serializes"));
    }
    eprintln!("{}", run_summary_line(&report));
    Ok(if report.succeeded() { 0 } else { 1 })
}
