//! Optimizer commands: `explain SPEC VIEW --passes` (the pass trace as a table, plus a
//! plan diff for every pass that changed the plan, or JSON) and `lab SPEC --rulepacks …`
//! (every output compiled and executed under each rulepack; rows must be identical).
//!
//! `lab` executes through the task executor into the memory sink (`execute`): a
//! materialized view's task result is bound as an in-memory table that its readers scan,
//! under an identity of its own per rulepack run, so nothing is written to disk and no
//! identity ever names two different tables.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::physical_plan::execution_plan::reset_plan_states;
use serde::Serialize;
use viewdag_ir::SurfaceInput;
use viewdag_optimize::pushdown::PushdownReport;
use viewdag_optimize::{OptimizerPipelineConfig, OptimizerTrace, PassTraceEntry, PhaseTrace, physical_view};
use viewdag_schedule::{Task, TaskKind};
use viewdag_surface::planning_session;

use crate::compiler::{CompileRequest, CompileResponse, Compiler, Recording};
use crate::error::DriverError;
use crate::execute::memory_sink::MemoryBindings;
use crate::execute::{CollectedRows, Decision, Execution, MemorySink, Schedule, TaskDriver, TaskError, TaskSink, canonical_rows, execute};

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
    /// The result rows in the canonical form (`execute::rows`: a sorted multiset, floats to
    /// 9 significant digits).
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

/// Runs every task through the executor, one at a time in task order (so each output's
/// execution time is its own), into the memory sink; a materialized view's rows become the
/// in-memory table its readers scan, under this memory run's own identity.
fn execute_in_memory(compiler: &mut Compiler, response: &CompileResponse) -> Vec<LabViewResult> {
    let tasks = compiler.tasks();
    let runtime = Arc::clone(compiler.db.tokio());
    let bindings = compiler.begin_memory_run();
    let costs = BTreeMap::new();
    let schedule = Schedule { tasks: &tasks, costs: &costs, jobs: 1, failed: BTreeSet::new() };
    let mut driver = LabDriver { compiler, response, bindings, pending: BTreeMap::new() };
    let results = execute(&runtime, schedule, &mut driver, &mut |_| {});
    let LabDriver { compiler, bindings, .. } = driver;
    compiler.end_memory_run(bindings);
    results.into_iter().flatten().collect()
}

/// `lab`'s side of the executor: each task's P2 into the memory sink.
struct LabDriver<'a> {
    compiler: &'a mut Compiler,
    response: &'a CompileResponse,
    bindings: MemoryBindings,
    /// Executing tasks' results so far, by task id.
    pending: BTreeMap<String, LabViewResult>,
}

impl LabDriver<'_> {
    /// A task's result before it executes: its digests from the compile.
    fn result(&self, task: &Task) -> LabViewResult {
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
        if let Some(view) = self.response.view(&task.view)
            && let crate::compiler::ViewStatus::Compiled { p1_digest, p2_digest, .. } = &view.status
        {
            result.p1_digest = Some(p1_digest.clone());
            result.p2_digest = Some(p2_digest.clone());
        }
        result
    }
}

impl TaskDriver for LabDriver<'_> {
    type Ready = LabViewResult;
    /// `None`: the task's view is gone (no result).
    type Ending = Option<LabViewResult>;
    type Output = CollectedRows;
    type Report = Option<LabViewResult>;

    fn decide(&mut self, task: &Task, failed_read: Option<&str>) -> Decision<LabViewResult, Option<LabViewResult>> {
        if self.compiler.view_input(&task.view).is_none() {
            return Decision::End(None);
        }
        let mut result = self.result(task);
        match failed_read {
            Some(upstream) => {
                result.error = Some(format!("not executed: upstream task `{upstream}` failed"));
                Decision::End(Some(result))
            }
            None => Decision::Execute(result),
        }
    }

    fn prepare(&mut self, task: &Task, mut result: LabViewResult) -> Result<Execution<CollectedRows>, Option<LabViewResult>> {
        let Some(view) = self.compiler.view_input(&task.view) else { return Err(None) };
        let physical = match physical_view(&self.compiler.db, view) {
            Ok(physical) => physical.clone(),
            Err(failure) => {
                result.error = Some(format!("did not compile: {failure:?}"));
                return Err(Some(result));
            }
        };
        if let Some(Ok(plans)) = self.compiler.view_plans(&task.view) {
            let (passes, changed, planning) = trace_summary(&[plans.optimized.trace.as_ref(), plans.physical.trace.as_ref()]);
            (result.passes, result.changed_rules, result.planning_time) = (passes, changed, planning);
        }
        // A physical plan keeps execution state: run a fresh copy of the compiled one.
        let plan = match reset_plan_states(Arc::clone(&physical.plan)) {
            Ok(plan) => plan,
            Err(error) => {
                result.error = Some(format!("execution failed: {}", error.strip_backtrace()));
                return Err(Some(result));
            }
        };
        let state = Arc::clone(&planning_session(&self.compiler.db, SurfaceInput::get(&self.compiler.db)).state);
        self.pending.insert(task.id.clone(), result);
        Ok(MemorySink.consume(plan, state))
    }

    fn ended(&mut self, _task: &Task, ending: Option<LabViewResult>, _elapsed: Duration) -> Option<LabViewResult> {
        ending
    }

    fn executed(&mut self, task: &Task, executed: Result<CollectedRows, TaskError>, elapsed: Duration) -> Option<LabViewResult> {
        let mut result = self.pending.remove(&task.id).unwrap_or_else(|| self.result(task));
        match executed {
            Err(error) => {
                result.execution_time = elapsed;
                result.error = Some(format!("execution failed: {error}"));
            }
            Ok(collected) => {
                result.execution_time = collected.elapsed;
                let rows = canonical_rows(&collected.batches);
                result.row_count = Some(rows.len());
                result.rows = Some(rows);
                if task.kind == TaskKind::Materialize
                    && let Err(error) = self.compiler.bind_memory_table(&mut self.bindings, &task.view, &collected)
                {
                    result.error = Some(error.to_string());
                }
            }
        }
        Some(result)
    }

    fn never_ran(&self, task: &Task) -> Option<LabViewResult> {
        let mut result = self.result(task);
        result.error = Some("not executed: its upstream tasks never ran".to_string());
        Some(result)
    }

    fn completed(result: &Option<LabViewResult>) -> bool {
        result.as_ref().is_none_or(|result| result.error.is_none())
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
