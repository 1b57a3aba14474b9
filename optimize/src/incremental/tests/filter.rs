//! The `filter` rule (`rules/filter.rs`), alone.

use datafusion::logical_expr::{LogicalPlanBuilder, col, lit};

use super::support::*;

#[test]
fn a_filter_applies_to_the_appended_rows() {
    let plan = LogicalPlanBuilder::from(scan("orders")).filter(col("amount").gt(lit(10))).unwrap().build().unwrap();
    assert_eq!(appended_text(&plan, &["orders"]), "Filter: orders.amount > Int32(10)\n  TableScan: orders#delta");
}

#[test]
fn a_random_predicate_is_refused_even_over_an_unchanged_input() {
    let random = datafusion::functions::math::expr_fn::random();
    let plan = LogicalPlanBuilder::from(scan("orders")).filter(random.lt(lit(0.5))).unwrap().build().unwrap();
    assert_eq!(refusal(&plan, &["orders"]), "`random()` is not deterministic: a refresh would not reproduce the rows already written");
}
