//! The per-view queries.
//!
//! - [`view_signature`]: a view's output schema and warnings from lowering *its own*
//!   transform over relations that carry only its inputs' schemas (see [`signature_input`]):
//!   O(size of the view), like a type checker checking a function against the signatures it
//!   calls. Every diagnostic of a view comes from here. When the host keeps a signature
//!   memo across processes (`crate::signature_memo`), lowering is skipped for a key the
//!   memo holds.
//! - [`view_schema`]: the signature's schema alone. Readers depend on it, so an edit that
//!   keeps a view's schema re-validates nothing downstream (early cutoff, through ephemeral
//!   views too).
//! - [`view_plan`]: the inlined P0 over the inputs' memoized plans, asked only for what
//!   executes (tasks) or on demand (`explain`, `compile --all-views`). It runs only for a
//!   view whose signature succeeded, so it reports nothing of its own.
//!
//! A view's inputs come in two forms, both resolved through the narrow `resolve_relation`
//! query (never a whole-project value, so adding a relation elsewhere re-runs no view's
//! query): [`signature_input`], only the relation's schema (an empty relation carrying it),
//! and [`plan_input`], the relation's plan (a source scan, a materialized view's table, or
//! an ephemeral view's memoized P0). They recurse into this file's queries for the input
//! views, so they live here; what reads no view is in [`crate::inputs`].

use std::sync::Arc;

use std::collections::BTreeMap;

use datafusion::common::{DFSchema, DFSchemaRef, TableReference};
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::{EmptyRelation, LogicalPlan, LogicalPlanBuilder};
use viewdag_ir::delta_types::table_read_schema;
use viewdag_ir::{Code, Diagnostic, ProjectInput, ProviderIdentity, SpecLocation, SurfaceInput, ViewInput};
use viewdag_surface::{MaterializedViewTable, planning_session};
use viewdag_validate::checks::{column_names_differ_in_case, column_type_not_storable};
use viewdag_validate::{Relation, resolve_relation, view_is_broken, view_reads};

use crate::inputs::{PlannedInput, alias, finish, plan_error, scan_of, source_scan};
use crate::materialization::{Materialization, is_materialized, too_deep, view_materialization};
use crate::memo_key::{memo_key, memo_result, memo_value};
use crate::signature::ViewSignature;
use crate::transforms::context::LowerContext;
use crate::transforms::lower_transform;
use crate::transforms::warnings::transform_warnings;
use crate::{Db, LowerResult, LoweredView, ViewFailure};

/// How a view's input relations are planned: [`signature_input`], [`plan_input`] or the
/// reference way.
type InputOf = fn(&dyn Db, &str) -> LowerResult<PlannedInput>;

/// `view`'s input relations in the order it reads them, each planned by `input_of`; the
/// first failing input fails the view.
fn view_inputs(db: &dyn Db, view: ViewInput, input_of: InputOf) -> LowerResult<Vec<PlannedInput>> {
    view_reads(db, view).reads.iter().map(|read| input_of(db, &read.name)).collect()
}

/// Lowers `view`'s own transform over `inputs` (signatures or plans).
fn lower_view(db: &dyn Db, view: ViewInput, inputs: &[PlannedInput]) -> LowerResult<(LogicalPlan, Vec<Diagnostic>)> {
    let Some(definition) = view.definition(db) else {
        return Err(ViewFailure::Invalid);
    };
    let session = planning_session(db, SurfaceInput::get(db));
    let context = LowerContext { db, state: &session.state, view: view.name(db), transform_key: definition.transform.key(), inputs };
    let plan = lower_transform(&context, &definition.transform).map_err(|diagnostics| ViewFailure::Errors(Arc::new(diagnostics)))?;
    Ok((plan, transform_warnings(&context, &definition.transform)))
}

/// A view's schema and warnings, validated against its inputs' signatures. With the host's
/// signature memo (`crate::signature_memo`), the outcome of lowering is looked up by a key
/// over everything it depends on before lowering, and recorded after.
#[salsa::tracked(returns(ref))]
pub fn view_signature(db: &dyn Db, view: ViewInput) -> LowerResult<ViewSignature> {
    if view_is_broken(db, view) || view.definition(db).is_none() {
        return Err(ViewFailure::Invalid);
    }
    let reads_by_sql = is_sql(db, view);
    let Some(memo) = db.signature_memo() else {
        return signature_over(db, view, if reads_by_sql { sql_signature_input } else { signature_input });
    };
    // The key needs only the inputs' schemas: the placeholders lowering reads are built on a miss.
    let schemas = view_reads(db, view)
        .reads
        .iter()
        .map(|read| Ok((read.name.as_str(), signature_schema(db, &read.name)?)))
        .collect::<LowerResult<Vec<_>>>()?;
    let key = memo_key(db, memo, view, &schemas);
    if let Some(value) = key.as_ref().and_then(|key| memo.lookup(view.name(db), key)) {
        return memo_result(value);
    }
    let inputs = schemas
        .into_iter()
        .map(|(name, (_, schema))| signature_placeholder(name, schema, reads_by_sql))
        .collect::<LowerResult<Vec<_>>>()?;
    let result = signature_of(db, view, &inputs);
    if let (Some(key), Some(value)) = (key, memo_value(&result)) {
        memo.record(view.name(db), key, &value);
    }
    result
}

