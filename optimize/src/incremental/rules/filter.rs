//! Filter: `σ(old ⊎ Δ) = σ(old) ⊎ σ(Δ)` for a deterministic predicate (checked over the
//! whole plan), so the change is the filter over the input's change. A predicate's
//! subquery that reads an appended relation is refused before this rule (`derive.rs`).

use datafusion::logical_expr::LogicalPlan;

use crate::incremental::reason::NotIncremental;
use crate::incremental::subtree::{SubtreeChange, only_child, with_inputs};

pub fn derive(plan: &LogicalPlan, children: Vec<SubtreeChange>) -> Result<SubtreeChange, NotIncremental> {
    match only_child(children)? {
        SubtreeChange::Appended(delta) => Ok(SubtreeChange::Appended(with_inputs(plan, vec![delta])?)),
        SubtreeChange::Unchanged => Ok(SubtreeChange::Unchanged),
    }
}
