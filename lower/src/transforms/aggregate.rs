//! `aggregate`: group keys (`col` or `expr AS name`), then measures (`name: agg expr`).
//! A measure may combine aggregates (`sum(a) / count(*)`): the aggregates are computed
//! once each, then a projection evaluates the measure over them.
//!
//! Checks, every one reported in one run: something to output (`too_few_items`); each
//! group key parses, is well typed, aggregates nothing (`aggregate_in_group_by`) and has a
//! name (`unnamed_group_key`); each measure parses, is well typed, nests no aggregates
//! (`nested_aggregate`), uses no column outside an aggregate that is not a group key
//! (`ungrouped_column`) and aggregates something (`measure_without_aggregate`); output
//! names are unique (`duplicate_column`).

use std::sync::Arc;

use datafusion::common::Column;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::utils::find_aggregate_exprs;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};
use viewdag_ir::{AggregateView, Diagnostic, FieldPath, SpecLocation};
use viewdag_validate::checks::{
    aggregate_in_group_by, duplicate_column, measure_without_aggregate, nested_aggregate, too_few_items, ungrouped_column,
    unnamed_group_key,
};

use super::context::{LowerContext, TransformResult};
use crate::expressions::split_alias;

/// A checked group key: its expression, output name and location.
struct GroupKey {
    expression: Expr,
    name: String,
    location: SpecLocation,
}

pub fn lower(context: &LowerContext, view: &AggregateView) -> TransformResult {
    let AggregateView { input: _, group_by, measures } = view;
    let input = context.input(0);
    let schema = input.plan.schema();
    if let Some(diagnostic) = too_few_items::check(
        group_by.len() + measures.len(),
        1,
        "group keys and measures",
        context.view,
        context.location(FieldPath::default()),
    ) {
        return Err(vec![diagnostic]);
    }
    let mut errors: Vec<Diagnostic> = Vec::new();
    let mut groups: Vec<GroupKey> = Vec::new();
    for (index, text) in group_by.iter().enumerate() {
        let field = FieldPath(vec!["group_by".to_string(), index.to_string()]);
        let location = context.location(field.clone());
        let (expression_text, alias) = split_alias(text);
        let expression = match context.parse_typed(expression_text, schema, field) {
            Ok((expression, _)) => expression,
            Err(diagnostic) => {
                errors.push(diagnostic);
                continue;
            }
        };
        if let Some(diagnostic) = aggregate_in_group_by::check(&expression, expression_text, &location) {
            errors.push(diagnostic);
            continue;
        }
        match unnamed_group_key::check(&expression, alias, text, &location) {
            Ok(name) => groups.push(GroupKey { expression, name, location }),
            Err(diagnostic) => errors.push(diagnostic),
        }
    }
    let group_expressions: Vec<Expr> = groups.iter().map(|group| group.expression.clone()).collect();
    let mut parsed_measures: Vec<(String, String, Expr)> = Vec::new();
    for (name, text) in measures {
        let field = FieldPath(vec!["measures".to_string(), name.clone()]);
        let location = context.location(field.clone());
        let expression = match context.parse_typed(text, schema, field) {
            Ok((expression, _)) => expression,
            Err(diagnostic) => {
                errors.push(diagnostic);
                continue;
            }
        };
        if let Some(diagnostic) = nested_aggregate::check(name, &expression, text, &location) {
            errors.push(diagnostic);
            continue;
        }
        let ungrouped = ungrouped_column::check(name, &expression, &group_expressions, text, &location);
        if !ungrouped.is_empty() {
            errors.extend(ungrouped);
            continue;
        }
        if let Some(diagnostic) = measure_without_aggregate::check(name, &expression, text, &location) {
            errors.push(diagnostic);
            continue;
        }
        parsed_measures.push((name.clone(), text.clone(), expression));
    }
    let output_names: Vec<(String, SpecLocation)> = groups
        .iter()
        .map(|group| (group.name.clone(), group.location.clone()))
        .chain(measures.keys().map(|name| (name.clone(), context.location(["measures", name.as_str()]))))
        .collect();
    errors.extend(duplicate_column::check(context.view, &output_names));
    if !errors.is_empty() {
        return Err(errors);
    }
    let aggregates = find_aggregate_exprs(parsed_measures.iter().map(|(_, _, expression)| expression));
    let aggregated = LogicalPlanBuilder::new_from_arc(Arc::clone(&input.plan))
        .aggregate(group_expressions.clone(), aggregates.clone())
        .map_err(|error| context.error(&error, "", ["measures"]))?;
    let aggregate_schema = Arc::clone(aggregated.schema());
    let group_count = groups.len();
    let column_at = |index: usize| Expr::Column(Column::from(aggregate_schema.qualified_field(index)));
    let mut output: Vec<Expr> = groups.iter().enumerate().map(|(index, group)| column_at(index).alias(&group.name)).collect();
    for (name, text, expression) in parsed_measures {
        // Top-down: an aggregate or a group expression is replaced by its output column
        // before its children are visited.
        let rewritten = expression
            .transform_down(|node| {
                if let Some(position) = aggregates.iter().position(|aggregate| *aggregate == node) {
                    return Ok(Transformed::new(column_at(group_count + position), true, TreeNodeRecursion::Jump));
                }
                if let Some(position) = group_expressions.iter().position(|group| *group == node) {
                    return Ok(Transformed::new(column_at(position), true, TreeNodeRecursion::Jump));
                }
                Ok(Transformed::no(node))
            })
            .map_err(|error| context.error(&error, &text, ["measures", name.as_str()]))?
            .data;
        output.push(rewritten.alias(name));
    }
    aggregated.project(output).and_then(LogicalPlanBuilder::build).map_err(|error| context.error(&error, "", ["measures"]))
}
