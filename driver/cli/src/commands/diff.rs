//! `viewdag diff OLD NEW`: compare two `compile --out` directories — per view, which of
//! definition, P0, P1, P2, lineage and trace changed. Exit 0 when identical, 1 when not.

use std::path::PathBuf;

use viewdag_driver::artifacts::diff_directories;

use crate::error::CliError;
use crate::output::Format;

/// `diff`'s arguments.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    old: PathBuf,
    new: PathBuf,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

pub fn execute(args: DiffArgs) -> Result<i32, CliError> {
    let DiffArgs { old, new, format } = args;
    let diff = diff_directories(&old, &new)?;
    match format {
        Format::Human => print!("{}", diff.render_text()),
        Format::Json => println!("{}", serde_json::to_string_pretty(&diff).expect("JSON serializes")),
    }
    Ok(if diff.is_identical() { 0 } else { 1 })
}
