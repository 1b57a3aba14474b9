//! Errors that are not about the spec's content: the spec cannot be read, a table cannot be
//! written. Spec problems are diagnostics, never these.

#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("cannot read {path}: {message}")]
    Io { path: std::path::PathBuf, message: String },
    #[error("{0}")]
    Usage(String),
}
