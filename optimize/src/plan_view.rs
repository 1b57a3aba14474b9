//! The one planning path: P0 → P1 (optimizer pipeline, trace, pushdown contracts) → P2
//! (physical planner, physical phase, pushdown contracts checked against P2).
//!
//! The tracked queries [`crate::optimized_view`] and [`crate::physical_view`] call
//! [`optimize_plan`] and [`physicalize_plan`] (two queries, so an edit that keeps P1 stops
//! there); replay calls [`plan_view`] on a plan decoded from a bundle. Nothing else turns a
//! P0 into P1 or P2, so a replayed plan is planned exactly as a compiled one.
//!
//! ## Invariants
//! - Pure given its context: the same P0, session, pipeline and root give the same plans,
//!   texts, digests, traces and diagnostics (elapsed times aside, which are never digested).
//! - A view fails when any diagnostic is an error (a fail-closed rule, a pushdown violation
//!   under `strict`); P2's failure carries P1's warnings first, so none is lost.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use viewdag_ir::{Code, Diagnostic, ProviderIdentity, PushdownPolicy, SpecLocation};
use viewdag_lower::{LowerResult, ViewFailure};

use crate::digests::stage_digest;
use crate::pipeline::fingerprint::PhaseReporting;
use crate::pipeline::physical_phase::initial_physical_plan;
use crate::pipeline::registry::OptimizerRuleRegistry;
use crate::pipeline::settings::OptimizerPipelineConfig;
use crate::pipeline::trace::OptimizerTrace;
use crate::pipeline::{optimize_logical_plan, optimize_physical_plan};
use crate::pushdown::{PushdownReport, pushdown_diagnostics, verify_logical_pushdown, verify_physical_pushdown};

/// The pipeline every view is optimized with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedOptimizerPipeline {
    pub config: OptimizerPipelineConfig,
    pub registry: Arc<OptimizerRuleRegistry>,
    pub pushdown: PushdownPolicy,
    pub record_plan_text: bool,
}

/// A view's optimized logical plan (P1) with the analyzer and logical trace.
#[derive(Debug, Clone)]
pub struct OptimizedView {
    pub plan: Arc<LogicalPlan>,
    /// Normalized indented text with schemas.
    pub text: String,
    pub digest: String,
    pub scans: Arc<BTreeMap<String, ProviderIdentity>>,
    /// Analyzer and logical phases.
    pub trace: Arc<OptimizerTrace>,
    /// The pushdown contracts of P1's scans.
    pub pushdown: Arc<PushdownReport>,
    /// Warnings: skipped rules, pushdown violations under `warn`, non-idempotent phases.
    pub diagnostics: Arc<Vec<Diagnostic>>,
}

impl PartialEq for OptimizedView {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest && self.trace == other.trace && self.pushdown == other.pushdown && self.diagnostics == other.diagnostics
    }
}
impl Eq for OptimizedView {}

/// A view's physical plan (P2) with the physical trace.
#[derive(Clone)]
pub struct PhysicalView {
    pub plan: Arc<dyn ExecutionPlan>,
    /// Normalized indented text.
    pub text: String,
    pub digest: String,
    /// The physical phase.
    pub trace: Arc<OptimizerTrace>,
    /// The pushdown contracts checked against P2.
    pub pushdown: Arc<PushdownReport>,
    /// Warnings of the physical phase and of P2's pushdown check.
    pub diagnostics: Arc<Vec<Diagnostic>>,
}

impl std::fmt::Debug for PhysicalView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PhysicalView({})", self.digest)
    }
}

impl PartialEq for PhysicalView {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest && self.trace == other.trace && self.pushdown == other.pushdown && self.diagnostics == other.diagnostics
    }
}
impl Eq for PhysicalView {}

/// What every view of one planning surface is planned with.
#[derive(Clone, Copy)]
pub struct PlanningContext<'a> {
    /// The planning session (with its physical optimizer rules, which the physical phase runs).
    pub state: &'a SessionState,
    /// The same session without physical optimizer rules (the physical planner's input).
    pub bare_state: &'a SessionState,
    /// The resolved optimizer pipeline and pushdown policy.
    pub pipeline: &'a ResolvedOptimizerPipeline,
    /// The spec root, replaced by `$ROOT` in plan text.
    pub root: &'a str,
    /// The runtime the (async) physical planner runs on.
    pub runtime: &'a tokio::runtime::Runtime,
}

