//! Command implementations too large for `cli.rs`, one file per concern.

pub mod optimizer;
pub mod schedule;
