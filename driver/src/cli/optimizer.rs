//! Optimizer commands: `explain SPEC VIEW --passes` (the pass trace as a table, plus a
//! plan diff for every pass that changed the plan, or JSON) and `lab SPEC --rulepacks …`
//! (the lab's report, see [`crate::lab`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use viewdag_optimize::pushdown::PushdownReport;
use viewdag_optimize::{PassTraceEntry, PhaseTrace};

use crate::compiler::{CompileRequest, CompileResponse, Compiler, Recording};
use crate::error::DriverError;
use crate::lab::{LabReport, run_lab};
use crate::render::short_digest;

/// The traces and pushdown reports of one compiled view.
#[derive(Debug, Clone, Serialize)]
pub struct ViewPassReport {
    pub view: String,
    pub pipeline: String,
    pub p0_digest: String,
    pub p1_digest: String,
    pub p2_digest: String,
    pub phases: Vec<PhaseTrace>,
    pub pushdown_p1: PushdownReport,
    pub pushdown_p2: PushdownReport,
}

/// The pass report of `view` after a compile, if it compiled.
pub fn view_pass_report(compiler: &Compiler, view: &str) -> Option<ViewPassReport> {
    let plans = compiler.view_plans(view)?.ok()?;
    let mut phases = plans.optimized.trace.phases.clone();
    phases.extend(plans.physical.trace.phases.iter().cloned());
    Some(ViewPassReport {
        view: view.to_string(),
        pipeline: plans.optimized.trace.pipeline.clone(),
        p0_digest: plans.p0_digest,
        p1_digest: plans.optimized.digest.clone(),
        p2_digest: plans.physical.digest.clone(),
        phases,
        pushdown_p1: plans.optimized.pushdown.as_ref().clone(),
        pushdown_p2: plans.physical.pushdown.as_ref().clone(),
    })
}

/// A line diff of two texts (longest common subsequence), `-`/`+` prefixed, with two
/// unchanged lines of context around each change and `…` for the lines skipped.
pub fn line_diff(before: &str, after: &str) -> String {
    let old: Vec<&str> = before.lines().collect();
    let new: Vec<&str> = after.lines().collect();
    let mut common = vec![vec![0usize; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            common[i][j] = if old[i] == new[j] { common[i + 1][j + 1] + 1 } else { common[i + 1][j].max(common[i][j + 1]) };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut lines: Vec<(char, &str)> = Vec::new();
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            lines.push((' ', old[i]));
            i += 1;
            j += 1;
        } else if i < old.len() && (j == new.len() || common[i + 1][j] >= common[i][j + 1]) {
            lines.push(('-', old[i]));
            i += 1;
        } else {
            lines.push(('+', new[j]));
            j += 1;
        }
    }
    const CONTEXT: usize = 2;
    let changed: Vec<usize> = lines.iter().enumerate().filter(|(_, (kind, _))| *kind != ' ').map(|(index, _)| index).collect();
    let near_change = |index: usize| changed.iter().any(|&change| index + CONTEXT >= change && index <= change + CONTEXT);
    let mut text = String::new();
    let mut skipped = false;
    for (index, (kind, line)) in lines.iter().enumerate() {
        if near_change(index) {
            let _ = writeln!(text, "{kind} {line}");
            skipped = false;
        } else if !skipped {
            text.push_str("  …\n");
            skipped = true;
        }
    }
    text
}

fn render_elapsed(elapsed: Duration) -> String {
    format!("{:.1}µs", elapsed.as_secs_f64() * 1e6)
}

