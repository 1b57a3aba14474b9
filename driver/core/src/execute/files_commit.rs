//! A task whose engine writes its data files itself (see `data_files`): whether the task's
//! table takes engine-written files as they are — the layout every file must follow — and
//! the one commit of their add actions, with the same `txn` and conflict rules as the
//! streaming writer (`delta_sink`).
//!
//! The layout's columns are the rows' stored types (`viewdag_ir::delta_types`), so an
//! engine's files hold what the driver's writer would (`stored_types`). Engine-written files
//! are committed only where the commit is exactly what deltalake's own writer would make from
//! the same rows: a plain `overwrite` or `append`, into a table
//! that does not exist yet, or whose columns, partitioning and protocol are the rows' as
//! they are. Anything else — merge, replace_where, schema evolution, a table whose columns
//! differ, a protocol with features (constraints, generated columns, change data feed,
//! deletion vectors, column mapping), an append-only table being overwritten — streams the
//! rows through the driver instead ([`StreamedBecause`]), where deltalake's writer applies
//! its full rules and reports its own errors.
//!
//! ## Invariants
//! - The layout is read from the table the commit is made against (opened before the engine
//!   writes anything), so a concurrent writer's commit after that is a conflict (`V0902`),
//!   never files committed against a table they do not fit.
//! - One commit or none: the add actions of every file, the removes of an overwrite and, for
//!   a table's first commit, its protocol and metadata, in one version with viewdag's `txn`.
//! - A first commit is made without retries (as in `delta_sink`).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Schema, SchemaRef};
use deltalake::kernel::engine::arrow_conversion::{TryIntoArrow, TryIntoKernel};
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties, TableReference};
use deltalake::kernel::{Action, StructType};
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::table::config::DEFAULT_TARGET_FILE_SIZE;
use deltalake::table::state::DeltaTableState;
use deltalake::{DeltaTable, DeltaTableError};
use viewdag_ir::WriteMode;
use viewdag_ir::delta_types::delta_stored_schema;

use super::data_files::{DataFileLayout, StatisticsColumns, WrittenDataFiles};
use super::error::{TaskError, write_failure};
use crate::execute::merge::TableWrite;

/// Why a task's rows stream through the driver although its engine could write the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamedBecause {
    /// The engine offers no data-file writer (the local engine).
    NoFileWriter,
    /// The task checks expectations on its rows before they are committed.
    Expectations,
    /// `merge` and `replace_where` read the table while they write it.
    WriteMode(WriteMode),
    /// `schema_mode: merge` may change the table's schema.
    SchemaEvolution,
    /// The rows' columns are not the table's (names, types, nullability or order).
    ColumnsDiffer,
    /// The table is partitioned differently from the output's `partition_by`.
    PartitioningDiffers {
        /// The table's partition columns.
        table: Vec<String>,
    },
    /// The table's protocol has features a plain file commit would not honour.
    TableFeatures(String),
    /// The table is append-only and the task overwrites it.
    AppendOnly,
    /// The rows have no Delta schema, or the table's log cannot be read: the driver's writer
    /// reports why.
    Unreadable(String),
    /// The engine tried and could not write data files (nothing was written).
    EngineCannotWrite(String),
}

impl fmt::Display for StreamedBecause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamedBecause::NoFileWriter => f.write_str("the engine does not write data files"),
            StreamedBecause::Expectations => f.write_str("its expectations are checked on the rows before the commit"),
            StreamedBecause::WriteMode(mode) => {
                let mode = if *mode == WriteMode::Merge { "merge" } else { "replace_where" };
                write!(f, "mode `{mode}` reads the table while writing it")
            }
            StreamedBecause::SchemaEvolution => f.write_str("`schema_mode: merge` may change the table's schema"),
            StreamedBecause::ColumnsDiffer => f.write_str("the rows' columns differ from the table's"),
            StreamedBecause::PartitioningDiffers { table } => write!(f, "the table is partitioned by {table:?}"),
            StreamedBecause::TableFeatures(features) => write!(f, "the table's protocol has {features}"),
            StreamedBecause::AppendOnly => f.write_str("the table is append-only"),
            StreamedBecause::Unreadable(why) => f.write_str(why),
            StreamedBecause::EngineCannotWrite(why) => write!(f, "the engine cannot write data files: {why}"),
        }
    }
}

