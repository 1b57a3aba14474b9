//! `project`: one output column per entry of `columns`, in order. Every column's
//! expression is parsed and type-checked; all errors are reported together.

use std::sync::Arc;

use datafusion::logical_expr::LogicalPlanBuilder;
use viewdag_ir::ProjectView;
use viewdag_validate::checks::too_few_items;

use super::context::{LowerContext, TransformResult, collect_all};

pub fn lower(context: &LowerContext, view: &ProjectView) -> TransformResult {
    let ProjectView { input: _, columns } = view;
    let input = context.input(0);
    if let Some(diagnostic) = too_few_items::check(columns.len(), 1, "columns", context.view, context.location(["columns"])) {
        return Err(vec![diagnostic]);
    }
    let expressions = collect_all(columns.iter().map(|(name, text)| {
        context.parse_typed(text, input.plan.schema(), ["columns", name.as_str()]).map(|(expression, _)| expression.alias(name))
    }))?;
    LogicalPlanBuilder::new_from_arc(Arc::clone(&input.plan))
        .project(expressions)
        .and_then(LogicalPlanBuilder::build)
        .map_err(|error| context.error(&error, "", ["columns"]))
}
