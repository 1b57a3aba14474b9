//! Joins. With `L = L_old ⊎ ΔL` and `R = R_old ⊎ ΔR` (`R` below is the new right side):
//! - inner (and cross): `L ⋈ R = L_old ⋈ R_old ⊎ ΔL ⋈ R ⊎ L_old ⋈ ΔR`, so the change is
//!   `ΔL ⋈ R ∪ L_old ⋈ ΔR` (one term when one side is unchanged); `L_old` scans each
//!   appended relation at its previous version (the driver's time travel);
//! - left outer, left semi, left anti, left mark: their rows are per left row and depend on
//!   all of the right side, so only a left change is an append: `ΔL ⟕ R`; a right change may
//!   match (or stop qualifying) rows already written: refused. Right joins mirror this.
//! - full outer: either side's rows may match rows written padded with nulls: refused.

use datafusion::common::JoinType;
use datafusion::logical_expr::{Join, LogicalPlan};

use crate::incremental::reason::{JoinSide, NotIncremental, Reason};
use crate::incremental::subtree::{SubtreeChange, Subtrees, union_all, with_inputs};

pub fn derive(
    plan: &LogicalPlan,
    join: &Join,
    children: Vec<SubtreeChange>,
    deriver: &dyn Subtrees,
) -> Result<SubtreeChange, NotIncremental> {
    let mut children = children.into_iter();
    let (Some(left), Some(right)) = (children.next(), children.next()) else {
        return Err(Reason::Planning { message: "a join without two inputs".to_string() }.into());
    };
    let left_new = join.left.as_ref().clone();
    let right_new = join.right.as_ref().clone();
    let join_name = join.join_type.to_string().to_lowercase();
    let refuse_left = |reason: fn(String, JoinSide) -> Reason| Err(reason(join_name.clone(), JoinSide::Left).into());
    let refuse_right = |reason: fn(String, JoinSide) -> Reason| Err(reason(join_name.clone(), JoinSide::Right).into());
    let padded = |join, side| Reason::OuterJoinPaddedSideAppended { join, side };
    let filtering = |join, side| Reason::FilteringSideAppended { join, side };
    match (left, right) {
        (SubtreeChange::Unchanged, SubtreeChange::Unchanged) => Ok(SubtreeChange::Unchanged),
        (SubtreeChange::Appended(left_delta), SubtreeChange::Unchanged) => match join.join_type {
            JoinType::Inner | JoinType::Left | JoinType::LeftSemi | JoinType::LeftAnti | JoinType::LeftMark => {
                Ok(SubtreeChange::Appended(with_inputs(plan, vec![left_delta, right_new])?))
            }
            JoinType::Right | JoinType::Full => refuse_left(padded),
            JoinType::RightSemi | JoinType::RightAnti | JoinType::RightMark => refuse_left(filtering),
        },
        (SubtreeChange::Unchanged, SubtreeChange::Appended(right_delta)) => match join.join_type {
            JoinType::Inner | JoinType::Right | JoinType::RightSemi | JoinType::RightAnti | JoinType::RightMark => {
                Ok(SubtreeChange::Appended(with_inputs(plan, vec![left_new, right_delta])?))
            }
            JoinType::Left | JoinType::Full => refuse_right(padded),
            JoinType::LeftSemi | JoinType::LeftAnti | JoinType::LeftMark => refuse_right(filtering),
        },
        (SubtreeChange::Appended(left_delta), SubtreeChange::Appended(right_delta)) => match join.join_type {
            JoinType::Inner => {
                let new_left_rows = with_inputs(plan, vec![left_delta, right_new])?;
                let new_right_rows = with_inputs(plan, vec![deriver.previous(&left_new)?, right_delta])?;
                Ok(SubtreeChange::Appended(union_all(vec![new_left_rows, new_right_rows], &join.schema)?))
            }
            JoinType::Left | JoinType::Full => refuse_right(padded),
            JoinType::Right => refuse_left(padded),
            JoinType::LeftSemi | JoinType::LeftAnti | JoinType::LeftMark => refuse_right(filtering),
            JoinType::RightSemi | JoinType::RightAnti | JoinType::RightMark => refuse_left(filtering),
        },
    }
}
