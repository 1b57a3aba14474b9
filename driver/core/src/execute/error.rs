//! The typed errors of the run path: why one task failed ([`TaskError`], carried by
//! `TaskOutcome::Failed`) and what went wrong with the run itself ([`RunError`]).
//!
//! ## Invariants
//! - A variant that has a registered diagnostic code returns it from `code()` and its
//!   message starts with `error[Vxxxx]: `, as every coded message the CLI prints does.
//! - Every message says whether something was committed when that is not obvious: a failed
//!   task never commits (see `execute`), so its table stays at its previous version.
//! - Values are plain data (strings and codes): they compare, clone and render the same
//!   whatever produced them.
//! - A run reports an error only after [`TaskError::redacted`]: no credential value of the
//!   environment survives in any message.

use std::path::PathBuf;

use deltalake::DeltaTableError;
use deltalake::kernel::transaction::TransactionError;
use viewdag_ir::Code;

use crate::storage::{Redactor, StorageError, StorageFailure};

/// Why a task failed. Its table is unchanged: nothing of the task was committed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// The task's table would land outside the allowed roots or on a source.
    #[error("{0}")]
    Refused(String),
    /// The task could not be planned (no task digest, a plan that fails, expectations that
    /// do not compile, an engine that cannot take the plan).
    #[error("{0}")]
    Planning(String),
    /// The run's engine is unusable (e.g. `ballista` in a build without it).
    #[error("{0} (nothing was written)")]
    Engine(String),
    /// The engine cannot read a table the task's plan scans (`V0801`; the same message is a
    /// diagnostic of the run).
    #[error("{0}")]
    EngineUnsupportedTable(String),
    /// The plan breaks the output's contract (the contract check's own code).
    #[error("{message} (nothing was written)")]
    Contract {
        /// The contract check's code.
        code: Code,
        /// What the check found.
        message: String,
    },
    /// The execution-time audit of an `Exact` pushdown claim could not run, or found a
    /// broken claim under the `strict` policy.
    #[error("{0}")]
    Audit(String),
    /// Executing the plan failed (a DataFusion error, e.g. a division by zero).
    #[error("{0}")]
    Execution(String),
    /// The task's table could not be prepared for writing (created, opened).
    #[error("{0}")]
    Table(String),
    /// Another writer committed to the table while this task wrote it (`V0902`).
    #[error(
        "error[{code}]: another writer committed to the Delta table {table} while this task wrote it ({cause}); nothing of this task was committed — run again once the other writer is done",
        code = Code::CommitConflict.id()
    )]
    CommitConflict {
        /// The table's location.
        table: String,
        /// What deltalake reported.
        cause: String,
    },
    /// Streaming the rows into the table failed (a failed expectation ends here too).
    #[error("writing {table} failed: {cause}")]
    Write {
        /// The table's location.
        table: String,
        /// Why writing failed.
        cause: String,
    },
    /// A value does not fit the type its Delta table stores the column as (`V0510`: a
    /// `uint64` above 2⁶³−1).
    #[error("{message}")]
    ValueNotStorable {
        /// The column.
        column: String,
        /// The coded message, naming the column, the value and the types.
        message: String,
    },
    /// A merge's new rows have a NULL in their key (`V0511`).
    #[error("{message}")]
    MergeKeyNull {
        /// The key column holding a NULL.
        key: String,
        /// The coded message.
        message: String,
    },
    /// The new rows do not fit the table (a merge adding columns without `schema_mode: merge`).
    #[error("{0}")]
    SchemaMismatch(String),
    /// A `merge` output's merge failed; `conflict` when it lost to another writer (`V0902`).
    #[error("{}the merge failed, nothing was committed: {cause}", if *conflict { format!("error[{}]: ", Code::CommitConflict.id()) } else { String::new() })]
    Merge {
        /// Whether another writer's commit won.
        conflict: bool,
        /// Why the merge failed.
        cause: String,
    },
    /// The object store of the task's table refused the credentials, has no such bucket or
    /// did not answer (`V0910`, `V0911`, `V0912`).
    #[error(
        "error[{code}]: {table}: {what}; nothing of this task was committed ({cause})",
        code = failure.task_code().id(),
        what = failure.describe()
    )]
    Storage {
        /// Which refusal.
        failure: StorageFailure,
        /// The table's location.
        table: String,
        /// What the store answered.
        cause: String,
    },
    /// The store of the task's table could not be configured (`V0309`: a variable
    /// `profile.storage` names is not set).
    #[error("{message} (nothing was written)")]
    StorageSettings {
        /// The code, when the problem has one.
        code: Option<Code>,
        /// What is wrong.
        message: String,
    },
    /// The written table could not be bound for the task's readers.
    #[error("{0}")]
    Bind(String),
    /// The task's execution panicked (inside DataFusion, deltalake or a sink).
    #[error("executing `{view}` panicked: {message}")]
    Panicked {
        /// The task's view.
        view: String,
        /// The panic's message.
        message: String,
    },
    /// The runtime lost the task's execution (it was cancelled or its thread died).
    #[error("the task's execution was lost: {0}")]
    Lost(String),
    /// A `refresh: incremental` task could not be refreshed incrementally (`V1003`).
    #[error(
        "error[{code}]: `refresh: incremental`, but the change cannot be derived: {reason}; nothing was written (run with `--full-refresh` to rebuild the table, or use `refresh: auto`)",
        code = Code::IncrementalRefreshRefused.id()
    )]
    IncrementalRefused {
        /// Why (the operator or the source change).
        reason: String,
    },
}

