//! The relations a view reads, planned and aliased by name.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::common::TableReference;
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use viewdag_ir::{Code, Diagnostic, ProjectInput, ProviderIdentity, SourceInput, SourceResolution, SpecLocation, ViewInput};
use viewdag_surface::MaterializedViewTable;
use viewdag_validate::relation_index;

use crate::digest::{logical_plan_text, plan_digest};
use crate::queries::{view_plan, view_schema};
use crate::{Db, LowerResult, LoweredView, ViewFailure};

/// An input relation as a view sees it.
#[derive(Debug, Clone)]
pub struct PlannedInput {
    pub name: String,
    /// The relation's plan wrapped in `SubqueryAlias(name)`.
    pub plan: Arc<LogicalPlan>,
    pub scans: BTreeMap<String, ProviderIdentity>,
}

/// Plans the relation `name` for a reader. An unknown name is reported by validation, so
/// here it only makes the reader invalid.
pub fn plan_input(db: &dyn Db, name: &str) -> LowerResult<PlannedInput> {
    let index = relation_index(db, ProjectInput::get(db));
    let lowered = if let Some(source) = index.sources.get(name) {
        source_scan(db, *source).clone().map_err(|failure| failure.as_seen_from_reader(name))?
    } else if let Some(view) = index.views.get(name) {
        let is_materialized = view.definition(db).as_ref().is_some_and(|definition| definition.is_materialized());
        if is_materialized {
            materialized_scan(db, *view).clone().map_err(|failure| failure.as_seen_from_reader(name))?
        } else {
            view_plan(db, *view).clone().map_err(|failure| failure.as_seen_from_reader(name))?
        }
    } else {
        return Err(ViewFailure::Invalid);
    };
    let plan = alias(&lowered.plan, name).map_err(|error| plan_error(SpecLocation::view(name), &error))?;
    Ok(PlannedInput { name: name.to_string(), plan, scans: (*lowered.scans).clone() })
}

fn alias(plan: &Arc<LogicalPlan>, name: &str) -> datafusion::error::Result<Arc<LogicalPlan>> {
    let aliased = LogicalPlanBuilder::new_from_arc(Arc::clone(plan)).alias(TableReference::bare(name))?.build()?;
    Ok(Arc::new(aliased))
}

/// A planning error that is not about one expression.
pub(crate) fn plan_error(location: SpecLocation, error: &datafusion::error::DataFusionError) -> ViewFailure {
    ViewFailure::Errors(Arc::new(vec![Diagnostic::new(Code::PlanError, location, error.strip_backtrace())]))
}

fn lowered(plan: LogicalPlan, scans: BTreeMap<String, ProviderIdentity>) -> LoweredView {
    let digest = plan_digest(&logical_plan_text(&plan), &scans);
    LoweredView { plan: Arc::new(plan), scans: Arc::new(scans), digest }
}

/// A scan of a source's provider at its loaded identity.
#[salsa::tracked(returns(ref))]
pub fn source_scan(db: &dyn Db, source: SourceInput) -> LowerResult<LoweredView> {
    let name = source.name(db);
    let identity = match source.resolution(db) {
        SourceResolution::Resolved { identity, .. } => identity,
        SourceResolution::Failed(_) => return Err(ViewFailure::Invalid),
    };
    let Some(provider) = db.provider(identity) else {
        let diagnostic = Diagnostic::new(
            Code::SourceLoadFailed,
            SpecLocation::source(name),
            format!("source `{name}` has no loaded provider for {}", identity.canonical()),
        );
        return Err(ViewFailure::Errors(Arc::new(vec![diagnostic])));
    };
    let plan = LogicalPlanBuilder::scan(TableReference::bare(name.as_str()), provider_as_source(provider), None)
        .and_then(LogicalPlanBuilder::build)
        .map_err(|error| plan_error(SpecLocation::source(name), &error))?;
    Ok(lowered(plan, BTreeMap::from([(name.clone(), identity.clone())])))
}

/// A scan of the table a materialized view's task writes. Depends only on the view's
/// output schema, so a reader is re-planned only when that schema changes.
#[salsa::tracked(returns(ref))]
pub fn materialized_scan(db: &dyn Db, view: ViewInput) -> LowerResult<LoweredView> {
    let name = view.name(db);
    if let Some(identity) = view.materialized_table(db) {
        let Some(provider) = db.provider(identity) else {
            let diagnostic = Diagnostic::new(
                Code::SourceLoadFailed,
                SpecLocation::view(name),
                format!("the table of materialized view `{name}` is not loaded"),
            );
            return Err(ViewFailure::Errors(Arc::new(vec![diagnostic])));
        };
        let plan = LogicalPlanBuilder::scan(TableReference::bare(name.as_str()), provider_as_source(provider), None)
            .and_then(LogicalPlanBuilder::build)
            .map_err(|error| plan_error(SpecLocation::view(name), &error))?;
        return Ok(lowered(plan, BTreeMap::from([(name.clone(), identity.clone())])));
    }
    let schema = view_schema(db, view).clone()?;
    let table = MaterializedViewTable { view: name.clone(), schema };
    let plan = LogicalPlanBuilder::scan(TableReference::bare(name.as_str()), provider_as_source(Arc::new(table)), None)
        .and_then(LogicalPlanBuilder::build)
        .map_err(|error| plan_error(SpecLocation::view(name), &error))?;
    Ok(lowered(plan, BTreeMap::from([(name.clone(), ProviderIdentity::Materialized { view: name.clone() })])))
}

/// A view's result over its planned inputs.
pub(crate) fn finish(plan: LogicalPlan, inputs: &[PlannedInput]) -> LoweredView {
    let mut scans = BTreeMap::new();
    for input in inputs {
        scans.extend(input.scans.iter().map(|(name, identity)| (name.clone(), identity.clone())));
    }
    lowered(plan, scans)
}