impl PlanningContext<'_> {
    fn reporting<'n>(&'n self, view_name: &'n str) -> PhaseReporting<'n> {
        PhaseReporting { view_name, root: self.root, record_plan_text: self.pipeline.record_plan_text }
    }
}

/// P0 → P1: the analyzer and logical phases, then P1's pushdown contracts.
pub fn optimize_plan(
    context: &PlanningContext<'_>,
    view_name: &str,
    p0: LogicalPlan,
    scans: Arc<BTreeMap<String, ProviderIdentity>>,
) -> LowerResult<OptimizedView> {
    let pipeline = context.pipeline;
    let output = optimize_logical_plan(context.state, p0, &pipeline.config, &pipeline.registry, &context.reporting(view_name))
        .map_err(|failure| ViewFailure::Errors(Arc::new(failure.diagnostics)))?;
    let pushdown = verify_logical_pushdown(&output.plan);
    let mut diagnostics = output.diagnostics;
    diagnostics.extend(pushdown_diagnostics(&pushdown, pipeline.pushdown, view_name));
    let diagnostics = errors_fail(diagnostics)?;
    let digest = stage_digest(&output.text, &scans);
    Ok(OptimizedView {
        plan: Arc::new(output.plan),
        text: output.text,
        digest,
        scans,
        trace: Arc::new(OptimizerTrace::new(&pipeline.config.label, output.phases)),
        pushdown: Arc::new(pushdown),
        diagnostics: Arc::new(diagnostics),
    })
}

/// P1 → P2: the physical planner without rules, the physical phase, then the pushdown
/// contracts checked against P2.
pub fn physicalize_plan(context: &PlanningContext<'_>, view_name: &str, optimized: &OptimizedView) -> LowerResult<PhysicalView> {
    let pipeline = context.pipeline;
    let with_p1_warnings = |errors: &[Diagnostic]| {
        let mut all: Vec<Diagnostic> = optimized.diagnostics.as_ref().clone();
        all.extend(errors.iter().cloned());
        ViewFailure::Errors(Arc::new(all))
    };
    let initial = viewdag_surface::block_on_runtime(context.runtime, initial_physical_plan(context.bare_state, &optimized.plan)).map_err(
        |error| {
            let message = format!("physical planning of view `{view_name}` failed: {}", error.strip_backtrace());
            ViewFailure::Errors(Arc::new(vec![Diagnostic::new(Code::PhysicalPlanFailed, SpecLocation::view(view_name), message)]))
        },
    )?;
    let output = optimize_physical_plan(context.state, initial, &pipeline.config, &pipeline.registry, &context.reporting(view_name))
        .map_err(|failure| with_p1_warnings(&failure.diagnostics))?;
    let pushdown = verify_physical_pushdown(&optimized.plan, &output.plan);
    let mut diagnostics = output.diagnostics;
    diagnostics.extend(pushdown_diagnostics(&pushdown, pipeline.pushdown, view_name));
    let diagnostics = errors_fail(diagnostics).map_err(|failure| match failure {
        ViewFailure::Errors(errors) => with_p1_warnings(&errors),
        other => other,
    })?;
    let digest = stage_digest(&output.text, &optimized.scans);
    Ok(PhysicalView {
        plan: output.plan,
        text: output.text,
        digest,
        trace: Arc::new(OptimizerTrace::new(&pipeline.config.label, output.phases)),
        pushdown: Arc::new(pushdown),
        diagnostics: Arc::new(diagnostics),
    })
}

/// P0 → P1 → P2 in one call.
pub fn plan_view(
    context: &PlanningContext<'_>,
    view_name: &str,
    p0: LogicalPlan,
    scans: Arc<BTreeMap<String, ProviderIdentity>>,
) -> LowerResult<(OptimizedView, PhysicalView)> {
    let optimized = optimize_plan(context, view_name, p0, scans)?;
    let physical = physicalize_plan(context, view_name, &optimized)?;
    Ok((optimized, physical))
}

/// Fails the view when any diagnostic is an error; else returns the warnings.
fn errors_fail(diagnostics: Vec<Diagnostic>) -> LowerResult<Vec<Diagnostic>> {
    if diagnostics.iter().any(Diagnostic::is_error) { Err(ViewFailure::Errors(Arc::new(diagnostics))) } else { Ok(diagnostics) }
}
