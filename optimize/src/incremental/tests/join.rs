//! The `join` rule (`rules/join.rs`), alone.

use datafusion::common::JoinType;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder, col};

use super::support::*;

fn joined(kind: JoinType) -> LogicalPlan {
    LogicalPlanBuilder::from(scan("orders")).join(scan("customers"), kind, (vec!["customer"], vec!["id"]), None).unwrap().build().unwrap()
}

#[test]
fn an_inner_join_joins_each_side_s_new_rows_with_the_other_side() {
    assert_eq!(
        appended_text(&joined(JoinType::Inner), &["orders"]),
        "Inner Join: orders.customer = customers.id\n  TableScan: orders#delta\n  TableScan: customers"
    );
    assert_eq!(
        appended_text(&joined(JoinType::Inner), &["orders", "customers"]),
        "Projection: __viewdag_column_0 AS id, __viewdag_column_1 AS customer, __viewdag_column_2 AS amount, __viewdag_column_3 AS id, __viewdag_column_4 AS name\n  Union\n    Projection: orders.id AS __viewdag_column_0, orders.customer AS __viewdag_column_1, orders.amount AS __viewdag_column_2, customers.id AS __viewdag_column_3, customers.name AS __viewdag_column_4\n      Inner Join: orders.customer = customers.id\n        TableScan: orders#delta\n        TableScan: customers\n    Projection: orders.id AS __viewdag_column_0, orders.customer AS __viewdag_column_1, orders.amount AS __viewdag_column_2, customers.id AS __viewdag_column_3, customers.name AS __viewdag_column_4\n      Inner Join: orders.customer = customers.id\n        TableScan: orders#previous\n        TableScan: customers#delta"
    );
}

#[test]
fn both_sides_appended_keep_the_join_s_qualified_schema() {
    let plan = joined(JoinType::Inner);
    let increment = crate::incremental::derive_increment(&plan, &changes(&["orders", "customers"])).unwrap();
    assert_eq!(increment.plan.schema().columns(), plan.schema().columns());
}

#[test]
fn outer_semi_and_anti_joins_take_only_their_preserved_side_s_new_rows() {
    assert_eq!(
        appended_text(&joined(JoinType::Left), &["orders"]),
        "Left Join: orders.customer = customers.id\n  TableScan: orders#delta\n  TableScan: customers"
    );
    assert_eq!(
        refusal(&joined(JoinType::Left), &["customers"]),
        "the right side of a left join gained rows: rows written padded with nulls may now match (an update, not an append)"
    );
    assert_eq!(
        refusal(&joined(JoinType::Full), &["orders"]),
        "the left side of a full join gained rows: rows written padded with nulls may now match (an update, not an append)"
    );
    assert!(appended_text(&joined(JoinType::LeftAnti), &["orders"]).starts_with("LeftAnti Join"));
    assert_eq!(
        refusal(&joined(JoinType::LeftSemi), &["customers"]),
        "the right side of a leftsemi join gained rows: rows already written may start or stop qualifying"
    );
    assert!(appended_text(&joined(JoinType::Right), &["customers"]).starts_with("Right Join"));
    assert!(refusal(&joined(JoinType::Right), &["orders", "customers"]).starts_with("the left side of a right join"));
}

/// The join's columns with unique names (as every view's are).
fn named(kind: JoinType) -> LogicalPlan {
    let mut columns = vec![col("orders.id").alias("order"), col("orders.amount")];
    if !matches!(kind, JoinType::LeftSemi | JoinType::LeftAnti) {
        columns.push(col("customers.name"));
    }
    LogicalPlanBuilder::from(joined(kind)).project(columns).unwrap().build().unwrap()
}

#[test]
fn join_increments_equal_recomputing() {
    for kind in [JoinType::Inner, JoinType::Left, JoinType::LeftSemi, JoinType::LeftAnti] {
        assert_increment_equals_recompute(&named(kind), &["orders"]);
    }
    assert_increment_equals_recompute(&named(JoinType::Inner), &["orders", "customers"]);
    assert_increment_equals_recompute(&named(JoinType::Right), &["customers"]);
}
