//! The `viewdag-driver` binary's command line: the library's main jobs from a shell,
//! `run SPEC` and `check SPEC`, printing what `viewdag run` and `viewdag check` print.
//!
//! Everything else — the Ballista engine, the language server, the docs site, `compile
//! --out`, selections, JSON output — is the full command line, `viewdag` (the
//! `viewdag-cli` package, which depends on this one). This one exists so that the library's
//! own package runs a project (`cargo run --release -p viewdag-driver -- run SPEC`) without
//! building the Ballista crates.
//!
//! Exit codes as `viewdag`'s: 0 success; 1 the spec has errors or a task failed; 2 usage or
//! I/O error.
//!
//! ## Invariants
//! - No behaviour of its own: flags become [`RunOptions`] and requests, and the lines
//!   printed come from [`crate::render`] and [`crate::run_report`], as `viewdag`'s do.
//! - A spec naming an engine other than `local` (`profile.engine`) is reported by the run
//!   (only [`crate::LocalEngines`] here), never silently run locally.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use crate::docs_data::save_last_run;
use crate::render::{check_summary_line, render_human};
use crate::run_report::{notice_lines, progress_lines, run_summary_line};
use crate::{CompileRequest, CompileResponse, Compiler, DriverError, RunOptions};

const USAGE: &str = "\
usage: viewdag-driver run SPEC [--jobs N] [--force] [--full-refresh] [--no-cache]
       viewdag-driver check SPEC [--no-cache]

  run     compile SPEC, then run every task (materialized views and outputs), writing Delta tables
  check   validate every view of SPEC against its inputs' schemas, without planning

  --jobs N         tasks executing at once (default: the number of CPUs; 1-1024)
  --force          run every task, even those whose tables are up to date
  --full-refresh   refresh every task that runs fully, never incrementally
  --no-cache       neither read nor write the signature cache in .viewdag/cache/

Every other command (compile, plan, schedule, explain, docs, lsp, cluster, ...) and every
engine: `viewdag` (cargo run --release -p viewdag-cli -- --help).";

/// What the arguments ask for.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Job(Job),
    Help,
    Version,
}

/// A command that compiles a spec.
#[derive(Debug, PartialEq, Eq)]
enum Job {
    Run { spec: PathBuf, jobs: Option<usize>, force: bool, full_refresh: bool, cache: bool },
    Check { spec: PathBuf, cache: bool },
}

/// What is wrong with the arguments (printed above the usage).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
struct UsageError(String);

impl From<&str> for UsageError {
    fn from(message: &str) -> Self {
        UsageError(message.to_string())
    }
}

/// Runs the command line (`args` with the program name first); the process exit code.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> i32 {
    let command = match parse(args.into_iter().skip(1).collect()) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return 2;
        }
    };
    let executed = match command {
        Command::Help => {
            println!("{USAGE}");
            return 0;
        }
        Command::Version => {
            println!("viewdag-driver {}", env!("CARGO_PKG_VERSION"));
            return 0;
        }
        Command::Job(job) => crate::parallel::on_planning_stack("viewdag-driver", move || execute(job)).and_then(|executed| executed),
    };
    executed.unwrap_or_else(|error| {
        // Coded errors say `error[Vxxxx]: ` themselves.
        let text = error.to_string();
        match text.starts_with("error[") {
            true => eprintln!("{text}"),
            false => eprintln!("error: {text}"),
        }
        2
    })
}

/// The command the arguments (after the program name) ask for, or what is wrong with them.
fn parse(args: Vec<OsString>) -> Result<Command, UsageError> {
    let mut args =
        args.into_iter().map(|arg| arg.into_string().map_err(|arg| UsageError(format!("`{}` is not UTF-8", arg.to_string_lossy()))));
    let name = match args.next().transpose()? {
        None => return Err("no command given".into()),
        Some(name) => name,
    };
    match name.as_str() {
        "-h" | "--help" | "help" => return Ok(Command::Help),
        "-V" | "--version" => return Ok(Command::Version),
        "run" | "check" => {}
        other => return Err(UsageError(format!("`{other}` is not a command of viewdag-driver (run, check)"))),
    }
    let (mut spec, mut jobs, mut force, mut full_refresh, mut cache) = (None, None, false, false, true);
    while let Some(arg) = args.next().transpose()? {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--no-cache" => cache = false,
            "--force" if name == "run" => force = true,
            "--full-refresh" if name == "run" => full_refresh = true,
            "--jobs" if name == "run" => {
                let value = args.next().transpose()?.ok_or("`--jobs` needs a number")?;
                jobs = Some(
                    value
                        .parse::<usize>()
                        .ok()
                        .filter(|jobs| (1..=1024).contains(jobs))
                        .ok_or_else(|| UsageError(format!("`--jobs {value}`: expected a number from 1 to 1024")))?,
                );
            }
            flag if flag.starts_with('-') => return Err(UsageError(format!("`{flag}` is not a flag of `{name}`"))),
            path if spec.is_none() => spec = Some(PathBuf::from(path)),
            extra => return Err(UsageError(format!("unexpected argument `{extra}`: `{name}` takes one spec"))),
        }
    }
    let spec = spec.ok_or_else(|| UsageError(format!("`{name}` needs a spec file")))?;
    Ok(match name.as_str() {
        "run" => Command::Job(Job::Run { spec, jobs, force, full_refresh, cache }),
        _ => Command::Job(Job::Check { spec, cache }),
    })
}

