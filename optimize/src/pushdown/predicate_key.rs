//! A predicate's identity wherever it sits: its text with unqualified columns and no aliases
//! (`orders.amount > 0 AS p` and `amount > 0` are one predicate). A leaf: the logical
//! contract and the implication step both compare predicates by it.

use datafusion::common::Column;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::logical_expr::Expr;

/// The predicate with unqualified columns and no aliases, as text: the identity of a
/// predicate wherever it sits.
pub fn predicate_key(expression: &Expr) -> String {
    let unqualified = expression
        .clone()
        .unalias_nested()
        .data
        .transform(|node| match node {
            Expr::Column(column) => Ok(Transformed::yes(Expr::Column(Column::new_unqualified(column.name)))),
            other => Ok(Transformed::no(other)),
        })
        .map(|transformed| transformed.data);
    match unqualified {
        Ok(expression) => expression.to_string(),
        Err(_) => expression.to_string(),
    }
}
