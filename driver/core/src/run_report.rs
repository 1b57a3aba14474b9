//! The run report as text lines (progress as tasks start and end, the closing summary) and
//! as a typed JSON document (`run --format json`, and `.viewdag/last-run.json` that the docs
//! site reads): per task its outcome, rows, version,
//! merge counts, how its table was refreshed (incremental from which appended files, or full
//! and why) and, per expectation, rows checked, failed and dropped. Its JSON Schema is
//! committed under `docs/schemas/` ([`run_report_json_schema`]; a test regenerates it).
//!
//! ## Invariants
//! - Deterministic apart from elapsed times, which the document leaves out: tasks in task
//!   order, expectations in their declaration order.
//! - The document carries [`RUN_REPORT_SCHEMA_VERSION`]; a reader refuses a newer one
//!   ([`RunReportDocument::read`]) instead of guessing at fields it does not know.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::execute::merge::MergeCounts;
use crate::expect::ExpectationResult;
use crate::refresh::RefreshSummary;
use crate::render::summary_with_failed_tasks;
use crate::run::{Progress, RunReport, TaskOutcome, TaskReport};

/// The version of [`RunReportDocument`]'s shape.
pub const RUN_REPORT_SCHEMA_VERSION: u32 = 1;

/// A whole run, as `run --format json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunReportDocument {
    /// The document's shape ([`RUN_REPORT_SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// No spec error, no run error, every task written or up to date.
    pub succeeded: bool,
    /// One entry per task, in task order.
    pub tasks: Vec<TaskDocument>,
    /// Problems of the run that wrote nothing wrong.
    pub warnings: Vec<String>,
    /// Errors of the run itself, not of one task.
    pub errors: Vec<String>,
}

/// One task of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskDocument {
    /// The task's id (`output:NAME` or `view:NAME`).
    pub task: String,
    /// The view it executes.
    pub view: String,
    /// Its Delta table's location, relative to the spec's directory (or a URL).
    pub target: String,
    /// How it ended.
    pub outcome: OutcomeDocument,
    /// For a `merge` output that merged: rows inserted, updated and deleted.
    pub merged: Option<MergeCounts>,
    /// How its table was refreshed, when it was written.
    pub refresh: Option<RefreshDocument>,
    /// Whether the write replaced the table's columns (an overwrite whose view's columns
    /// changed).
    #[serde(default)]
    pub schema_replaced: bool,
    /// What each of its expectations found.
    pub expectations: Vec<ExpectationResult>,
}

/// How a task ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum OutcomeDocument {
    /// Its table was written: this many rows, as this table version.
    Written {
        /// Rows written.
        rows: usize,
        /// The table version committed.
        version: i64,
    },
    /// Its table was already up to date at this version.
    UpToDate {
        /// The table's version.
        version: i64,
    },
    /// It failed: the error's stable code when it has one, and its message.
    Failed {
        /// The stable code (`V0902`, …).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        /// The error's message.
        message: String,
    },
    /// It did not run, and why.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// How a task's table was refreshed: the path taken and the line `run` printed for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RefreshDocument {
    /// Incremental (from which appended relations, applied how) or full (and why).
    pub path: RefreshSummary,
    /// `incremental (+N rows from K new files of SOURCE)` or `full (reason)`.
    pub line: String,
}

/// Why a saved run report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RunReportReadError {
    /// Not JSON of the document's schema.
    #[error("the run report is not valid JSON of its schema: {0}")]
    Invalid(#[from] serde_json::Error),
    /// Written by a newer viewdag.
    #[error("the run report has schema_version {found}; this viewdag reads up to {RUN_REPORT_SCHEMA_VERSION}")]
    Newer {
        /// Its schema version.
        found: u32,
    },
}

impl RunReportDocument {
    /// The document of `report`.
    pub fn of(report: &RunReport) -> RunReportDocument {
        RunReportDocument {
            schema_version: RUN_REPORT_SCHEMA_VERSION,
            succeeded: report.succeeded(),
            tasks: report.tasks.iter().map(TaskDocument::of).collect(),
            warnings: report.warnings.clone(),
            errors: report.errors.iter().map(ToString::to_string).collect(),
        }
    }

    /// Reads a saved document, refusing one written by a newer viewdag.
    pub fn read(text: &str) -> Result<RunReportDocument, RunReportReadError> {
        #[derive(Deserialize)]
        struct Version {
            schema_version: u32,
        }
        let Version { schema_version } = serde_json::from_str(text)?;
        if schema_version > RUN_REPORT_SCHEMA_VERSION {
            return Err(RunReportReadError::Newer { found: schema_version });
        }
        Ok(serde_json::from_str(text)?)
    }

    /// The entry of task `id` (`output:NAME` or `view:NAME`).
    pub fn task(&self, id: &str) -> Option<&TaskDocument> {
        self.tasks.iter().find(|task| task.task == id)
    }
}

