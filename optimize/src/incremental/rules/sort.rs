//! Sort: a table has no order, so a sort without a limit changes no rows and its change is
//! its input's (the sort is dropped). A sort with a limit keeps the first rows of all of
//! them (top-N): refused.

use datafusion::logical_expr::Sort;

use crate::incremental::reason::{NotIncremental, Reason};
use crate::incremental::subtree::{SubtreeChange, only_child};

pub fn derive(sort: &Sort, children: Vec<SubtreeChange>) -> Result<SubtreeChange, NotIncremental> {
    if sort.fetch.is_some() {
        return Err(Reason::SortWithLimit.into());
    }
    only_child(children)
}
