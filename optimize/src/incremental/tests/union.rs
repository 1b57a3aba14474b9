//! The `union` rule (`rules/union.rs`), alone.

use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder, col};

use super::support::*;

/// The output column names of `plan`.
fn names(plan: &LogicalPlan) -> Vec<String> {
    plan.schema().fields().iter().map(|field| field.name().clone()).collect()
}

#[test]
fn an_unchanged_input_is_left_out() {
    let plan = LogicalPlanBuilder::from(scan("orders")).union(scan("returns")).unwrap().build().unwrap();
    let returns = appended_text(&plan, &["returns"]);
    assert!(returns.starts_with("Projection: ") && returns.ends_with("\n  TableScan: returns#delta"), "{returns}");
    assert!(!returns.contains("orders") && !returns.contains("EmptyRelation"), "{returns}");
    let both = appended_text(&plan, &["orders", "returns"]);
    assert!(both.starts_with("Union\n") && both.contains("TableScan: orders#delta") && both.contains("TableScan: returns#delta"), "{both}");
    assert_increment_equals_recompute(&plan, &["returns"]);
    assert_increment_equals_recompute(&plan, &["orders", "returns"]);
}

/// A union names its columns as its first input does, whatever the others call theirs: the
/// change of a differently named input alone is renamed to the union's columns (before, an
/// optimizer rule dropping the empty unchanged input kept the union's names over the
/// change's columns and failed: "No field named id").
#[test]
fn the_change_of_a_differently_named_input_reads_as_the_union() {
    let renamed = LogicalPlanBuilder::from(scan("returns"))
        .project(vec![col("id").alias("return_id"), col("customer").alias("return_customer"), col("amount").alias("return_amount")])
        .unwrap()
        .build()
        .unwrap();
    let union = LogicalPlanBuilder::from(scan("orders")).union(renamed).unwrap().build().unwrap();
    let increment = crate::incremental::derive_increment(&union, &changes(&["returns"])).expect("derived");
    assert_eq!(names(&increment.plan), names(&union));
    let plan = LogicalPlanBuilder::from(union).project(vec![col("id"), col("amount")]).unwrap().build().unwrap();
    assert_increment_equals_recompute(&plan, &["returns"]);
    assert_increment_equals_recompute(&plan, &["orders"]);
}
