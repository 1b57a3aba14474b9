//! `viewdag lsp`: a language server over the incremental compiler.
//!
//! Speaks the Language Server Protocol over stdio (rust-analyzer's `lsp-server` transport,
//! `lsp-types` messages). Each open spec file gets a long-lived [`crate::Compiler`] fed the
//! editor's in-memory text, so an edit re-checks only what it touched, and every feature
//! reads the result of the last check:
//!
//! | file | concern |
//! |---|---|
//! | `server.rs` | the message loop: edits coalesced, checks, diagnostics published, requests answered in order, sources watched |
//! | `documents.rs` | open documents and incremental text sync |
//! | `line_index.rs` | byte offsets ↔ LSP positions (UTF-16) ↔ span-index positions |
//! | `spec_project.rs` | one spec's compiler, last response and occurrence index |
//! | `diagnostics.rs` | viewdag diagnostics → LSP diagnostics (ranges, codes, related information) |
//! | `occurrences.rs` | where each relation name is declared and read (YAML fields and SQL) |
//! | `cursor.rs` | the YAML key path at the cursor, read from (possibly half-typed) text |
//! | `view_inputs.rs`, `lineage.rs` | what a view reads; where a column comes from |
//! | `hover.rs`, `navigation.rs`, `completion.rs`, `symbols.rs`, `code_actions.rs` | one request each |
//!
//! Invariants: the diagnostics published for a text are exactly those `viewdag check`
//! reports for it (same compiler, same query, converted by a pure function); no request
//! compiles; positions sent to the client are UTF-16, as the protocol's default encoding.

mod code_actions;
mod completion;
mod cursor;
mod diagnostics;
mod documents;
mod hover;
mod line_index;
mod lineage;
mod navigation;
mod occurrences;
mod server;
mod spec_project;
mod symbols;
mod view_inputs;

pub use server::serve;

/// Serves the protocol on stdin and stdout until the client says `exit`.
pub fn serve_stdio() -> Result<(), crate::DriverError> {
    let (connection, io_threads) = lsp_server::Connection::stdio();
    serve(connection)?;
    io_threads.join().map_err(|error| crate::DriverError::Connection(error.to_string()))
}
