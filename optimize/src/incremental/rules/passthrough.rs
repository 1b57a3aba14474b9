//! Operators that act row by row without expressions of their own to check: a subquery
//! alias (how an inlined view is named), a repartition, an unnest (each input row's list
//! becomes rows of its own). The change is the operator over the input's change.

use datafusion::logical_expr::LogicalPlan;

use crate::incremental::reason::NotIncremental;
use crate::incremental::subtree::{SubtreeChange, only_child, with_inputs};

pub fn derive(plan: &LogicalPlan, children: Vec<SubtreeChange>) -> Result<SubtreeChange, NotIncremental> {
    match only_child(children)? {
        SubtreeChange::Appended(delta) => Ok(SubtreeChange::Appended(with_inputs(plan, vec![delta])?)),
        SubtreeChange::Unchanged => Ok(SubtreeChange::Unchanged),
    }
}
