//! The async runtime compilers plan and load sources on: one per process is enough, and a
//! process with many compilers (a language server with many open specs) shares one instead
//! of starting a thread pool per compiler.

use std::sync::Arc;

use crate::error::DriverError;

/// A multi-threaded Tokio runtime, shared by cloning.
#[derive(Clone)]
pub struct AsyncRuntime {
    runtime: Arc<tokio::runtime::Runtime>,
}

impl AsyncRuntime {
    /// Starts a runtime (worker threads: one per core).
    pub fn new() -> Result<AsyncRuntime, DriverError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|source| DriverError::Start { what: "the async runtime", source })?;
        Ok(AsyncRuntime { runtime: Arc::new(runtime) })
    }

    pub(crate) fn tokio(&self) -> Arc<tokio::runtime::Runtime> {
        Arc::clone(&self.runtime)
    }
}

impl std::fmt::Debug for AsyncRuntime {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("AsyncRuntime")
    }
}
