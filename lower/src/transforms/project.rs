//! `project`: one output column per entry of `columns`, in order. Every column's
//! expression is parsed and type-checked; all errors are reported together.
//!
//! Linear in the number of columns: the input's column names are indexed once, a column
//! that is only a column reference is resolved through the index, and the projection is
//! built by `linear_projection` (the builder's plan, without its schema scans).

use viewdag_ir::ProjectView;
use viewdag_validate::checks::too_few_items;

use super::context::{LowerContext, TransformResult, collect_all};
use crate::column_index::ColumnIndex;
use crate::linear_projection;

pub fn lower(context: &LowerContext, view: &ProjectView) -> TransformResult {
    let ProjectView { input: _, columns } = view;
    let input = context.input(0);
    if let Some(diagnostic) = too_few_items::check(columns.len(), 1, "columns", context.view, context.location(["columns"])) {
        return Err(vec![diagnostic]);
    }
    let input_columns = ColumnIndex::new(input.plan.schema());
    let expressions = collect_all(columns.iter().map(|(name, text)| {
        context.parse_typed_indexed(text, &input_columns, ["columns", name.as_str()]).map(|(expression, _)| expression.alias(name))
    }))?;
    linear_projection::project(&input.plan, expressions, &input_columns).map_err(|error| context.error(&error, "", ["columns"]))
}
