//! The Delta sink: a task's rows streamed into its Delta table in one commit (`run`).
//!
//! ## Invariants
//! - One commit or none: the rows stream from the plan into deltalake's writer (or merge),
//!   and a failure anywhere — an execution error, a failed expectation at end of stream, a
//!   lost commit — commits nothing, so the table stays at its previous version.
//! - Every commit carries the run's number as viewdag's Delta application transaction
//!   (`run_state::APP_ID`), which is how a resumed run knows an append already landed.
//! - A table's first commit is made without retries and every commit carries the `txn`, so
//!   a concurrent writer's commit makes the task fail (`V0902`) instead of landing on top
//!   of it. In an object store the commit is deltalake's conditional PUT of the log entry
//!   (`If-None-Match: *` on S3), so the same holds between processes and machines.
//! - A store's refusal (credentials, missing bucket, unreachable endpoint) is the task's
//!   `TaskError::Storage` with its own code (`V0910`–`V0912`).

use std::sync::Arc;

use datafusion::datasource::provider_as_source;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::physical_plan::ExecutionPlan;
use deltalake::delta_datafusion::planner::DeltaPlanner;
use deltalake::kernel::Transaction;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::SaveMode;
use deltalake::{DeltaTable, DeltaTableError};
use futures::future::BoxFuture;
use futures::{FutureExt, TryStreamExt};
use viewdag_ir::WriteMode;

use super::error::{TaskError, is_commit_conflict};
use super::sink::TaskSink;
use crate::execute::merge::{MergeCounts, TableWrite, merge_into};
use crate::planned_table::PlannedTable;
use crate::run_state::APP_ID;
use crate::storage::location::delta_table_for_writing;
use crate::storage::{StorageFailure, StoreOptions, TableLocation};

/// Writes a task's rows into the Delta table at `target`, as `write` says, in run `run`.
#[derive(Debug, Clone)]
pub struct DeltaSink {
    /// The table's location.
    pub target: TableLocation,
    /// Its store's options (none for a local directory).
    pub options: StoreOptions,
    /// How the task writes (mode, partitions, merge key).
    pub write: TableWrite,
    /// The run's number, committed as viewdag's Delta application transaction.
    pub run: u64,
}

/// A task's table, written.
#[derive(Debug)]
pub struct WrittenTable {
    /// The table at the version just committed.
    pub table: DeltaTable,
    /// Rows the commit added (its `operationMetrics`).
    pub rows: usize,
    /// For a `merge` output that merged: rows inserted, updated and deleted.
    pub merged: Option<MergeCounts>,
}

impl TaskSink for DeltaSink {
    type Written = WrittenTable;

    fn consume(self, plan: Arc<dyn ExecutionPlan>, state: Arc<SessionState>) -> BoxFuture<'static, Result<WrittenTable, TaskError>> {
        async move {
            let DeltaSink { target, options, write, run } = self;
            let (table, rows, merged) = write_plan(&target, &options, plan, &state, &write, run).await?;
            Ok(WrittenTable { table, rows, merged })
        }
        .boxed()
    }
}