/// The trace as a table, then a diff for every changing pass.
pub fn render_pass_report(report: &ViewPassReport) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "view `{}` — pipeline {} — P0 {} → P1 {} → P2 {}",
        report.view,
        report.pipeline,
        short_digest(&report.p0_digest),
        short_digest(&report.p1_digest),
        short_digest(&report.p2_digest)
    );
    let width = report.phases.iter().flat_map(|phase| phase.entries.iter()).map(|entry| entry.pass_id.len()).max().unwrap_or(10).max(7);
    for phase in &report.phases {
        let _ = writeln!(text, "\n== {} phase: {:?}, idempotence {:?} ==", phase.phase.as_str(), phase.convergence, phase.idempotence);
        let _ = writeln!(text, "{:<width$}  {:<14}  {:<12}  {:<12}  {:>10}", "pass id", "outcome", "before", "after", "elapsed");
        for entry in &phase.entries {
            let _ = writeln!(
                text,
                "{:<width$}  {:<14}  {:<12}  {:<12}  {:>10}{}",
                entry.pass_id,
                entry.outcome.as_str(),
                short_digest(&entry.before_digest),
                short_digest(&entry.after_digest),
                render_elapsed(entry.elapsed),
                entry.failure.as_deref().map(|failure| format!("  ({failure})")).unwrap_or_default()
            );
        }
    }
    for phase in &report.phases {
        let mut previous: Option<&str> = phase.input_text.as_deref();
        for entry in phase.entries.iter().filter(|entry: &&PassTraceEntry| entry.changed) {
            let Some(after) = entry.plan_text_after.as_deref() else { continue };
            let _ =
                writeln!(text, "\n--- {} ({} → {})", entry.pass_id, short_digest(&entry.before_digest), short_digest(&entry.after_digest));
            text.push_str(&line_diff(previous.unwrap_or(""), after));
            previous = Some(after);
        }
    }
    let pushdown = [&report.pushdown_p1, &report.pushdown_p2];
    let any_predicate = pushdown.iter().any(|report| report.scans.iter().any(|scan| !scan.predicates.is_empty()));
    if any_predicate {
        let _ = writeln!(text, "\n== pushdown contracts ==");
        for report in pushdown {
            for scan in report.scans.iter().filter(|scan| !scan.predicates.is_empty()) {
                for predicate in &scan.predicates {
                    let _ = writeln!(
                        text,
                        "{} scan #{} {:<16} {:<11} {:<17} {:<10} {}",
                        report.plan.to_uppercase(),
                        scan.scan_index,
                        scan.relation,
                        predicate.classification.as_str(),
                        format!("{:?}", predicate.placement),
                        format!("{:?}", predicate.verdict),
                        predicate.predicate
                    );
                }
            }
        }
    }
    text
}

/// `viewdag explain SPEC VIEW --passes [--format json]`. Returns the exit code.
pub fn explain_passes(spec: &Path, view: &str, json: bool) -> Result<(i32, Option<CompileResponse>, Compiler), DriverError> {
    let mut compiler = Compiler::new()?;
    let record = Recording { pass_text: true, ..Recording::default() };
    let response = compiler.compile(&CompileRequest::new(spec).recording(record))?;
    let Some(report) = view_pass_report(&compiler, view) else {
        return Ok((1, Some(response), compiler));
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report).expect("JSON serializes"));
    } else {
        print!("{}", render_pass_report(&report));
    }
    Ok((0, None, compiler))
}

/// The lab report as text.
pub fn render_lab_report(report: &LabReport) -> String {
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
    let mut times = BTreeMap::new();
    for rulepack in &report.rulepacks {
        times.insert(rulepack.rulepack.clone(), rulepack.compile_time);
    }
    let _ = writeln!(text, "\ncompile time (optimizer stages only) per rulepack: {times:.2?}");
    if report.mismatches.is_empty() {
        let _ = writeln!(text, "rows identical across rulepacks for every output");
    } else {
        let _ = writeln!(text, "ROWS DIFFER for: {}", report.mismatches.join(", "));
    }
    text
}

/// `viewdag lab SPEC --rulepacks …`. Exit code 1 when rows differ or an output failed.
pub fn lab(spec: &Path, rulepacks: &[String], json: bool) -> Result<i32, DriverError> {
    let report = run_lab(spec, rulepacks)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report).expect("JSON serializes"));
    } else {
        print!("{}", render_lab_report(&report));
    }
    Ok(if report.mismatches.is_empty() { 0 } else { 1 })
}
