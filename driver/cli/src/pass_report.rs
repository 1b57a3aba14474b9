//! `explain SPEC VIEW --passes`: the optimizer's pass trace as a table, plus a plan diff for
//! every pass that changed the plan, or JSON.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use viewdag_optimize::pushdown::PushdownReport;
use viewdag_optimize::{PassTraceEntry, PhaseTrace};

use viewdag_driver::render::short_digest;
use viewdag_driver::{CompileRequest, CompileResponse, Compiler, DriverError, Recording};

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
    let plans = compiler.snapshot().view_plans(view)?.ok()?;
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
