//! `filter`: the input's rows for which `predicate` is true.

use std::sync::Arc;

use datafusion::logical_expr::LogicalPlanBuilder;
use viewdag_ir::FilterView;

use super::{LowerContext, TransformResult};

pub fn lower(context: &LowerContext, view: &FilterView) -> TransformResult {
    let FilterView { input: _, predicate } = view;
    let input = context.input(0);
    let expression = context.parse(predicate, input.plan.schema(), ["predicate"]).map_err(|error| vec![error])?;
    LogicalPlanBuilder::new_from_arc(Arc::clone(&input.plan))
        .filter(expression)
        .and_then(LogicalPlanBuilder::build)
        .map_err(|error| context.error(&error, predicate, ["predicate"]))
}
