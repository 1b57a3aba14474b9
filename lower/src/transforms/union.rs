//! `union`: the inputs' rows by position, named after the first input; `distinct` removes
//! duplicate rows.

use std::sync::Arc;

use datafusion::logical_expr::LogicalPlanBuilder;
use viewdag_ir::{Code, Diagnostic, UnionView};

use super::{LowerContext, TransformResult};

pub fn lower(context: &LowerContext, view: &UnionView) -> TransformResult {
    let UnionView { inputs, distinct } = view;
    if inputs.len() < 2 {
        return Err(vec![Diagnostic::new(
            Code::PlanError,
            context.location(["inputs"]),
            format!("view `{}` unions {} input(s); a union needs at least two", context.view, inputs.len()),
        )]);
    }
    let first = context.input(0);
    let arity = first.plan.schema().fields().len();
    for (index, input) in context.inputs.iter().enumerate().skip(1) {
        let other = input.plan.schema().fields().len();
        if other != arity {
            return Err(vec![
                Diagnostic::new(
                    Code::PlanError,
                    context.location(["inputs".to_string(), index.to_string()].to_vec()),
                    format!("union input `{}` has {other} columns but `{}` has {arity}", input.name, first.name),
                )
                .with_note("union matches columns by position; every input needs the same number of columns"),
            ]);
        }
    }
    let mut builder = LogicalPlanBuilder::new_from_arc(Arc::clone(&first.plan));
    for input in context.inputs.iter().skip(1) {
        let next = input.plan.as_ref().clone();
        builder = if *distinct { builder.union_distinct(next) } else { builder.union(next) }
            .map_err(|error| context.error(&error, "", ["inputs"]))?;
    }
    builder.build().map_err(|error| context.error(&error, "", ["inputs"]))
}
