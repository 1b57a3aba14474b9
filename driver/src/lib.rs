//! # viewdag driver
//!
//! Owns the concrete salsa database ([`database::Database`]), all I/O (reading the spec,
//! loading sources, writing Delta tables), the [`Compiler`] API and the `viewdag` command
//! line. Planning logic lives in the stage crates; the driver only sets inputs, asks
//! queries and reports.
//!
//! ## Invariants
//! - The only crate that touches the file system or the network.
//! - Inputs are set only when their value changed, so a recompile after no edit executes
//!   no query.
//! - Spec problems are diagnostics (exit code 1); only an unreadable spec, a bad command
//!   line or a failed write is an error (exit code 2).

pub mod artifacts;
pub mod cli;
pub mod commands;
pub mod compiler;
pub mod confinement;
pub mod costs;
pub mod database;
pub mod docs_site;
pub mod engine;
pub mod error;
pub mod execute;
pub mod existing;
pub mod expect;
pub mod graph;
pub mod lsp;
pub mod merge;
pub mod planned_table;
pub mod render;
pub mod replay;
pub mod run;
pub mod run_lock;
pub mod run_report;
pub mod run_state;
pub mod select;
pub mod sources;
pub mod stats;
pub mod watch;

pub use compiler::{CompileRequest, CompileResponse, Compiler, Execution, Planning, ViewOutcome, ViewPlans, ViewStatus};
pub use engine::{Engine, SchedulerAddress};
pub use error::DriverError;
pub use run::{AuditSummary, Progress, RunOptions, RunReport, TaskOutcome, TaskReport};
pub use stats::{RecompileStats, StageStats};
/// The artifact crate, for callers that read bundles (tests, tools).
pub use viewdag_artifact;
pub use viewdag_schedule;