impl TaskError {
    /// The registered diagnostic code of this failure, when it has one.
    pub fn code(&self) -> Option<Code> {
        match self {
            TaskError::CommitConflict { .. } | TaskError::Merge { conflict: true, .. } => Some(Code::CommitConflict),
            TaskError::Contract { code, .. } => Some(*code),
            TaskError::EngineUnsupportedTable(_) => Some(Code::EngineUnsupportedTable),
            TaskError::Storage { failure, .. } => Some(failure.task_code()),
            TaskError::StorageSettings { code, .. } => *code,
            TaskError::IncrementalRefused { .. } => Some(Code::IncrementalRefreshRefused),
            TaskError::ValueNotStorable { .. } => Some(Code::ValueNotStorable),
            TaskError::MergeKeyNull { .. } => Some(Code::MergeKeyNull),
            _ => None,
        }
    }

    /// The same error with every value `redactor` knows removed from its messages.
    pub fn redacted(self, redactor: &Redactor) -> TaskError {
        let clean = |text: String| redactor.redact(&text);
        match self {
            TaskError::Refused(message) => TaskError::Refused(clean(message)),
            TaskError::Planning(message) => TaskError::Planning(clean(message)),
            TaskError::Engine(message) => TaskError::Engine(clean(message)),
            TaskError::EngineUnsupportedTable(message) => TaskError::EngineUnsupportedTable(clean(message)),
            TaskError::Contract { code, message } => TaskError::Contract { code, message: clean(message) },
            TaskError::Audit(message) => TaskError::Audit(clean(message)),
            TaskError::Execution(message) => TaskError::Execution(clean(message)),
            TaskError::Table(message) => TaskError::Table(clean(message)),
            TaskError::CommitConflict { table, cause } => TaskError::CommitConflict { table: clean(table), cause: clean(cause) },
            TaskError::Write { table, cause } => TaskError::Write { table: clean(table), cause: clean(cause) },
            TaskError::ValueNotStorable { column, message } => TaskError::ValueNotStorable { column, message: clean(message) },
            TaskError::MergeKeyNull { key, message } => TaskError::MergeKeyNull { key, message: clean(message) },
            TaskError::IncrementalRefused { reason } => TaskError::IncrementalRefused { reason: clean(reason) },
            TaskError::SchemaMismatch(message) => TaskError::SchemaMismatch(clean(message)),
            TaskError::Merge { conflict, cause } => TaskError::Merge { conflict, cause: clean(cause) },
            TaskError::Storage { failure, table, cause } => TaskError::Storage { failure, table: clean(table), cause: clean(cause) },
            TaskError::StorageSettings { code, message } => TaskError::StorageSettings { code, message: clean(message) },
            TaskError::Bind(message) => TaskError::Bind(clean(message)),
            TaskError::Panicked { view, message } => TaskError::Panicked { view, message: clean(message) },
            TaskError::Lost(message) => TaskError::Lost(clean(message)),
        }
    }
}

impl From<StorageError> for TaskError {
    fn from(error: StorageError) -> Self {
        TaskError::StorageSettings { code: error.code(), message: error.to_string() }
    }
}

/// Why the run state was not saved (the I/O error's text is kept so that a run's errors stay
/// comparable and cloneable).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunStateSaveError {
    /// Its directory (`.viewdag`) cannot be created.
    #[error("cannot create {}: {message}", directory.display())]
    CreateDirectory {
        /// The directory.
        directory: PathBuf,
        /// The I/O error.
        message: String,
    },
    /// The state does not serialize.
    #[error("{message}")]
    Serialize {
        /// The serializer's error.
        message: String,
    },
    /// The file (or its temporary copy) cannot be written.
    #[error("cannot write {}: {message}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        message: String,
    },
}

/// A problem of the run itself, not of one task. The commits made stand; the run did not
/// succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// The run state could not be saved after a task's commit was recorded (`V0903`).
    #[error("error[{code}]: the run state was not saved after `{task}`: {cause}", code = Code::RunStateUnsaved.id())]
    StateUnsavedAfterTask {
        /// The task whose commit was recorded last.
        task: viewdag_schedule::TaskId,
        /// Why saving failed.
        cause: RunStateSaveError,
    },
    /// The run state could not be saved at the end of the run (`V0903`).
    #[error("error[{code}]: the run state was not saved at the end of the run: {cause}", code = Code::RunStateUnsaved.id())]
    StateUnsavedAtEnd {
        /// Why saving failed.
        cause: RunStateSaveError,
    },
}

impl RunError {
    /// The registered diagnostic code of this error.
    pub fn code(&self) -> Code {
        match self {
            RunError::StateUnsavedAfterTask { .. } | RunError::StateUnsavedAtEnd { .. } => Code::RunStateUnsaved,
        }
    }
}

/// Whether a failed commit lost to another writer's commit.
pub(crate) fn is_commit_conflict(error: &DeltaTableError) -> bool {
    matches!(
        error,
        DeltaTableError::VersionAlreadyExists(_)
            | DeltaTableError::Transaction {
                source: TransactionError::CommitConflict(_)
                    | TransactionError::MaxCommitAttempts(_)
                    | TransactionError::VersionAlreadyExists(_)
            }
    )
}

/// A failed write as the task's error: a commit conflict is `V0902`, a store's refusal its
/// own code.
pub(crate) fn write_failure(table: &str, error: DeltaTableError) -> TaskError {
    let (table, cause) = (table.to_string(), error.to_string());
    if is_commit_conflict(&error) {
        TaskError::CommitConflict { table, cause }
    } else if let Some(failure) = StorageFailure::of_error(&error) {
        TaskError::Storage { failure, table, cause }
    } else {
        TaskError::Write { table, cause }
    }
}
