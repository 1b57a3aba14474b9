//! Errors that are not about the spec's content: a file cannot be read or written, the run
//! cannot start, a request names something that does not exist. Spec problems are
//! diagnostics, never these.
//!
//! ## Invariants
//! - Every variant says what failed and where (a path, a name); the ones that stop a run
//!   before it writes carry the diagnostic code they are reported under (`Locked`, `RunState`).
//! - The command line maps every variant to exit code 2.

use std::path::PathBuf;

use viewdag_ir::Code;

/// Why a driver operation could not be carried out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// A file or directory could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// What was read.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// A file or directory could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// What was written.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// A file viewdag wrote earlier (a compile envelope) does not parse.
    #[error("cannot read {}: {message}", path.display())]
    Unparsable {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// The async runtime or a worker thread could not start.
    #[error("cannot start {what}: {source}")]
    Start {
        /// What could not start.
        what: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A `--select`/`--exclude` expression does not parse.
    #[error(transparent)]
    Selection(#[from] viewdag_ir::selection::SelectionError),
    /// A rulepack that is neither a preset nor the spec's profile.
    #[error("unknown rulepack `{name}` (presets: {})", viewdag_optimize::PRESET_NAMES.join(", "))]
    UnknownRulepack {
        /// The name asked for.
        name: String,
    },
    /// The spec's `profile.optimizer` does not resolve (its diagnostics say why).
    #[error("the spec's optimizer profile does not resolve (run `viewdag check` for its diagnostics)")]
    OptimizerProfile,
    /// A view whose name cannot be a file name (names are validated; this guards the file system).
    #[error("view name `{0}` cannot be used as a file name")]
    ViewFileName(String),
    /// An artifact (a compile envelope) does not serialize.
    #[error("the compile envelope does not serialize: {0}")]
    Serialize(String),
    /// Another run holds the project's lock (`V0901`); nothing was written.
    #[error("error[{code}]: {0}", code = Code::RunLocked.id())]
    Locked(crate::run_lock::LockError),
    /// The run state could not be saved before the first commit (`V0903`); nothing was written.
    #[error("error[{code}]: {0} (nothing was written)", code = Code::RunStateUnsaved.id())]
    RunState(crate::execute::RunStateSaveError),
}

impl DriverError {
    /// A failed read of `path`.
    pub fn read(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> DriverError {
        let path = path.into();
        move |source| DriverError::Read { path, source }
    }

    /// A failed write of `path`.
    pub fn write(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> DriverError {
        let path = path.into();
        move |source| DriverError::Write { path, source }
    }
}
