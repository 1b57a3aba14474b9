//! `viewdag watch SPEC`: recompile on every change of the spec or a source.

use std::path::PathBuf;

use crate::error::CliError;
use crate::watch::{WatchOptions, watch};

/// `watch`'s arguments.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    spec: PathBuf,
}

pub fn execute(args: WatchArgs) -> Result<i32, CliError> {
    watch(&args.spec, &WatchOptions::default(), &mut std::io::stderr())?;
    Ok(0)
}
