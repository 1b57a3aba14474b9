//! The per-view queries: `view_plan` (P0) and `view_schema`.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use viewdag_ir::{ProjectInput, SurfaceInput, ViewInput};
use viewdag_surface::planning_session;
use viewdag_validate::{spec_structure, view_reads};

use crate::inputs::{PlannedInput, finish, plan_input};
use crate::transforms::{LowerContext, lower_transform};
use crate::{Db, LowerResult, LoweredView, ViewFailure};

/// A view's P0 logical plan over its inputs' plans.
#[salsa::tracked(returns(ref))]
pub fn view_plan(db: &dyn Db, view: ViewInput) -> LowerResult<LoweredView> {
    let name = view.name(db);
    let structure = spec_structure(db, ProjectInput::get(db));
    if structure.broken_views.contains(name) {
        return Err(ViewFailure::Invalid);
    }
    let Some(definition) = view.definition(db) else {
        return Err(ViewFailure::Invalid);
    };
    let mut inputs: Vec<PlannedInput> = Vec::new();
    for read in &view_reads(db, view).reads {
        inputs.push(plan_input(db, &read.name)?);
    }
    let session = planning_session(db, SurfaceInput::get(db));
    let context = LowerContext { state: &session.state, view: name, transform_key: definition.transform.key(), inputs: &inputs };
    let plan = lower_transform(&context, &definition.transform).map_err(|diagnostics| ViewFailure::Errors(Arc::new(diagnostics)))?;
    Ok(finish(plan, &inputs))
}

/// A view's output schema. Compares by value, so an edit that keeps a view's schema stops
/// here for everything that only needs the schema (early cutoff).
#[salsa::tracked(returns(ref))]
pub fn view_schema(db: &dyn Db, view: ViewInput) -> LowerResult<SchemaRef> {
    view_plan(db, view).as_ref().map(LoweredView::schema).map_err(Clone::clone)
}
