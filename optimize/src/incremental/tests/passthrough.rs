//! The `passthrough` rule (`rules/passthrough.rs`), alone.

use datafusion::logical_expr::LogicalPlanBuilder;

use super::support::*;

#[test]
fn an_alias_keeps_its_name_over_the_appended_rows() {
    let plan = LogicalPlanBuilder::from(scan("orders")).alias("paid").unwrap().build().unwrap();
    assert_eq!(appended_text(&plan, &["orders"]), "SubqueryAlias: paid\n  TableScan: orders#delta");
}
