//! Why a command could not be carried out (exit code 2): the library's errors, the language
//! server's, a cluster node's, and command lines that cannot be carried out.

/// A command's failure.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The library could not carry out the request (a file, the run lock, …).
    #[error(transparent)]
    Driver(#[from] viewdag_driver::DriverError),
    /// The language server stopped with an error.
    #[error(transparent)]
    Lsp(#[from] viewdag_lsp::LspError),
    /// `viewdag cluster` or one of its nodes failed.
    #[error(transparent)]
    Cluster(#[from] viewdag_ballista::ClusterError),
    /// A command line that cannot be carried out.
    #[error("{0}")]
    Usage(String),
}
