//! Whether a task's plan can ever be refreshed incrementally: what `check` reports for a
//! `refresh: incremental` task (`V1001`) before any data changed.
//!
//! The plan is derived once per relation it scans, as if only that relation gained rows
//! (each scan standing in for its own delta and previous version: only the plan's shape
//! matters). If no single relation's appends can be absorbed, no run ever refreshes the
//! task incrementally (appends to several relations are refused whenever one of them
//! alone is, since the rules are monotone in the set of appended inputs), and the first
//! relation's refusal says why. A plan that scans nothing never changes: feasible.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::logical_expr::{LogicalPlan, TableSource};

use super::change::{AppendedInput, InputChanges};
use super::derive::derive_increment;
use super::reason::NotIncremental;

/// `Ok` when some relation's appends can be absorbed (or the plan scans nothing); else the
/// refusal for the first scanned relation, in name order.
pub fn refresh_feasibility(plan: &LogicalPlan) -> Result<(), NotIncremental> {
    let mut sources: BTreeMap<String, Arc<dyn TableSource>> = BTreeMap::new();
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            sources.entry(scan.table_name.table().to_string()).or_insert_with(|| Arc::clone(&scan.source));
        }
        Ok(TreeNodeRecursion::Continue)
    });
    let mut first_refusal = None;
    for (relation, source) in sources {
        let appended = AppendedInput { delta: Arc::clone(&source), previous: source };
        match derive_increment(plan, &InputChanges::new().with_appended(relation, appended)) {
            Ok(_) => return Ok(()),
            Err(refusal) => {
                first_refusal.get_or_insert(refusal);
            }
        }
    }
    first_refusal.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use datafusion::common::JoinType;
    use datafusion::functions_window::expr_fn::row_number;
    use datafusion::logical_expr::LogicalPlanBuilder;

    use super::*;
    use crate::incremental::tests::support::scan;

    #[test]
    fn a_left_join_is_feasible_through_its_left_side_and_a_window_never() {
        let left = LogicalPlanBuilder::from(scan("orders"))
            .join(scan("customers"), JoinType::Left, (vec!["customer"], vec!["id"]), None)
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(refresh_feasibility(&left), Ok(()));
        let full = LogicalPlanBuilder::from(scan("orders"))
            .join(scan("customers"), JoinType::Full, (vec!["customer"], vec!["id"]), None)
            .unwrap()
            .build()
            .unwrap();
        assert!(refresh_feasibility(&full).unwrap_err().to_string().starts_with("the right side of a full join"));
        let windowed = LogicalPlanBuilder::from(scan("orders")).window(vec![row_number()]).unwrap().build().unwrap();
        assert!(refresh_feasibility(&windowed).unwrap_err().to_string().starts_with("a window function"));
    }
}
