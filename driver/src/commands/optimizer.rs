//! Optimizer commands: `explain SPEC VIEW --passes` (the pass trace as a table, plus a
//! plan diff for every pass that changed the plan, or JSON) and `lab SPEC --rulepacks …`
//! (every output compiled and executed under each rulepack; rows must be identical).
//!
//! `lab` executes in memory: a materialized view's task result is registered as an
//! in-memory table that its readers scan, so nothing is written to disk.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::datasource::MemTable;
use datafusion::physical_plan::collect;
use salsa::Setter;
use serde::Serialize;
use viewdag_ir::{ProviderIdentity, SurfaceInput};
use viewdag_optimize::pushdown::PushdownReport;
use viewdag_optimize::{OptimizerPipelineConfig, OptimizerTrace, PassTraceEntry, PhaseTrace, physical_view};
use viewdag_schedule::TaskKind;
use viewdag_surface::planning_session;

use crate::compiler::{CompileRequest, CompileResponse, Compiler, Recording};
use crate::error::DriverError;

fn short(digest: &str) -> &str {
    &digest[..digest.len().min(12)]
}

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
        short(&report.p0_digest),
        short(&report.p1_digest),
        short(&report.p2_digest)
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
                short(&entry.before_digest),
                short(&entry.after_digest),
                render_elapsed(entry.elapsed),
                entry.failure.as_deref().map(|failure| format!("  ({failure})")).unwrap_or_default()
            );
        }
    }
    for phase in &report.phases {
        let mut previous: Option<&str> = phase.input_text.as_deref();
        for entry in phase.entries.iter().filter(|entry: &&PassTraceEntry| entry.changed) {
            let Some(after) = entry.plan_text_after.as_deref() else { continue };
            let _ = writeln!(text, "\n--- {} ({} → {})", entry.pass_id, short(&entry.before_digest), short(&entry.after_digest));
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

/// One output under one rulepack.
#[derive(Debug, Clone, Serialize)]
pub struct LabViewResult {
    pub output: String,
    pub view: String,
    pub p1_digest: Option<String>,
    pub p2_digest: Option<String>,
    /// Rule applications recorded in the view's trace (all phases).
    pub passes: usize,
    /// `phase/rule` of every rule that changed the plan.
    pub changed_rules: Vec<String>,
    /// Time spent in optimizer rules for this view (sum of trace entries).
    pub planning_time: Duration,
    pub execution_time: Duration,
    /// The result rows, rendered and sorted (a multiset); floats to 9 significant digits.
    #[serde(skip)]
    pub rows: Option<Vec<String>>,
    pub row_count: Option<usize>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LabRulepackResult {
    pub rulepack: String,
    pub compile_time: Duration,
    pub outputs: Vec<LabViewResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LabReport {
    pub rulepacks: Vec<LabRulepackResult>,
    /// Outputs whose rows differ between rulepacks (or failed under some).
    pub mismatches: Vec<String>,
}

fn render_value(array: &dyn Array, row: usize, formatter: &ArrayFormatter<'_>) -> String {
    if array.is_null(row) {
        return "NULL".to_string();
    }
    match array.data_type() {
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            let text = formatter.value(row).to_string();
            text.parse::<f64>().map(|value| format!("{value:.8e}")).unwrap_or(text)
        }
        _ => formatter.value(row).to_string(),
    }
}

/// Rows as sorted strings: a multiset that does not depend on partitioning or order.
pub fn canonical_rows(batches: &[RecordBatch]) -> Result<Vec<String>, String> {
    let options = FormatOptions::default();
    let mut rows = Vec::new();
    for batch in batches {
        let formatters: Vec<ArrayFormatter<'_>> = batch
            .columns()
            .iter()
            .map(|column| ArrayFormatter::try_new(column.as_ref(), &options).map_err(|error| error.to_string()))
            .collect::<Result<_, _>>()?;
        for row in 0..batch.num_rows() {
            let values: Vec<String> =
                batch.columns().iter().zip(&formatters).map(|(column, formatter)| render_value(column.as_ref(), row, formatter)).collect();
            rows.push(values.join(" | "));
        }
    }
    rows.sort();
    Ok(rows)
}

fn trace_summary(traces: &[&OptimizerTrace]) -> (usize, Vec<String>, Duration) {
    let passes = traces.iter().map(|trace| trace.entries().count()).sum();
    let mut changed = Vec::new();
    for trace in traces {
        for rule in trace.changing_rules() {
            if !changed.contains(&rule) {
                changed.push(rule);
            }
        }
    }
    let planning = traces.iter().flat_map(|trace| trace.entries()).map(|entry| entry.elapsed).sum();
    (passes, changed, planning)
}

/// Compiles and executes every output of `spec` under each rulepack.
pub fn run_lab(spec: &Path, rulepacks: &[String]) -> Result<LabReport, DriverError> {
    let mut compiler = Compiler::new()?;
    compiler.compile(&CompileRequest::new(spec))?;
    let registry = match compiler.optimizer_pipeline() {
        Some(Ok(pipeline)) => Arc::clone(&pipeline.registry),
        _ => {
            return Err(DriverError::OptimizerProfile);
        }
    };
    let mut results = Vec::new();
    for rulepack in rulepacks {
        let Some(config) = OptimizerPipelineConfig::preset(rulepack, &registry) else {
            return Err(DriverError::UnknownRulepack { name: rulepack.clone() });
        };
        let started = Instant::now();
        let response = compiler.compile(&CompileRequest::new(spec).with_optimizer(config))?;
        let compile_time = started.elapsed();
        let outputs = execute_in_memory(&mut compiler, &response);
        results.push(LabRulepackResult { rulepack: rulepack.clone(), compile_time, outputs });
    }
    let mut mismatches = Vec::new();
    if let Some(first) = results.first() {
        for (index, output) in first.outputs.iter().enumerate() {
            let same = results.iter().all(|result| {
                result.outputs.get(index).is_some_and(|other| other.error.is_none() && other.rows.is_some() && other.rows == output.rows)
            });
            if !same {
                mismatches.push(output.output.clone());
            }
        }
    }
    Ok(LabReport { rulepacks: results, mismatches })
}

/// Runs every task in dependency order; materialized views become in-memory tables.
fn execute_in_memory(compiler: &mut Compiler, response: &CompileResponse) -> Vec<LabViewResult> {
    let tasks = compiler.tasks();
    let mut results = Vec::new();
    let mut bound = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    for task in &tasks {
        let mut result = LabViewResult {
            output: match &task.kind {
                TaskKind::Output { output } => output.clone(),
                TaskKind::Materialize => format!("(materialize {})", task.view),
            },
            view: task.view.clone(),
            p1_digest: None,
            p2_digest: None,
            passes: 0,
            changed_rules: Vec::new(),
            planning_time: Duration::ZERO,
            execution_time: Duration::ZERO,
            rows: None,
            row_count: None,
            error: None,
        };
        if let Some(view) = response.view(&task.view)
            && let crate::compiler::ViewStatus::Compiled { p1_digest, p2_digest, .. } = &view.status
        {
            result.p1_digest = Some(p1_digest.clone());
            result.p2_digest = Some(p2_digest.clone());
        }
        let Some(view) = compiler.view_input(&task.view) else { continue };
        if let Some(upstream) = task.reads.iter().find(|read| failed.contains(*read)) {
            result.error = Some(format!("not executed: upstream task `{upstream}` failed"));
        } else {
            execute_task(compiler, task, view, &mut result, &mut bound);
        }
        if result.error.is_some() {
            failed.push(task.id.clone());
        }
        results.push(result);
    }
    for view in bound {
        view.set_materialized_table(&mut compiler.db).to(None);
    }
    results
}

/// Executes one task's P2; a materialized view's rows become the table its readers scan.
fn execute_task(
    compiler: &mut Compiler,
    task: &viewdag_schedule::Task,
    view: viewdag_ir::ViewInput,
    result: &mut LabViewResult,
    bound: &mut Vec<viewdag_ir::ViewInput>,
) {
    match physical_view(&compiler.db, view).clone() {
        Err(failure) => result.error = Some(format!("did not compile: {failure:?}")),
        Ok(physical) => {
            if let Some(Ok(plans)) = compiler.view_plans(&task.view) {
                let (passes, changed, planning) = trace_summary(&[plans.optimized.trace.as_ref(), plans.physical.trace.as_ref()]);
                (result.passes, result.changed_rules, result.planning_time) = (passes, changed, planning);
            }
            let state = Arc::clone(&planning_session(&compiler.db, SurfaceInput::get(&compiler.db)).state);
            let started = Instant::now();
            let executed = compiler.db.tokio().block_on(collect(Arc::clone(&physical.plan), state.task_ctx()));
            result.execution_time = started.elapsed();
            match executed {
                Err(error) => result.error = Some(format!("execution failed: {}", error.strip_backtrace())),
                Ok(batches) => {
                    match canonical_rows(&batches) {
                        Ok(rows) => {
                            result.row_count = Some(rows.len());
                            result.rows = Some(rows);
                        }
                        Err(message) => result.error = Some(message),
                    }
                    if task.kind == TaskKind::Materialize {
                        match MemTable::try_new(physical.plan.schema(), vec![batches]) {
                            Ok(table) => {
                                let identity = ProviderIdentity::Materialized { view: format!("lab:{}", task.view) };
                                compiler.db.register_provider(identity.clone(), Arc::new(table));
                                view.set_materialized_table(&mut compiler.db).to(Some(identity));
                                bound.push(view);
                            }
                            Err(error) => result.error = Some(error.strip_backtrace()),
                        }
                    }
                }
            }
        }
    }
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
                result.p1_digest.as_deref().map(short).unwrap_or("-"),
                result.p2_digest.as_deref().map(short).unwrap_or("-"),
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
