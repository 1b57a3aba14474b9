//! The logical phase: passes of every logical rule in rulepack order until the plan
//! reaches a fixed point (its digest after a pass was seen before) or `max_passes`.
//!
//! Each rule is applied exactly as DataFusion 55's `Optimizer::optimize` applies it: a rule
//! with an `apply_order` is driven by a top-down or bottom-up rewrite that also enters
//! subqueries; a rule without one rewrites the whole plan itself. After every rule the
//! output schema must still be equivalent (names and types) to the phase's input schema,
//! else the rule failed.
//!
//! ## What a rule's `Transformed` flag is trusted for
//! A rule that returns `Transformed::no` left the plan as it was (DataFusion's own optimizer
//! relies on the same contract): it is recorded `unchanged` without rendering or comparing
//! the plan. A rule that returns `Transformed::yes` is not trusted blindly: its plan is
//! fingerprinted and recorded `changed` only when the digest differs from its input's.
//!
//! A fail-closed rule is given the pass's only copy of the plan (`std::mem::take`), so
//! DataFusion's rewrites find every node uniquely owned and move it instead of cloning it;
//! only a fail-open rule, whose input is restored when it fails, gets a clone.

use std::collections::BTreeSet;
use std::time::Instant;

use datafusion::common::tree_node::{Transformed, TreeNodeRewriter};
use datafusion::error::Result;
use datafusion::logical_expr::LogicalPlan;
use datafusion::logical_expr::logical_plan::InvariantLevel;
use datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};
use viewdag_ir::OptimizerFailMode;

use crate::pipeline::fingerprint::{LogicalPlanFingerprint, PhaseReporting};
use crate::pipeline::guard::{RuleFailure, run_rule_guarded};
use crate::pipeline::outcome::{PhaseFailure, PhaseResult, RuleStep, finish_phase, input_trace, invariants_failure, record_rule_result};
use crate::pipeline::registry::{OptimizerRuleRegistry, RegisteredRule};
use crate::pipeline::settings::PhaseConfig;
use crate::pipeline::trace::{Convergence, OptimizerPhase, PassOutcome, PassTraceEntry};

const PHASE: OptimizerPhase = OptimizerPhase::Logical;

/// Drives one rule with an apply order over the plan, like DataFusion's own `Rewriter`.
struct SingleRuleRewriter<'a> {
    apply_order: ApplyOrder,
    rule: &'a dyn OptimizerRule,
    config: &'a dyn OptimizerConfig,
}

impl TreeNodeRewriter for SingleRuleRewriter<'_> {
    type Node = LogicalPlan;

    fn f_down(&mut self, node: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
        if self.apply_order == ApplyOrder::TopDown { self.rule.rewrite(node, self.config) } else { Ok(Transformed::no(node)) }
    }

    fn f_up(&mut self, node: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
        if self.apply_order == ApplyOrder::BottomUp { self.rule.rewrite(node, self.config) } else { Ok(Transformed::no(node)) }
    }
}

/// Applies one logical rule once to a whole plan, as `Optimizer::optimize` does: the
/// rewritten plan with the rule's own claim of whether it changed it.
pub fn apply_logical_rule(rule: &dyn OptimizerRule, plan: LogicalPlan, config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
    match rule.apply_order() {
        Some(apply_order) => plan.rewrite_with_subqueries(&mut SingleRuleRewriter { apply_order, rule, config }),
        None => rule.rewrite(plan, config),
    }
}

