//! # viewdag driver
//!
//! The library an embedder uses: the [`Compiler`] host (reads the spec, loads sources, sets
//! the salsa inputs, binds task tables) and what it answers ([`CompileRequest`] →
//! [`CompileResponse`]), runs ([`Compiler::run`] over the task executor, [`execute`]); and
//! the read-only [`Snapshot`] of what it compiled (`compiler.snapshot()`): schemas, plans,
//! tasks and costs, selection, expectations, refresh decisions, lab and replay, artifacts
//! on disk, docs data and rendering. Planning logic lives in the stage
//! crates; the driver only sets inputs, asks queries, executes and reports.
//!
//! Its binary, `viewdag-driver` ([`command_line`]), runs and checks a project from a shell.
//! What this crate does not know: the full command line (`viewdag-cli`), the language server
//! (`viewdag-lsp`) and the Ballista engine (`viewdag-ballista`, an implementation of
//! [`TaskEngine`]); each is a crate of its own over this API.
//!
//! ## Invariants
//! - The only crate of the stages' stack that touches the file system or the network.
//! - Inputs are set only when their value changed, so a recompile after no edit executes
//!   no query.
//! - Spec problems are diagnostics; only an unreadable spec, a request that names what does
//!   not exist or a failed write is an error ([`DriverError`]).

#![warn(missing_docs)]

pub mod artifacts;
pub mod command_line;
pub mod command_replay;
pub mod compile_progress;
mod compiler;
mod confinement;
mod costs;
mod database;
pub mod docs_data;
pub mod engine;
pub mod error;
pub mod execute;
mod existing;
pub mod expect;
pub mod graph;
mod lab;
pub mod parallel;
mod planned_table;
pub mod refresh;
pub mod render;
pub mod replay;
pub mod run;
mod run_lock;
pub mod run_report;
pub mod run_state;
mod runtime;
pub mod select;
pub mod snapshot;
pub mod source_watch;
pub mod sources;
mod stats;
pub mod storage;
mod task_tables;

pub use compiler::background_check::{BackgroundCheck, CheckCancelled, PreparedCheck};
pub use compiler::piece_cache::PIECES_CACHE_DIR;
pub use compiler::signature_cache::{CacheSaveError, READS_CACHE_FILE, SIGNATURE_CACHE_FILE, build_identity};
pub use compiler::{
    CompileRequest, CompileResponse, Compiler, Planning, ProfileOverrides, ProjectViews, QueryExecution, Recording, SpecInput, ViewOutcome,
    ViewStatus, read_spec_file, sort_by_position,
};
pub use engine::{EngineFactory, EngineUnavailable, LocalEngine, LocalEngines, TaskEngine, TaskPlan, TaskPlanning};
pub use error::DriverError;
pub use expect::ExpectationResult;
pub use lab::{LabFailure, LabReport, LabRulepackResult, LabViewResult, run_lab};
pub use run::{AuditSummary, Progress, RunOptions, RunReport, TaskOutcome, TaskReport};
pub use runtime::AsyncRuntime;
pub use snapshot::{Snapshot, SpecSource, ViewPlans};
pub use stats::{RecompileStats, StageStats, StructureSync};
pub use storage::Environment;
pub use task_tables::TaskTableError;
/// The artifact crate, for callers that read bundles (tests, tools).
pub use viewdag_artifact;
pub use viewdag_schedule;
