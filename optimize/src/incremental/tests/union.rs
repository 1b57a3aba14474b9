//! The `union` rule (`rules/union.rs`), alone.

use datafusion::logical_expr::LogicalPlanBuilder;

use super::support::*;

#[test]
fn an_unchanged_input_contributes_no_rows() {
    let plan = LogicalPlanBuilder::from(scan("orders")).union(scan("returns")).unwrap().build().unwrap();
    assert_eq!(appended_text(&plan, &["returns"]), "Union\n  EmptyRelation: rows=0\n  TableScan: returns#delta");
    assert_eq!(appended_text(&plan, &["orders", "returns"]), "Union\n  TableScan: orders#delta\n  TableScan: returns#delta");
}
