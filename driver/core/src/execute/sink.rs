//! Where a task's rows go: the seam between the executor (which decides when a task runs
//! and catches its panics) and what consumes the rows (a Delta commit for `run`, batches in
//! memory for `lab` and `replay`).
//!
//! ## Invariants
//! - A sink reads its plan's rows once, as a stream or collected, and either finishes or
//!   fails; a sink that fails leaves nothing behind (the Delta sink commits nothing).
//! - A sink runs on the runtime, off the scheduling thread, and never touches the salsa
//!   database: what it returns is bound to readers by the scheduling thread afterwards.

use std::sync::Arc;

use datafusion::execution::session_state::SessionState;
use datafusion::physical_plan::ExecutionPlan;
use futures::future::BoxFuture;

use super::error::TaskError;

/// Consumes every row of one task's plan.
pub trait TaskSink: Send + 'static {
    /// What consuming the rows produced (a written table, collected batches).
    type Written: Send + 'static;

    /// Executes `plan` with `state` (whose object stores serve its scans) and consumes its
    /// rows.
    fn consume(self, plan: Arc<dyn ExecutionPlan>, state: Arc<SessionState>) -> BoxFuture<'static, Result<Self::Written, TaskError>>;
}
