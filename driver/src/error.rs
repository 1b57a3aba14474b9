//! Errors that are not about the spec's content: the spec cannot be read, a table cannot be
//! written, the run cannot start. Spec problems are diagnostics, never these.

use viewdag_ir::Code;

#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("cannot read {path}: {message}")]
    Io { path: std::path::PathBuf, message: String },
    #[error("{0}")]
    Usage(String),
    /// Another run holds the project's lock (`V0901`); nothing was written.
    #[error("error[{code}]: {0}", code = Code::RunLocked.id())]
    Locked(crate::run_lock::LockError),
    /// The run state could not be saved before the first commit (`V0903`); nothing was written.
    #[error("error[{code}]: {0} (nothing was written)", code = Code::RunStateUnsaved.id())]
    RunState(String),
}
