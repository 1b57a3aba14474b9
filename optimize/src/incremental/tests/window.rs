//! The `window` rule (`rules/window.rs`), alone.

use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::LogicalPlanBuilder;

use super::support::*;

#[test]
fn a_window_over_appended_rows_is_refused_with_its_function() {
    let plan = LogicalPlanBuilder::from(scan("orders")).window(vec![row_number()]).unwrap().build().unwrap();
    assert_eq!(refusal(&plan, &["orders"]), "a window function (`row_number()`) over changed rows: new rows change the values of old ones");
}
