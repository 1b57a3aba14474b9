//! `viewdag lsp`: serve the Language Server Protocol on stdin/stdout (`viewdag-lsp`).

use crate::error::CliError;

/// Exit code 0 after `shutdown` then `exit`, 1 after an `exit` without `shutdown` or a
/// connection closed without `exit` (as the protocol says).
pub fn execute() -> Result<i32, CliError> {
    Ok(viewdag_lsp::serve_stdio()?.exit_code())
}
