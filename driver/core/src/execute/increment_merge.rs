//! An incremental refresh's merge: the increment of a top aggregate or `distinct` (one row
//! per group its appended rows touch) merged into the task's table by the group keys, in one
//! commit, through deltalake's streaming merge. What the merge computes comes from the
//! derivation's own description (`viewdag_optimize::incremental::GroupMerge`): keys matched
//! null-safely, each measure combined with the table's value (`count`/`sum` added, `min`/`max`
//! kept, a recomputed group replaced), groups the table lacks inserted.
//!
//! ## Invariants
//! - One commit or none, carrying viewdag's `txn` like every commit.
//! - Only touched groups change; no row of the table is deleted.

use std::sync::Arc;

use datafusion::dataframe::DataFrame;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::LogicalPlan;
use deltalake::DeltaTable;
use deltalake::kernel::transaction::CommitProperties;
use viewdag_optimize::incremental::GroupMerge;
use viewdag_optimize::incremental::increment::qualified;

use crate::execute::error::{TaskError, is_commit_conflict};
use crate::execute::merge::MergeCounts;

const TARGET: &str = "target";
const SOURCE: &str = "source";

/// Merges the increment `input` into `table` as `merge` says, in one commit made with
/// `commit`.
pub async fn merge_increment(
    table: DeltaTable,
    input: LogicalPlan,
    state: Arc<SessionState>,
    merge: &GroupMerge,
    commit: CommitProperties,
) -> Result<(DeltaTable, MergeCounts), TaskError> {
    let columns: Vec<String> = input.schema().fields().iter().map(|field| field.name().clone()).collect();
    let source = DataFrame::new(state.as_ref().clone(), input);
    let planning = |error: deltalake::DeltaTableError| TaskError::Planning(error.to_string());
    let mut builder = table
        .merge(source, merge.predicate(TARGET, SOURCE))
        .with_source_alias(SOURCE)
        .with_target_alias(TARGET)
        // Streaming: the increment's plan executes once.
        .with_streaming(true)
        .with_session_state(state)
        .with_commit_properties(commit);
    let updates = merge.updates(TARGET, SOURCE);
    if !updates.is_empty() {
        builder = builder
            .when_matched_update(|update| updates.into_iter().fold(update, |update, (column, value)| update.update(column, value)))
            .map_err(planning)?;
    }
    builder = builder
        .when_not_matched_insert(|insert| {
            columns.iter().fold(insert, |insert, column| insert.set(column.as_str(), qualified(SOURCE, column)))
        })
        .map_err(planning)?;
    let (table, metrics) =
        builder.await.map_err(|error| TaskError::Merge { conflict: is_commit_conflict(&error), cause: error.to_string() })?;
    Ok((
        table,
        MergeCounts {
            inserted: metrics.num_target_rows_inserted,
            updated: metrics.num_target_rows_updated,
            deleted: metrics.num_target_rows_deleted,
        },
    ))
}
