//! The `limit` rule (`rules/limit.rs`), alone.

use datafusion::logical_expr::LogicalPlanBuilder;

use super::support::*;

#[test]
fn a_limit_over_appended_rows_is_refused_and_over_unchanged_ones_is_not() {
    let limited = LogicalPlanBuilder::from(scan("dims")).limit(0, Some(5)).unwrap().build().unwrap();
    assert_eq!(refusal(&limited, &["dims"]), "a limit over changed rows: which rows it keeps depends on all of them");
    let joined = LogicalPlanBuilder::from(scan("orders"))
        .cross_join(LogicalPlanBuilder::from(limited).alias("top").unwrap().build().unwrap())
        .unwrap()
        .build()
        .unwrap();
    assert!(appended_text(&joined, &["orders"]).contains("Limit: skip=0, fetch=5\n      TableScan: dims"));
}
