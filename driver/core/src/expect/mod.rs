//! Expectations at run time: each task's expectations (its view's and, for an output, the
//! output's own) are compiled into one pass-through node on top of the task's P2
//! ([`exec::ExpectationExec`]). The rows stream through it into deltalake's writer: row
//! expectations are evaluated per batch, `drop` removes failing rows before they reach the
//! writer, and at the end of the stream a failing `fail` expectation (or a non-unique merge
//! key) turns into an error, so the writer commits nothing. On a cluster whose executors
//! write the data files, each executor checks its partitions' rows the same way
//! ([`ExpectationChecker`]) and the driver adds their counts up before it commits.
//!
//! ## Invariants
//! - One pass over the task's rows: no expectation re-reads the data. `relationships`
//!   reads the values of the referenced column once, before the task's rows flow.
//! - Counts are deterministic: results are listed in the expectation block's fixed order
//!   (view's, then output's, then the merge key). `drop` expectations are evaluated first,
//!   in that order, each over the rows the ones before kept; every other expectation
//!   (`warn`, `fail`, the built-in kinds, `unique`, `row_count`) is evaluated over the rows
//!   kept, so a dropped row never fails another expectation.
//! - `relationships` compare values in the common type of the two columns (`int64` with
//!   `float64` as `float64`), not their text.
//! - A row fails a predicate when the predicate is not true (false or null); `not_null` and
//!   `accepted_values` are predicates; nulls pass `accepted_values`, `relationships` and
//!   `unique`.

pub mod checker;
pub mod compile;
mod error;
pub mod exec;
pub mod task;
pub mod test;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use viewdag_ir::OnFail;

pub use checker::{ExpectationChecker, ExpectationCounts, failure_message};
pub use compile::{Check, CompiledExpectation, CompiledExpectations, compile_expectations};
pub use error::{ExpectationError, ExpectationProblem};
pub use exec::ExpectationExec;

/// What one expectation found over a task's rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExpectationResult {
    /// `view` or `output` (or `merge` for the merge key's uniqueness).
    pub owner: String,
    /// The expectation's name.
    pub name: String,
    /// What a failing row does.
    pub on_fail: OnFail,
    /// Rows the expectation saw.
    pub rows_checked: u64,
    /// Rows that failed it.
    pub rows_failed: u64,
    /// Rows dropped from the table because they failed it (`drop`).
    pub rows_dropped: u64,
}

impl ExpectationResult {
    /// Whether this result stops the task's commit.
    pub fn blocks_commit(&self) -> bool {
        self.on_fail == OnFail::Fail && self.rows_failed > 0
    }

    /// The four-character column reports print before a result: passed, failed, or warned.
    pub fn marker(&self) -> &'static str {
        if self.rows_failed == 0 {
            "ok  "
        } else if self.blocks_commit() {
            "FAIL"
        } else {
            "warn"
        }
    }

    /// One line for a run report: owner, name, mode and counts.
    pub fn describe(&self) -> String {
        let outcome = if self.rows_failed == 0 {
            "passed".to_string()
        } else {
            match self.on_fail {
                OnFail::Drop => format!("{} row(s) failed and were dropped", self.rows_dropped),
                OnFail::Warn => format!("{} row(s) failed (warn)", self.rows_failed),
                OnFail::Fail => format!("{} row(s) failed", self.rows_failed),
            }
        };
        format!("{} {}: {} row(s) checked, {outcome}", self.owner, self.name, self.rows_checked)
    }
}
