//! `viewdag lsp`: serve the Language Server Protocol on stdin/stdout (`viewdag-lsp`).

use crate::error::CliError;

pub fn execute() -> Result<i32, CliError> {
    viewdag_lsp::serve_stdio()?;
    Ok(0)
}
