//! `join`: left then right columns; a key pair with the same name on both sides appears
//! once (like SQL `USING`: from the left for inner/left joins, from the right for right
//! joins, coalesced for full joins); semi and anti joins output the left side only. Any
//! other column name present on both sides is an error that suggests a `project`.
//!
//! Checks, in order: at least one key pair (`join_key_count`), every key exists
//! (`unknown_column`), key types are comparable (`join_key_type_mismatch`; a coercion is a
//! note, see [`super::warnings`]), no name clash (`join_name_clash`), and the optional
//! `filter` is a well-typed boolean over both sides (`ambiguous_column` when it names a
//! column both sides have).

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::common::{Column, DFSchema, JoinType, TableReference};
use datafusion::functions::core::expr_fn::coalesce;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, col};
use viewdag_ir::{Diagnostic, JoinKind, JoinView};
use viewdag_validate::checks::join_key_type_mismatch::KeySide;
use viewdag_validate::checks::{join_key_count, join_key_type_mismatch, join_name_clash, non_boolean_predicate, unknown_column};

use super::context::{LowerContext, TransformResult};

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
    let right_alias = right_qualifier(view);
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
    if let Some(diagnostic) = join_key_count::check(on.len(), context.view, context.location(["on"])) {
        return Err(vec![diagnostic]);
    }
    let keys = resolve_keys(context, view, left_schema, right_schema)?;
    let type_errors: Vec<Diagnostic> = key_sides(view, left_schema, right_schema, &keys)
        .into_iter()
        .enumerate()
        .filter_map(|(index, (left_side, right_side))| {
            join_key_type_mismatch::check(left_side, right_side, context.location(["on".to_string(), index.to_string()].to_vec()))
        })
        .collect();
    if !type_errors.is_empty() {
        return Err(type_errors);
    }
    let merged_keys = merged_key_names(&keys);
    if !kind.outputs_left_only()
        && let Some(diagnostic) =
            join_name_clash::check(context.view, right, left_schema, right_schema, &merged_keys, context.location(["right"]))
    {
        return Err(vec![diagnostic]);
    }
    let combined_schema = left_schema.join(right_schema).map_err(|error| context.error(&error, "", ["on"]))?;
    let filter_expression = match filter {
        Some(text) => {
            let (expression, filter_type) = context.parse_typed(text, &combined_schema, ["filter"]).map_err(|error| vec![error])?;
            if let Some(diagnostic) = non_boolean_predicate::check(&filter_type, text, &context.location(["filter"])) {
                return Err(vec![diagnostic]);
            }
            Some(expression)
        }
        None => None,
    };
    let (left_keys, right_keys): (Vec<Column>, Vec<Column>) = keys.iter().cloned().unzip();
    let joined = LogicalPlanBuilder::new_from_arc(Arc::clone(&left_input.plan))
        .join(right_plan.as_ref().clone(), join_type(*kind), (left_keys, right_keys), filter_expression)
        .map_err(|error| context.error(&error, filter.as_deref().unwrap_or(""), ["on"]))?;
    let output: Vec<Expr> = output_columns(left_schema, right_schema, &keys, &merged_keys, *kind);
    joined.project(output).and_then(LogicalPlanBuilder::build).map_err(|error| context.error(&error, "", ["on"]))
}

/// The qualifier of the right side: its name, or `name__right` in a self-join.
pub fn right_qualifier(view: &JoinView) -> String {
    if view.left == view.right { format!("{}__right", view.right) } else { view.right.clone() }
}

/// Every key pair as qualified columns, whether or not they exist.
pub fn key_columns(view: &JoinView) -> Vec<(Column, Column)> {
    let right_alias = right_qualifier(view);
    view.on
        .iter()
        .map(|[left_key, right_key]| {
            (
                Column::new(Some(TableReference::bare(view.left.as_str())), left_key),
                Column::new(Some(TableReference::bare(right_alias.as_str())), right_key),
            )
        })
        .collect()
}

/// Every key pair as qualified columns; every key that is not a column of its side is
/// reported (`unknown_column`).
fn resolve_keys(
    context: &LowerContext,
    view: &JoinView,
    left_schema: &DFSchema,
    right_schema: &DFSchema,
) -> Result<Vec<(Column, Column)>, Vec<Diagnostic>> {
    let keys = key_columns(view);
    let mut errors = Vec::new();
    for (index, (left_column, right_column)) in keys.iter().enumerate() {
        let sides = [(left_schema, view.left.as_str(), left_column), (right_schema, view.right.as_str(), right_column)];
        for (side, (schema, relation, column)) in sides.into_iter().enumerate() {
            if !schema.has_column(column) {
                let names: Vec<&str> = schema.fields().iter().map(|field| field.name().as_str()).collect();
                let location = context.location(["on".to_string(), index.to_string(), side.to_string()].to_vec());
                errors.push(unknown_column::join_key(&column.name, relation, &names, location));
            }
        }
    }
    if errors.is_empty() { Ok(keys) } else { Err(errors) }
}

/// The key pairs with their types, for the type checks.
pub fn key_sides<'a>(
    view: &'a JoinView,
    left_schema: &'a DFSchema,
    right_schema: &'a DFSchema,
    keys: &'a [(Column, Column)],
) -> Vec<(KeySide<'a>, KeySide<'a>)> {
    keys.iter()
        .filter_map(|(left_column, right_column)| {
            let (_, left_field) = left_schema.qualified_field_with_name(left_column.relation.as_ref(), &left_column.name).ok()?;
            let (_, right_field) = right_schema.qualified_field_with_name(right_column.relation.as_ref(), &right_column.name).ok()?;
            Some((
                KeySide { relation: &view.left, column: &left_column.name, data_type: left_field.data_type() },
                KeySide { relation: &view.right, column: &right_column.name, data_type: right_field.data_type() },
            ))
        })
        .collect()
}

/// Key pairs with the same name on both sides: output once.
fn merged_key_names(keys: &[(Column, Column)]) -> BTreeSet<String> {
    keys.iter()
        .filter(|(left_column, right_column)| left_column.name == right_column.name)
        .map(|(left_column, _)| left_column.name.clone())
        .collect()
}

/// The join's output columns: left then right, merged keys once.
fn output_columns(
    left_schema: &DFSchema,
    right_schema: &DFSchema,
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
