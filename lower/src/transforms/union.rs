//! `union`: the inputs' rows by position, named after the first input; `distinct` removes
//! duplicate rows. Checks: at least two inputs (`too_few_items`), equal arity
//! (`union_arity`), compatible types by position (`union_type_mismatch`); differently
//! named columns are a warning (`union_name_mismatch`, see [`super::warnings`]).

use std::sync::Arc;

use datafusion::common::DFSchema;
use datafusion::logical_expr::LogicalPlanBuilder;
use viewdag_ir::{SpecLocation, UnionView};
use viewdag_validate::checks::{too_few_items, union_arity, union_type_mismatch};

use super::context::{LowerContext, TransformResult};

/// Each input's name, schema and the location naming it in `inputs`.
pub fn union_inputs<'a>(context: &'a LowerContext) -> Vec<(&'a str, &'a DFSchema, SpecLocation)> {
    context
        .inputs
        .iter()
        .enumerate()
        .map(|(index, input)| {
            (input.name.as_str(), input.plan.schema().as_ref(), context.location(["inputs".to_string(), index.to_string()].to_vec()))
        })
        .collect()
}

pub fn lower(context: &LowerContext, view: &UnionView) -> TransformResult {
    let UnionView { inputs, distinct } = view;
    if let Some(diagnostic) = too_few_items::check(inputs.len(), 2, "union inputs", context.view, context.location(["inputs"])) {
        return Err(vec![diagnostic]);
    }
    let described = union_inputs(context);
    let arity = union_arity::check(&described);
    if !arity.is_empty() {
        return Err(arity);
    }
    let types = union_type_mismatch::check(&described);
    if !types.is_empty() {
        return Err(types);
    }
    let first = context.input(0);
    let mut builder = LogicalPlanBuilder::new_from_arc(Arc::clone(&first.plan));
    for input in context.inputs.iter().skip(1) {
        let next = input.plan.as_ref().clone();
        builder = if *distinct { builder.union_distinct(next) } else { builder.union(next) }
            .map_err(|error| context.error(&error, "", ["inputs"]))?;
    }
    builder.build().map_err(|error| context.error(&error, "", ["inputs"]))
}