/// `view`'s signature with each input planned by `input_of`: lowers the view's own
/// transform and keeps its output schema, unqualified (with its functional dependencies),
/// and its warnings.
fn signature_over(db: &dyn Db, view: ViewInput, input_of: InputOf) -> LowerResult<ViewSignature> {
    let inputs = view_inputs(db, view, input_of)?;
    signature_of(db, view, &inputs)
}

/// `view`'s signature over `inputs`.
fn signature_of(db: &dyn Db, view: ViewInput, inputs: &[PlannedInput]) -> LowerResult<ViewSignature> {
    let (plan, warnings) = lower_view(db, view, inputs)?;
    let schema = plan.schema();
    let unqualified = DFSchema::try_from(Arc::clone(schema.inner()))
        .and_then(|unqualified| unqualified.with_functional_dependencies(schema.functional_dependencies().clone()))
        .map_err(|error| plan_error(viewdag_ir::SpecLocation::view(view.name(db)), &error))?;
    if is_materialized(db, view) {
        let errors = table_schema_diagnostics(view.name(db), unqualified.as_arrow());
        if !errors.is_empty() {
            return Err(ViewFailure::Errors(Arc::new(errors)));
        }
    }
    Ok(ViewSignature { schema: db.schema_interner().intern(unqualified), warnings: Arc::new(warnings) })
}

/// What makes a materialized view's schema unwritable as a Delta table: a column type Delta
/// cannot store (`V0508`), names that differ only in case (`V0509`).
fn table_schema_diagnostics(view: &str, schema: &datafusion::arrow::datatypes::Schema) -> Vec<Diagnostic> {
    let table = format!("materialized view `{view}`");
    let location = SpecLocation::view(view).with_field(viewdag_ir::FieldPath::from(["materialize"]));
    let mut errors = column_type_not_storable::check(&table, schema, &location);
    errors.extend(column_names_differ_in_case::check(&table, schema, &location));
    errors
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
    if let Materialization::TooDeep(depth) = view_materialization(db, view) {
        return Err(ViewFailure::Errors(Arc::new(vec![too_deep(view.name(db), depth)])));
    }
    let Some(definition) = view.definition(db) else {
        return Err(ViewFailure::Invalid);
    };
    let inputs = view_inputs(db, view, plan_input)?;
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
    let Some(Relation::View(input)) = resolve_relation(db, ProjectInput::get(db), name.to_string()) else {
        return plan_input(db, name);
    };
    if is_materialized(db, input) {
        return plan_input(db, name);
    }
    if view_is_broken(db, input) || input.definition(db).is_none() {
        return Err(ViewFailure::Blocked { upstream: name.to_string() });
    }
    let inputs = view_inputs(db, input, plan_input_for_reference)?;
    let (plan, _) = lower_view(db, input, &inputs).map_err(|failure| failure.as_seen_from_reader(name))?;
    let plan = datafusion::logical_expr::LogicalPlanBuilder::from(plan)
        .alias(datafusion::common::TableReference::bare(name))
        .and_then(|builder| builder.build())
        .map_err(|error| plan_error(viewdag_ir::SpecLocation::view(name), &error))?;
    Ok(PlannedInput { name: name.to_string(), plan: Arc::new(plan), scans: Default::default(), key: String::new() })
}

/// The relation `name` with only its schema. An unknown name is reported by validation, so
/// here it only makes the reader invalid.
pub fn signature_input(db: &dyn Db, name: &str) -> LowerResult<PlannedInput> {
    let (_, schema) = signature_schema(db, name)?;
    signature_placeholder(name, schema, false)
}

/// [`signature_input`] for a `sql` view: the empty relation unaliased when aliasing would
/// only requalify it (see [`signature_placeholder`]).
fn sql_signature_input(db: &dyn Db, name: &str) -> LowerResult<PlannedInput> {
    let (_, schema) = signature_schema(db, name)?;
    signature_placeholder(name, schema, true)
}

/// Whether `view` is a `sql` view (its definition is known: the caller checked).
fn is_sql(db: &dyn Db, view: ViewInput) -> bool {
    view.definition(db).as_ref().is_some_and(|definition| matches!(definition.transform, viewdag_ir::Transform::Sql(_)))
}

