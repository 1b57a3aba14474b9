//! The `unsupported` rule (`rules/unsupported.rs`), alone.

use datafusion::logical_expr::LogicalPlanBuilder;

use super::support::*;

#[test]
fn an_operator_without_a_rule_is_named() {
    let plan = LogicalPlanBuilder::from(scan("orders")).explain(false, false).unwrap().build().unwrap();
    assert_eq!(refusal(&plan, &["orders"]), "no incremental rule for the operator `Explain`");
}