impl TaskDocument {
    /// The document of one task's report.
    pub fn of(report: &TaskReport) -> TaskDocument {
        let outcome = match &report.outcome {
            TaskOutcome::Written { rows, version } => OutcomeDocument::Written { rows: *rows, version: *version },
            TaskOutcome::UpToDate { version } => OutcomeDocument::UpToDate { version: *version },
            TaskOutcome::Failed { error } => {
                OutcomeDocument::Failed { code: error.code().map(|code| code.id().to_string()), message: error.to_string() }
            }
            TaskOutcome::Skipped { reason } => OutcomeDocument::Skipped { reason: reason.clone() },
        };
        TaskDocument {
            task: report.id.to_string(),
            view: report.view.clone(),
            target: report.target.clone(),
            outcome,
            merged: report.merged,
            refresh: report.refresh.as_ref().map(|refresh| RefreshDocument { path: refresh.clone(), line: refresh.to_string() }),
            schema_replaced: report.schema_replaced,
            expectations: report.expectations.clone(),
        }
    }
}

/// What a run prints on stderr as a task starts or ends (`viewdag run`'s progress): a
/// started line (a task can run for long), or the outcome line with the task's audit
/// warnings and [`task_detail_lines`] indented under it.
pub fn progress_lines(progress: &Progress<'_>) -> Vec<String> {
    let (report, index, total) = match progress {
        Progress::Started { task, .. } => return vec![format!("      {:<28} started", task.id)],
        Progress::Finished { report, index, total } => (*report, *index, *total),
    };
    let id = &report.id;
    // `[ 9/13]` then `[10/13]`: the task column stays in place whatever the count.
    let counter = format!("[{:>width$}/{total}]", index + 1, width = total.to_string().len());
    let line = match &report.outcome {
        TaskOutcome::Written { rows, version } => format!(
            "{counter} {:<28} {rows:>10} rows  → {} (v{version})  {:.2?}{}",
            id,
            report.target,
            report.elapsed,
            report.refresh.as_ref().map(|refresh| format!("  {refresh}")).unwrap_or_default()
        ),
        TaskOutcome::UpToDate { version } => format!("{counter} {:<28} up to date → {} (v{version})", id, report.target),
        TaskOutcome::Failed { error } => format!("{counter} {id:<28} FAILED: {error}"),
        TaskOutcome::Skipped { reason } => format!("{counter} {id:<28} skipped: {reason}"),
    };
    let warnings = report.audits.warnings.iter().map(|warning| format!("      warning: {warning}"));
    let details = task_detail_lines(report).into_iter().map(|detail| format!("      {detail}"));
    std::iter::once(line).chain(warnings).chain(details).collect()
}

/// What a run reports after its tasks: each run warning (`warning: …`), then each run error.
pub fn notice_lines(report: &RunReport) -> Vec<String> {
    let warnings = report.warnings.iter().map(|warning| format!("warning: {warning}"));
    warnings.chain(report.errors.iter().map(ToString::to_string)).collect()
}

/// A run's closing line: `3 of 5 task(s) written, 2 up to date; 0 errors, 1 warning`
/// (failed tasks counted as errors).
pub fn run_summary_line(report: &RunReport) -> String {
    let count = |done: fn(&TaskOutcome) -> bool| report.tasks.iter().filter(|task| done(&task.outcome)).count();
    let written = count(|outcome| matches!(outcome, TaskOutcome::Written { .. }));
    let up_to_date = count(|outcome| matches!(outcome, TaskOutcome::UpToDate { .. }));
    let failed = count(|outcome| matches!(outcome, TaskOutcome::Failed { .. }));
    format!(
        "{written} of {} task(s) written, {up_to_date} up to date; {}",
        report.tasks.len(),
        summary_with_failed_tasks(&report.compile.diagnostics, failed)
    )
}

/// Lines printed under a task's progress line: its merge counts and expectations.
pub fn task_detail_lines(report: &TaskReport) -> Vec<String> {
    let mut lines = Vec::new();
    if report.schema_replaced {
        lines.push("schema replaced: the table's columns changed, the overwrite replaced them".to_string());
    }
    if let Some(merged) = &report.merged {
        lines.push(format!("merged: {} inserted, {} updated, {} deleted", merged.inserted, merged.updated, merged.deleted));
    }
    for expectation in &report.expectations {
        lines.push(format!("{} expect {}", expectation.marker(), expectation.describe()));
    }
    lines
}

/// One task's JSON.
pub fn task_json(report: &TaskReport) -> serde_json::Value {
    serde_json::to_value(TaskDocument::of(report)).expect("a task document serializes")
}

/// The whole run's JSON.
pub fn run_report_json(report: &RunReport) -> serde_json::Value {
    serde_json::to_value(RunReportDocument::of(report)).expect("a run report document serializes")
}

/// The committed schema's file name and text.
pub fn run_report_json_schema() -> (&'static str, String) {
    let schema = schemars::schema_for!(RunReportDocument);
    ("run-report.v1.schema.json", viewdag_artifact::canonical::canonical_pretty(&schema).unwrap_or_default())
}
