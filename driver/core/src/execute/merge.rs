//! How a task's rows land in its Delta table beyond a plain overwrite or append:
//! `mode: merge` (an upsert by `unique_key` through deltalake's `DeltaTable::merge`, one
//! commit, optionally deleting target rows the new rows do not match) and
//! `mode: replace_where` (an overwrite of the rows matching a predicate), with explicit
//! schema evolution (`schema_mode: merge`).
//!
//! ## Invariants
//! - One commit per task, or none: the key's uniqueness in the new rows is checked while
//!   they stream (an `ExpectationExec` check), and so is its non-nullness
//!   ([`refuse_null_keys`], `V0511`: a NULL key matches nothing, so every run would insert its
//!   row again); either fails the stream before deltalake commits.
//! - Column names are never parsed: `a.b` is one column in the merge's predicate and
//!   assignments.
//! - With `when_not_matched_by_source: delete`, the table ends up holding exactly the new
//!   rows that passed their expectations: a target row whose new row a `drop` expectation
//!   removed is deleted like any row the new rows no longer have.
//! - The first merge into a table that does not exist yet creates it with the new rows
//!   (there is nothing to match).
//! - Without `schema_mode: merge` a new column is an error of the task, never a silent
//!   schema change.
//! - A concurrent commit that deltalake cannot reconcile fails the task with deltalake's
//!   typed conflict in its message.

use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::Column;
use datafusion::dataframe::DataFrame;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_plan::ExecutionPlan;
use deltalake::DeltaTable;
use deltalake::kernel::transaction::CommitProperties;
use viewdag_ir::{Code, NotMatchedBySource, OutputSpec, SchemaEvolution, WriteMode};
use viewdag_optimize::incremental::GroupMerge;

use crate::execute::batch_guard::{GuardFailure, guard};
use crate::execute::error::{TaskError, is_commit_conflict};
use crate::storage::StorageFailure;

/// Everything that decides how a task writes its table.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct TableWrite {
    /// Overwrite, append, merge or replace-where.
    pub mode: WriteMode,
    /// Partition columns of the table.
    pub partition_by: Vec<String>,
    /// The merge key (`mode: merge` only).
    pub unique_key: Vec<String>,
    /// Delete target rows the source no longer has (`when_not_matched_by_source: delete`).
    pub delete_not_matched_by_source: bool,
    /// The predicate of `mode: replace_where`.
    pub replace_where: Option<String>,
    /// Add new columns to the table's schema (`schema_mode: merge`).
    pub merge_schema: bool,
    /// An incremental refresh's merge by group keys (see `increment_merge`); `mode` is then
    /// `Merge`. Not part of the serialized form (the run state's fingerprint): it is derived
    /// from the plan, which the task digest covers, and never declared.
    #[serde(skip)]
    pub group_merge: Option<GroupMerge>,
}

impl TableWrite {
    /// How an output writes.
    pub fn of_output(spec: &OutputSpec) -> TableWrite {
        TableWrite {
            mode: spec.mode,
            partition_by: spec.partition_by.clone(),
            unique_key: if spec.mode == WriteMode::Merge { spec.unique_key.clone() } else { Vec::new() },
            delete_not_matched_by_source: spec.when_not_matched_by_source == Some(NotMatchedBySource::Delete),
            replace_where: spec.replace_where.clone(),
            merge_schema: spec.schema_mode == Some(SchemaEvolution::Merge),
            group_merge: None,
        }
    }

    /// How a materialized view writes: a whole overwrite.
    pub fn materialized() -> TableWrite {
        TableWrite::default()
    }
}

/// What a merge did (also as the run report's `merged`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct MergeCounts {
    /// Rows inserted.
    pub inserted: usize,
    /// Rows updated.
    pub updated: usize,
    /// Rows deleted.
    pub deleted: usize,
}