/// The layout engine-written files must follow to be committed into `table` (opened at
/// `table_url`; no version when it does not exist yet) as `write` says, for rows of
/// `rows`' schema — or why the rows must stream through the driver instead.
pub fn engine_file_layout(
    table: &DeltaTable,
    table_url: &url::Url,
    rows: &SchemaRef,
    write: &TableWrite,
) -> Result<DataFileLayout, StreamedBecause> {
    let TableWrite { mode, partition_by, unique_key: _, delete_not_matched_by_source: _, replace_where: _, merge_schema, group_merge: _ } =
        write;
    match mode {
        WriteMode::Overwrite | WriteMode::Append => {}
        WriteMode::Merge | WriteMode::ReplaceWhere => return Err(StreamedBecause::WriteMode(*mode)),
    }
    if *merge_schema {
        return Err(StreamedBecause::SchemaEvolution);
    }
    // The files hold the rows as their table stores them (`viewdag_ir::delta_types`:
    // unsigned integers widened, timestamps in microseconds, …), like the driver's writer's:
    // the engine casts each batch to the layout, refusing a value that does not fit.
    let stored = delta_stored_schema(rows).map_err(|(column, why)| StreamedBecause::Unreadable(format!("column `{column}`: {why}")))?;
    let columns = delta_columns(&Arc::new(stored)).map_err(|error| StreamedBecause::Unreadable(error.to_string()))?;
    let layout = |schema: Schema, statistics: StatisticsColumns, target_file_size: u64| DataFileLayout {
        table_url: table_url.clone(),
        schema: Arc::new(schema),
        partition_columns: partition_by.clone(),
        statistics,
        target_file_size,
    };
    if table.version().is_none() {
        let arrow: Schema = (&columns).try_into_arrow().map_err(|error| StreamedBecause::Unreadable(error.to_string()))?;
        if let Some(missing) = partition_by.iter().find(|column| arrow.index_of(column).is_err()) {
            return Err(StreamedBecause::Unreadable(format!("the partition column `{missing}` is not a column of the rows")));
        }
        return Ok(layout(arrow, StatisticsColumns::Leading(DEFAULT_INDEXED_COLUMNS), DEFAULT_TARGET_FILE_SIZE.get()));
    }
    let state = table.snapshot().map_err(|error| StreamedBecause::Unreadable(error.to_string()))?;
    let facts = TableFacts::of(state)?;
    if facts.min_reader_version > 1 || facts.min_writer_version > 2 {
        return Err(StreamedBecause::TableFeatures(format!(
            "reader version {} and writer version {}",
            facts.min_reader_version, facts.min_writer_version
        )));
    }
    let properties = state.table_config();
    if *mode == WriteMode::Overwrite && properties.append_only == Some(true) {
        return Err(StreamedBecause::AppendOnly);
    }
    if properties.enable_change_data_feed == Some(true) {
        return Err(StreamedBecause::TableFeatures("the change data feed enabled".to_string()));
    }
    if facts.partition_columns != *partition_by {
        return Err(StreamedBecause::PartitioningDiffers { table: facts.partition_columns });
    }
    if state.schema().as_ref() != &columns {
        return Err(StreamedBecause::ColumnsDiffer);
    }
    let arrow: Schema = state.schema().as_ref().try_into_arrow().map_err(|error| StreamedBecause::Unreadable(error.to_string()))?;
    let target_file_size = properties.target_file_size.map(|size| size.get()).unwrap_or(DEFAULT_TARGET_FILE_SIZE.get());
    Ok(layout(arrow, facts.statistics, target_file_size))
}

/// Delta's default number of leading columns with statistics.
const DEFAULT_INDEXED_COLUMNS: u64 = 32;

/// The Delta schema deltalake's writer gives a table created from rows of `rows`' schema.
pub(super) fn delta_columns(rows: &SchemaRef) -> Result<StructType, DeltaTableError> {
    let normalized = deltalake::kernel::schema::cast::normalize_for_delta(rows);
    Ok(normalized.as_ref().try_into_kernel()?)
}

/// What a table's protocol and metadata say, read through their serialized form (the kernel
/// keeps its accessors crate-private; deltalake reads them the same way).
struct TableFacts {
    min_reader_version: i64,
    min_writer_version: i64,
    partition_columns: Vec<String>,
    /// `delta.dataSkippingStatsColumns`, else `delta.dataSkippingNumIndexedCols` (`-1`: all).
    statistics: StatisticsColumns,
}

