//! Uncorrelated scalar subqueries in a cluster plan, rewritten to joins when that is exact.
//!
//! DataFusion 55 plans an uncorrelated scalar subquery as a `ScalarSubqueryExec`, whose
//! `ScalarSubqueryExpr` Ballista 55's executors cannot decode (the job is rejected: TPC-H q11,
//! q15, q22). DataFusion keeps the older plan shape behind
//! `datafusion.optimizer.enable_physical_uncorrelated_scalar_subquery = false`: its
//! `ScalarSubqueryToJoin` rule turns each such subquery into a left join with the subquery's
//! result. That shape is wrong for a subquery yielding more than one row (the join multiplies
//! rows where the subquery should be an error), so the rewrite is applied only when every
//! uncorrelated scalar subquery of the plan yields at most one row by construction: an
//! aggregate without grouping (or a `LIMIT 1`, or a sort keeping one row) under projections, aliases, filters and sorts.
//! For zero rows the left join yields NULL, which is what the subquery yields.
//!
//! ## Invariants
//! - The rewritten plan has P1's schema; otherwise the plan is kept as it was.
//! - A plan with any scalar subquery not provably single-row is kept as it was (its task then
//!   fails on the cluster as before, never with wrong rows).

use std::sync::Arc;

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::config::ConfigOptions;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::optimizer::scalar_subquery_to_join::ScalarSubqueryToJoin;
use datafusion::optimizer::{Optimizer, OptimizerContext};

/// `plan` with its uncorrelated scalar subqueries as joins, if every one of them yields at
/// most one row; otherwise `plan` unchanged.
pub fn scalar_subqueries_as_joins(plan: LogicalPlan) -> LogicalPlan {
    let mut found = false;
    let mut every_one_single_row = true;
    let _ = plan.apply_with_subqueries(|node| {
        for expression in node.expressions() {
            let _ = expression.apply(|expression| {
                if let Expr::ScalarSubquery(subquery) = expression
                    && subquery.outer_ref_columns.is_empty()
                {
                    found = true;
                    every_one_single_row &= yields_at_most_one_row(&subquery.subquery);
                }
                Ok(TreeNodeRecursion::Continue)
            });
        }
        Ok(TreeNodeRecursion::Continue)
    });
    if !found || !every_one_single_row {
        return plan;
    }
    let mut options = ConfigOptions::default();
    options.optimizer.enable_physical_uncorrelated_scalar_subquery = false;
    let context = OptimizerContext::new_with_config_options(Arc::new(options));
    let optimizer = Optimizer::with_rules(vec![Arc::new(ScalarSubqueryToJoin::new())]);
    match optimizer.optimize(plan.clone(), &context, |_, _| {}) {
        Ok(rewritten) if rewritten.schema() == plan.schema() => rewritten,
        _ => plan,
    }
}

/// Whether `plan` yields at most one row whatever its input: a global aggregate or a
/// `LIMIT 1`, under nodes that never add rows.
fn yields_at_most_one_row(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Aggregate(aggregate) => aggregate.group_expr.is_empty(),
        LogicalPlan::Limit(limit) => {
            matches!(limit.get_fetch_type(), Ok(datafusion::logical_expr::logical_plan::FetchType::Literal(Some(fetch))) if fetch <= 1)
                || yields_at_most_one_row(&limit.input)
        }
        LogicalPlan::Projection(projection) => yields_at_most_one_row(&projection.input),
        LogicalPlan::SubqueryAlias(alias) => yields_at_most_one_row(&alias.input),
        LogicalPlan::Filter(filter) => yields_at_most_one_row(&filter.input),
        LogicalPlan::Sort(sort) => sort.fetch.is_some_and(|fetch| fetch <= 1) || yields_at_most_one_row(&sort.input),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::SessionContext;

    use super::*;

    fn has_scalar_subquery(plan: &LogicalPlan) -> bool {
        let mut found = false;
        let _ = plan.apply_with_subqueries(|node| {
            for expression in node.expressions() {
                found |= expression.exists(|expression| Ok(matches!(expression, Expr::ScalarSubquery(_)))).unwrap_or(false);
            }
            Ok(TreeNodeRecursion::Continue)
        });
        found
    }

    fn optimized(sql: &str) -> LogicalPlan {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let context = SessionContext::new();
            context.sql("CREATE TABLE t (a BIGINT, b BIGINT) AS VALUES (1, 2), (3, 4)").await.unwrap();
            context.sql(sql).await.unwrap().into_optimized_plan().unwrap()
        })
    }

    #[test]
    fn only_single_row_scalar_subqueries_become_joins() {
        let single = optimized("SELECT a FROM t WHERE a > (SELECT avg(b) FROM t)");
        assert!(has_scalar_subquery(&single), "DataFusion keeps it for ScalarSubqueryExec");
        let rewritten = scalar_subqueries_as_joins(single.clone());
        assert!(!has_scalar_subquery(&rewritten), "{}", rewritten.display_indent());
        assert_eq!(rewritten.schema(), single.schema());

        let limited = optimized("SELECT a FROM t WHERE a > (SELECT b FROM t ORDER BY b LIMIT 1)");
        assert!(!has_scalar_subquery(&scalar_subqueries_as_joins(limited)));

        // Several rows (an error at run time, rows multiplied by a join): kept as it is.
        let several = optimized("SELECT a FROM t WHERE a > (SELECT b FROM t)");
        assert!(has_scalar_subquery(&several));
        assert_eq!(scalar_subqueries_as_joins(several.clone()), several);
        let grouped = optimized("SELECT a FROM t WHERE a > (SELECT max(b) FROM t GROUP BY a)");
        assert_eq!(scalar_subqueries_as_joins(grouped.clone()), grouped);
    }
}
