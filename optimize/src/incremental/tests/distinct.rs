//! The `distinct` rule (`rules/distinct.rs`), alone.

use datafusion::logical_expr::{LogicalPlanBuilder, col, lit};

use super::support::*;
use crate::incremental::increment::ApplyIncrement;

#[test]
fn a_top_distinct_inserts_the_rows_the_table_lacks() {
    let plan = LogicalPlanBuilder::from(scan("orders")).union(scan("returns")).unwrap().distinct().unwrap().build().unwrap();
    let (text, apply) = merged(&plan, &["returns"]);
    assert_eq!(
        text,
        "Distinct:\n  Projection: returns.id AS id, returns.customer AS customer, returns.amount AS amount\n    TableScan: returns#delta"
    );
    let ApplyIncrement::Merge(merge) = apply else { panic!("a merge") };
    assert_eq!(merge.keys, ["id", "customer", "amount"]);
    assert!(merge.measures.is_empty());
    assert_increment_equals_recompute(&plan, &["returns"]);
    assert_increment_equals_recompute(&plan, &["orders", "returns"]);
}

#[test]
fn a_distinct_below_the_top_is_refused() {
    let plan = LogicalPlanBuilder::from(scan("orders")).distinct().unwrap().filter(col("amount").gt(lit(1))).unwrap().build().unwrap();
    assert!(refusal(&plan, &["orders"]).starts_with("a distinct over changed rows below another operator"));
}
