//! `viewdag run SPEC`: compile, then run every task (materialized views and outputs)
//! writing Delta tables, up to `--jobs` at once, longest estimated critical path first;
//! locally or on a Ballista cluster (`--engine ballista --scheduler df://HOST:PORT`).
//!
//! With the cache on and no flag that changes what runs, a run that found every task up to
//! date is recorded in `.viewdag/cache/replay.bin` (`viewdag_driver::command_replay`), and
//! the next run of the unchanged project prints the same bytes again without compiling.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::ValueEnum;
use viewdag_ballista::{BallistaEngine, Engines, SchedulerAddress};
use viewdag_driver::command_replay::{self, Begin, CommandOutput, ReplayKey, Replayed};
use viewdag_driver::docs_data::save_last_run;
use viewdag_driver::render::render_human;
use viewdag_driver::run_report::{notice_lines, progress_lines, run_report_json, run_summary_line};
use viewdag_driver::select::Selection;
use viewdag_driver::{CompileRequest, LocalEngine, RunOptions, TaskEngine, TaskOutcome, read_spec_file};
use viewdag_ir::Code;

use crate::error::CliError;
use crate::output::{Format, print_output, render_diagnostics};
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
    let engine = match engine_from_flags(engine, scheduler.as_deref(), task_timeout, &cluster_setting) {
        Ok(engine) => engine,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(2);
        }
    };
    let selection: Selection = selection.into();
    let color = std::io::stderr().is_terminal();
    // Only a plain run is replayed: the flags that change what runs are not in the key.
    let replayable = cache.enabled() && selection.is_empty() && engine.is_none() && !force && !full_refresh;
    let text = read_spec_file(&spec)?;
    let key = ReplayKey { command: Replayed::Run, spec_path: &spec, spec_text: &text, format: format.name(), color };
    let (started, record_warning) = match command_replay::begin(&key, replayable) {
        Begin::Replay(output) => return Ok(print_output(&output)),
        Begin::Run { started, warning } => (started, warning),
    };
    let mut compiler = cache.compiler()?;
    let progress = compiler.progress_on_terminal();
    let selected = if selection.is_empty() {
        None
    } else {
        let checked = compiler.compile(&CompileRequest::check(&spec))?;
        compiler.snapshot().select_units(&checked, &selection)?
    };
    let mut printed = Transcript::default();
    if let Some(engine) = engine.as_ref().filter(|_| scheduler.is_some()) {
        printed.line(format!("running task plans on {engine}"));
    }
    let options = RunOptions {
        jobs: jobs.unwrap_or(RunOptions::default().jobs).max(1),
        force,
        full_refresh,
        selection: selected,
        engine,
        engines: Arc::new(Engines),
    };
    let report = compiler.run_with(&CompileRequest::text(&spec, text.as_str()), &options, &mut |task| {
        if let Some(progress) = &progress {
            progress.finish();
        }
        progress_lines(&task).into_iter().for_each(|line| printed.line(line));
    })?;
    drop(progress);
    if let Some(source) = compiler.spec_source() {
        printed.text(render_diagnostics(source, &report.compile, color));
    }
    notice_lines(&report).into_iter().for_each(|line| printed.line(line));
    let saved = save_last_run(compiler.snapshot(), &report);
    if let Some(warning) = &saved {
        printed.line(format!("warning: {warning}"));
    }
    if format.is_json() {
        printed.stdout = format!("{}\n", serde_json::to_string_pretty(&run_report_json(&report)).expect("JSON serializes"));
        let _ = std::io::stdout().lock().write_all(printed.stdout.as_bytes());
    }
    printed.line(run_summary_line(&report));
    let exit_code = if report.succeeded() { 0 } else { 1 };
    // A record file that could not be read is reported, but is not part of the output.
    if let (Some(warning), Some(source)) = (record_warning, compiler.spec_source()) {
        eprint!("{}", render_human(source, &[warning], color));
    }
    // Recorded only when the run wrote nothing and said nothing a rerun may not say again.
    let all_up_to_date = report.tasks.iter().all(|task| matches!(task.outcome, TaskOutcome::UpToDate { .. }));
    let cache_warned = report.compile.diagnostics.iter().any(|diagnostic| diagnostic.code == Code::CacheUnreadable);
    if let Some(started) = started
        && all_up_to_date
        && exit_code == 0
        && report.warnings.is_empty()
        && saved.is_none()
        && !cache_warned
        && let Some(parsed) = compiler.parsed_spec()
    {
        let output = CommandOutput { stdout: printed.stdout, stderr: printed.stderr, exit_code };
        // Not reported: a record that is not written only makes the next run slower.
        let _ = command_replay::record(&key, started, parsed, &compiler.snapshot().views_with_tables(), &output);
    }
    crate::exit::release(compiler);
    Ok(exit_code)
}

/// What a run printed, kept to be recorded: stderr is printed as it is said (a task can run
/// for long), stdout once at the end.
#[derive(Default)]
struct Transcript {
    stdout: String,
    stderr: String,
}

impl Transcript {
    /// Prints `line` on stderr and keeps it.
    fn line(&mut self, line: String) {
        self.text(line + "\n");
    }

    /// Prints `text` on stderr as it is and keeps it.
    fn text(&mut self, text: String) {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
        self.stderr.push_str(&text);
    }
}
