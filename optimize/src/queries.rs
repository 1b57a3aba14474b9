//! The per-view queries: `optimized_view` (P1) and `physical_view` (P2).

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::{ExecutionPlan, displayable};
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};
use viewdag_ir::{Code, Diagnostic, ProviderIdentity, SpecLocation, SurfaceInput, ViewInput};
use viewdag_lower::digest::{logical_plan_text, plan_digest};
use viewdag_lower::{LowerResult, ViewFailure, view_plan};
use viewdag_surface::planning_session;

use crate::Db;
use crate::config::ViewOptimizerConfig;
use crate::normalize::normalize_plan_text;

/// A view's optimized logical plan (P1).
#[derive(Debug, Clone)]
pub struct OptimizedView {
    pub plan: Arc<LogicalPlan>,
    /// Normalized indented text with schemas.
    pub text: String,
    pub digest: String,
    pub scans: Arc<BTreeMap<String, ProviderIdentity>>,
}

impl PartialEq for OptimizedView {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest
    }
}
impl Eq for OptimizedView {}

/// A view's physical plan (P2).
#[derive(Clone)]
pub struct PhysicalView {
    pub plan: Arc<dyn ExecutionPlan>,
    /// Normalized indented text.
    pub text: String,
    pub digest: String,
}

impl std::fmt::Debug for PhysicalView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PhysicalView({})", self.digest)
    }
}

impl PartialEq for PhysicalView {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest
    }
}
impl Eq for PhysicalView {}

fn failure(code: Code, view: &str, message: String) -> ViewFailure {
    ViewFailure::Errors(Arc::new(vec![Diagnostic::new(code, SpecLocation::view(view), message)]))
}

#[salsa::tracked(returns(ref))]
pub fn optimized_view(db: &dyn Db, view: ViewInput) -> LowerResult<OptimizedView> {
    let lowered = view_plan(db, view).clone()?;
    let surface = SurfaceInput::get(db);
    let session = planning_session(db, surface);
    let state = session.state.as_ref();
    let name = view.name(db);
    let analyzed = state
        .analyzer()
        .execute_and_check(lowered.plan.as_ref().clone(), state.config_options(), |_, _| {})
        .map_err(|error| failure(Code::OptimizerFailed, name, format!("analyzing view `{name}` failed: {}", error.strip_backtrace())))?;
    let config = ViewOptimizerConfig::new(state);
    let optimized = state
        .optimizer()
        .optimize(analyzed, &config, |_, _| {})
        .map_err(|error| failure(Code::OptimizerFailed, name, format!("optimizing view `{name}` failed: {}", error.strip_backtrace())))?;
    let text = normalize_plan_text(&logical_plan_text(&optimized), surface.root(db));
    let digest = plan_digest(&text, &lowered.scans);
    Ok(OptimizedView { plan: Arc::new(optimized), text, digest, scans: lowered.scans })
}

#[salsa::tracked(returns(ref))]
pub fn physical_view(db: &dyn Db, view: ViewInput) -> LowerResult<PhysicalView> {
    let optimized = optimized_view(db, view).clone()?;
    let surface = SurfaceInput::get(db);
    let session = planning_session(db, surface);
    let name = view.name(db);
    let planner = DefaultPhysicalPlanner::default();
    let plan = db.runtime().block_on(planner.create_physical_plan(&optimized.plan, session.state.as_ref())).map_err(|error| {
        failure(Code::PhysicalPlanFailed, name, format!("physical planning of view `{name}` failed: {}", error.strip_backtrace()))
    })?;
    let text = normalize_plan_text(&displayable(plan.as_ref()).indent(true).to_string(), surface.root(db));
    let digest = plan_digest(&text, &optimized.scans);
    Ok(PhysicalView { plan, text, digest })
}
