//! `aggregate`: group keys (`col` or `expr AS name`), then measures (`name: agg expr`).
//! A measure may combine aggregates (`sum(a) / count(*)`): the aggregates are computed
//! once each, then a projection evaluates the measure over them.

use std::sync::Arc;

use datafusion::common::Column;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::logical_expr::utils::find_aggregate_exprs;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};
use viewdag_ir::{AggregateView, Code, Diagnostic};

use super::{LowerContext, TransformResult, collect_all};
use crate::expressions::split_alias;

pub fn lower(context: &LowerContext, view: &AggregateView) -> TransformResult {
    let AggregateView { input: _, group_by, measures } = view;
    let input = context.input(0);
    let schema = input.plan.schema();
    let groups = collect_all(group_by.iter().enumerate().map(|(index, text)| {
        let (expression, alias) = split_alias(text);
        let field = ["group_by".to_string(), index.to_string()].to_vec();
        let parsed = context.parse(expression, schema, field)?;
        let name = match (alias, &parsed) {
            (Some(alias), _) => alias.to_string(),
            (None, Expr::Column(column)) => column.name.clone(),
            (None, _) => {
                return Err(Diagnostic::new(
                    Code::PlanError,
                    context.location(["group_by".to_string(), index.to_string()].to_vec()),
                    format!("group key `{text}` is an expression without a name"),
                )
                .with_suggestion(format!("write `{text} AS name`")));
            }
        };
        Ok((parsed, name))
    }))?;
    let parsed_measures = collect_all(measures.iter().map(|(name, text)| {
        let parsed = context.parse(text, schema, ["measures", name.as_str()])?;
        if find_aggregate_exprs(std::iter::once(&parsed)).is_empty() {
            return Err(Diagnostic::new(
                Code::PlanError,
                context.location(["measures", name.as_str()]),
                format!("measure `{name}` = `{text}` aggregates nothing"),
            )
            .with_note("a measure must use an aggregate function such as sum, count, min, max or avg"));
        }
        Ok((name.clone(), text.clone(), parsed))
    }))?;
    let aggregates = find_aggregate_exprs(parsed_measures.iter().map(|(_, _, expression)| expression));
    let group_expressions: Vec<Expr> = groups.iter().map(|(expression, _)| expression.clone()).collect();
    let aggregated = LogicalPlanBuilder::new_from_arc(Arc::clone(&input.plan))
        .aggregate(group_expressions, aggregates.clone())
        .map_err(|error| context.error(&error, "", ["measures"]))?;
    let aggregate_schema = Arc::clone(aggregated.schema());
    let group_count = groups.len();
    let column_at = |index: usize| Expr::Column(Column::from(aggregate_schema.qualified_field(index)));
    let mut output: Vec<Expr> = groups.iter().enumerate().map(|(index, (_, name))| column_at(index).alias(name)).collect();
    for (name, text, expression) in parsed_measures {
        let rewritten = expression
            .transform_up(|node| match aggregates.iter().position(|aggregate| *aggregate == node) {
                Some(position) => Ok(Transformed::yes(column_at(group_count + position))),
                None => Ok(Transformed::no(node)),
            })
            .map_err(|error| context.error(&error, &text, ["measures", name.as_str()]))?
            .data;
        output.push(rewritten.alias(name));
    }
    aggregated.project(output).and_then(LogicalPlanBuilder::build).map_err(|error| context.error(&error, "", ["measures"]))
}
