//! How a task's table is brought up to date when it is not: incrementally (from the rows its
//! inputs appended) or fully (and why), and how that is reported (`run` lines, `run
//! --format json`, `viewdag plan`).

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use viewdag_optimize::incremental::NotIncremental;

use super::change_detection::{Appended, RewriteCause};

/// Why a task is recomputed whole.
#[derive(Debug, Clone)]
pub enum FullRefreshReason {
    /// `run --full-refresh` (or `--force`).
    Requested {
        /// The command-line flag.
        flag: &'static str,
    },
    /// The task says `refresh: full`.
    PolicyFull,
    /// An append, merge or replace_where output: it writes its view's rows on every run.
    WriteMode {
        /// The output's `mode`.
        mode: &'static str,
    },
    /// No earlier refresh of the table is recorded (or its table is gone).
    FirstRefresh,
    /// The task's shape changed: its definition, a view upstream, a source's schema, the
    /// planning surface or the optimizer pipeline.
    DefinitionChanged,
    /// How the table is written changed (partitioning, an output's expectations).
    WriteSettingsChanged,
    /// The table is not at the version the last refresh committed.
    TableChanged {
        /// The version the last refresh committed.
        recorded: i64,
        /// The table's version now (`None`: it cannot be read).
        now: Option<i64>,
    },
    /// The engine running the task refreshes fully.
    Engine {
        /// The engine's name.
        engine: String,
    },
    /// An expectation is checked over the whole table, not row by row.
    WholeTableExpectation {
        /// The expectation's kind (`unique`, `row_count`).
        kind: &'static str,
    },
    /// An input was rewritten (not only appended to).
    InputRewritten {
        /// The input.
        relation: String,
        /// What its log or listing shows.
        cause: RewriteCause,
    },
    /// The plan's change cannot be derived.
    NotDerivable(NotIncremental),
}

impl fmt::Display for FullRefreshReason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FullRefreshReason::Requested { flag } => write!(formatter, "{flag}"),
            FullRefreshReason::PolicyFull => write!(formatter, "refresh: full"),
            FullRefreshReason::WriteMode { mode } => write!(formatter, "a `{mode}` output writes its view's rows on every run"),
            FullRefreshReason::FirstRefresh => write!(formatter, "first refresh"),
            FullRefreshReason::DefinitionChanged => write!(
                formatter,
                "the definition changed (the view, a view upstream, a source's schema, the surface or the optimizer pipeline)"
            ),
            FullRefreshReason::WriteSettingsChanged => write!(formatter, "how the table is written changed"),
            FullRefreshReason::TableChanged { recorded, now: Some(now) } => {
                write!(formatter, "the table is at version {now}, not at the version {recorded} its last refresh committed")
            }
            FullRefreshReason::TableChanged { recorded, now: None } => {
                write!(formatter, "the table its last refresh committed (version {recorded}) cannot be read")
            }
            FullRefreshReason::Engine { engine } => write!(formatter, "the {engine} engine refreshes fully"),
            FullRefreshReason::WholeTableExpectation { kind } => {
                write!(formatter, "the expectation `{kind}` is checked over the whole table")
            }
            FullRefreshReason::InputRewritten { relation, cause } => write!(formatter, "`{relation}` was rewritten: {cause}"),
            FullRefreshReason::NotDerivable(refusal) => write!(formatter, "{refusal}"),
        }
    }
}

/// A relation that gained rows, as a task reads it.
#[derive(Debug, Clone)]
pub struct AppendedRelation {
    /// The relation's name (a source or a materialized view).
    pub relation: String,
    /// What it gained.
    pub appended: Appended,
}

/// What a refresh of a task that is not up to date does.
#[derive(Debug, Clone)]
pub enum RefreshPath {
    /// From the rows these relations appended (every other relation unchanged).
    Incremental(Vec<AppendedRelation>),
    /// Recompute the whole table.
    Full(FullRefreshReason),
}

/// One appended relation in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AppendedSummary {
    /// The relation's name.
    pub relation: String,
    /// New files.
    pub files: usize,
    /// Their rows, when the log's statistics say.
    pub rows: Option<u64>,
    /// Their size in bytes.
    pub bytes: u64,
}

impl AppendedSummary {
    /// The summary of an appended relation.
    pub fn of(relation: &AppendedRelation) -> Self {
        AppendedSummary {
            relation: relation.relation.clone(),
            files: relation.appended.file_count(),
            rows: relation.appended.rows(),
            bytes: relation.appended.bytes(),
        }
    }
}

impl fmt::Display for AppendedSummary {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let files = if self.files == 1 { "1 new file".to_string() } else { format!("{} new files", self.files) };
        match self.rows {
            Some(rows) => write!(formatter, "+{rows} rows from {files} of {}", self.relation),
            None => write!(formatter, "{files} of {} ({} bytes)", self.relation, self.bytes),
        }
    }
}

/// How an increment lands in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppliedAs {
    /// Appended rows.
    Append,
    /// Merged by group keys.
    Merge,
}

impl fmt::Display for AppliedAs {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            AppliedAs::Append => "append",
            AppliedAs::Merge => "merge",
        })
    }
}

/// How a task's table was (or will be) refreshed, as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RefreshSummary {
    /// From appended rows, appended or merged.
    Incremental {
        /// How the increment lands.
        apply: AppliedAs,
        /// The relations that gained rows.
        sources: Vec<AppendedSummary>,
    },
    /// Recomputed whole, and why.
    Full {
        /// Why.
        reason: String,
    },
}

impl fmt::Display for RefreshSummary {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefreshSummary::Incremental { apply: _, sources } => {
                let sources: Vec<String> = sources.iter().map(ToString::to_string).collect();
                write!(formatter, "incremental ({})", sources.join(", "))
            }
            RefreshSummary::Full { reason } => write!(formatter, "full ({reason})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_read_as_the_issue_promises() {
        let incremental = RefreshSummary::Incremental {
            apply: AppliedAs::Append,
            sources: vec![AppendedSummary { relation: "orders".into(), files: 2, rows: Some(1500), bytes: 9000 }],
        };
        assert_eq!(incremental.to_string(), "incremental (+1500 rows from 2 new files of orders)");
        let csv = AppendedSummary { relation: "events".into(), files: 1, rows: None, bytes: 12 };
        assert_eq!(csv.to_string(), "1 new file of events (12 bytes)");
        let full = RefreshSummary::Full { reason: FullRefreshReason::PolicyFull.to_string() };
        assert_eq!(full.to_string(), "full (refresh: full)");
        assert_eq!(serde_json::to_value(&full).unwrap(), serde_json::json!({"kind": "full", "reason": "refresh: full"}));
    }
}
