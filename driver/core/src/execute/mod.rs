//! Executing tasks: one executor for every command that runs plans, with a sink for where
//! the rows go, and one canonical row form for every comparison of results.
//!
//! - `executor.rs`: the schedule (ready tasks, longest critical path first, up to `jobs` at
//!   once), panics caught per task, progress events ([`TaskEvent`]); callers describe their
//!   tasks through [`TaskDriver`] (`run.rs`' Delta run, `lab`'s in-memory run).
//! - `sink.rs`: the [`TaskSink`] trait; `delta_sink.rs` streams a task's rows into one
//!   Delta commit (`run`), `memory_sink.rs` collects them (`lab`, `replay`) and binds a
//!   collected materialization under an identity of its own.
//! - `data_files.rs`: the [`DataFileWriter`] seam through which an engine writes a task's
//!   data files itself; `files_commit.rs` decides whether a table takes them as they are
//!   and commits their add actions (the Delta sink uses both).
//! - `merge.rs`: how a task's rows land beyond overwrite/append (`merge`, `replace_where`).
//! - `stored_types.rs`: a task's rows converted to the types their Delta table stores;
//!   `batch_guard.rs`: the pass-through node that maps (or refuses) a task's batches on
//!   their way to a sink, with a typed failure (stored types, NULL merge keys).
//! - `pushdown_audit.rs`: the execution-time audit of `Exact` pushdown claims.
//! - `rows.rs`: the canonical row form (and its float rule).
//! - `error.rs`: the run path's typed errors, with their diagnostic codes.
//! - `panic.rs`: a caught panic's message.
//!
//! ## Invariants
//! - A task's rows stream from its plan into its sink; a failure anywhere (an execution
//!   error, a panic, a broken `Exact` claim under `strict`, a contract problem) leaves
//!   nothing behind: the Delta sink commits nothing, so the table stays at its previous
//!   version.
//! - A task runs only after every task it reads finished; a task that did not complete
//!   skips its readers, never the unrelated tasks.
//! - Reports are in task order, whatever the order of completion.
//! - The salsa database is touched only by the scheduling thread; executions get their own
//!   plan and session. A finished materialization is bound for its readers before any of
//!   them is planned, under a provider identity that names exactly those rows (a Delta
//!   version, or a memory run's own identity), so identities stay pure.
//! - One canonical row form (`rows::canonical_rows`) is what lab, replay, expectations'
//!   tests and the integration tests compare.

pub mod batch_guard;
pub mod data_files;
pub mod delta_sink;
pub mod error;
pub mod executor;
pub mod files_commit;
pub mod increment_merge;
pub mod memory_sink;
pub mod merge;
mod panic;
pub mod pushdown_audit;
pub mod rows;
pub mod sink;
pub mod stored_types;

pub use data_files::{DataFileLayout, DataFileWriteError, DataFileWriter, StatisticsColumns, WrittenDataFiles};
pub use delta_sink::{DeltaSink, TaskChecks, WrittenBy, WrittenTable, write_plan};
pub use error::{RunError, RunStateSaveError, TaskError};
pub use executor::{Decision, Schedule, TaskDriver, TaskEvent, TaskExecution, execute};
pub use files_commit::StreamedBecause;
pub use memory_sink::{CollectedRows, MemorySink, collect_canonical_rows};
pub use pushdown_audit::AuditSummary;
pub use rows::canonical_rows;
pub use sink::TaskSink;