/// `plan` refusing rows whose merge key has a NULL (`V0511`): such a row matches nothing, not
/// even itself, and every run would insert it again.
pub fn refuse_null_keys(
    plan: Arc<dyn ExecutionPlan>,
    keys: &[String],
    failure: &GuardFailure,
) -> Result<Arc<dyn ExecutionPlan>, TaskError> {
    let schema = plan.schema();
    let columns: Vec<(usize, String)> = keys
        .iter()
        .map(|key| schema.index_of(key).map(|index| (index, key.clone())))
        .collect::<Result<_, _>>()
        .map_err(|error| TaskError::Planning(format!("the merge key is not in the rows: {error}")))?;
    let all_keys = keys.join(", ");
    let map = Arc::new(move |batch: &RecordBatch| {
        for (index, key) in &columns {
            let nulls = batch.column(*index).null_count();
            if nulls > 0 {
                return Err(TaskError::MergeKeyNull {
                    key: key.clone(),
                    message: format!(
                        "error[{code}]: {nulls} new row(s) have a NULL `{key}`, part of the merge key ({all_keys}); a NULL key matches no row, so every run would insert them again — nothing was committed (filter them out, or give them a key with `coalesce`)",
                        code = Code::MergeKeyNull.id()
                    ),
                });
            }
        }
        Ok(batch.clone())
    });
    Ok(guard(plan, schema, format!("merge key not null [{}]", keys.join(", ")), map, failure))
}

/// Upserts `input`'s rows into `table` by `write.unique_key` in one commit (made with
/// `commit`: viewdag's `txn`). Returns the table and how many rows were inserted, updated
/// and deleted.
pub async fn merge_into(
    table: DeltaTable,
    input: LogicalPlan,
    state: Arc<SessionState>,
    write: &TableWrite,
    commit: CommitProperties,
) -> Result<(DeltaTable, MergeCounts), TaskError> {
    let table_location = table.table_url().to_string();
    let columns: Vec<String> = input.schema().fields().iter().map(|field| field.name().clone()).collect();
    if !write.merge_schema {
        let table_columns: Vec<String> = table
            .snapshot()
            .map_err(|error| TaskError::Table(error.to_string()))?
            .schema()
            .fields()
            .map(|field| field.name().to_string())
            .collect();
        let added: Vec<&String> = columns.iter().filter(|column| !table_columns.contains(column)).collect();
        if !added.is_empty() {
            let added: Vec<String> = added.iter().map(|column| format!("`{column}`")).collect();
            return Err(TaskError::SchemaMismatch(format!(
                "the new rows add column(s) {} that the table does not have; set `schema_mode: merge` to add them (nothing was written)",
                added.join(", ")
            )));
        }
    }
    let source = DataFrame::new(state.as_ref().clone(), input);
    // Names are never parsed: a column named `a.b` is one column, not `b` of relation `a`.
    let qualified = |side: &str, name: &str| Expr::Column(Column::new(Some(side), name));
    let column = |name: &str| Column::new_unqualified(name);
    let predicate = write
        .unique_key
        .iter()
        .map(|key| qualified("target", key).eq(qualified("source", key)))
        .reduce(Expr::and)
        .ok_or_else(|| TaskError::Planning("a merge needs a unique_key".to_string()))?;
    let mut builder = table
        .merge(source, predicate)
        .with_source_alias("source")
        .with_target_alias("target")
        .with_merge_schema(write.merge_schema)
        // Streaming: the new rows are read once (the task's plan executes once), not first
        // collected to derive an early filter on the target.
        .with_streaming(true)
        .with_session_state(state)
        .with_commit_properties(commit);
    builder = builder
        .when_matched_update(|update| columns.iter().fold(update, |update, name| update.update(column(name), qualified("source", name))))
        .map_err(|error| TaskError::Planning(error.to_string()))?;
    builder = builder
        .when_not_matched_insert(|insert| columns.iter().fold(insert, |insert, name| insert.set(column(name), qualified("source", name))))
        .map_err(|error| TaskError::Planning(error.to_string()))?;
    if write.delete_not_matched_by_source {
        builder = builder.when_not_matched_by_source_delete(|delete| delete).map_err(|error| TaskError::Planning(error.to_string()))?;
    }
    let (table, metrics) = builder.await.map_err(|error| match StorageFailure::of_error(&error) {
        // The store refused (credentials, bucket, endpoint): its own code, as for a write.
        Some(failure) if !is_commit_conflict(&error) => {
            TaskError::Storage { failure, table: table_location.clone(), cause: error.to_string() }
        }
        _ => TaskError::Merge { conflict: is_commit_conflict(&error), cause: error.to_string() },
    })?;
    Ok((
        table,
        MergeCounts {
            inserted: metrics.num_target_rows_inserted,
            updated: metrics.num_target_rows_updated,
            deleted: metrics.num_target_rows_deleted,
        },
    ))
}
