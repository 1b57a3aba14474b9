//! The per-view queries.
//!
//! - [`view_signature`]: a view's output schema and warnings from lowering *its own*
//!   transform over relations that carry only its inputs' schemas (see
//!   [`crate::inputs::signature_input`]): O(size of the view), like a type checker checking a
//!   function against the signatures it calls. Every diagnostic of a view comes from here.
//! - [`view_schema`]: the signature's schema alone. Readers depend on it, so an edit that
//!   keeps a view's schema re-validates nothing downstream (early cutoff, through ephemeral
//!   views too).
//! - [`view_plan`]: the inlined P0 over the inputs' memoized plans, asked only for what
//!   executes (tasks) or on demand (`explain`, `compile --all-views`). It runs only for a
//!   view whose signature succeeded, so it reports nothing of its own.

use std::sync::Arc;

use datafusion::common::{DFSchema, DFSchemaRef};
use datafusion::logical_expr::LogicalPlan;
use viewdag_ir::{Diagnostic, SurfaceInput, ViewInput};
use viewdag_surface::planning_session;
use viewdag_validate::{view_is_broken, view_reads};

use crate::inputs::{PlannedInput, finish, plan_error, plan_input, signature_input};
use crate::transforms::warnings::transform_warnings;
use crate::transforms::{LowerContext, lower_transform};
use crate::{Db, LowerResult, LoweredView, ViewFailure};

/// What a view's readers and its own report need: its output schema and its warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewSignature {
    /// The output schema, unqualified (readers qualify it with the view's name), with the
    /// functional dependencies the view's plan derives.
    pub schema: DFSchemaRef,
    /// Warnings and notes of a view that validates.
    pub warnings: Arc<Vec<Diagnostic>>,
}

/// Lowers `view`'s own transform over `inputs` (signatures or plans).
fn lower_view(db: &dyn Db, view: ViewInput, inputs: &[PlannedInput]) -> LowerResult<(LogicalPlan, Vec<Diagnostic>)> {
    let Some(definition) = view.definition(db) else {
        return Err(ViewFailure::Invalid);
    };
    let session = planning_session(db, SurfaceInput::get(db));
    let context = LowerContext { state: &session.state, view: view.name(db), transform_key: definition.transform.key(), inputs };
    let plan = lower_transform(&context, &definition.transform).map_err(|diagnostics| ViewFailure::Errors(Arc::new(diagnostics)))?;
    Ok((plan, transform_warnings(&context, &definition.transform)))
}

/// A view's schema and warnings, validated against its inputs' signatures.
#[salsa::tracked(returns(ref))]
pub fn view_signature(db: &dyn Db, view: ViewInput) -> LowerResult<ViewSignature> {
    if view_is_broken(db, view) || view.definition(db).is_none() {
        return Err(ViewFailure::Invalid);
    }
    signature_over(db, view, signature_input)
}

/// `view`'s signature with each input planned by `input_of`: lowers the view's own
/// transform and keeps its output schema, unqualified (with its functional dependencies),
/// and its warnings.
fn signature_over(db: &dyn Db, view: ViewInput, input_of: fn(&dyn Db, &str) -> LowerResult<PlannedInput>) -> LowerResult<ViewSignature> {
    let mut inputs = Vec::new();
    for read in &view_reads(db, view).reads {
        inputs.push(input_of(db, &read.name)?);
    }
    let (plan, warnings) = lower_view(db, view, &inputs)?;
    let schema = plan.schema();
    let unqualified = DFSchema::try_from(Arc::clone(schema.inner()))
        .and_then(|unqualified| unqualified.with_functional_dependencies(schema.functional_dependencies().clone()))
        .map_err(|error| plan_error(viewdag_ir::SpecLocation::view(view.name(db)), &error))?;
    Ok(ViewSignature { schema: Arc::new(unqualified), warnings: Arc::new(warnings) })
}

/// A view's output schema. Compares by value, so an edit that keeps a view's schema stops
/// here for every reader (early cutoff).
#[salsa::tracked(returns(ref))]
pub fn view_schema(db: &dyn Db, view: ViewInput) -> LowerResult<DFSchemaRef> {
    view_signature(db, view).as_ref().map(|signature| Arc::clone(&signature.schema)).map_err(Clone::clone)
}

/// A view's inlined P0 logical plan, composed from its inputs' memoized plans (never
/// re-planning an ancestor). Fails exactly when the view's signature fails.
#[salsa::tracked(returns(ref))]
pub fn view_plan(db: &dyn Db, view: ViewInput) -> LowerResult<LoweredView> {
    view_schema(db, view).clone()?;
    let depth = crate::depth::inlined_depth(db, view);
    if depth > crate::depth::MAX_INLINED_DEPTH {
        return Err(ViewFailure::Errors(Arc::new(vec![crate::depth::too_deep(view.name(db), depth)])));
    }
    let Some(definition) = view.definition(db) else {
        return Err(ViewFailure::Invalid);
    };
    let mut inputs = Vec::new();
    for read in &view_reads(db, view).reads {
        inputs.push(plan_input(db, &read.name)?);
    }
    let (plan, _) = lower_view(db, view, &inputs)?;
    Ok(finish(plan, &inputs, view.name(db), definition))
}

/// The reference [`view_signature`] is checked against (by the tests' properties): the
/// schema and warnings of `view`'s transform lowered over its inputs' *inlined* plans, the
/// way views were validated before signatures. Not a query, and never asked by the driver.
pub fn inlined_signature(db: &dyn Db, view: ViewInput) -> LowerResult<ViewSignature> {
    if view_is_broken(db, view) || view.definition(db).is_none() {
        return Err(ViewFailure::Invalid);
    }
    signature_over(db, view, plan_input_for_reference)
}

/// An input's inlined plan, built the reference way: an ephemeral view's own transform
/// lowered over *its* inputs' inlined plans, recursively (no signature consulted).
fn plan_input_for_reference(db: &dyn Db, name: &str) -> LowerResult<PlannedInput> {
    use viewdag_validate::{Relation, resolve_relation};
    let Some(Relation::View(input)) = resolve_relation(db, viewdag_ir::ProjectInput::get(db), name.to_string()) else {
        return plan_input(db, name);
    };
    if input.definition(db).as_ref().is_some_and(|definition| definition.is_materialized()) {
        return plan_input(db, name);
    }
    if view_is_broken(db, input) || input.definition(db).is_none() {
        return Err(ViewFailure::Blocked { upstream: name.to_string() });
    }
    let mut inputs = Vec::new();
    for read in &view_reads(db, input).reads {
        inputs.push(plan_input_for_reference(db, &read.name)?);
    }
    let (plan, _) = lower_view(db, input, &inputs).map_err(|failure| failure.as_seen_from_reader(name))?;
    let plan = datafusion::logical_expr::LogicalPlanBuilder::from(plan)
        .alias(datafusion::common::TableReference::bare(name))
        .and_then(|builder| builder.build())
        .map_err(|error| plan_error(viewdag_ir::SpecLocation::view(name), &error))?;
    Ok(PlannedInput { name: name.to_string(), plan: Arc::new(plan), scans: Default::default(), key: String::new() })
}
