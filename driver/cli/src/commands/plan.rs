//! `viewdag plan SPEC`: a dry run — for every task, what the next `run` would do and why (up
//! to date, incremental from which appended inputs, full and the reason, fails, skipped),
//! with the bytes it would read. Nothing is written and nothing is locked.

use std::path::PathBuf;

use viewdag_driver::refresh::RefreshPlan;
use viewdag_driver::select::Selection;
use viewdag_driver::{CompileRequest, Compiler, RunOptions};

use crate::commands::schedule::human_bytes;
use crate::error::CliError;
use crate::output::{Format, print_diagnostics};
use crate::selection::SelectionArgs;

/// `plan`'s arguments: the ones of `run` that change what it would do.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    spec: PathBuf,
    /// As `run --force`: every task runs, fully.
    #[arg(long)]
    force: bool,
    /// As `run --full-refresh`: every task that runs is refreshed fully.
    #[arg(long)]
    full_refresh: bool,
    #[command(flatten)]
    selection: SelectionArgs,
    /// `json`: the plan as JSON on stdout.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

/// The plan as text, one line per task.
pub fn render_plan(plan: &RefreshPlan) -> String {
    let mut text = String::new();
    for task in &plan.tasks {
        let estimate = if task.estimated_bytes == 0 {
            String::new()
        } else {
            format!("  reads ~{}{}", human_bytes(task.estimated_bytes), if task.exact { "" } else { " (inexact)" })
        };
        text.push_str(&format!("{:<28} {}{estimate}\n", task.id, task.action));
    }
    text
}

pub fn execute(args: PlanArgs) -> Result<i32, CliError> {
    let PlanArgs { spec, force, full_refresh, selection, format } = args;
    let mut compiler = Compiler::new()?;
    let selection: Selection = selection.into();
    let selected = if selection.is_empty() {
        None
    } else {
        let checked = compiler.compile(&CompileRequest::check(&spec))?;
        compiler.snapshot().select_units(&checked, &selection)?
    };
    let options = RunOptions { force, full_refresh, selection: selected, ..RunOptions::default() };
    let (response, plan) = compiler.plan_refresh(&CompileRequest::new(&spec), &options)?;
    if !response.diagnostics.is_empty() {
        print_diagnostics(&compiler, &response);
    }
    if format.is_json() {
        println!("{}", serde_json::to_string_pretty(&plan).expect("JSON serializes"));
    } else {
        print!("{}", render_plan(&plan));
    }
    Ok(if response.has_errors() { 1 } else { 0 })
}
