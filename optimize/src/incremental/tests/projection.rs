//! The `projection` rule (`rules/projection.rs`), alone.

use datafusion::logical_expr::{LogicalPlanBuilder, col, lit};

use super::support::*;

#[test]
fn a_projection_applies_to_the_appended_rows() {
    let plan = LogicalPlanBuilder::from(scan("orders"))
        .project(vec![col("id"), (col("amount") * lit(2)).alias("double")])
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(appended_text(&plan, &["orders"]), "Projection: orders.id, orders.amount * Int32(2) AS double\n  TableScan: orders#delta");
}

#[test]
fn now_is_refused() {
    let now = datafusion::functions::datetime::expr_fn::now();
    let plan = LogicalPlanBuilder::from(scan("orders")).project(vec![col("id"), now.alias("at")]).unwrap().build().unwrap();
    assert!(refusal(&plan, &["orders"]).starts_with("`now()` is not deterministic"));
}
