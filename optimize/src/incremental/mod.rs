//! # Incremental refresh: deriving a task's change from its plan
//!
//! Given a task's P0 and which relations it reads gained rows (and nothing else) since its
//! table was last refreshed ([`InputChanges`], built by the driver from the Delta log or
//! the file listing), [`derive_increment`] returns the plan of the table's change and how
//! it lands ([`Increment`]: an append, or a merge by group keys) — or the typed reason it
//! cannot ([`NotIncremental`]), naming the operator and the view holding it. One rule per
//! operator lives in [`rules`] (its module doc is the rules table).
//!
//! [`refresh_feasibility`] answers the question `check` asks of a `refresh: incremental`
//! task: is there any input whose appended rows the plan could absorb incrementally?
//! (`check.rs`: the `V1001`/`V1002` diagnostics, as queries.)
//!
//! ## Invariants
//! - Pure: no I/O, no clock; the driver supplies every scan source.
//! - Sound: an increment is returned only when applying it to the table written from the
//!   previous inputs gives the rows a full recompute over the new inputs would (as a
//!   multiset; a table has no order). Every refusal has a [`Reason`]; nothing is guessed.
//! - The increment's output schema is the task's (nodes are rebuilt over inputs of the
//!   same schemas, never re-derived).

pub mod change;
pub mod check;
pub mod derive;
pub mod expressions;
pub mod feasibility;
pub mod increment;
pub mod planned;
pub mod reason;
pub mod rules;
pub mod subtree;

#[cfg(test)]
mod tests;

pub use change::{AppendedInput, InputChanges};
pub use check::{never_incremental, output_refresh_diagnostics, view_refresh_diagnostics};
pub use derive::derive_increment;
pub use feasibility::refresh_feasibility;
pub use increment::{ApplyIncrement, Combine, GroupMerge, Increment, MergedMeasure};
pub use planned::{IncrementUnplanned, PlannedIncrement, plan_increment};
pub use reason::{JoinSide, NotIncremental, Reason};
