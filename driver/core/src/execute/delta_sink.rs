//! The Delta sink: a task's rows written into its Delta table in one commit (`run`) —
//! streamed into deltalake's writer, or, when the task's engine writes the data files itself
//! and the table takes them as they are (`files_commit`), committed from the engine's add
//! actions without a row passing through the driver.
//!
//! ## Invariants
//! - One commit or none: the rows stream from the plan into deltalake's writer (or merge),
//!   or the engine writes every file first; a failure anywhere — an execution error, a
//!   failed expectation at end of stream, a failed engine write, a lost commit — commits
//!   nothing, so the table stays at its previous version.
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
use deltalake::DeltaTable;
use deltalake::delta_datafusion::planner::DeltaPlanner;
use deltalake::kernel::Transaction;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::SaveMode;
use futures::future::BoxFuture;
use futures::{FutureExt, TryStreamExt};
use viewdag_ir::WriteMode;

use super::batch_guard::{GuardFailure, observe_execution, recorded_or};
use super::data_files::DataFileWriteError;
use super::error::{TaskError, write_failure};
use super::files_commit::{StreamedBecause, commit_engine_files, delta_columns, engine_file_layout};
use super::sink::TaskSink;
use super::stored_types::as_stored;
use crate::engine::TaskPlan;
use crate::execute::increment_merge::merge_increment;
use crate::execute::merge::{MergeCounts, TableWrite, merge_into, refuse_null_keys};
use crate::expect::exec::ExpectationTally;
use crate::expect::{CompiledExpectations, ExpectationExec, failure_message};
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
    /// Who wrote the data files.
    pub written_by: WrittenBy,
    /// Whether the commit replaced the table's columns (an overwrite whose rows' columns
    /// differ from the table's).
    pub schema_replaced: bool,
}

impl WrittenTable {
    /// A merge the driver streamed into `table`: it added the inserted and updated rows.
    fn merged(table: DeltaTable, counts: MergeCounts) -> WrittenTable {
        WrittenTable {
            table,
            rows: counts.inserted + counts.updated,
            merged: Some(counts),
            written_by: WrittenBy::Driver(StreamedBecause::NoFileWriter),
            schema_replaced: false,
        }
    }
}

/// Who wrote a task's data files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WrittenBy {
    /// The driver's writer, from the rows streamed to it, and why they were streamed.
    Driver(StreamedBecause),
    /// The task's engine, where the rows were computed (a cluster's executors): this many
    /// files, committed by the driver.
    Engine {
        /// Data files added.
        files: usize,
    },
}

/// A task's expectations and where their results go.
#[derive(Debug, Clone, Default)]
pub struct TaskChecks {
    /// The task's expectations (none: nothing to check).
    pub expectations: Arc<CompiledExpectations>,
    /// Where the results are left, whether the task commits or not.
    pub tally: ExpectationTally,
}

impl DeltaSink {
    /// Writes `plan`'s rows, checking `checks` on them: as data files by its engine when it
    /// offers to and the table takes them as they are, else streamed into the driver's writer.
    pub async fn write_task(self, plan: TaskPlan, state: Arc<SessionState>, checks: TaskChecks) -> Result<WrittenTable, TaskError> {
        let TaskPlan { rows, data_files } = plan;
        let Some(writer) = data_files else {
            return self.write_rows(rows, state, checks, StreamedBecause::NoFileWriter).await;
        };
        let (table, url) = open_for_writing(&self.target, &self.options).await?;
        let layout = match engine_file_layout(&table, &url, &rows.schema(), &self.write) {
            Ok(layout) => layout,
            Err(because) => return self.write_rows(rows, state, checks, because).await,
        };
        let expectations = (!checks.expectations.is_empty()).then(|| Arc::clone(&checks.expectations));
        let files = match writer.write_data_files(layout.clone(), expectations).await {
            Ok(files) => files,
            Err(DataFileWriteError::Failed(error)) => return Err(error),
            Err(DataFileWriteError::Unsupported(why)) => {
                return self.write_rows(rows, state, checks, StreamedBecause::EngineCannotWrite(why)).await;
            }
        };
        if !checks.expectations.is_empty() {
            let table_name = layout.table_url.to_string();
            let counts = files.expectations.as_ref().ok_or_else(|| TaskError::Write {
                table: table_name.clone(),
                cause: "the engine did not check the task's expectations; nothing was committed".to_string(),
            })?;
            let results = checks.expectations.results(counts);
            let failed = failure_message(&results);
            *checks.tally.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = results;
            if let Some(cause) = failed {
                return Err(TaskError::Write { table: table_name, cause });
            }
        }
        let added = files.adds.len();
        let commit = commit_properties(self.run, table.version().is_none());
        let (table, rows) = commit_engine_files(table, &layout, files, self.write.mode, commit).await?;
        Ok(WrittenTable { table, rows, merged: None, written_by: WrittenBy::Engine { files: added }, schema_replaced: false })
    }

