//! # viewdag-cli
//!
//! The `viewdag` command line: one file per command in `commands/`, each converting its clap
//! flags to the library's plain types (`viewdag-driver`) and printing what the library
//! returns; the docs site (`docs_site.rs`, its assets in `assets/docs/`) and `watch`.
//! It offers every engine (`viewdag-ballista`) and the language server (`viewdag-lsp`).
//!
//! Exit codes: 0 success; 1 the spec has errors (or a task failed); 2 usage or I/O error.
//!
//! ## Invariants
//! - No logic a library user would need lives here: a command parses, converts, calls and
//!   prints.
//! - Commands run on a thread with a 256 MiB stack (planning walks plans recursively, up to
//!   `MAX_INLINED_DEPTH` views deep).

mod cache_flag;
mod commands;
mod docs_site;
mod error;
pub mod exit;
mod number_flags;
mod output;
mod pass_report;
mod selection;
pub mod watch;

use std::ffi::OsString;

use clap::Parser;

pub use error::CliError;

#[derive(Debug, Parser)]
#[command(name = "viewdag", version, about = "Compile and run view DAGs over DataFusion and Delta Lake")]
struct Cli {
    #[command(subcommand)]
    command: commands::Command,
}

/// Runs the command line and returns the process exit code.
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
    let executed = viewdag_driver::parallel::on_planning_stack("viewdag", move || cli.command.execute())
        .map_err(CliError::Driver)
        .and_then(|executed| executed);
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
