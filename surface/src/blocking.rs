//! The one way a tracked function waits for an async DataFusion planning call
//! (`statement_to_plan`, `create_physical_plan`): [`block_on`], on the database's runtime
//! ([`block_on_runtime`] where only the runtime is at hand).
//!
//! Planning is synchronous from salsa's point of view, but DataFusion's planner is async.
//! `tokio::runtime::Runtime::block_on` panics when the calling thread is already inside a
//! runtime (a query asked from async code), and `futures::executor::block_on` alone gives
//! the future no tokio context (a provider that spawns blocking work panics). So the helper
//! enters the database's runtime and polls the future on the calling thread: it works from
//! either place, and every task the planner spawns runs on the one runtime the driver owns.
//!
//! Invariant: no I/O is started here that a tracked function could not do itself; this is
//! an executor, not a loophole in "no I/O inside tracked functions".

use std::future::IntoFuture;

use crate::Db;

/// Runs `future` to completion on `db`'s runtime, from inside a tracked function.
pub fn block_on<F: IntoFuture>(db: &dyn Db, future: F) -> F::Output {
    block_on_runtime(db.runtime(), future)
}

/// Runs `future` to completion on `runtime` (for planning code that holds the runtime, not
/// the database: `viewdag_optimize::plan_view`).
pub fn block_on_runtime<F: IntoFuture>(runtime: &tokio::runtime::Runtime, future: F) -> F::Output {
    let _runtime_context = runtime.enter();
    futures::executor::block_on(future.into_future())
}
