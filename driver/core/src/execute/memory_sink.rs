//! The memory sink: a task's rows collected as Arrow batches (`lab`, `replay`), converted to
//! the types their Delta table would store (`stored_types`) like the Delta sink's. The host
//! binds a collected materialization for its readers (`compiler/tables.rs`).
//!
//! ## Invariants
//! - The rows collected are those the Delta sink would write, with the types it would store.

use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::execution::session_state::SessionState;
use datafusion::physical_plan::{ExecutionPlan, collect};
use futures::FutureExt;
use futures::future::BoxFuture;

use super::batch_guard::{GuardFailure, recorded_or};
use super::error::TaskError;
use super::panic::panic_message;
use super::rows::canonical_rows;
use super::sink::TaskSink;
use super::stored_types::as_stored;

/// Collects a plan's rows in memory.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemorySink;

/// A plan's rows, collected.
#[derive(Debug, Clone)]
pub struct CollectedRows {
    /// The plan's output schema.
    pub schema: SchemaRef,
    /// Its rows.
    pub batches: Vec<RecordBatch>,
    /// How long executing the plan took.
    pub elapsed: Duration,
}

impl TaskSink for MemorySink {
    type Written = CollectedRows;

    fn consume(self, plan: Arc<dyn ExecutionPlan>, state: Arc<SessionState>) -> BoxFuture<'static, Result<CollectedRows, TaskError>> {
        async move {
            // The rows as a Delta table would store them: lab's rows are what `run` writes,
            // and a collected materialization has the types its readers were checked against.
            let failure = GuardFailure::default();
            let plan = as_stored(plan, &failure)?;
            let schema = plan.schema();
            let started = Instant::now();
            let batches = collect(plan, state.task_ctx())
                .await
                .map_err(|error| recorded_or(&failure, TaskError::Execution(error.strip_backtrace())))?;
            Ok(CollectedRows { schema, batches, elapsed: started.elapsed() })
        }
        .boxed()
    }
}

/// Executes `plan` on `runtime` into the canonical row form (see `rows`), from the calling
/// thread; a panic while executing is an error, not a crash.
pub fn collect_canonical_rows(
    runtime: &tokio::runtime::Runtime,
    view: &str,
    plan: Arc<dyn ExecutionPlan>,
    state: Arc<SessionState>,
) -> Result<Vec<String>, TaskError> {
    let collected = runtime.block_on(std::panic::AssertUnwindSafe(MemorySink.consume(plan, state)).catch_unwind());
    let collected = collected.map_err(|panic| TaskError::Panicked { view: view.to_string(), message: panic_message(panic.as_ref()) })??;
    Ok(canonical_rows(&collected.batches))
}
