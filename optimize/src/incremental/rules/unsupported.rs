//! Every operator without a rule of its own (a recursive query, an extension node, …):
//! refused, naming it, when its input changed.

use datafusion::logical_expr::LogicalPlan;

use crate::incremental::reason::{NotIncremental, Reason};
use crate::incremental::subtree::SubtreeChange;

pub fn derive(plan: &LogicalPlan) -> Result<SubtreeChange, NotIncremental> {
    let operator = plan.display().to_string().split(':').next().unwrap_or_default().trim().to_string();
    Err(Reason::UnsupportedOperator { operator }.into())
}
