//! `V0214 ungrouped-column`: a measure uses a column outside any aggregate function, and
//! that column is not a group key (`measures: { m: "amount + sum(x)" }` grouped by
//! `region`): there is no single value of it per group.

use datafusion::common::Column;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::Expr;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

use crate::expression::{at_range, find_identifier};

/// Columns of `measure` outside aggregates that are not (inside) a group expression.
pub fn ungrouped_columns(measure: &Expr, group_expressions: &[Expr]) -> Vec<Column> {
    let mut found: Vec<Column> = Vec::new();
    let _ = measure.apply(|node| {
        if group_expressions.contains(node) {
            return Ok(TreeNodeRecursion::Jump);
        }
        match node {
            Expr::AggregateFunction(_) | Expr::WindowFunction(_) => Ok(TreeNodeRecursion::Jump),
            Expr::Column(column) => {
                if !found.contains(column) {
                    found.push(column.clone());
                }
                Ok(TreeNodeRecursion::Continue)
            }
            _ => Ok(TreeNodeRecursion::Continue),
        }
    });
    found
}

pub fn check(measure_name: &str, measure: &Expr, group_expressions: &[Expr], text: &str, location: &SpecLocation) -> Vec<Diagnostic> {
    ungrouped_columns(measure, group_expressions)
        .into_iter()
        .map(|column| {
            let at = match find_identifier(text, &column.name) {
                Some(offset) => at_range(location, offset, offset + column.name.len()),
                None => location.clone(),
            };
            Diagnostic::new(
                Code::UngroupedColumn,
                at,
                format!("measure `{measure_name}` uses column `{}`, which is neither aggregated nor a group key", column.name),
            )
            .with_note("each group has many values of it; a measure must reduce them to one")
            .with_suggestion(format!("aggregate it (e.g. `max({})`) or add `{}` to `group_by`", column.name, column.name))
        })
        .collect()
}
