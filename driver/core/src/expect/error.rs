//! Why a task's expectations could not be compiled or their reference values loaded. A task
//! with such an error does not run (validation reports most of these first, with a span).

/// An expectation that cannot be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpectationError {
    /// The rows lack a column an expectation names.
    #[error("the rows have no column `{column}`")]
    MissingColumn { column: String },
    /// A predicate does not plan over the rows.
    #[error("expectation `{expectation}`: {message}")]
    Predicate { expectation: String, message: String },
    /// A built-in check does not plan over the rows (e.g. values of another type).
    #[error("expectation `{expectation}`: {message}")]
    Check { expectation: String, message: String },
    /// The rows' schema is not a valid DataFusion schema.
    #[error("the rows' schema: {0}")]
    Schema(String),
    /// A `relationships` target that is not declared.
    #[error("relation `{relation}` is not declared")]
    UndeclaredRelation { relation: String },
    /// A `relationships` target that could not be read.
    #[error("reading `{relation}` for a relationship: {message}")]
    Relation { relation: String, message: String },
    /// A `relationships` target without the referenced column.
    #[error("relation `{relation}` has no column `{column}`")]
    RelationColumn { relation: String, column: String },
}
