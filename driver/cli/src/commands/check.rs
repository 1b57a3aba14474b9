//! `viewdag check SPEC`: validate every view against its inputs' schemas, outputs against
//! their contracts, without planning; report every problem.
//!
//! With the cache on (no `--no-cache`) and no selection, an unchanged project's check is
//! replayed from `.viewdag/cache/replay.bin` (`viewdag_driver::command_replay`): the same
//! bytes on stdout and stderr and the same exit code, without parsing the spec.

use std::io::IsTerminal;
use std::path::PathBuf;

use viewdag_driver::command_replay::{self, Begin, CommandOutput, ReplayKey, Replayed};
use viewdag_driver::render::{check_report, check_summary_line, render_human};
use viewdag_driver::select::Selection;
use viewdag_driver::{CompileRequest, read_spec_file};
use viewdag_ir::Code;

use crate::error::CliError;
use crate::output::{Format, exit_code, print_output, render_diagnostics};
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
    let key = ReplayKey { command: Replayed::Check, spec_path: &spec, spec_text: &text, format: format.name(), color };
    let replayable = cache.enabled() && selection.is_empty();
    let (started, record_warning) = match command_replay::begin(&key, replayable) {
        Begin::Replay(output) => return Ok(print_output(&output)),
        Begin::Run { started, warning } => (started, warning),
    };
    let mut compiler = cache.compiler()?;
    // `check` shows no recompile statistics.
    compiler.set_query_log(false);
    let progress = compiler.progress_on_terminal();
    let response = compiler.compile(&CompileRequest::text(&spec, text.as_str()).with_planning(viewdag_driver::Planning::CheckOnly))?;
    drop(progress);
    let snapshot = compiler.snapshot();
    let response = match snapshot.select_views(&response, &selection)? {
        Some(selected) => snapshot.restrict_to_selection(&response, &selected),
        None => response,
    };
    let source = compiler.spec_source().expect("a compiled spec has a source");
    let output = match format {
        Format::Human => {
            let stderr = format!("{}{}\n", render_diagnostics(source, &response, color), check_summary_line(&spec, &response));
            CommandOutput { stdout: String::new(), stderr, exit_code: exit_code(&response) }
        }
        Format::Json => {
            let document = check_report(&spec, source, &response);
            let stdout = format!("{}\n", serde_json::to_string_pretty(&document).expect("JSON serializes"));
            CommandOutput { stdout, stderr: String::new(), exit_code: exit_code(&response) }
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
        let _ = command_replay::record(&key, started, parsed, &compiler.snapshot().views_with_tables(), &output);
    }
    crate::exit::release(compiler);
    Ok(print_output(&output))
}
