//! What `viewdag test SPEC` reports: every task's expectations evaluated against its Delta table as it
//! is now (the last run's result), writing nothing.
//!
//! ## Invariants
//! - Read-only: tables are scanned at their latest version, nothing is committed.
//! - A task whose table does not exist yet, or cannot be read to the end, is reported as
//!   such and counts as failed (`viewdag test` exits 1), never as a pass.

use std::future::IntoFuture;
use std::sync::Arc;

use datafusion::physical_plan::ExecutionPlan;
use viewdag_ir::{SurfaceInput, WriteMode};
use viewdag_schedule::TaskKind;
use viewdag_surface::planning_session;

use super::error::ExpectationError;
use super::exec::ExpectationTally;
use super::{ExpectationExec, ExpectationResult};
use crate::snapshot::Snapshot;
use crate::task_tables::TaskTableError;

/// One task's expectations against its table.
#[derive(Debug, Clone)]
pub struct TestedTask {
    /// The task's id.
    pub id: viewdag_schedule::TaskId,
    /// Its table's location.
    pub target: String,
    /// The results, or why the table could not be checked.
    pub results: Result<Vec<ExpectationResult>, TableCheckError>,
}

/// Why a task's table could not be checked (the task counts as failed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableCheckError {
    /// The table does not open.
    #[error("its table cannot be read (run first if it does not exist yet): {0}")]
    Unopened(#[from] TaskTableError),
    /// The table opens but cannot be scanned (its provider or scan failed).
    #[error("{message}")]
    Unscannable {
        /// deltalake's or DataFusion's error.
        message: String,
    },
    /// The expectations do not compile against the table's columns.
    #[error(transparent)]
    Expectations(#[from] ExpectationError),
    /// Reading the table failed before any expectation was counted (a data file gone or
    /// unreadable).
    #[error("its table could not be read: {message}")]
    Unread {
        /// DataFusion's error.
        message: String,
    },
}

impl TestedTask {
    /// Whether no expectation that fails the task failed.
    pub fn passed(&self) -> bool {
        self.results.as_ref().is_ok_and(|results| results.iter().all(|result| !result.blocks_commit()))
    }
}

impl Snapshot<'_> {
    /// Evaluates every task's expectations against its current table (after a compile).
    pub fn test_expectations(&self) -> Vec<TestedTask> {
        let mut tested = Vec::new();
        for task in self.tasks() {
            if self.task_expectation_blocks(&task).is_empty() && !self.is_merge_output(&task.kind) {
                continue;
            }
            let results = self.test_task(&task);
            tested.push(TestedTask { id: task.id.clone(), target: self.task_target_text(&task), results });
        }
        tested
    }

    fn is_merge_output(&self, kind: &TaskKind) -> bool {
        match kind {
            TaskKind::Materialize => false,
            TaskKind::Output { output } => self.outputs.iter().any(|(name, spec)| name == output && spec.mode == WriteMode::Merge),
        }
    }

    fn test_task(&self, task: &viewdag_schedule::Task) -> Result<Vec<ExpectationResult>, TableCheckError> {
        let runtime = Arc::clone(self.db.tokio());
        let unscannable = |message: String| TableCheckError::Unscannable { message };
        let table = self.open_task_table(task)?;
        let state = Arc::clone(&planning_session(self.db, SurfaceInput::get(self.db)).state);
        table.update_datafusion_session(state.as_ref()).map_err(|error| unscannable(error.to_string()))?;
        let provider = runtime.block_on(table.table_provider().into_future()).map_err(|error| unscannable(error.to_string()))?;
        let scan: Arc<dyn ExecutionPlan> =
            runtime.block_on(provider.scan(state.as_ref(), None, &[], None)).map_err(|error| unscannable(error.strip_backtrace()))?;
        let merge_key = match &task.kind {
            TaskKind::Output { output } => self
                .outputs
                .iter()
                .find(|(name, spec)| name == output && spec.mode == WriteMode::Merge)
                .map(|(_, spec)| spec.unique_key.clone())
                .unwrap_or_default(),
            TaskKind::Materialize => Vec::new(),
        };
        let expectations = Arc::new(self.task_expectations(task, &scan.schema(), &state, &merge_key, chrono::Utc::now())?);
        let tally = ExpectationTally::default();
        let plan: Arc<dyn ExecutionPlan> = Arc::new(ExpectationExec::new(scan, expectations, Arc::clone(&tally)));
        // A failing `fail` expectation ends the stream with an error after publishing the
        // counts; any other error (a data file gone or unreadable) ends it before: then the
        // table could not be checked, which is a failure, never a pass.
        let outcome = runtime.block_on(datafusion::physical_plan::collect(plan, state.task_ctx()));
        let results = tally.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        match outcome {
            Err(error) if results.is_empty() => Err(TableCheckError::Unread { message: error.strip_backtrace() }),
            _ => Ok(results),
        }
    }
}
