//! The per-view queries: `optimized_view` (P1) and `physical_view` (P2), and the tracked
//! resolution of the optimizer pipeline they both read.
//!
//! ## Invariants
//! - The pipeline is an input of every optimized view: [`resolved_optimizer_pipeline`]
//!   reads the spec's `profile` and the Rust-API settings ([`OptimizerSettingsInput`]),
//!   so changing either re-optimizes, and nothing else does.
//! - Values compare by content: plan digest, trace digest (elapsed times excluded),
//!   pushdown report and diagnostics. A changed trace with an unchanged plan still counts
//!   as a change, so a report never goes stale.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use viewdag_ir::{Code, Diagnostic, ProjectInput, ProviderIdentity, PushdownPolicy, SpecLocation, SurfaceInput, ViewInput};
use viewdag_lower::digest::plan_digest;
use viewdag_lower::{LowerResult, ViewFailure, view_plan};
use viewdag_surface::{SessionHandle, planning_session};

use crate::Db;
use crate::pipeline::outcome::PhaseReporting;
use crate::pipeline::physical_phase::{initial_physical_plan, state_without_physical_rules};
use crate::pipeline::registry::{OptimizerRuleExtensions, OptimizerRuleRegistry};
use crate::pipeline::settings::OptimizerPipelineConfig;
use crate::pipeline::trace::OptimizerTrace;
use crate::pipeline::{PipelineFailure, optimize_logical_plan, optimize_physical_plan};
use crate::pushdown::{PushdownReport, pushdown_diagnostics, verify_logical_pushdown, verify_physical_pushdown};

/// Optimizer settings made through the Rust API rather than the spec. The driver creates
/// this singleton; without it, the spec's profile alone decides.
#[salsa::input(singleton, debug)]
pub struct OptimizerSettingsInput {
    /// Replaces the spec's `profile.optimizer` when set.
    #[returns(ref)]
    pub pipeline_override: Option<OptimizerPipelineConfig>,
    /// Rules registered on top of DataFusion's defaults.
    #[returns(ref)]
    pub extensions: OptimizerRuleExtensions,
    /// Keep the normalized plan text after every changing rule in the traces.
    pub record_plan_text: bool,
}

/// The pipeline every view is optimized with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedOptimizerPipeline {
    pub config: OptimizerPipelineConfig,
    pub registry: Arc<OptimizerRuleRegistry>,
    pub pushdown: PushdownPolicy,
    pub record_plan_text: bool,
}

/// Resolves the pipeline from the planning session's rules, the Rust-API settings and the
/// spec's profile. An unknown preset or rule fails every view with the same diagnostics.
#[salsa::tracked(returns(ref))]
pub fn resolved_optimizer_pipeline(db: &dyn Db, surface: SurfaceInput) -> Result<ResolvedOptimizerPipeline, Arc<Vec<Diagnostic>>> {
    let session = planning_session(db, surface);
    let settings = OptimizerSettingsInput::try_get(db);
    let extensions = settings.map(|settings| settings.extensions(db).clone()).unwrap_or_default();
    let registry = OptimizerRuleRegistry::from_session_state(&session.state).with_extensions(&extensions);
    let profile = ProjectInput::get(db).profile(db);
    let config = match settings.and_then(|settings| settings.pipeline_override(db).clone()) {
        Some(config) => {
            let problems = config.check_against(&registry);
            if !problems.is_empty() {
                return Err(Arc::new(problems));
            }
            config
        }
        None => OptimizerPipelineConfig::from_profile(profile.optimizer.as_ref(), &registry).map_err(Arc::new)?,
    };
    Ok(ResolvedOptimizerPipeline {
        config,
        registry: Arc::new(registry),
        pushdown: profile.pushdown,
        record_plan_text: settings.is_some_and(|settings| *settings.record_plan_text(db)),
    })
}

