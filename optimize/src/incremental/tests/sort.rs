//! The `sort` rule (`rules/sort.rs`), alone.

use datafusion::logical_expr::{LogicalPlanBuilder, col};

use super::support::*;

#[test]
fn a_sort_is_dropped_and_a_top_n_refused() {
    let sorted = LogicalPlanBuilder::from(scan("orders")).sort(vec![col("amount").sort(false, true)]).unwrap();
    let plan = sorted.clone().alias("sorted").unwrap().build().unwrap();
    assert_eq!(appended_text(&plan, &["orders"]), "SubqueryAlias: sorted\n  TableScan: orders#delta");
    let top = LogicalPlanBuilder::from(scan("orders")).sort_with_limit(vec![col("amount").sort(false, true)], Some(3)).unwrap();
    let plan = top.alias("top").unwrap().build().unwrap();
    assert_eq!(
        refusal(&plan, &["orders"]),
        "a sort with a limit (top-N) over changed rows: new rows can push old ones out (in view `top`)"
    );
}
