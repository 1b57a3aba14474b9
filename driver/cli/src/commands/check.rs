//! `viewdag check SPEC`: validate every view against its inputs' schemas, outputs against
//! their contracts, without planning; report every problem.
//!
//! With the cache on (no `--no-cache`) and no selection, an unchanged project's check is
//! replayed from `.viewdag/cache/check.bin` (`viewdag_driver::check_replay`): the same
//! bytes on stdout and stderr and the same exit code, without parsing the spec.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use viewdag_driver::check_replay::{self, CheckKey, CheckOutput, Replay};
use viewdag_driver::render::{check_report, check_summary_line, render_human};
use viewdag_driver::select::Selection;
use viewdag_driver::{CompileRequest, read_spec_file};
use viewdag_ir::Code;

use crate::error::CliError;
use crate::output::{Format, exit_code, render_diagnostics};
use crate::selection::SelectionArgs;

/// `check`'s arguments.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The spec file (YAML, or JSON with a `.json` extension).
    spec: PathBuf,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    #[command(flatten)]
    selection: SelectionArgs,
    #[command(flatten)]
    cache: crate::cache_flag::CacheArgs,
}

pub fn execute(args: CheckArgs) -> Result<i32, CliError> {
    let CheckArgs { spec, format, selection, cache } = args;
    let selection: Selection = selection.into();
    let text = read_spec_file(&spec)?;
    let color = !format.is_json() && std::io::stderr().is_terminal();
    let key = CheckKey { spec_path: &spec, spec_text: &text, format: if format.is_json() { "json" } else { "human" }, color };
    let replayable = cache.enabled() && selection.is_empty();
    let mut record_warning = None;
    if replayable {
        match check_replay::replay(&key) {
            Replay::Hit(output) => return Ok(print(&output)),
            Replay::Miss => {}
            Replay::Unreadable(warning) => record_warning = Some(warning),
        }
    }
    let started = replayable.then(|| check_replay::start(&key));
    let mut compiler = cache.compiler()?;
    let response = compiler.compile(&CompileRequest::text(&spec, text.as_str()).with_planning(viewdag_driver::Planning::CheckOnly))?;
    let snapshot = compiler.snapshot();
    let response = match snapshot.select_views(&response, &selection)? {
        Some(selected) => snapshot.restrict_to_selection(&response, &selected),
        None => response,
    };
    let source = compiler.spec_source().expect("a compiled spec has a source");
    let output = match format {
        Format::Human => {
            let stderr = format!("{}{}\n", render_diagnostics(source, &response, color), check_summary_line(&spec, &response));
            CheckOutput { stdout: String::new(), stderr, exit_code: exit_code(&response) }
        }
        Format::Json => {
            let document = check_report(&spec, source, &response);
            let stdout = format!("{}\n", serde_json::to_string_pretty(&document).expect("JSON serializes"));
            CheckOutput { stdout, stderr: String::new(), exit_code: exit_code(&response) }
        }
    };
    // A record file that could not be read is reported, but is not part of the output.
    if let Some(warning) = record_warning {
        eprint!("{}", render_human(source, &[warning], color));
    }
    let cache_warned = response.diagnostics.iter().any(|diagnostic| diagnostic.code == Code::CacheUnreadable);
    if let Some(started) = started
        && !cache_warned
        && let Some(parsed) = compiler.parsed_spec()
    {
        // Not reported: a record that is not written only makes the next check slower.
        let _ = check_replay::record(&key, started, parsed, &output);
    }
    crate::exit::release(compiler);
    Ok(print(&output))
}

/// Prints a check's output; its exit code.
fn print(output: &CheckOutput) -> i32 {
    // Written whole, as the check's own prints were.
    let _ = std::io::stdout().lock().write_all(output.stdout.as_bytes());
    let _ = std::io::stderr().lock().write_all(output.stderr.as_bytes());
    output.exit_code
}
