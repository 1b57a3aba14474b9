//! The observable optimizer pipeline: analyzer → logical → physical, driven rule by rule.
//!
//! This module is pure (no salsa): [`optimize_logical_plan`] and [`optimize_physical_plan`]
//! take a session state, a configuration and a registry, and return the plan with its
//! trace and diagnostics. The tracked queries in [`crate::queries`] call them; tests and
//! embedders may call them directly.

pub mod analyzer_phase;
pub mod fingerprint;
pub mod guard;
pub mod logical_phase;
pub mod outcome;
pub mod physical_phase;
pub mod registry;
pub mod settings;
pub mod trace;

use std::sync::Arc;

use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use viewdag_ir::Diagnostic;

use crate::config::ViewOptimizerConfig;
use crate::pipeline::analyzer_phase::run_analyzer_phase;
use crate::pipeline::fingerprint::PhaseReporting;
use crate::pipeline::logical_phase::run_logical_phase;
use crate::pipeline::physical_phase::run_physical_phase;
use crate::pipeline::registry::OptimizerRuleRegistry;
use crate::pipeline::settings::OptimizerPipelineConfig;
use crate::pipeline::trace::PhaseTrace;

/// A plan that came through one or more phases.
#[derive(Debug)]
pub struct PipelineOutput<P> {
    pub plan: P,
    /// The output plan's normalized text (what P1/P2 text and digests are taken over).
    pub text: String,
    pub phases: Vec<PhaseTrace>,
    /// Warnings (skipped rules, non-idempotent phases).
    pub diagnostics: Vec<Diagnostic>,
}

/// A pipeline stopped by a fail-closed failure: the phases run so far and every
/// diagnostic, the last one naming the failed rule.
#[derive(Debug)]
pub struct PipelineFailure {
    pub phases: Vec<PhaseTrace>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Analyzer then logical phase: P0 → P1.
pub fn optimize_logical_plan(
    state: &SessionState,
    plan: LogicalPlan,
    config: &OptimizerPipelineConfig,
    registry: &OptimizerRuleRegistry,
    reporting: &PhaseReporting<'_>,
) -> Result<PipelineOutput<LogicalPlan>, PipelineFailure> {
    let mut diagnostics = Vec::new();
    let analyzed = run_analyzer_phase(plan, &config.analyzer, registry, state.config_options(), reporting)
        .map_err(|failure| PipelineFailure { phases: vec![*failure.trace], diagnostics: failure.diagnostics })?;
    diagnostics.extend(analyzed.diagnostics);
    let optimizer_config = ViewOptimizerConfig::new(state);
    let optimized = match run_logical_phase(
        analyzed.plan,
        Some(analyzed.output),
        &config.logical,
        config.max_passes,
        registry,
        &optimizer_config,
        reporting,
    ) {
        Ok(optimized) => optimized,
        Err(failure) => {
            diagnostics.extend(failure.diagnostics);
            return Err(PipelineFailure { phases: vec![analyzed.trace, *failure.trace], diagnostics });
        }
    };
    diagnostics.extend(optimized.diagnostics);
    Ok(PipelineOutput { plan: optimized.plan, text: optimized.output.text, phases: vec![analyzed.trace, optimized.trace], diagnostics })
}

/// The physical phase over the physical planner's initial plan: → P2.
pub fn optimize_physical_plan(
    state: &SessionState,
    initial_plan: Arc<dyn ExecutionPlan>,
    config: &OptimizerPipelineConfig,
    registry: &OptimizerRuleRegistry,
    reporting: &PhaseReporting<'_>,
) -> Result<PipelineOutput<Arc<dyn ExecutionPlan>>, PipelineFailure> {
    run_physical_phase(initial_plan, &config.physical, registry, state, reporting)
        .map(|success| PipelineOutput {
            plan: success.plan,
            text: success.output.text,
            phases: vec![success.trace],
            diagnostics: success.diagnostics,
        })
        .map_err(|failure| PipelineFailure { phases: vec![*failure.trace], diagnostics: failure.diagnostics })
}
