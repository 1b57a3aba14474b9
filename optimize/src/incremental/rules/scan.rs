//! Scan: an appended relation's scan reads only its appended rows (the driver's `delta`
//! source: the files its new commits added, or its new files); any other scan is unchanged.
//! A scan with a limit of its own (`fetch`) keeps some rows of all, so it is refused.

use std::sync::Arc;

use datafusion::logical_expr::{LogicalPlan, TableScan};

use crate::incremental::change::InputChanges;
use crate::incremental::reason::{NotIncremental, Reason};
use crate::incremental::subtree::SubtreeChange;

pub fn derive(scan: &TableScan, changes: &InputChanges) -> Result<SubtreeChange, NotIncremental> {
    let Some(appended) = changes.appended(scan.table_name.table()) else {
        return Ok(SubtreeChange::Unchanged);
    };
    if scan.fetch.is_some() {
        return Err(Reason::Limit.into());
    }
    Ok(SubtreeChange::Appended(LogicalPlan::TableScan(TableScan { source: Arc::clone(&appended.delta), ..scan.clone() })))
}
