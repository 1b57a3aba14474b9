//! # viewdag on an Apache Ballista cluster
//!
//! The `ballista` engine ([`BallistaEngine`], a [`TaskEngine`] of `viewdag-driver`): a
//! task's optimized plan (P1) planned for the cluster and submitted as one Ballista job
//! whose executors write the table's data files (the driver commits their add actions), or
//! whose rows stream back to the driver when the table or the task needs that (see
//! `viewdag_driver::execute::files_commit`). Also `viewdag cluster`: a local scheduler and
//! executors, each its own process, with viewdag's codec.
//!
//! One concern per file: `delta_files` (Delta snapshots as Parquet file scans),
//! `distributed_plan` (a task's plan for the cluster), `cluster_defaults` (the settings every
//! job carries unless the engine's say otherwise: broadcast joins of small sides), `ballista_job` (one job and the plan
//! node whose rows are its result), `delta_write_exec` (the node executors write data files
//! with), `cluster_files` (a task's data files written on the cluster), `codec` (viewdag's
//! physical codec), `job_client` (submitting, watching, cancelling and fetching one job),
//! `job_phases` (where a job's time went), `executor_loss` (jobs on a cluster that lost
//! executors), `scalar_subqueries` (single-row scalar subqueries
//! as joins), `cluster_node` and `cluster` (`viewdag cluster`).
//!
//! ## Invariants
//! - Choosing this engine never changes a digest, a bundle or the run state: a table
//!   written on the cluster is up to date for a local run and the other way round.
//! - A cluster task reads exactly the Delta versions its compile pinned; nothing is
//!   committed for a task whose job failed, and no rows of a task whose executors write
//!   come back to the driver.
//! - A scheduler address is `df://HOST:PORT`; anything else is refused before any task runs.
//! - Every cluster job has a deadline (`task_timeout`, default [`DEFAULT_TASK_TIMEOUT`]): a
//!   job that has not delivered its last row by then is cancelled and its task fails.

#![warn(missing_docs)]

mod ballista_job;
pub mod cluster;
mod cluster_defaults;
mod cluster_error;
mod cluster_files;
pub mod cluster_node;
pub mod codec;
mod delta_files;
mod delta_write_exec;
mod distributed_plan;
mod engine;
mod executor_loss;
mod job_client;
mod job_phases;
mod scalar_subqueries;
mod scheduler_address;

pub use cluster_error::ClusterError;
pub use engine::{BallistaEngine, DEFAULT_TASK_TIMEOUT, Engines};
pub use job_phases::{JobPhases, StageFigures, record_stage_figures, take_finished_jobs};
pub use scheduler_address::{NotASchedulerAddress, SchedulerAddress};
