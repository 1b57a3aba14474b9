//! Why a task's expectations could not be compiled or their reference values loaded. A task
//! with such an error does not run (validation reports most of these first, with a span).

/// An expectation that cannot be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpectationError {
    /// One expectation of the view's or the output's block.
    #[error("expectation `{expectation}` of the {owner}: {problem}")]
    Expectation {
        /// The expectation's name.
        expectation: String,
        /// `view` or `output`: whose block it is in.
        owner: String,
        /// What is wrong with it.
        problem: ExpectationProblem,
    },
    /// The uniqueness of a merge output's key.
    #[error("the merge key: {0}")]
    MergeKey(ExpectationProblem),
    /// The rows' schema is not a valid DataFusion schema.
    #[error("the rows' schema: {0}")]
    Schema(String),
}

/// What is wrong with one expectation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpectationProblem {
    /// The rows lack a column it names.
    #[error("the rows have no column `{column}`")]
    MissingColumn {
        /// The column it names.
        column: String,
    },
    /// Its check does not plan over the rows (a predicate that does not parse, values of a
    /// type the column cannot be compared with).
    #[error("{0}")]
    DoesNotPlan(String),
    /// A `row_count` that no table passes.
    #[error("`min` ({min}) is greater than `max` ({max}): no table passes it")]
    EmptyRowCountRange {
        /// The least row count allowed.
        min: u64,
        /// The greatest row count allowed.
        max: u64,
    },
    /// A `relationships` target that is not declared.
    #[error("relation `{relation}` is not declared")]
    UndeclaredRelation {
        /// The target's name.
        relation: String,
    },
    /// A `relationships` target that could not be read.
    #[error("reading `{relation}`: {message}")]
    UnreadableRelation {
        /// The target's name.
        relation: String,
        /// Why it could not be read.
        message: String,
    },
    /// A `relationships` target without the referenced column.
    #[error("relation `{relation}` has no column `{column}`")]
    RelationColumn {
        /// The target's name.
        relation: String,
        /// The column the expectation names in it.
        column: String,
    },
    /// A `relationships` target whose column cannot be compared with the checked one.
    #[error("`{relation}.{column}` is `{target}`, which cannot be compared with the checked column's `{own}`")]
    Incomparable {
        /// The target's name.
        relation: String,
        /// The target's column.
        column: String,
        /// The target column's type.
        target: String,
        /// The checked column's type.
        own: String,
    },
}
