//! The relations a view reads, aliased by name, in two forms:
//! - [`signature_input`]: only the relation's schema (an empty relation carrying it), for
//!   validating a view against its inputs' signatures in O(size of the view);
//! - [`plan_input`]: the relation's plan (a source scan, a materialized view's table, or an
//!   ephemeral view's memoized P0), for the inlined plans of what executes.
//!
//! Both resolve names through the narrow `resolve_relation` query, never through a
//! whole-project value, so adding a relation elsewhere re-runs no view's query.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::common::{DFSchemaRef, TableReference};
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::{EmptyRelation, LogicalPlan, LogicalPlanBuilder};
use viewdag_ir::{
    Code, Diagnostic, ProjectInput, ProviderIdentity, SourceInput, SourceResolution, SpecLocation, ViewDefinition, ViewInput,
};
use viewdag_surface::MaterializedViewTable;
use viewdag_validate::{Relation, resolve_relation};

use crate::queries::{view_plan, view_schema};
use crate::{Db, LowerResult, LoweredView, ViewFailure};

/// An input relation as a view sees it.
#[derive(Debug, Clone)]
pub struct PlannedInput {
    pub name: String,
    /// The relation's plan (or, for a signature, an empty relation with its schema) wrapped
    /// in `SubqueryAlias(name)`.
    pub plan: Arc<LogicalPlan>,
    pub scans: BTreeMap<String, ProviderIdentity>,
    /// The relation's P0 equality key (empty for a signature input).
    pub key: String,
}

/// The relation `name` with only its schema. An unknown name is reported by validation, so
/// here it only makes the reader invalid.
pub fn signature_input(db: &dyn Db, name: &str) -> LowerResult<PlannedInput> {
    let schema: DFSchemaRef = match resolve_relation(db, ProjectInput::get(db), name.to_string()) {
        Some(Relation::Source(source)) => {
            Arc::clone(source_scan(db, source).as_ref().map_err(|failure| failure.as_seen_from_reader(name))?.plan.schema())
        }
        Some(Relation::View(view)) => view_schema(db, view).clone().map_err(|failure| failure.as_seen_from_reader(name))?,
        None => return Err(ViewFailure::Invalid),
    };
    let placeholder = LogicalPlan::EmptyRelation(EmptyRelation { produce_one_row: false, schema });
    let plan = alias(&Arc::new(placeholder), name).map_err(|error| plan_error(SpecLocation::view(name), &error))?;
    Ok(PlannedInput { name: name.to_string(), plan, scans: BTreeMap::new(), key: String::new() })
}

/// Plans the relation `name` for a reader. An unknown name is reported by validation, so
/// here it only makes the reader invalid.
pub fn plan_input(db: &dyn Db, name: &str) -> LowerResult<PlannedInput> {
    let lowered = match resolve_relation(db, ProjectInput::get(db), name.to_string()) {
        Some(Relation::Source(source)) => source_scan(db, source).clone(),
        Some(Relation::View(view)) => {
            let is_materialized = view.definition(db).as_ref().is_some_and(|definition| definition.is_materialized());
            if is_materialized { materialized_scan(db, view).clone() } else { view_plan(db, view).clone() }
        }
        None => return Err(ViewFailure::Invalid),
    }
    .map_err(|failure| failure.as_seen_from_reader(name))?;
    let plan = alias(&lowered.plan, name).map_err(|error| plan_error(SpecLocation::view(name), &error))?;
    Ok(PlannedInput { name: name.to_string(), plan, scans: (*lowered.scans).clone(), key: lowered.key.clone() })
}

fn alias(plan: &Arc<LogicalPlan>, name: &str) -> datafusion::error::Result<Arc<LogicalPlan>> {
    let aliased = LogicalPlanBuilder::new_from_arc(Arc::clone(plan)).alias(TableReference::bare(name))?.build()?;
    Ok(Arc::new(aliased))
}

/// A planning error that is not about one expression.
pub(crate) fn plan_error(location: SpecLocation, error: &datafusion::error::DataFusionError) -> ViewFailure {
    ViewFailure::Errors(Arc::new(vec![Diagnostic::new(Code::PlanError, location, error.strip_backtrace())]))
}

/// A one-scan plan; its key covers the scan's text (with its schema: a materialized
/// view's placeholder changes with the view's schema) and the scanned identity.
fn scan_of(name: &str, plan: LogicalPlan, identity: &ProviderIdentity) -> LoweredView {
    let scans = BTreeMap::from([(name.to_string(), identity.clone())]);
    let key = crate::digest::plan_digest(&crate::digest::logical_plan_text(&plan), &scans);
    LoweredView { plan: Arc::new(plan), scans: Arc::new(scans), key }
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
    Ok(scan_of(name, plan, identity))
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
        return Ok(scan_of(name, plan, identity));
    }
    let schema = Arc::clone(view_schema(db, view).clone()?.inner());
    let table = MaterializedViewTable { view: name.clone(), schema };
    let plan = LogicalPlanBuilder::scan(TableReference::bare(name.as_str()), provider_as_source(Arc::new(table)), None)
        .and_then(LogicalPlanBuilder::build)
        .map_err(|error| plan_error(SpecLocation::view(name), &error))?;
    Ok(scan_of(name, plan, &ProviderIdentity::Materialized { view: name.clone() }))
}

/// A view's P0 over its planned inputs. Its equality key hashes the view's name
/// and canonical definition and each input's P0 key — for a source, a materialized view's
/// placeholder or its bound table: the scan's text and identity — so equal keys mean equal
/// plans, and an upstream edit that keeps a materialized view's schema stops at its
/// placeholder. O(1) per view: no plan text.
pub(crate) fn finish(plan: LogicalPlan, inputs: &[PlannedInput], name: &str, definition: &ViewDefinition) -> LoweredView {
    let mut hasher = crate::definition_digest::definition_hasher(b"viewdag p0 v1\0", name, definition);
    let mut scans = BTreeMap::new();
    for input in inputs {
        hasher.update(b"\0input ");
        hasher.update(input.name.as_bytes());
        hasher.update(b"=");
        hasher.update(input.key.as_bytes());
        scans.extend(input.scans.iter().map(|(name, identity)| (name.clone(), identity.clone())));
    }
    let merkle = hasher.finalize().to_hex().to_string();
    let key = crate::digest::plan_digest(&merkle, &scans);
    LoweredView { plan: Arc::new(plan), scans: Arc::new(scans), key }
}
