//! Projection: row by row, so `π(old ⊎ Δ) = π(old) ⊎ π(Δ)` for deterministic expressions
//! (checked over the whole plan); the change is the projection of the input's change.

use datafusion::logical_expr::LogicalPlan;

use crate::incremental::reason::NotIncremental;
use crate::incremental::subtree::{SubtreeChange, only_child, with_inputs};

pub fn derive(plan: &LogicalPlan, children: Vec<SubtreeChange>) -> Result<SubtreeChange, NotIncremental> {
    match only_child(children)? {
        SubtreeChange::Appended(delta) => Ok(SubtreeChange::Appended(with_inputs(plan, vec![delta])?)),
        SubtreeChange::Unchanged => Ok(SubtreeChange::Unchanged),
    }
}
