//! `join`: left then right columns; a key pair with the same name on both sides appears
//! once (like SQL `USING`: from the left for inner/left joins, from the right for right
//! joins, coalesced for full joins); semi and anti joins output the left side only. Any
//! other column name present on both sides is an error that suggests a `project`.

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::common::{Column, JoinType, TableReference};
use datafusion::functions::core::expr_fn::coalesce;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, col};
use viewdag_ir::{Code, Diagnostic, JoinKind, JoinView};

use super::{LowerContext, TransformResult, collect_all};

fn join_type(kind: JoinKind) -> JoinType {
    match kind {
        JoinKind::Inner => JoinType::Inner,
        JoinKind::Left => JoinType::Left,
        JoinKind::Right => JoinType::Right,
        JoinKind::Full => JoinType::Full,
        JoinKind::Semi => JoinType::LeftSemi,
        JoinKind::Anti => JoinType::LeftAnti,
    }
}

pub fn lower(context: &LowerContext, view: &JoinView) -> TransformResult {
    let JoinView { left, right, kind, on, filter } = view;
    let left_input = context.input(0);
    let right_input = context.input(1);
    // A self-join needs distinct qualifiers for its two sides.
    let right_alias = if left == right { format!("{right}__right") } else { right.clone() };
    let right_plan: Arc<LogicalPlan> = if left == right {
        Arc::new(
            LogicalPlanBuilder::new_from_arc(Arc::clone(&right_input.plan))
                .alias(TableReference::bare(right_alias.as_str()))
                .and_then(LogicalPlanBuilder::build)
                .map_err(|error| context.error(&error, "", ["right"]))?,
        )
    } else {
        Arc::clone(&right_input.plan)
    };
    let left_schema = left_input.plan.schema();
    let right_schema = right_plan.schema();
    if on.is_empty() {
        return Err(vec![
            Diagnostic::new(Code::PlanError, context.location(["on"]), format!("join view `{}` has no `on` keys", context.view))
                .with_suggestion("add `on: [[left_column, right_column]]`"),
        ]);
    }
    let keys = collect_all(on.iter().enumerate().map(|(index, [left_key, right_key])| {
        let left_column = Column::new(Some(TableReference::bare(left.as_str())), left_key);
        let right_column = Column::new(Some(TableReference::bare(right_alias.as_str())), right_key);
        let find = |schema: &datafusion::common::DFSchema, column: &Column, side: usize, relation: &str| {
            if schema.has_column(column) {
                Ok(column.clone())
            } else {
                let names: Vec<String> = schema.fields().iter().map(|field| field.name().clone()).collect();
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let mut diagnostic = Diagnostic::new(
                    Code::UnknownColumn,
                    context.location(["on".to_string(), index.to_string(), side.to_string()].to_vec()),
                    format!("join key `{}` is not a column of `{relation}`", column.name),
                );
                if let Some(suggestion) = viewdag_ir::parse::closest(&column.name, &names) {
                    diagnostic = diagnostic.with_suggestion(format!("did you mean `{suggestion}`?"));
                }
                Err(diagnostic.with_note(format!("`{relation}` has columns: {}", names.join(", "))))
            }
        };
        match (find(left_schema, &left_column, 0, left), find(right_schema, &right_column, 1, right)) {
            (Ok(left_column), Ok(right_column)) => Ok((left_column, right_column)),
            (Err(error), _) | (_, Err(error)) => Err(error),
        }
    }))?;
    let merged_keys: BTreeSet<String> = keys
        .iter()
        .filter(|(left_column, right_column)| left_column.name == right_column.name)
        .map(|(left_column, _)| left_column.name.clone())
        .collect();
    if !kind.outputs_left_only() {
        let left_names: BTreeSet<&String> = left_schema.fields().iter().map(|field| field.name()).collect();
        let clashes: Vec<&String> = right_schema
            .fields()
            .iter()
            .map(|field| field.name())
            .filter(|name| left_names.contains(name) && !merged_keys.contains(*name))
            .collect();
        if !clashes.is_empty() {
            let names: Vec<String> = clashes.iter().map(|name| format!("`{name}`")).collect();
            return Err(vec![
                Diagnostic::new(
                    Code::JoinNameClash,
                    context.location(["right"]),
                    format!("both sides of join view `{}` have column(s) {}", context.view, names.join(", ")),
                )
                .with_note("only a key pair with the same name on both sides is merged into one column")
                .with_suggestion(format!("add a `project` view over `{right}` that renames {}", names.join(", "))),
            ]);
        }
    }
    let combined_schema = left_schema.join(right_schema).map_err(|error| context.error(&error, "", ["on"]))?;
    let filter_expression = match filter {
        Some(text) => Some(context.parse(text, &combined_schema, ["filter"]).map_err(|error| vec![error])?),
        None => None,
    };
    let (left_keys, right_keys): (Vec<Column>, Vec<Column>) = keys.iter().cloned().unzip();
    let joined = LogicalPlanBuilder::new_from_arc(Arc::clone(&left_input.plan))
        .join(right_plan.as_ref().clone(), join_type(*kind), (left_keys, right_keys), filter_expression)
        .map_err(|error| context.error(&error, filter.as_deref().unwrap_or(""), ["on"]))?;
    let output: Vec<Expr> = output_columns(left_schema, right_schema, &keys, &merged_keys, *kind);
    joined.project(output).and_then(LogicalPlanBuilder::build).map_err(|error| context.error(&error, "", ["on"]))
}

/// The join's output columns: left then right, merged keys once.
fn output_columns(
    left_schema: &datafusion::common::DFSchema,
    right_schema: &datafusion::common::DFSchema,
    keys: &[(Column, Column)],
    merged_keys: &BTreeSet<String>,
    kind: JoinKind,
) -> Vec<Expr> {
    let mut output = Vec::new();
    for (qualifier, field) in left_schema.iter() {
        let left_column = Expr::Column(Column::new(qualifier.cloned(), field.name()));
        if merged_keys.contains(field.name()) {
            let right_column = keys
                .iter()
                .find(|(left_key, _)| left_key.name == *field.name())
                .map(|(_, right_key)| Expr::Column(right_key.clone()))
                .unwrap_or_else(|| col(field.name()));
            let merged = match kind {
                JoinKind::Right => right_column,
                JoinKind::Full => coalesce(vec![left_column, right_column]),
                _ => left_column,
            };
            output.push(merged.alias(field.name()));
        } else {
            output.push(left_column.alias(field.name()));
        }
    }
    if !kind.outputs_left_only() {
        for (qualifier, field) in right_schema.iter() {
            if merged_keys.contains(field.name()) {
                continue;
            }
            output.push(Expr::Column(Column::new(qualifier.cloned(), field.name())).alias(field.name()));
        }
    }
    output
}
