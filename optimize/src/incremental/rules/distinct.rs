//! `distinct` (and `union` with `distinct: true`): a set only grows when rows are appended,
//! so at the task's top its change is the distinct appended rows, merged by every column
//! (nulls matching nulls) inserting only the rows the table lacks. Below the top it is
//! refused: which appended rows are new depends on the rows already there. `DISTINCT ON`
//! keeps one row per group, chosen among all of them: refused.

use datafusion::logical_expr::{Distinct, LogicalPlan};

use crate::incremental::increment::GroupMerge;
use crate::incremental::reason::{NotIncremental, Reason};
use crate::incremental::subtree::{SubtreeChange, Subtrees, with_inputs};

/// A `distinct` below the task's top, over changed rows.
pub fn derive_below_top() -> Result<SubtreeChange, NotIncremental> {
    Err(Reason::AggregateBelowTop { operator: "a distinct" }.into())
}

/// The merge of a task whose top operator is a `distinct` (`None`: it is not).
pub fn top_level(plan: &LogicalPlan, deriver: &dyn Subtrees) -> Option<Result<(LogicalPlan, GroupMerge), NotIncremental>> {
    let LogicalPlan::Distinct(distinct) = plan else { return None };
    Some(match distinct {
        Distinct::On(_) => Err(Reason::DistinctOn.into()),
        Distinct::All(input) => match deriver.subtree(input) {
            Ok(SubtreeChange::Appended(delta)) => with_inputs(plan, vec![delta]).map(|delta| {
                let keys = plan.schema().fields().iter().map(|field| field.name().clone()).collect();
                (delta, GroupMerge { keys, measures: Vec::new(), recomputes_touched_groups: false })
            }),
            Ok(SubtreeChange::Unchanged) => Err(Reason::NothingAppended.into()),
            Err(refusal) => Err(refusal),
        },
    })
}
