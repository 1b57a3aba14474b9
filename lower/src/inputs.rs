//! An input relation as a view sees it ([`PlannedInput`]), and the plans that read no other
//! view: a source's scan ([`source_scan`]) and the composition of a view's P0 over its
//! inputs ([`finish`], its equality key).
//!
//! A leaf of the crate's queries: it names no view query, so [`crate::queries`] (which
//! resolves a view's inputs, recursively through `view_schema` and `view_plan`) builds on it
//! and the transforms can name [`PlannedInput`].

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::common::TableReference;
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use viewdag_ir::{Code, Diagnostic, ProviderIdentity, SourceInput, SourceResolution, SpecLocation, ViewDefinition};

use crate::{Db, LowerResult, LoweredView, ViewFailure};

/// An input relation as a view sees it.
#[derive(Debug, Clone)]
pub struct PlannedInput {
    pub name: String,
    /// The relation's plan (or, for a signature, an empty relation with its schema) wrapped
    /// in `SubqueryAlias(name)`; a `sql` view's signature inputs with distinct column names
    /// are the bare empty relation (what the SQL transform registers under `name` anyway).
    pub plan: Arc<LogicalPlan>,
    pub scans: BTreeMap<String, ProviderIdentity>,
    /// The relation's P0 equality key (empty for a signature input).
    pub key: String,
}

/// `plan` wrapped in `SubqueryAlias(name)`.
pub(crate) fn alias(plan: &Arc<LogicalPlan>, name: &str) -> datafusion::error::Result<Arc<LogicalPlan>> {
    let aliased = LogicalPlanBuilder::new_from_arc(Arc::clone(plan)).alias(TableReference::bare(name))?.build()?;
    Ok(Arc::new(aliased))
}

/// A planning error that is not about one expression.
pub(crate) fn plan_error(location: SpecLocation, error: &datafusion::error::DataFusionError) -> ViewFailure {
    ViewFailure::Errors(Arc::new(vec![Diagnostic::new(Code::PlanError, location, error.strip_backtrace())]))
}

/// A one-scan plan; its key covers the scan's text (with its schema: a materialized
/// view's placeholder changes with the view's schema) and the scanned identity.
pub(crate) fn scan_of(name: &str, plan: LogicalPlan, identity: &ProviderIdentity) -> LoweredView {
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
