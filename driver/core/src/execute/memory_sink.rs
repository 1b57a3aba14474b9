//! The memory sink: a task's rows collected as Arrow batches (`lab`, `replay`), converted to
//! the types their Delta table would store (`stored_types`) like the Delta sink's, and the
//! binding of a collected materialization for its readers.
//!
//! ## Invariants
//! - A provider identity stays a pure function of itself (surface's invariant): every
//!   in-memory binding gets an identity of its own (`memory-run-N:VIEW`, `N` counted per
//!   database), never reused for other rows, so a memoized plan that scans one is never
//!   served another run's rows. The identity is deterministic for a given sequence of
//!   memory runs and never reaches an artifact.
//! - Unbinding restores the views' own (Delta or placeholder) providers and forgets the
//!   in-memory tables.

use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::MemTable;
use datafusion::execution::session_state::SessionState;
use datafusion::physical_plan::{ExecutionPlan, collect};
use futures::FutureExt;
use futures::future::BoxFuture;
use salsa::Setter;
use viewdag_ir::{ProviderIdentity, ViewInput};

use super::batch_guard::{GuardFailure, recorded_or};
use super::error::TaskError;
use super::panic::panic_message;
use super::rows::canonical_rows;
use super::sink::TaskSink;
use super::stored_types::as_stored;
use crate::compiler::Compiler;

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

/// The in-memory tables one memory run bound, to unbind when it ends.
#[derive(Debug)]
pub(crate) struct MemoryBindings {
    run: u64,
    bound: Vec<(ViewInput, ProviderIdentity)>,
}

impl Compiler {
    /// Starts a memory run: its bindings get identities no other run shares.
    pub(crate) fn begin_memory_run(&self) -> MemoryBindings {
        MemoryBindings { run: self.db.next_memory_run(), bound: Vec::new() }
    }

    /// A materialized view's readers scan `rows` from now on (until `end_memory_run`).
    pub(crate) fn bind_memory_table(
        &mut self,
        bindings: &mut MemoryBindings,
        view_name: &str,
        rows: &CollectedRows,
    ) -> Result<(), TaskError> {
        let view = self.view_input(view_name).ok_or_else(|| TaskError::Bind(format!("view `{view_name}` is gone")))?;
        let table = MemTable::try_new(Arc::clone(&rows.schema), vec![rows.batches.clone()])
            .map_err(|error| TaskError::Bind(error.strip_backtrace()))?;
        let identity = ProviderIdentity::Materialized { view: format!("memory-run-{}:{view_name}", bindings.run) };
        self.db.register_provider(identity.clone(), Arc::new(table));
        view.set_materialized_table(&mut self.db).to(Some(identity.clone()));
        bindings.bound.push((view, identity));
        Ok(())
    }

    /// Unbinds every table of a memory run and forgets them.
    pub(crate) fn end_memory_run(&mut self, bindings: MemoryBindings) {
        for (view, identity) in bindings.bound {
            view.set_materialized_table(&mut self.db).to(None);
            self.db.forget_provider(&identity);
        }
    }
}