    /// Streams `rows` into the driver's writer (`because` says why not engine-written files),
    /// through an `ExpectationExec` when there are expectations to check.
    pub async fn write_rows(
        self,
        rows: Arc<dyn ExecutionPlan>,
        state: Arc<SessionState>,
        checks: TaskChecks,
        because: StreamedBecause,
    ) -> Result<WrittenTable, TaskError> {
        let DeltaSink { target, options, write, run } = self;
        let TaskChecks { expectations, tally } = checks;
        // The plan's own failure is reported as such, whatever the writer wraps it in; a
        // failed expectation (checked above the observer) keeps its own error.
        let execution_failure = GuardFailure::default();
        let rows = observe_execution(rows, &execution_failure);
        let rows: Arc<dyn ExecutionPlan> =
            if expectations.is_empty() { rows } else { Arc::new(ExpectationExec::new(rows, expectations, tally)) };
        let written =
            write_plan(&target, &options, rows, &state, &write, run).await.map_err(|error| recorded_or(&execution_failure, error))?;
        Ok(WrittenTable { written_by: WrittenBy::Driver(because), ..written })
    }
}

impl TaskSink for DeltaSink {
    type Written = WrittenTable;

    fn consume(self, plan: Arc<dyn ExecutionPlan>, state: Arc<SessionState>) -> BoxFuture<'static, Result<WrittenTable, TaskError>> {
        self.write_rows(plan, state, TaskChecks::default(), StreamedBecause::NoFileWriter).boxed()
    }
}

