//! # Schedule: the task DAG, its cost model and a list schedule
//!
//! A **task** writes one Delta table: every `materialize: table` view, and every output.
//! Tasks read upstream tasks' tables, so the task DAG is the view DAG contracted through
//! ephemeral views ([`tasks`]). The [`cost`] model estimates each task's work in bytes
//! (bytes read plus bytes written) from source volumes and plan statistics, and its
//! critical path to the end of the run; [`list_schedule`] assigns tasks to a fixed number of
//! workers, highest critical path first. This crate never executes anything.
//!
//! ## Invariants
//! - Deterministic: waves list tasks in declaration order (materialized views first, in
//!   topological order, then outputs in spec order); every tie in the cost model and the
//!   schedule is broken by that order, never by a map or the clock.
//! - A task whose view cannot compile is still listed; the driver skips it and the tasks
//!   that read it.
//! - A schedule never starts a task before every task it reads has finished, never runs two
//!   tasks on one worker at once, and its makespan lies between the critical path (and
//!   total work ÷ workers) and the total work.

pub mod cost;
pub mod list_schedule;
pub mod task_id;
pub mod tasks;

pub use cost::{TaskCost, TaskFacts, Volume, estimate_costs};
pub use list_schedule::{Schedule, Slot, list_schedule, priority_order};
pub use task_id::TaskId;
pub use tasks::{Task, TaskKind, materialized_inputs, plan_tasks, reads_through_ephemeral_views};
