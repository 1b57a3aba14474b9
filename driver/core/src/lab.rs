//! `lab`: every output of a spec compiled and executed under each rulepack; the rows must
//! be identical.
//!
//! ## Invariants
//! - Execution goes through the task executor into the memory sink (`execute`): a
//!   materialized view's task result is bound as an in-memory table its readers scan, under
//!   an identity of its own per rulepack run, so nothing is written to disk and no identity
//!   ever names two different tables.
//! - Rows compare in the one canonical form (`execute::rows`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use viewdag_ir::SurfaceInput;
use viewdag_optimize::{OptimizerPipelineConfig, OptimizerTrace, executable_plan, physical_view};
use viewdag_schedule::{Task, TaskId, TaskKind};
use viewdag_surface::planning_session;

use crate::compiler::MemoryBindings;
use crate::compiler::{CompileRequest, CompileResponse, Compiler};
use crate::error::DriverError;
use crate::execute::{
    CollectedRows, Decision, MemorySink, Schedule, TaskDriver, TaskError, TaskExecution, TaskSink, canonical_rows, execute,
};

/// One output under one rulepack.
#[derive(Debug, Clone, Serialize)]
pub struct LabViewResult {
    /// The output.
    pub output: String,
    /// The view it writes.
    pub view: String,
    /// Its P1 digest under this rulepack (none when it did not plan).
    pub p1_digest: Option<String>,
    /// Its P2 digest under this rulepack.
    pub p2_digest: Option<String>,
    /// Rule applications recorded in the view's trace (all phases).
    pub passes: usize,
    /// `phase/rule` of every rule that changed the plan.
    pub changed_rules: Vec<String>,
    /// Time spent in optimizer rules for this view (sum of trace entries).
    pub planning_time: Duration,
    /// Time spent executing its plan.
    pub execution_time: Duration,
    /// The result rows in the canonical form (`execute::rows`: a sorted multiset, floats to
    /// 9 significant digits).
    #[serde(skip)]
    pub rows: Option<Vec<String>>,
    /// How many rows it returned.
    pub row_count: Option<usize>,
    /// Why it did not plan or execute.
    pub error: Option<String>,
}

/// Every output under one rulepack.
#[derive(Debug, Clone, Serialize)]
pub struct LabRulepackResult {
    /// The rulepack (a preset name).
    pub rulepack: String,
    /// How long the compile call under it took (a rulepack the compiler already compiled the
    /// spec with is a reused result, not a compile: its outputs' `planning_time` is the
    /// optimizer's own time).
    pub compile_time: Duration,
    /// One result per output, in declaration order.
    pub outputs: Vec<LabViewResult>,
}

/// What `lab` found: every rulepack's results, the outputs whose rows differ and the
/// outputs that failed under some rulepack.
#[derive(Debug, Clone, Serialize)]
pub struct LabReport {
    /// One entry per rulepack, in the order asked.
    pub rulepacks: Vec<LabRulepackResult>,
    /// Outputs that ran under every rulepack and whose rows differ between two of them.
    pub mismatches: Vec<String>,
    /// Outputs that did not compile or run under some rulepack (their rows cannot be
    /// compared), each with the rulepacks it failed under.
    pub failures: Vec<LabFailure>,
}

/// An output that failed under some rulepacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabFailure {
    /// The output.
    pub output: String,
    /// The rulepacks it failed under, in the order asked.
    pub rulepacks: Vec<String>,
}

impl LabReport {
    /// Whether every output ran under every rulepack with the same rows.
    pub fn agrees(&self) -> bool {
        self.mismatches.is_empty() && self.failures.is_empty()
    }
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
    let registry = match compiler.snapshot().optimizer_pipeline() {
        Some(Ok(pipeline)) => Arc::clone(&pipeline.registry),
        _ => {
            return Err(DriverError::OptimizerProfile);
        }
    };
    let mut results = Vec::new();
    // One `now()` for every rulepack: their rows must compare equal.
    let started_at = chrono::Utc::now();
    for rulepack in rulepacks {
        let Some(config) = OptimizerPipelineConfig::preset(rulepack, &registry) else {
            return Err(DriverError::UnknownRulepack { name: rulepack.clone() });
        };
        let started = Instant::now();
        let response = compiler.compile(&CompileRequest::new(spec).with_optimizer(config))?;
        let compile_time = started.elapsed();
        let outputs = execute_in_memory(&mut compiler, &response, started_at);
        results.push(LabRulepackResult { rulepack: rulepack.clone(), compile_time, outputs });
    }
    let (mut mismatches, mut failures) = (Vec::new(), Vec::new());
    if let Some(first) = results.first() {
        for (index, output) in first.outputs.iter().enumerate() {
            let failed_under: Vec<String> = results
                .iter()
                .filter(|result| result.outputs.get(index).is_none_or(|other| other.error.is_some() || other.rows.is_none()))
                .map(|result| result.rulepack.clone())
                .collect();
            if !failed_under.is_empty() {
                failures.push(LabFailure { output: output.output.clone(), rulepacks: failed_under });
            } else if !results.iter().all(|result| result.outputs.get(index).is_some_and(|other| other.rows == output.rows)) {
                mismatches.push(output.output.clone());
            }
        }
    }
    Ok(LabReport { rulepacks: results, mismatches, failures })
}

/// Runs every task through the executor, one at a time in task order (so each output's
/// execution time is its own), into the memory sink; a materialized view's rows become the
/// in-memory table its readers scan, under this memory run's own identity.
fn execute_in_memory(compiler: &mut Compiler, response: &CompileResponse, started_at: chrono::DateTime<chrono::Utc>) -> Vec<LabViewResult> {
    let tasks = compiler.snapshot().tasks();
    let runtime = Arc::clone(compiler.snapshot().db.tokio());
    let bindings = compiler.begin_memory_run();
    let costs = BTreeMap::new();
    let schedule = Schedule { tasks: &tasks, costs: &costs, jobs: 1, failed: BTreeSet::new() };
    let mut driver = LabDriver { compiler, response, bindings, started_at, pending: BTreeMap::new() };
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
    /// The lab's start time: `now()` in every task (see `viewdag_optimize::start_time`).
    started_at: chrono::DateTime<chrono::Utc>,
    /// Executing tasks' results so far, by task id.
    pending: BTreeMap<TaskId, LabViewResult>,
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

    fn decide(&mut self, task: &Task, failed_read: Option<&TaskId>) -> Decision<LabViewResult, Option<LabViewResult>> {
        if self.compiler.snapshot().view_input(&task.view).is_none() {
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

    fn prepare(&mut self, task: &Task, mut result: LabViewResult) -> Result<TaskExecution<CollectedRows>, Option<LabViewResult>> {
        let snapshot = self.compiler.snapshot();
        let Some(view) = snapshot.view_input(&task.view) else { return Err(None) };
        if let Err(failure) = physical_view(snapshot.db, view) {
            result.error = Some(format!("did not compile: {failure}"));
            return Err(Some(result));
        }
        if let Some(Ok(plans)) = snapshot.view_plans(&task.view) {
            let (passes, changed, planning) = trace_summary(&[plans.optimized.trace.as_ref(), plans.physical.trace.as_ref()]);
            (result.passes, result.changed_rules, result.planning_time) = (passes, changed, planning);
        }
        let plan = match executable_plan(snapshot.db, view, self.started_at) {
            Ok(plan) => plan,
            Err(failure) => {
                result.error = Some(format!("execution failed: {failure}"));
                return Err(Some(result));
            }
        };
        let state = Arc::clone(&planning_session(snapshot.db, SurfaceInput::get(snapshot.db)).state);
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