/// Streams `plan`'s rows into the Delta table at `target` (in a store configured by
/// `options`) in one commit (creating the table if needed) and returns the table, how many
/// rows were written, for a merge what it did, and whether an overwrite replaced the table's
/// columns (when the rows' differ, so a view whose columns changed is written instead of
/// failing every run). The rows are converted to the types the table stores first
/// (`stored_types`). The commit carries viewdag's application transaction at `run`; a
/// concurrent commit to the table fails it (`V0902`).
pub async fn write_plan(
    target: &TableLocation,
    options: &StoreOptions,
    plan: Arc<dyn ExecutionPlan>,
    state: &SessionState,
    write: &TableWrite,
    run: u64,
) -> Result<WrittenTable, TaskError> {
    let TableWrite { mode, partition_by, unique_key: _, delete_not_matched_by_source: _, replace_where, merge_schema, group_merge } = write;
    let mode = *mode;
    // The rows as their table stores them (unsigned integers widened, …): what every reader
    // reads back. A value that does not fit fails the task with its own code.
    let guard_failure = GuardFailure::default();
    let plan = as_stored(plan, &guard_failure)?;
    // A merge key must identify a row: NULL never matches (`NULL = NULL` is not true), so a
    // row with a NULL key would be inserted again by every run. Refused, naming the key.
    let plan = if mode == WriteMode::Merge && group_merge.is_none() {
        // (An increment's group keys match null-safely.)
        refuse_null_keys(plan, &write.unique_key, &guard_failure)?
    } else {
        plan
    };
    let guarded_failure = |error: TaskError| recorded_or(&guard_failure, error);
    let (table, _) = open_for_writing(target, options).await?;
    let input = LogicalPlanBuilder::scan("viewdag_task", provider_as_source(Arc::new(PlannedTable::new(Arc::clone(&plan)))), None)
        .and_then(LogicalPlanBuilder::build)
        .map_err(|error| TaskError::Planning(error.strip_backtrace()))?;
    // The planning session (its object stores serve the plan's scans) with deltalake's planner
    // for the writer's own nodes; the plan is already optimized, so no physical rule runs again.
    let writer_state = SessionStateBuilder::new_from_existing(state.clone())
        .with_query_planner(DeltaPlanner::new())
        .with_physical_optimizer_rules(Vec::new())
        .build();
    let creating = table.version().is_none();
    let commit = commit_properties(run, creating);
    if let Some(group_merge) = group_merge {
        // An incremental refresh merges into the table its last refresh wrote.
        if creating {
            return Err(TaskError::Table(format!("{}: an incremental merge needs the table it refreshes", table_name(target))));
        }
        let (merged, counts) =
            merge_increment(table, input, Arc::new(state.clone()), group_merge, commit).await.map_err(guarded_failure)?;
        return Ok(WrittenTable::merged(merged, counts));
    }
    if mode == WriteMode::Merge && !creating {
        // The merge plans its own join over the new rows, so it keeps the session's physical
        // rules (join selection); the task's plan inside is already optimized.
        let (merged, counts) = merge_into(table, input, Arc::new(state.clone()), write, commit).await.map_err(guarded_failure)?;
        return Ok(WrittenTable::merged(merged, counts));
    }
    let save_mode = match mode {
        // The first merge creates the table: there is nothing to match.
        WriteMode::Overwrite | WriteMode::ReplaceWhere | WriteMode::Merge => SaveMode::Overwrite,
        WriteMode::Append => SaveMode::Append,
    };
    // An overwrite replaces the table's columns when the rows' differ (a renamed column, a
    // new type): without it every later run would fail on the old schema, `--force` included.
    let replaces_schema = mode == WriteMode::Overwrite && !creating && columns_differ(&table, &plan.schema());
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
    } else if replaces_schema {
        builder = builder.with_schema_mode(deltalake::operations::write::SchemaMode::Overwrite);
    }
    let written = builder.await.map_err(|error| guarded_failure(write_failure(&table_name(target), error)))?;
    // Rows written: what this very commit records (deltalake's `operationMetrics` of the
    // version it made), else the plan's metrics.
    let rows = committed_rows(&written).await.or_else(|| plan.metrics().and_then(|metrics| metrics.output_rows())).unwrap_or(0);
    Ok(WrittenTable {
        table: written,
        rows,
        merged: None,
        written_by: WrittenBy::Driver(StreamedBecause::NoFileWriter),
        schema_replaced: replaces_schema,
    })
}

/// Whether the existing `table`'s columns (names and Delta types, in order) differ from those
/// rows of `rows`' schema would create. Nullability is not compared: deltalake writes rows
/// of either into a table of either.
fn columns_differ(table: &DeltaTable, rows: &datafusion::arrow::datatypes::SchemaRef) -> bool {
    let (Ok(state), Ok(wanted)) = (table.snapshot(), delta_columns(rows)) else { return false };
    let existing = state.schema();
    !existing.fields().map(|field| (field.name(), field.data_type())).eq(wanted.fields().map(|field| (field.name(), field.data_type())))
}

/// The Delta table at `target` (a local directory is created if needed; no version yet when
/// it has no log) and its URL. A store's refusal is `TaskError::Storage`.
async fn open_for_writing(target: &TableLocation, options: &StoreOptions) -> Result<(DeltaTable, url::Url), TaskError> {
    let name = table_name(target);
    let url = target.url().map_err(|error| TaskError::Table(error.to_string()))?;
    let table = delta_table_for_writing(target, options).await.map_err(|error| match StorageFailure::of_error(&error) {
        Some(failure) => TaskError::Storage { failure, table: name.clone(), cause: error.to_string() },
        None => TaskError::Table(format!("cannot open {name}: {error}")),
    })?;
    Ok((table, url))
}

/// How every task commit is made: with viewdag's application transaction at `run`, and
/// without retries when it creates the table — deltalake would land a retried first commit
/// as version 1 on top of a concurrent creator's version 0 without removing that one's files.
fn commit_properties(run: u64, creating: bool) -> CommitProperties {
    let commit = CommitProperties::default().with_application_transaction(Transaction::new(APP_ID, i64::try_from(run).unwrap_or(i64::MAX)));
    if creating { commit.with_max_retries(0) } else { commit }
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
