//! # viewdag driver
//!
//! Owns the concrete salsa database, all I/O (reading the spec, loading sources, writing
//! Delta tables), the [`Compiler`] API ([`CompileRequest`] → [`CompileResponse`],
//! [`Compiler::run`]) and the task executor ([`execute`]). Planning logic lives in the
//! stage crates; the driver only sets inputs, asks queries and reports. The `viewdag`
//! command line (`cli/`, private) is a thin layer over this API; its one entry point is
//! [`main_with_args`].
//!
//! ## Invariants
//! - The only crate that touches the file system or the network.
//! - Inputs are set only when their value changed, so a recompile after no edit executes
//!   no query.
//! - Spec problems are diagnostics (exit code 1); only an unreadable spec, a bad command
//!   line or a failed write is an error (exit code 2).

#![warn(missing_docs)]

pub mod artifacts;
mod cli;
mod compiler;
mod confinement;
mod costs;
mod database;
mod docs_site;
mod engine;
pub mod error;
pub mod execute;
mod existing;
mod expect;
mod graph;
mod lab;
mod lsp;
pub mod merge;
mod planned_table;
pub mod render;
pub mod replay;
pub mod run;
mod run_lock;
pub mod run_report;
pub mod run_state;
pub mod select;
pub mod sources;
mod stats;
pub mod watch;

pub use cli::main_with_args;
pub use compiler::{
    CompileRequest, CompileResponse, Compiler, Execution, Planning, ProfileOverrides, Recording, SpecInput, SpecSource, ViewOutcome,
    ViewPlans, ViewStatus,
};
#[cfg(feature = "ballista")]
pub use engine::job_phases::{JobPhases, take_finished_jobs};
pub use engine::{Engine, SchedulerAddress};
pub use error::DriverError;
pub use expect::ExpectationResult;
pub use lab::{LabReport, LabRulepackResult, LabViewResult, run_lab};
pub use lsp::serve as serve_lsp;
pub use run::{AuditSummary, Progress, RunOptions, RunReport, TaskOutcome, TaskReport};
pub use stats::{RecompileStats, StageStats};
/// The artifact crate, for callers that read bundles (tests, tools).
pub use viewdag_artifact;
pub use viewdag_schedule;