/// Runs the logical phase over an analyzed plan; `input` is that plan's fingerprint when the
/// caller already has it (the analyzer's output), else it is rendered here.
#[allow(clippy::too_many_arguments, reason = "the phase's whole context")]
pub fn run_logical_phase(
    plan: LogicalPlan,
    input: Option<LogicalPlanFingerprint>,
    phase: &PhaseConfig,
    max_passes: usize,
    registry: &OptimizerRuleRegistry,
    config: &dyn OptimizerConfig,
    reporting: &PhaseReporting<'_>,
) -> PhaseResult<LogicalPlan> {
    let input = input.unwrap_or_else(|| LogicalPlanFingerprint::of(&plan, reporting));
    let mut trace = input_trace(PHASE, &input, reporting);
    let mut diagnostics = Vec::new();
    if let Err(error) = plan.check_invariants(InvariantLevel::Executable) {
        diagnostics.push(invariants_failure(reporting, PHASE, 1, 0, &format!("invalid input plan: {}", error.strip_backtrace())));
        trace.convergence = Convergence::Stopped;
        return Err(PhaseFailure { trace: Box::new(trace), diagnostics });
    }
    let mut seen_digests = BTreeSet::from([input.digest.clone()]);
    let mut plan = plan;
    let mut current = input;
    let max_passes = max_passes.max(1);
    trace.convergence = Convergence::MaxPasses { passes: max_passes };
    for pass_number in 1..=max_passes {
        match run_pass(plan, current, phase, registry, config, reporting, pass_number, Some(&mut trace.entries), &mut diagnostics) {
            Ok((rewritten, fingerprint)) => {
                plan = rewritten;
                current = fingerprint;
            }
            Err(()) => {
                trace.convergence = Convergence::Stopped;
                return Err(PhaseFailure { trace: Box::new(trace), diagnostics });
            }
        }
        if !seen_digests.insert(current.digest.clone()) {
            trace.convergence = Convergence::FixedPoint { pass: pass_number };
            break;
        }
    }
    // P1's text and digest are rendered from the plan itself, not carried from the last rule
    // that claimed a change: a rule that changed the plan but said `Transformed::no` shows as
    // an output digest that no entry's `after_digest` matches, never as a stale P1.
    let output = LogicalPlanFingerprint::of(&plan, reporting);
    finish_phase(plan, trace, diagnostics, PHASE, phase.idempotence, output, reporting, |output, fingerprint| {
        let mut rerun_diagnostics = Vec::new();
        run_pass(output.clone(), fingerprint.clone(), phase, registry, config, reporting, max_passes + 1, None, &mut rerun_diagnostics)
            .map(|(_, fingerprint)| fingerprint)
    })
}

#[allow(clippy::too_many_arguments, reason = "one pass's whole context; grouping it would only rename the arguments")]
fn run_pass(
    mut plan: LogicalPlan,
    mut current: LogicalPlanFingerprint,
    phase: &PhaseConfig,
    registry: &OptimizerRuleRegistry,
    config: &dyn OptimizerConfig,
    reporting: &PhaseReporting<'_>,
    pass_number: usize,
    mut entries: Option<&mut Vec<PassTraceEntry>>,
    diagnostics: &mut Vec<viewdag_ir::Diagnostic>,
) -> Result<(LogicalPlan, LogicalPlanFingerprint), ()> {
    for (position, key) in phase.rules.iter().enumerate() {
        let starting_schema = std::sync::Arc::clone(plan.schema());
        let started = Instant::now();
        // Whether the rule said it changed the plan (`Transformed::yes`).
        let mut claims_change = false;
        let result = match registry.get(PHASE, key) {
            Some(RegisteredRule::Logical(rule)) => {
                let input = match phase.fail_mode_of(key) {
                    OptimizerFailMode::Open => plan.clone(),
                    // A failure stops the phase: the plan is not needed again.
                    OptimizerFailMode::Closed => std::mem::take(&mut plan),
                };
                run_rule_guarded(|| {
                    let Transformed { data: rewritten, transformed, .. } = apply_logical_rule(rule.as_ref(), input, config)?;
                    claims_change = transformed;
                    if !rewritten.schema().logically_equivalent_names_and_types(&starting_schema) {
                        return Err(datafusion::error::DataFusionError::Plan(format!(
                            "the rule changed the plan's output schema from [{}] to [{}]",
                            render_schema(&starting_schema),
                            render_schema(rewritten.schema())
                        )));
                    }
                    Ok(rewritten)
                })
            }
            _ => Err(RuleFailure::Unregistered { kind: "logical", key: key.to_string() }),
        };
        let step = RuleStep::new(PHASE, phase, pass_number, position, key, started);
        let outcome = record_rule_result(
            step,
            result,
            &mut plan,
            &mut current,
            |_, after| claims_change.then(|| LogicalPlanFingerprint::of(after, reporting)),
            entries.as_deref_mut(),
            diagnostics,
            reporting,
        );
        if outcome == PassOutcome::Failed {
            return Err(());
        }
    }
    Ok((plan, current))
}

fn render_schema(schema: &datafusion::common::DFSchema) -> String {
    schema.fields().iter().map(|field| format!("{}: {}", field.name(), field.data_type())).collect::<Vec<_>>().join(", ")
}
