//! One file per transform kind, each lowering its spec struct to a `LogicalPlan` over the
//! view's planned inputs. Each destructures its struct field by field, so a new spec
//! field breaks the build until it is lowered.

#![allow(clippy::result_large_err, reason = "an error is its diagnostic, returned by value like a success")]

use datafusion::common::DFSchema;
use datafusion::error::DataFusionError;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::{Expr, LogicalPlan};
use viewdag_ir::{Diagnostic, FieldPath, SpecLocation, Transform};

use crate::expressions::{error_diagnostic, parse_expression, parse_typed_expression};
use crate::inputs::PlannedInput;
use datafusion::arrow::datatypes::DataType;
use viewdag_validate::checks::duplicate_column;

pub mod aggregate;
pub mod distinct;
pub mod filter;
pub mod join;
pub mod limit;
pub mod project;
pub mod sort;
pub mod sql;
pub mod union;
pub mod warnings;

pub type TransformResult = Result<LogicalPlan, Vec<Diagnostic>>;

/// What a transform may use: the session, the view's name and its planned inputs in the
/// order the transform names them (for `sql`, sorted by name).
pub struct LowerContext<'a> {
    pub state: &'a SessionState,
    pub view: &'a str,
    pub transform_key: &'static str,
    pub inputs: &'a [PlannedInput],
}

impl LowerContext<'_> {
    /// The location of a field of this view's transform.
    pub fn location(&self, field: impl Into<FieldPath>) -> SpecLocation {
        SpecLocation::view(self.view).with_field(FieldPath::from([self.transform_key]).join(&field.into()))
    }

    /// Parses an expression string at `field` over `schema`.
    pub fn parse(&self, text: &str, schema: &DFSchema, field: impl Into<FieldPath>) -> Result<Expr, Diagnostic> {
        parse_expression(self.state, text, schema, &self.location(field))
    }

    /// Parses an expression string at `field` over `schema` and checks its types.
    pub fn parse_typed(&self, text: &str, schema: &DFSchema, field: impl Into<FieldPath>) -> Result<(Expr, DataType), Diagnostic> {
        parse_typed_expression(self.state, text, schema, &self.location(field))
    }

    /// A builder error, placed at `field` and inside `text` when the error says where.
    pub fn error(&self, error: &DataFusionError, text: &str, field: impl Into<FieldPath>) -> Vec<Diagnostic> {
        vec![error_diagnostic(self.state, error, text, &DFSchema::empty(), &self.location(field))]
    }

    pub fn input(&self, index: usize) -> &PlannedInput {
        &self.inputs[index]
    }
}

/// Lowers a view's transform, then checks that its output names its columns uniquely
/// (`V0222 duplicate-column`; transforms that can name columns check it themselves first,
/// with more precise locations).
pub fn lower_transform(context: &LowerContext, transform: &Transform) -> TransformResult {
    let plan = lower_transform_unchecked(context, transform)?;
    let duplicates = duplicate_column::check_schema(context.view, plan.schema(), &context.location(FieldPath::default()));
    if duplicates.is_empty() { Ok(plan) } else { Err(duplicates) }
}

fn lower_transform_unchecked(context: &LowerContext, transform: &Transform) -> TransformResult {
    match transform {
        Transform::Filter(view) => filter::lower(context, view),
        Transform::Project(view) => project::lower(context, view),
        Transform::Join(view) => join::lower(context, view),
        Transform::Aggregate(view) => aggregate::lower(context, view),
        Transform::Union(view) => union::lower(context, view),
        Transform::Sort(view) => sort::lower(context, view),
        Transform::Limit(view) => limit::lower(context, view),
        Transform::Distinct(view) => distinct::lower(context, view),
        Transform::Sql(view) => sql::lower(context, view),
    }
}

/// Collects per-item results, keeping every error.
pub(crate) fn collect_all<T>(results: impl IntoIterator<Item = Result<T, Diagnostic>>) -> Result<Vec<T>, Vec<Diagnostic>> {
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(value) => values.push(value),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() { Ok(values) } else { Err(errors) }
}

/// No rows, with `input`'s schema: what a zero `limit` or `count` lowers to. (DataFusion 55
/// panics executing a top-k sort with `fetch = 0`, so a zero count never reaches it.)
pub(crate) fn empty_like(input: &std::sync::Arc<LogicalPlan>) -> LogicalPlan {
    LogicalPlan::EmptyRelation(datafusion::logical_expr::EmptyRelation {
        produce_one_row: false,
        schema: std::sync::Arc::clone(input.schema()),
    })
}
