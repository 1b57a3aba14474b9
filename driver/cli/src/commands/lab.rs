//! `viewdag lab SPEC --rulepacks …`: compile and execute every output under each rulepack and
//! check the rows are identical (the library's `run_lab`), printed as a table or JSON.

use std::fmt::Write as _;
use std::path::PathBuf;

use viewdag_driver::render::short_digest;
use viewdag_driver::{LabReport, run_lab};

use crate::error::CliError;
use crate::output::Format;

/// `lab`'s arguments.
#[derive(Debug, clap::Args)]
pub struct LabArgs {
    spec: PathBuf,
    #[arg(long, value_delimiter = ',', default_value = "default,minimal,none")]
    rulepacks: Vec<String>,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

/// Exit code 1 when rows differ or an output failed.
pub fn execute(args: LabArgs) -> Result<i32, CliError> {
    let LabArgs { spec, rulepacks, format } = args;
    let report = run_lab(&spec, &rulepacks)?;
    if format.is_json() {
        println!("{}", serde_json::to_string_pretty(&report).expect("JSON serializes"));
    } else {
        print!("{}", render_lab_report(&report));
    }
    Ok(if report.agrees() { 0 } else { 1 })
}

/// The lab report as text.
fn render_lab_report(report: &LabReport) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{:<16} {:<18} {:<9} {:<12} {:<12} {:>6} {:>7} {:>11} {:>11}  changed rules",
        "output", "view", "rulepack", "P1", "P2", "passes", "rows", "planning", "execution"
    );
    let outputs = report.rulepacks.first().map(|first| first.outputs.len()).unwrap_or(0);
    for index in 0..outputs {
        for rulepack in &report.rulepacks {
            let Some(result) = rulepack.outputs.get(index) else { continue };
            let _ = writeln!(
                text,
                "{:<16} {:<18} {:<9} {:<12} {:<12} {:>6} {:>7} {:>11} {:>11}  {}",
                result.output,
                result.view,
                rulepack.rulepack,
                result.p1_digest.as_deref().map(short_digest).unwrap_or("-"),
                result.p2_digest.as_deref().map(short_digest).unwrap_or("-"),
                result.passes,
                result.row_count.map(|count| count.to_string()).unwrap_or_else(|| "-".to_string()),
                format!("{:.2?}", result.planning_time),
                format!("{:.2?}", result.execution_time),
                result.error.clone().unwrap_or_else(|| result.changed_rules.join(", "))
            );
        }
    }
    // The optimizer's time as each output's trace recorded it: a compile under a rulepack
    // the spec was already compiled with reuses its result, so its wall time says nothing.
    let times: Vec<String> = report
        .rulepacks
        .iter()
        .map(|rulepack| {
            let planning: std::time::Duration = rulepack.outputs.iter().map(|output| output.planning_time).sum();
            format!("{} {planning:.2?}", rulepack.rulepack)
        })
        .collect();
    let _ = writeln!(text, "\noptimizer time per rulepack (the outputs' traces): {}", times.join(", "));
    if report.agrees() {
        let _ = writeln!(text, "rows identical across rulepacks for every output");
    }
    if !report.mismatches.is_empty() {
        let _ = writeln!(text, "ROWS DIFFER for: {}", report.mismatches.join(", "));
    }
    for failure in &report.failures {
        let _ = writeln!(text, "FAILED: {} under {} (rows not compared)", failure.output, failure.rulepacks.join(", "));
    }
    text
}
