//! `filter`: the input's rows for which `predicate` is true.
//!
//! Checks, in order: the predicate parses and names existing columns and functions, it is
//! well typed (`type_mismatch`, `wrong_arity`), and it is boolean (`non_boolean_predicate`).

use std::sync::Arc;

use datafusion::logical_expr::LogicalPlanBuilder;
use viewdag_ir::FilterView;
use viewdag_validate::checks::non_boolean_predicate;

use super::context::{LowerContext, TransformResult};

pub fn lower(context: &LowerContext, view: &FilterView) -> TransformResult {
    let FilterView { input: _, predicate } = view;
    let input = context.input(0);
    let (expression, predicate_type) = context.parse_typed(predicate, input.plan.schema(), ["predicate"]).map_err(|error| vec![error])?;
    if let Some(diagnostic) = non_boolean_predicate::check(&predicate_type, predicate, &context.location(["predicate"])) {
        return Err(vec![diagnostic]);
    }
    LogicalPlanBuilder::new_from_arc(Arc::clone(&input.plan))
        .filter(expression)
        .and_then(LogicalPlanBuilder::build)
        .map_err(|error| context.error(&error, predicate, ["predicate"]))
}
