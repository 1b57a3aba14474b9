//! `viewdag docs SPEC --out DIR`: a static HTML site of the project (no server needed).

use std::path::PathBuf;

use crate::docs_site::write_docs_site;
use crate::error::CliError;

/// `docs`'s arguments.
#[derive(Debug, clap::Args)]
pub struct DocsArgs {
    spec: PathBuf,
    #[arg(long)]
    out: PathBuf,
}

pub fn execute(args: DocsArgs) -> Result<i32, CliError> {
    let DocsArgs { spec, out } = args;
    let (code, views) = write_docs_site(&spec, &out)?;
    if code == 2 {
        return Ok(code);
    }
    eprintln!("wrote the docs site of {views} view(s) to {}", out.join("index.html").display());
    Ok(code)
}
