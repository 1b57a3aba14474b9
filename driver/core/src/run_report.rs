//! The run report as text lines and as JSON (`run --format json`): per task its outcome,
//! rows, version, merge counts, how its table was refreshed (incremental from which appended
//! files, or full and why) and, per expectation, rows checked, failed and dropped.
//!
//! ## Invariants
//! - Deterministic apart from elapsed times, which the JSON leaves out: tasks in task
//!   order, expectations in their declaration order.

use crate::run::{RunReport, TaskOutcome, TaskReport};

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
    let outcome = match &report.outcome {
        TaskOutcome::Written { rows, version } => serde_json::json!({ "status": "written", "rows": rows, "version": version }),
        TaskOutcome::UpToDate { version } => serde_json::json!({ "status": "up_to_date", "version": version }),
        TaskOutcome::Failed { error } => match error.code() {
            Some(code) => serde_json::json!({ "status": "failed", "code": code.id(), "message": error.to_string() }),
            None => serde_json::json!({ "status": "failed", "message": error.to_string() }),
        },
        TaskOutcome::Skipped { reason } => serde_json::json!({ "status": "skipped", "reason": reason }),
    };
    let merged = report
        .merged
        .map(|merged| serde_json::json!({ "inserted": merged.inserted, "updated": merged.updated, "deleted": merged.deleted }));
    serde_json::json!({
        "task": report.id,
        "view": report.view,
        "target": report.target,
        "outcome": outcome,
        "merged": merged,
        "refresh": report.refresh.as_ref().map(|refresh| serde_json::json!({ "path": refresh, "line": refresh.to_string() })),
        "schema_replaced": report.schema_replaced,
        "expectations": report.expectations,
    })
}

/// The whole run's JSON.
pub fn run_report_json(report: &RunReport) -> serde_json::Value {
    let tasks: Vec<serde_json::Value> = report.tasks.iter().map(task_json).collect();
    let errors: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
    serde_json::json!({ "succeeded": report.succeeded(), "tasks": tasks, "warnings": report.warnings, "errors": errors })
}