/// Streams `plan`'s rows into the Delta table at `target` (in a store configured by
/// `options`) in one commit (creating the table if needed) and returns the table, how many
/// rows were written and, for a merge, what it did. deltalake casts types Delta stores
/// differently (e.g. `Utf8View` as `Utf8`). The commit carries viewdag's application
/// transaction at `run`; a concurrent commit to the table fails it (`V0902`).
pub async fn write_plan(
    target: &TableLocation,
    options: &StoreOptions,
    plan: Arc<dyn ExecutionPlan>,
    state: &SessionState,
    write: &TableWrite,
    run: u64,
) -> Result<(DeltaTable, usize, Option<MergeCounts>), TaskError> {
    let TableWrite { mode, partition_by, unique_key: _, delete_not_matched_by_source: _, replace_where, merge_schema } = write;
    let mode = *mode;
    let name = table_name(target);
    let table = delta_table_for_writing(target, options).await.map_err(|error| match StorageFailure::of_error(&error) {
        Some(failure) => TaskError::Storage { failure, table: name.clone(), cause: error.to_string() },
        None => TaskError::Table(format!("cannot open {name}: {error}")),
    })?;
    let input = LogicalPlanBuilder::scan("viewdag_task", provider_as_source(Arc::new(PlannedTable::new(Arc::clone(&plan)))), None)
        .and_then(LogicalPlanBuilder::build)
        .map_err(|error| TaskError::Planning(error.strip_backtrace()))?;
    // The planning session (its object stores serve the plan's scans) with deltalake's planner
    // for the writer's own nodes; the plan is already optimized, so no physical rule runs again.
    let writer_state = SessionStateBuilder::new_from_existing(state.clone())
        .with_query_planner(DeltaPlanner::new())
        .with_physical_optimizer_rules(Vec::new())
        .build();
    // A first commit must not retry: deltalake would land it as version 1 on top of a
    // concurrent creator's version 0 without removing that one's files.
    let creating = table.version().is_none();
    let mut commit =
        CommitProperties::default().with_application_transaction(Transaction::new(APP_ID, i64::try_from(run).unwrap_or(i64::MAX)));
    if creating {
        commit = commit.with_max_retries(0);
    }
    if mode == WriteMode::Merge && !creating {
        // The merge plans its own join over the new rows, so it keeps the session's physical
        // rules (join selection); the task's plan inside is already optimized.
        let (merged, counts) = merge_into(table, input, Arc::new(state.clone()), write, commit).await?;
        let rows = counts.inserted + counts.updated;
        return Ok((merged, rows, Some(counts)));
    }
    let save_mode = match mode {
        // The first merge creates the table: there is nothing to match.
        WriteMode::Overwrite | WriteMode::ReplaceWhere | WriteMode::Merge => SaveMode::Overwrite,
        WriteMode::Append => SaveMode::Append,
    };
    let mut builder = table
        .write(Vec::new())
        .with_input_plan(input)
        .with_session_state(Arc::new(writer_state))
        .with_save_mode(save_mode)
        .with_commit_properties(commit);
    if !partition_by.is_empty() {
        builder = builder.with_partition_columns(partition_by.to_vec());
    }
    if mode == WriteMode::ReplaceWhere
        && let Some(predicate) = replace_where
    {
        builder = builder.with_replace_where(predicate.as_str());
    }
    if *merge_schema {
        builder = builder.with_schema_mode(deltalake::operations::write::SchemaMode::Merge);
    }
    let written = builder.await.map_err(|error| write_failure(&name, error))?;
    // Rows written: what this very commit records (deltalake's `operationMetrics` of the
    // version it made), else the plan's metrics.
    let rows = committed_rows(&written).await.or_else(|| plan.metrics().and_then(|metrics| metrics.output_rows())).unwrap_or(0);
    Ok((written, rows, None))
}

/// `num_added_rows` of the commit `table`'s state is at (the one just made).
async fn committed_rows(table: &DeltaTable) -> Option<usize> {
    let history: Vec<_> = table.history(Some(1)).try_collect().await.ok()?;
    let metrics = history.first()?.info.get("operationMetrics")?;
    metrics.get("num_added_rows")?.as_u64().and_then(|rows| usize::try_from(rows).ok())
}

/// How errors name a table: its directory, or its URL.
fn table_name(target: &TableLocation) -> String {
    match target {
        TableLocation::Local(path) => path.display().to_string(),
        TableLocation::Url(url) => url.to_string(),
    }
}

/// A failed write as the task's error: a commit conflict is `V0902`, a store's refusal its
/// own code.
fn write_failure(table: &str, error: DeltaTableError) -> TaskError {
    let (table, cause) = (table.to_string(), error.to_string());
    if is_commit_conflict(&error) {
        TaskError::CommitConflict { table, cause }
    } else if let Some(failure) = StorageFailure::of_error(&error) {
        TaskError::Storage { failure, table, cause }
    } else {
        TaskError::Write { table, cause }
    }
}
