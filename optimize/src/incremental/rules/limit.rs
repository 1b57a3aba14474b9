//! Limit (and offset): which rows it keeps depends on every row of its input, so a change
//! of the input is refused (a full refresh).

use crate::incremental::reason::{NotIncremental, Reason};
use crate::incremental::subtree::SubtreeChange;

pub fn derive() -> Result<SubtreeChange, NotIncremental> {
    Err(Reason::Limit.into())
}
