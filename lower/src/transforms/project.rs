//! `project`: one output column per entry of `columns`, in order.

use std::sync::Arc;

use datafusion::logical_expr::LogicalPlanBuilder;
use viewdag_ir::{Code, Diagnostic, ProjectView};

use super::{LowerContext, TransformResult, collect_all};

pub fn lower(context: &LowerContext, view: &ProjectView) -> TransformResult {
    let ProjectView { input: _, columns } = view;
    let input = context.input(0);
    if columns.is_empty() {
        return Err(vec![Diagnostic::new(
            Code::PlanError,
            context.location(["columns"]),
            format!("view `{}` projects no columns", context.view),
        )]);
    }
    let expressions = collect_all(columns.iter().map(|(name, text)| {
        context.parse(text, input.plan.schema(), ["columns", name.as_str()]).map(|expression| expression.alias(name))
    }))?;
    LogicalPlanBuilder::new_from_arc(Arc::clone(&input.plan))
        .project(expressions)
        .and_then(LogicalPlanBuilder::build)
        .map_err(|error| context.error(&error, "", ["columns"]))
}
