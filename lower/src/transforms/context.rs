//! What a transform may use while it lowers: the session, the view's name and its planned
//! inputs ([`LowerContext`]), and the helpers every transform shares. A leaf of
//! `transforms`: the dispatcher and each transform import it, it imports none of them.

#![allow(clippy::result_large_err, reason = "an error is its diagnostic, returned by value like a success")]

use datafusion::arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::error::DataFusionError;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::{Expr, LogicalPlan};
use viewdag_ir::{Diagnostic, FieldPath, SpecLocation};

use crate::column_index::ColumnIndex;
use crate::expressions::{
    error_diagnostic, indexed_plain_column, parse_expression, parse_typed_expression, parse_typed_expression_indexed,
};
use crate::inputs::PlannedInput;

pub type TransformResult = Result<LogicalPlan, Vec<Diagnostic>>;

/// What a transform may use: the session, the view's name and its planned inputs in the
/// order the transform names them (for `sql`, sorted by name).
pub struct LowerContext<'a> {
    /// The surface database: the runtime async planning runs on (`viewdag_surface::block_on`).
    pub db: &'a dyn viewdag_surface::Db,
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

    /// [`Self::parse_typed`] over an indexed schema: for a transform parsing one expression
    /// per column, so a plain column costs O(1) (see [`ColumnIndex`]).
    pub fn parse_typed_indexed(
        &self,
        text: &str,
        columns: &ColumnIndex,
        field: impl Into<FieldPath>,
    ) -> Result<(Expr, DataType), Diagnostic> {
        // A plain column needs no location: build it only for what may fail.
        if let Some(found) = indexed_plain_column(text, columns) {
            return Ok(found);
        }
        parse_typed_expression_indexed(self.state, text, columns, &self.location(field))
    }

    /// A builder error, placed at `field` and inside `text` when the error says where.
    pub fn error(&self, error: &DataFusionError, text: &str, field: impl Into<FieldPath>) -> Vec<Diagnostic> {
        vec![error_diagnostic(self.state, error, text, &DFSchema::empty(), &self.location(field))]
    }

    pub fn input(&self, index: usize) -> &PlannedInput {
        &self.inputs[index]
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
