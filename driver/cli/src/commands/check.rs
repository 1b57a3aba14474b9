//! `viewdag check SPEC`: validate every view against its inputs' schemas, outputs against
//! their contracts, without planning; report every problem.

use std::path::PathBuf;

use viewdag_driver::CompileRequest;
use viewdag_driver::render::{check_report, summary};

use crate::error::CliError;
use crate::output::{Format, exit_code, print_diagnostics};
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
    let mut compiler = cache.compiler()?;
    let response = compiler.compile(&CompileRequest::check(&spec))?;
    let snapshot = compiler.snapshot();
    let response = match snapshot.select_views(&response, &selection.into())? {
        Some(selected) => snapshot.restrict_to_selection(&response, &selected),
        None => response,
    };
    match format {
        Format::Human => {
            print_diagnostics(&compiler, &response);
            let valid = response.views.iter().filter(|view| view.status.is_valid()).count();
            eprintln!("{}: {} of {} views valid; {}", spec.display(), valid, response.views.len(), summary(&response.diagnostics));
        }
        Format::Json => {
            let source = compiler.spec_source().expect("a compiled spec has a source");
            let document = check_report(&spec, source, &response);
            println!("{}", serde_json::to_string_pretty(&document).expect("JSON serializes"));
        }
    }
    Ok(exit_code(&response))
}
