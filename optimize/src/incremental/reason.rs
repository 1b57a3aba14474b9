//! Why a task's change cannot be derived: one typed reason per refusal, each naming the
//! operator (and, through [`NotIncremental::view`], the view) that stops the derivation.
//!
//! The texts are what `run`, `plan` and `explain --refresh` print after `full (…)`, and
//! what `V1001`/`V1003` say: they state the operator and why its change is not an append
//! or a merge by group keys.

use std::fmt;

/// Which side of a join.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JoinSide {
    Left,
    Right,
}

impl JoinSide {
    pub fn as_str(self) -> &'static str {
        match self {
            JoinSide::Left => "left",
            JoinSide::Right => "right",
        }
    }
}

/// Why one operator's change cannot be derived from its inputs' appended rows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// A function whose value is not fixed by its arguments (`random()`, `now()`, `uuid()`).
    NonDeterministic { function: String },
    /// A subquery expression reads an appended input: old rows' values may change.
    SubqueryReadsAppendedInput { relation: String },
    /// `limit` (or `offset`) over changed rows: which rows it keeps depends on all of them.
    Limit,
    /// A sort with a limit (top-N) over changed rows.
    SortWithLimit,
    /// A window function over changed rows: new rows change old rows' values.
    Window { function: String },
    /// An aggregate or `distinct` over changed rows that is not the task's top operator:
    /// its change updates rows in place, which the operator above cannot consume.
    /// `operator` reads "an aggregate" or "a distinct".
    AggregateBelowTop { operator: &'static str },
    /// A top aggregate with grouping sets (`ROLLUP`, `CUBE`, `GROUPING SETS`).
    GroupingSets,
    /// A top aggregate whose group key is not an output column: touched groups cannot be
    /// found in the table.
    GroupKeyNotInOutput { key: String },
    /// A filter over a top aggregate's measures (`HAVING`): a group an append touches may
    /// pass or stop passing it.
    FilterOverMeasures,
    /// A global aggregate (no group keys) with a measure that cannot be merged.
    GlobalMeasureNotMergeable { column: String },
    /// `DISTINCT ON`, whose kept row depends on every row of its group.
    DistinctOn,
    /// An outer join whose null-padded side gained rows: rows written padded with nulls
    /// may now match (an update, not an append).
    OuterJoinPaddedSideAppended { join: String, side: JoinSide },
    /// A semi, anti or mark join whose filtering side gained rows: old rows may now
    /// qualify or stop qualifying.
    FilteringSideAppended { join: String, side: JoinSide },
    /// An operator the derivation has no rule for.
    UnsupportedOperator { operator: String },
    /// The plan reads none of the appended inputs (nothing to derive).
    NothingAppended,
    /// Building the derived plan failed (a DataFusion error; a bug, reported rather than hidden).
    Planning { message: String },
}

impl fmt::Display for Reason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NonDeterministic { function } => {
                write!(formatter, "`{function}` is not deterministic: a refresh would not reproduce the rows already written")
            }
            Reason::SubqueryReadsAppendedInput { relation } => {
                write!(formatter, "a subquery reads `{relation}`, which gained rows: the rows already written may change")
            }
            Reason::Limit => write!(formatter, "a limit over changed rows: which rows it keeps depends on all of them"),
            Reason::SortWithLimit => write!(formatter, "a sort with a limit (top-N) over changed rows: new rows can push old ones out"),
            Reason::Window { function } => {
                write!(formatter, "a window function (`{function}`) over changed rows: new rows change the values of old ones")
            }
            Reason::AggregateBelowTop { operator } => write!(
                formatter,
                "{operator} over changed rows below another operator: its change updates rows in place (only a task's top aggregate is merged by its group keys)"
            ),
            Reason::GroupingSets => write!(formatter, "an aggregate with grouping sets (ROLLUP, CUBE)"),
            Reason::GroupKeyNotInOutput { key } => {
                write!(
                    formatter,
                    "the group key `{key}` is not an output column, so the groups an append touches cannot be found in the table"
                )
            }
            Reason::FilterOverMeasures => {
                write!(formatter, "a filter over aggregated values (HAVING): a group an append touches may start or stop passing it")
            }
            Reason::GlobalMeasureNotMergeable { column } => write!(
                formatter,
                "the measure `{column}` of an aggregate without group keys cannot be merged (only count, sum, min and max can)"
            ),
            Reason::DistinctOn => write!(formatter, "DISTINCT ON keeps one row per group, which depends on every row of it"),
            Reason::OuterJoinPaddedSideAppended { join, side } => write!(
                formatter,
                "the {} side of a {join} join gained rows: rows written padded with nulls may now match (an update, not an append)",
                side.as_str()
            ),
            Reason::FilteringSideAppended { join, side } => write!(
                formatter,
                "the {} side of a {join} join gained rows: rows already written may start or stop qualifying",
                side.as_str()
            ),
            Reason::UnsupportedOperator { operator } => write!(formatter, "no incremental rule for the operator `{operator}`"),
            Reason::NothingAppended => write!(formatter, "the plan reads none of the inputs that gained rows"),
            Reason::Planning { message } => write!(formatter, "the derived plan could not be built: {message}"),
        }
    }
}

/// A refusal: the reason and the view whose plan holds the operator (`None`: the task's
/// own view).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NotIncremental {
    pub reason: Reason,
    /// The innermost view (ephemeral views are inlined under their names) holding the
    /// operator; `None` for the task's own view.
    pub view: Option<String>,
}

impl NotIncremental {
    pub fn new(reason: Reason) -> Self {
        NotIncremental { reason, view: None }
    }

    /// `self`, attributed to `view` unless a view nearer the operator already claims it.
    pub fn within(mut self, view: &str) -> Self {
        if self.view.is_none() {
            self.view = Some(view.to_string());
        }
        self
    }
}

impl From<Reason> for NotIncremental {
    fn from(reason: Reason) -> Self {
        NotIncremental::new(reason)
    }
}

impl From<datafusion::error::DataFusionError> for NotIncremental {
    fn from(error: datafusion::error::DataFusionError) -> Self {
        NotIncremental::new(Reason::Planning { message: error.strip_backtrace() })
    }
}

impl fmt::Display for NotIncremental {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.view {
            Some(view) => write!(formatter, "{} (in view `{view}`)", self.reason),
            None => write!(formatter, "{}", self.reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_innermost_view() {
        let refusal = NotIncremental::new(Reason::Limit).within("recent").within("report");
        assert_eq!(refusal.view.as_deref(), Some("recent"));
        assert_eq!(refusal.to_string(), "a limit over changed rows: which rows it keeps depends on all of them (in view `recent`)");
    }

    #[test]
    fn reasons_name_the_operator() {
        let window = Reason::Window { function: "row_number()".into() };
        assert!(window.to_string().contains("`row_number()`"));
        let join = Reason::OuterJoinPaddedSideAppended { join: "left".into(), side: JoinSide::Right };
        assert_eq!(
            join.to_string(),
            "the right side of a left join gained rows: rows written padded with nulls may now match (an update, not an append)"
        );
    }
}
