//! The physical phase: the physical planner turns P1 into an initial execution plan
//! (planned on a copy of the session without physical optimizer rules), then every
//! physical rule runs once, in rulepack order, as DataFusion's planner would run them.
//!
//! After every rule the output schema must keep its column names and types, else the rule
//! failed (nullability and metadata may change, as DataFusion allows).

use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::datatypes::Schema;
use datafusion::common::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_optimizer::PhysicalOptimizerContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::operator_statistics::StatisticsRegistry;
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};

use crate::digests::{physical_text, text_digest};
use crate::pipeline::fingerprint::{LogicalPlanFingerprint, PhaseReporting};
use crate::pipeline::guard::{RuleFailure, run_rule_guarded};
use crate::pipeline::outcome::{PhaseResult, RuleStep, record_rule_result, run_single_pass_phase};
use crate::pipeline::registry::{OptimizerRuleRegistry, RegisteredRule};
use crate::pipeline::settings::PhaseConfig;
use crate::pipeline::trace::{OptimizerPhase, PassOutcome, PassTraceEntry};

const PHASE: OptimizerPhase = OptimizerPhase::Physical;

/// A copy of `state` whose physical planner applies no optimizer rule.
pub fn state_without_physical_rules(state: &SessionState) -> SessionState {
    SessionStateBuilder::new_from_existing(state.clone()).with_physical_optimizer_rules(Vec::new()).build()
}

/// The physical planner's plan for P1, before any physical optimizer rule. `bare_state`
/// comes from [`state_without_physical_rules`].
pub async fn initial_physical_plan(bare_state: &SessionState, plan: &LogicalPlan) -> Result<Arc<dyn ExecutionPlan>> {
    DefaultPhysicalPlanner::default().create_physical_plan(plan, bare_state).await
}

/// Normalized indented text of a physical plan and its digest.
pub fn physical_fingerprint(plan: &Arc<dyn ExecutionPlan>, reporting: &PhaseReporting<'_>) -> LogicalPlanFingerprint {
    let text = physical_text(plan.as_ref(), reporting.root);
    let digest = text_digest(&text);
    LogicalPlanFingerprint { text, digest }
}

/// What a physical rule sees of the session.
struct SessionPhysicalContext<'a> {
    state: &'a SessionState,
}

impl PhysicalOptimizerContext for SessionPhysicalContext<'_> {
    fn config_options(&self) -> &ConfigOptions {
        self.state.config_options()
    }

    fn statistics_registry(&self) -> Option<&StatisticsRegistry> {
        self.state.statistics_registry()
    }
}

/// Runs the physical rules over the initial physical plan.
pub fn run_physical_phase(
    plan: Arc<dyn ExecutionPlan>,
    phase: &PhaseConfig,
    registry: &OptimizerRuleRegistry,
    state: &SessionState,
    reporting: &PhaseReporting<'_>,
) -> PhaseResult<Arc<dyn ExecutionPlan>> {
    let input = physical_fingerprint(&plan, reporting);
    run_single_pass_phase(plan, input, PHASE, phase.idempotence, reporting, &|plan, current, pass_number, entries, diagnostics| {
        run_rules(plan, current, phase, registry, state, reporting, pass_number, entries, diagnostics)
    })
}

/// Column names and types must survive a physical rule.
fn check_schema_kept(before: &Schema, after: &Schema) -> std::result::Result<(), RuleFailure> {
    let names_and_types = |schema: &Schema| -> Vec<(String, String)> {
        schema.fields().iter().map(|field| (field.name().clone(), field.data_type().to_string())).collect()
    };
    let (before, after) = (names_and_types(before), names_and_types(after));
    if before == after {
        return Ok(());
    }
    let render =
        |fields: &[(String, String)]| fields.iter().map(|(name, data_type)| format!("{name}: {data_type}")).collect::<Vec<_>>().join(", ");
    Err(RuleFailure::SchemaChanged { before: render(&before), after: render(&after) })
}

#[allow(clippy::too_many_arguments, reason = "one phase's whole context; grouping it would only rename the arguments")]
fn run_rules(
    mut plan: Arc<dyn ExecutionPlan>,
    mut current: LogicalPlanFingerprint,
    phase: &PhaseConfig,
    registry: &OptimizerRuleRegistry,
    state: &SessionState,
    reporting: &PhaseReporting<'_>,
    pass_number: usize,
    mut entries: Option<&mut Vec<PassTraceEntry>>,
    diagnostics: &mut Vec<viewdag_ir::Diagnostic>,
) -> Result<(Arc<dyn ExecutionPlan>, LogicalPlanFingerprint), ()> {
    let context = SessionPhysicalContext { state };
    for (position, key) in phase.rules.iter().enumerate() {
        let started = Instant::now();
        let result = match registry.get(PHASE, key) {
            Some(RegisteredRule::Physical(rule)) => {
                let input = Arc::clone(&plan);
                let before_schema = plan.schema();
                run_rule_guarded(|| rule.optimize_with_context(input, &context)).and_then(|rewritten| {
                    check_schema_kept(&before_schema, &rewritten.schema())?;
                    Ok(rewritten)
                })
            }
            _ => Err(RuleFailure::Unregistered { kind: "physical", key: key.to_string() }),
        };
        let step = RuleStep::new(PHASE, phase, pass_number, position, key, started);
        let outcome = record_rule_result(
            step,
            result,
            &mut plan,
            &mut current,
            |before, after| (!Arc::ptr_eq(before, after)).then(|| physical_fingerprint(after, reporting)),
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