/// The planning session without physical optimizer rules (the physical phase runs them).
#[salsa::tracked(returns(ref))]
pub fn bare_physical_session(db: &dyn Db, surface: SurfaceInput) -> SessionHandle {
    let session = planning_session(db, surface);
    SessionHandle { state: Arc::new(state_without_physical_rules(&session.state)), manifest: Arc::clone(&session.manifest) }
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

fn failure(code: Code, view: &str, message: String) -> ViewFailure {
    ViewFailure::Errors(Arc::new(vec![Diagnostic::new(code, SpecLocation::view(view), message)]))
}

fn pipeline_failure(failure: PipelineFailure) -> ViewFailure {
    ViewFailure::Errors(Arc::new(failure.diagnostics))
}

/// Fails the view when any diagnostic is an error; else returns the warnings.
fn errors_fail(diagnostics: Vec<Diagnostic>) -> LowerResult<Vec<Diagnostic>> {
    if diagnostics.iter().any(Diagnostic::is_error) { Err(ViewFailure::Errors(Arc::new(diagnostics))) } else { Ok(diagnostics) }
}

#[salsa::tracked(returns(ref))]
pub fn optimized_view(db: &dyn Db, view: ViewInput) -> LowerResult<OptimizedView> {
    let lowered = view_plan(db, view).clone()?;
    let surface = SurfaceInput::get(db);
    let pipeline = resolved_optimizer_pipeline(db, surface).clone().map_err(ViewFailure::Errors)?;
    let session = planning_session(db, surface);
    let name = view.name(db);
    let reporting = PhaseReporting { view_name: name, root: surface.root(db), record_plan_text: pipeline.record_plan_text };
    let output = optimize_logical_plan(&session.state, lowered.plan.as_ref().clone(), &pipeline.config, &pipeline.registry, &reporting)
        .map_err(pipeline_failure)?;
    let pushdown = verify_logical_pushdown(&output.plan);
    let mut diagnostics = output.diagnostics;
    diagnostics.extend(pushdown_diagnostics(&pushdown, pipeline.pushdown, name));
    let diagnostics = errors_fail(diagnostics)?;
    let text = output.text;
    let digest = plan_digest(&text, &lowered.scans);
    Ok(OptimizedView {
        plan: Arc::new(output.plan),
        text,
        digest,
        scans: lowered.scans,
        trace: Arc::new(OptimizerTrace::new(&pipeline.config.label, output.phases)),
        pushdown: Arc::new(pushdown),
        diagnostics: Arc::new(diagnostics),
    })
}

#[salsa::tracked(returns(ref))]
pub fn physical_view(db: &dyn Db, view: ViewInput) -> LowerResult<PhysicalView> {
    let optimized = optimized_view(db, view).clone()?;
    let surface = SurfaceInput::get(db);
    let pipeline = resolved_optimizer_pipeline(db, surface).clone().map_err(ViewFailure::Errors)?;
    let session = planning_session(db, surface);
    let bare = bare_physical_session(db, surface);
    let name = view.name(db);
    let initial = viewdag_surface::block_on(db, initial_physical_plan(&bare.state, &optimized.plan)).map_err(|error| {
        failure(Code::PhysicalPlanFailed, name, format!("physical planning of view `{name}` failed: {}", error.strip_backtrace()))
    })?;
    let reporting = PhaseReporting { view_name: name, root: surface.root(db), record_plan_text: pipeline.record_plan_text };
    let output = optimize_physical_plan(&session.state, initial, &pipeline.config, &pipeline.registry, &reporting).map_err(|failure| {
        let mut diagnostics: Vec<Diagnostic> = optimized.diagnostics.as_ref().clone();
        diagnostics.extend(failure.diagnostics);
        ViewFailure::Errors(Arc::new(diagnostics))
    })?;
    let pushdown = verify_physical_pushdown(&optimized.plan, &output.plan);
    let mut diagnostics = output.diagnostics;
    diagnostics.extend(pushdown_diagnostics(&pushdown, pipeline.pushdown, name));
    let diagnostics = errors_fail(diagnostics).map_err(|failure| match failure {
        ViewFailure::Errors(errors) => {
            let mut all: Vec<Diagnostic> = optimized.diagnostics.as_ref().clone();
            all.extend(errors.iter().cloned());
            ViewFailure::Errors(Arc::new(all))
        }
        other => other,
    })?;
    let digest = plan_digest(&output.text, &optimized.scans);
    Ok(PhysicalView {
        plan: output.plan,
        text: output.text,
        digest,
        trace: Arc::new(OptimizerTrace::new(&pipeline.config.label, output.phases)),
        pushdown: Arc::new(pushdown),
        diagnostics: Arc::new(diagnostics),
    })
}
