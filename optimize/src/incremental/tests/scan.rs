//! The `scan` rule (`rules/scan.rs`), alone.

use super::support::*;

#[test]
fn an_appended_scan_reads_its_delta_and_others_stay() {
    let plan = scan("orders");
    assert_eq!(appended_text(&plan, &["orders"]), "TableScan: orders#delta");
    assert_eq!(refusal(&plan, &[]), "the plan reads none of the inputs that gained rows");
}
