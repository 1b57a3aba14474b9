//! The rules' unit tests: one file per rule (`rules/NAME.rs` is tested by `NAME.rs`), over
//! the shared fixtures of `support.rs`.

mod aggregate;
mod distinct;
mod filter;
mod join;
mod limit;
mod passthrough;
mod projection;
mod scan;
mod sort;
pub(crate) mod support;
mod union;
mod unsupported;
mod window;
