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

use std::sync::Arc;

use viewdag_ir::{Diagnostic, ProjectInput, SurfaceInput, ViewInput};
use viewdag_lower::{LowerResult, ViewFailure, view_plan};
use viewdag_surface::{SessionHandle, planning_session};

use crate::Db;
use crate::pipeline::physical_phase::state_without_physical_rules;
use crate::pipeline::registry::{OptimizerRuleExtensions, OptimizerRuleRegistry};
use crate::pipeline::settings::OptimizerPipelineConfig;
use crate::plan_view::{OptimizedView, PhysicalView, PlanningContext, ResolvedOptimizerPipeline, optimize_plan, physicalize_plan};

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

/// The planning context of the current surface: the session, the bare session, the pipeline.
pub(crate) fn with_planning_context<T>(db: &dyn Db, plan: impl FnOnce(&PlanningContext<'_>) -> LowerResult<T>) -> LowerResult<T> {
    let surface = SurfaceInput::get(db);
    let pipeline = resolved_optimizer_pipeline(db, surface).as_ref().map_err(|diagnostics| ViewFailure::Errors(Arc::clone(diagnostics)))?;
    let session = planning_session(db, surface);
    let bare = bare_physical_session(db, surface);
    let context =
        PlanningContext { state: &session.state, bare_state: &bare.state, pipeline, root: surface.root(db), runtime: db.runtime() };
    plan(&context)
}

/// A view's P1 (see [`crate::plan_view::optimize_plan`]).
#[salsa::tracked(returns(ref))]
pub fn optimized_view(db: &dyn Db, view: ViewInput) -> LowerResult<OptimizedView> {
    let lowered = view_plan(db, view).clone()?;
    with_planning_context(db, |context| optimize_plan(context, view.name(db), lowered.plan.as_ref().clone(), lowered.scans))
}

/// A view's P2 (see [`crate::plan_view::physicalize_plan`]).
#[salsa::tracked(returns(ref))]
pub fn physical_view(db: &dyn Db, view: ViewInput) -> LowerResult<PhysicalView> {
    let optimized = optimized_view(db, view).as_ref().map_err(Clone::clone)?;
    with_planning_context(db, |context| physicalize_plan(context, view.name(db), optimized))
}