/// Executes a `run` or `check`; its exit code.
fn execute(job: Job) -> Result<i32, DriverError> {
    let color = std::io::stderr().is_terminal();
    match job {
        Job::Check { spec, cache } => {
            let mut compiler = Compiler::new()?.with_persistent_cache(cache);
            let progress = compiler.progress_on_terminal();
            let response = compiler.compile(&CompileRequest::check(&spec))?;
            drop(progress);
            eprint!("{}", diagnostics(&compiler, &response, color));
            eprintln!("{}", check_summary_line(&spec, &response));
            Ok(i32::from(response.has_errors()))
        }
        Job::Run { spec, jobs, force, full_refresh, cache } => {
            let mut compiler = Compiler::new()?.with_persistent_cache(cache);
            let progress = compiler.progress_on_terminal();
            let defaults = RunOptions::default();
            let options = RunOptions { jobs: jobs.unwrap_or(defaults.jobs).max(1), force, full_refresh, ..defaults };
            let mut stderr = std::io::stderr();
            let report = compiler.run_with(&CompileRequest::new(&spec), &options, &mut |task| {
                if let Some(progress) = &progress {
                    progress.finish();
                }
                for line in progress_lines(&task) {
                    let _ = writeln!(stderr, "{line}");
                }
            })?;
            drop(progress);
            eprint!("{}", diagnostics(&compiler, &report.compile, color));
            notice_lines(&report).iter().for_each(|line| eprintln!("{line}"));
            if let Some(warning) = save_last_run(compiler.snapshot(), &report) {
                eprintln!("warning: {warning}");
            }
            eprintln!("{}", run_summary_line(&report));
            Ok(i32::from(!report.succeeded()))
        }
    }
}

/// A response's diagnostics as text (nothing when there are none).
fn diagnostics(compiler: &Compiler, response: &CompileResponse, color: bool) -> String {
    match (compiler.spec_source(), response.diagnostics.is_empty()) {
        (Some(source), false) => render_human(source, &response.diagnostics, color),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Result<Command, UsageError> {
        parse(args.iter().map(OsString::from).collect())
    }

    #[test]
    fn run_and_check_take_their_flags_in_any_order() {
        assert_eq!(
            parsed(&["run", "--jobs", "3", "spec.yaml", "--force", "--no-cache"]),
            Ok(Command::Job(Job::Run { spec: "spec.yaml".into(), jobs: Some(3), force: true, full_refresh: false, cache: false }))
        );
        assert_eq!(parsed(&["check", "s.json"]), Ok(Command::Job(Job::Check { spec: "s.json".into(), cache: true })));
        assert_eq!(parsed(&["--help"]), Ok(Command::Help));
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        for (args, expected) in [
            (&["compile", "s.yaml"][..], "`compile` is not a command of viewdag-driver"),
            (&["run"], "`run` needs a spec file"),
            (&["run", "s.yaml", "--jobs", "0"], "`--jobs 0`: expected a number from 1 to 1024"),
            (&["run", "s.yaml", "--jobs"], "`--jobs` needs a number"),
            (&["check", "s.yaml", "--force"], "`--force` is not a flag of `check`"),
            (&["run", "a.yaml", "b.yaml"], "unexpected argument `b.yaml`"),
            (&[], "no command given"),
        ] {
            let error = parsed(args).expect_err("refused").0;
            assert!(error.starts_with(expected), "{args:?}: {error}");
        }
    }
}
