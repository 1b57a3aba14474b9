//! # viewdag-lsp
//!
//! `viewdag lsp`: a language server over the incremental compiler. The only crate that
//! knows the Language Server Protocol; it uses `viewdag-driver`'s public API only.
//!
//! Speaks the Language Server Protocol over stdio (rust-analyzer's `lsp-server` transport,
//! `lsp-types` messages). Each open spec file gets a long-lived [`viewdag_driver::Compiler`] fed the
//! editor's in-memory text, so an edit re-checks only what it touched, and every feature
//! reads the applied text and the result of the last completed check:
//!
//! | file | concern |
//! |---|---|
//! | `transport.rs` | JSON-RPC frames over stdio: read on their own thread into a queue, bounded, bad JSON answered |
//! | `server.rs` | the message loop: edits coalesced and applied, checks on threads of their own (a newer edit cancels them), diagnostics published, requests answered at once, sources watched |
//! | `edited_first.rs` | the edited views' diagnostics, published before the whole check's |
//! | `documents.rs` | open documents and incremental text sync |
//! | `line_index.rs` | byte offsets ↔ LSP positions (UTF-16) ↔ span-index positions, updated per change |
//! | `spec_project.rs` | one spec's compiler, last response, view DAG copy and occurrence index |
//! | `diagnostics.rs` | viewdag diagnostics → LSP diagnostics (ranges, codes, related information) |
//! | `occurrences.rs` | where each relation name is declared and read (YAML fields and SQL); the one at the cursor from its entry alone |
//! | `cursor.rs` | the YAML key path at the cursor, read from (possibly half-typed) text |
//! | `view_inputs.rs`, `lineage.rs` | what a view reads; where a column comes from |
//! | `hover.rs`, `navigation.rs`, `completion.rs`, `symbols.rs`, `code_actions.rs` | one request each |
//!
//! Invariants: the diagnostics published with a text's version are exactly those `viewdag
//! check` reports for it (same compiler, same query, converted by a pure function); after an
//! edit of a few views a provisional publication without a version precedes them; no
//! request checks the project; positions sent to the client are UTF-16, as the protocol's
//! default encoding.

#![warn(missing_docs)]

mod code_actions;
mod completion;
mod cursor;
mod diagnostics;
mod documents;
mod edited_first;
mod hover;
mod line_index;
mod lineage;
mod navigation;
mod occurrences;
mod server;
mod spec_project;
mod symbols;
pub mod transport;
mod view_inputs;

pub use server::{ServerExit, serve};

/// Why the language server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum LspError {
    /// The connection to the client failed (a protocol error, or the I/O threads failed).
    #[error("the language-server connection failed: {0}")]
    Connection(String),
    /// The compiler behind a document could not start.
    #[error(transparent)]
    Driver(#[from] viewdag_driver::DriverError),
    /// The client's stream could not be framed, or stdin/stdout failed.
    #[error(transparent)]
    Transport(#[from] transport::TransportError),
}

/// Serves the protocol on stdin and stdout until the client says `exit` or closes the
/// connection.
pub fn serve_stdio() -> Result<ServerExit, LspError> {
    let (connection, threads) = transport::stdio();
    let exit = serve(connection)?;
    threads.join()?;
    Ok(exit)
}