impl TableFacts {
    fn of(state: &DeltaTableState) -> Result<TableFacts, StreamedBecause> {
        let unreadable = |error: serde_json::Error| StreamedBecause::Unreadable(format!("the table's log cannot be read: {error}"));
        let protocol = serde_json::to_value(state.protocol()).map_err(unreadable)?;
        let metadata = serde_json::to_value(state.metadata()).map_err(unreadable)?;
        let version = |key: &str| protocol.get(key).and_then(serde_json::Value::as_i64).unwrap_or(i64::MAX);
        let partition_columns = metadata
            .get("partitionColumns")
            .and_then(serde_json::Value::as_array)
            .map(|columns| columns.iter().filter_map(|column| column.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let setting = |key: &str| metadata.get("configuration").and_then(|configuration| configuration.get(key)?.as_str());
        let statistics = match (setting("delta.dataSkippingStatsColumns"), setting("delta.dataSkippingNumIndexedCols")) {
            (Some(named), _) => StatisticsColumns::Named(named.split(',').map(|column| column.trim().to_string()).collect()),
            (None, Some("-1")) => StatisticsColumns::All,
            (None, Some(count)) => StatisticsColumns::Leading(count.trim().parse().unwrap_or(DEFAULT_INDEXED_COLUMNS)),
            (None, None) => StatisticsColumns::Leading(DEFAULT_INDEXED_COLUMNS),
        };
        Ok(TableFacts {
            min_reader_version: version("minReaderVersion"),
            min_writer_version: version("minWriterVersion"),
            partition_columns,
            statistics,
        })
    }
}

/// Commits `files` (written as `layout` says) into `table` — the table as it was opened
/// before they were written — in one version: for a first commit the protocol and metadata
/// deltalake's writer would create, for an overwrite a remove of every file of that version,
/// then the add actions, with `commit` (viewdag's `txn`; no retries for a first commit).
/// Returns the committed table and the rows added.
pub async fn commit_engine_files(
    table: DeltaTable,
    layout: &DataFileLayout,
    files: WrittenDataFiles,
    mode: WriteMode,
    commit: CommitProperties,
) -> Result<(DeltaTable, usize), TaskError> {
    let location = layout.table_url.to_string();
    let failed = |error: DeltaTableError| write_failure(&location, error);
    let mut actions: Vec<Action> = Vec::new();
    let state = match table.version() {
        None => {
            actions.extend(creation_actions(layout).await.map_err(failed)?);
            None
        }
        Some(_) => Some(table.snapshot().map_err(failed)?.clone()),
    };
    let mut removed = 0usize;
    if let (Some(state), WriteMode::Overwrite) = (&state, mode) {
        for file in state.log_data().iter() {
            actions.push(file.remove_action(true).into());
            removed += 1;
        }
    }
    let added = files.adds.len();
    actions.extend(files.adds.into_iter().map(Action::Add));
    let rows = usize::try_from(files.rows).unwrap_or(usize::MAX);
    let metrics: HashMap<&str, serde_json::Value> = HashMap::from([
        ("num_added_rows", rows.into()),
        ("num_added_files", added.into()),
        ("num_removed_files", removed.into()),
        ("num_partitions", 0.into()),
    ]);
    let metrics = serde_json::to_value(metrics).map_err(|error| failed(error.into()))?;
    let commit = commit.with_metadata([("operationMetrics".to_string(), metrics)]);
    let operation = DeltaOperation::Write {
        mode: match mode {
            WriteMode::Append => SaveMode::Append,
            _ => SaveMode::Overwrite,
        },
        partition_by: (!layout.partition_columns.is_empty()).then(|| layout.partition_columns.clone()),
        predicate: None,
    };
    let committed = CommitBuilder::from(commit)
        .with_actions(actions)
        .build(state.as_ref().map(|state| state as &dyn TableReference), table.log_store(), operation)
        .await
        .map_err(failed)?;
    let mut table = table;
    table.update_incremental(Some(committed.version)).await.map_err(failed)?;
    Ok((table, rows))
}

/// The protocol and metadata actions deltalake's writer makes when it creates a table with
/// `layout`'s columns and partitioning (obtained from an in-memory table created the same way).
async fn creation_actions(layout: &DataFileLayout) -> Result<Vec<Action>, DeltaTableError> {
    let columns: StructType = layout.schema.as_ref().try_into_kernel()?;
    let created = DeltaTable::new_in_memory()
        .create()
        .with_columns(columns.fields().cloned())
        .with_partition_columns(layout.partition_columns.clone())
        .await?;
    let state = created.snapshot()?;
    Ok(vec![Action::Protocol(state.protocol().clone()), Action::Metadata(state.metadata().clone())])
}
