//! The analyzer phase: every analyzer rule once, in rulepack order, then DataFusion's
//! executable-plan invariant check (reported as the pseudo-rule `invariants`).
//!
//! Analyzer rules make a plan executable (type coercion may legitimately change column
//! types), so the output-schema check of the logical and physical phases does not apply.

use std::time::Instant;

use datafusion::common::config::ConfigOptions;
use datafusion::logical_expr::LogicalPlan;
use datafusion::logical_expr::logical_plan::InvariantLevel;

use crate::pipeline::fingerprint::{LogicalPlanFingerprint, PhaseReporting};
use crate::pipeline::guard::{RuleFailure, run_rule_guarded};
use crate::pipeline::outcome::{PhaseResult, RuleStep, invariants_failure, record_rule_result, run_single_pass_phase};
use crate::pipeline::registry::{OptimizerRuleRegistry, RegisteredRule};
use crate::pipeline::settings::PhaseConfig;
use crate::pipeline::trace::{OptimizerPhase, PassOutcome, PassTraceEntry};

const PHASE: OptimizerPhase = OptimizerPhase::Analyzer;

/// Runs the analyzer phase over a P0 plan.
pub fn run_analyzer_phase(
    plan: LogicalPlan,
    phase: &PhaseConfig,
    registry: &OptimizerRuleRegistry,
    options: &ConfigOptions,
    reporting: &PhaseReporting<'_>,
) -> PhaseResult<LogicalPlan> {
    let input = LogicalPlanFingerprint::of(&plan, reporting);
    run_single_pass_phase(plan, input, PHASE, phase.idempotence, reporting, &|plan, current, pass_number, entries, diagnostics| {
        apply_rules(plan, current, phase, registry, options, reporting, pass_number, entries, diagnostics)
    })
}

#[allow(clippy::too_many_arguments, reason = "one phase's whole context; grouping it would only rename the arguments")]
fn apply_rules(
    mut plan: LogicalPlan,
    mut current: LogicalPlanFingerprint,
    phase: &PhaseConfig,
    registry: &OptimizerRuleRegistry,
    options: &ConfigOptions,
    reporting: &PhaseReporting<'_>,
    pass_number: usize,
    mut entries: Option<&mut Vec<PassTraceEntry>>,
    diagnostics: &mut Vec<viewdag_ir::Diagnostic>,
) -> Result<(LogicalPlan, LogicalPlanFingerprint), ()> {
    if let Err(error) = plan.check_invariants(InvariantLevel::Always) {
        diagnostics.push(invariants_failure(reporting, PHASE, pass_number, 0, &format!("invalid input plan: {}", error.strip_backtrace())));
        return Err(());
    }
    for (position, key) in phase.rules.iter().enumerate() {
        let started = Instant::now();
        let result = match registry.get(PHASE, key) {
            Some(RegisteredRule::Analyzer(rule)) => {
                let input = plan.clone();
                run_rule_guarded(|| rule.analyze(input, options))
            }
            _ => Err(RuleFailure::Unregistered { kind: "analyzer", key: key.to_string() }),
        };
        let step = RuleStep::new(PHASE, phase, pass_number, position, key, started);
        let outcome = record_rule_result(
            step,
            result,
            &mut plan,
            &mut current,
            |before, after| (after != before).then(|| LogicalPlanFingerprint::of(after, reporting)),
            entries.as_deref_mut(),
            diagnostics,
            reporting,
        );
        if outcome == PassOutcome::Failed {
            return Err(());
        }
    }
    if let Err(error) = plan.check_invariants(InvariantLevel::Executable) {
        let message = format!("the analyzed plan is not executable: {}", error.strip_backtrace());
        diagnostics.push(invariants_failure(reporting, PHASE, pass_number, phase.rules.len() + 1, &message));
        return Err(());
    }
    Ok((plan, current))
}
