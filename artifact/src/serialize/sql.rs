//! The logical plan as SQL, through DataFusion's unparser (where the unparser can express
//! the plan).
//!
//! Before unparsing, every `SubqueryAlias` whose input is neither a projection nor a scan
//! gets an explicit projection of all its columns: DataFusion 55's unparser otherwise folds
//! e.g. `SubqueryAlias(paid_orders, Filter(..))` into the enclosing `SELECT` and loses the
//! alias. The rewrite changes only the SQL text, never P0.

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};
use datafusion::sql::unparser::plan_to_sql;

use super::PlanFormError;

/// `plan` as one SQL statement.
pub fn plan_as_sql(plan: &LogicalPlan) -> Result<String, PlanFormError> {
    Ok(projection_under_every_alias(plan).and_then(|rewritten| plan_to_sql(&rewritten))?.to_string())
}

fn projection_under_every_alias(plan: &LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    plan.clone()
        .transform_up(|node| {
            let LogicalPlan::SubqueryAlias(alias) = &node else {
                return Ok(Transformed::no(node));
            };
            if matches!(alias.input.as_ref(), LogicalPlan::Projection(_) | LogicalPlan::TableScan(_)) {
                return Ok(Transformed::no(node));
            }
            let columns: Vec<Expr> = alias.input.schema().columns().into_iter().map(Expr::Column).collect();
            let rebuilt = LogicalPlanBuilder::new_from_arc(alias.input.clone()).project(columns)?.alias(alias.alias.clone())?.build()?;
            Ok(Transformed::yes(rebuilt))
        })
        .map(|transformed| transformed.data)
}