/// The schema a reader of the relation `name` sees through signatures, with the relation's
/// kind as the signature memo's key names it (`source`, `view`, `materialized view`). The
/// kind is read through [`is_materialized`], so a reader depends on that bit of its input's
/// definition only.
fn signature_schema(db: &dyn Db, name: &str) -> LowerResult<(&'static [u8], DFSchemaRef)> {
    let seen_from_reader = |failure: &ViewFailure| failure.as_seen_from_reader(name);
    match resolve_relation(db, ProjectInput::get(db), name.to_string()) {
        Some(Relation::Source(source)) => {
            Ok((b"source", Arc::clone(source_scan(db, source).as_ref().map_err(seen_from_reader)?.plan.schema())))
        }
        Some(Relation::View(view)) if is_materialized(db, view) => {
            Ok((b"materialized view", stored_view_schema(db, view).as_ref().map_err(seen_from_reader)?.clone()))
        }
        Some(Relation::View(view)) => Ok((b"view", view_schema(db, view).as_ref().map_err(seen_from_reader)?.clone())),
        None => Err(ViewFailure::Invalid),
    }
}

/// An empty relation carrying `schema`, aliased `name`: an input as a signature sees it.
///
/// For a `sql` reader (`for_sql`) whose input's column names are distinct, the relation is
/// left unaliased: the SQL transform registers the plan under the alias, and that plan is
/// exactly this empty relation (`SubqueryAlias` inserts a renaming projection only for
/// repeated names), so the alias would be built only to be taken off again.
fn signature_placeholder(name: &str, schema: DFSchemaRef, for_sql: bool) -> LowerResult<PlannedInput> {
    let distinct_names = || {
        let mut seen = std::collections::HashSet::with_capacity(schema.fields().len());
        schema.fields().iter().all(|field| seen.insert(field.name().as_str()))
    };
    let placeholder = Arc::new(LogicalPlan::EmptyRelation(EmptyRelation { produce_one_row: false, schema: Arc::clone(&schema) }));
    if for_sql && distinct_names() {
        return Ok(PlannedInput { name: name.to_string(), plan: placeholder, scans: BTreeMap::new(), key: String::new() });
    }
    let plan = alias(&placeholder, name).map_err(|error| plan_error(SpecLocation::view(name), &error))?;
    Ok(PlannedInput { name: name.to_string(), plan, scans: BTreeMap::new(), key: String::new() })
}

/// Plans the relation `name` for a reader. An unknown name is reported by validation, so
/// here it only makes the reader invalid.
pub fn plan_input(db: &dyn Db, name: &str) -> LowerResult<PlannedInput> {
    let lowered = match resolve_relation(db, ProjectInput::get(db), name.to_string()) {
        Some(Relation::Source(source)) => source_scan(db, source).clone(),
        Some(Relation::View(view)) => {
            if is_materialized(db, view) {
                materialized_scan(db, view).clone()
            } else {
                view_plan(db, view).clone()
            }
        }
        None => return Err(ViewFailure::Invalid),
    }
    .map_err(|failure| failure.as_seen_from_reader(name))?;
    let plan = alias(&lowered.plan, name).map_err(|error| plan_error(SpecLocation::view(name), &error))?;
    Ok(PlannedInput { name: name.to_string(), plan, scans: (*lowered.scans).clone(), key: lowered.key.clone() })
}

/// A materialized view's schema as its readers see its Delta table
/// (`viewdag_ir::delta_types::table_read_schema`: `uint32` read back as `int64`,
/// `timestamp[ns]` as `timestamp[us]`, …), at `check` as when they scan the written table.
/// Compares by value, like [`view_schema`].
#[salsa::tracked(returns(ref))]
pub fn stored_view_schema(db: &dyn Db, view: ViewInput) -> LowerResult<DFSchemaRef> {
    let schema = view_schema(db, view).clone()?;
    let stored = table_read_schema(schema.inner());
    if stored == *schema.inner().as_ref() {
        return Ok(schema);
    }
    DFSchema::try_from(stored)
        .and_then(|stored| stored.with_functional_dependencies(schema.functional_dependencies().clone()))
        .map(Arc::new)
        .map_err(|error| plan_error(SpecLocation::view(view.name(db)), &error))
}

/// A scan of the table a materialized view's task writes. Depends only on the view's
/// stored schema, so a reader is re-planned only when that schema changes.
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
    let schema = Arc::clone(stored_view_schema(db, view).clone()?.inner());
    let table = MaterializedViewTable { view: name.clone(), schema };
    let plan = LogicalPlanBuilder::scan(TableReference::bare(name.as_str()), provider_as_source(Arc::new(table)), None)
        .and_then(LogicalPlanBuilder::build)
        .map_err(|error| plan_error(SpecLocation::view(name), &error))?;
    Ok(scan_of(name, plan, &ProviderIdentity::Materialized { view: name.clone() }))
}
