//! `V0227`: a predicate subquery (`EXISTS`, `IN (SELECT …)`, their negations) anywhere but a
//! filter (`WHERE`, `HAVING`). DataFusion 55 turns predicate subqueries into joins only in
//! filters (`decorrelate_predicate_subquery`); anywhere else — a `SELECT` list, a `CASE`, a
//! join condition — the plan validates but fails in physical planning (`V0602`), so a
//! `check` that does not plan would accept a view `run` cannot execute. (Scalar subqueries
//! are rewritten in projections too, and are not reported.)
//!
//! ## Invariants
//! - Only what physical planning would refuse is reported: a predicate subquery in a
//!   `Filter` node, at any depth of its expression, is left alone.
//! - Subqueries' own plans are searched too.

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{Expr, LogicalPlan};
use viewdag_ir::{Code, Diagnostic, SpecLocation};

/// `V0227` for the first predicate subquery of `plan` outside a filter, if any.
pub fn predicate_subquery_outside_filter(view: &str, query: &str, plan: &LogicalPlan, location: &SpecLocation) -> Option<Diagnostic> {
    let mut found = false;
    let _ = plan.apply_with_subqueries(|node| {
        if !matches!(node, LogicalPlan::Filter(_)) {
            let _ = node.apply_expressions(|expression| {
                found |= expression.exists(|inner| Ok(matches!(inner, Expr::Exists(_) | Expr::InSubquery(_))))?;
                Ok(if found { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
            });
        }
        Ok(if found { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
    });
    if !found {
        return None;
    }
    let mut at = location.clone();
    if let Some(offset) = query.to_ascii_lowercase().find("exists") {
        at = at.with_range(offset, offset + "exists".len());
    }
    Some(
        Diagnostic::new(
            Code::SubqueryOutsideFilter,
            at,
            format!("SQL of view `{view}` uses `EXISTS` or `IN (SELECT …)` outside `WHERE`/`HAVING`, which DataFusion cannot execute"),
        )
        .with_note("DataFusion 55 turns predicate subqueries into joins only in filters")
        .with_suggestion(
            "move the test into `WHERE`, or compute it with a `LEFT JOIN` on the subquery's distinct keys and `key IS NOT NULL`",
        ),
    )
}
