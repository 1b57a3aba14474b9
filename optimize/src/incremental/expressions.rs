//! Expression-level conditions of the derivation: determinism (checked once over the whole
//! plan, subqueries included) and subqueries that read an appended relation (checked at
//! each operator on the path of a change).
//!
//! Determinism is required of the whole plan, not only of the changed path: a filter with
//! `random()` over an unchanged dimension would give other rows on a full refresh, so no
//! increment can equal it.

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{Expr, LogicalPlan, Volatility};

use super::change::InputChanges;

/// The first function (in plan order) whose value is not fixed by its arguments (volatile,
/// like `random()`, or stable, like `now()`), rendered as a call.
pub fn first_non_deterministic(plan: &LogicalPlan) -> Option<String> {
    let mut found = None;
    let _ = plan.apply_with_subqueries(|node| {
        node.apply_expressions(|expression| {
            expression.apply(|expression| {
                let volatility = match expression {
                    Expr::ScalarFunction(function) => Some((function.func.signature().volatility, function.func.name())),
                    Expr::AggregateFunction(function) => Some((function.func.signature().volatility, function.func.name())),
                    _ => None,
                };
                match volatility {
                    Some((volatility, name)) if volatility != Volatility::Immutable => {
                        found = Some(format!("{name}()"));
                        Ok(TreeNodeRecursion::Stop)
                    }
                    _ => Ok(TreeNodeRecursion::Continue),
                }
            })
        })?;
        Ok(if found.is_some() { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
    });
    found
}

/// The relations `plan` scans (subqueries included), by name, in plan order, repeated as
/// often as they are scanned.
pub fn scanned_relations(plan: &LogicalPlan) -> Vec<String> {
    let mut relations = Vec::new();
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            relations.push(scan.table_name.table().to_string());
        }
        Ok(TreeNodeRecursion::Continue)
    });
    relations
}

/// The first appended relation that a subquery in one of `node`'s own expressions reads.
pub fn appended_relation_in_subquery(node: &LogicalPlan, changes: &InputChanges) -> Option<String> {
    let mut found = None;
    let _ = node.apply_subqueries(|subquery| {
        found = scanned_relations(subquery).into_iter().find(|relation| changes.appended(relation).is_some());
        Ok(if found.is_some() { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
    });
    found
}
