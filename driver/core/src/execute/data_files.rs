//! The seam through which an engine writes a task's rows as the Delta table's data files
//! itself, where the rows are computed (a cluster's executors, in parallel), and hands the
//! driver only what the commit needs: each file's add action (path, size, partition values,
//! statistics). The driver still makes the one commit per task (`files_commit`).
//!
//! ## Invariants
//! - The driver decides the layout ([`DataFileLayout`]) from the table it opened before the
//!   engine writes anything: columns and their Delta types, partition columns, statistics.
//!   An engine writes exactly that layout, so the add actions it returns are committed as
//!   they are.
//! - An engine returns add actions only for files it finished writing, and only when every
//!   file of the task was written; a failure returns an error and nothing is committed
//!   (files already written stay unreferenced by the log, see the README).
//! - Paths in the add actions are relative to the table's root.
//! - When the driver hands over the task's expectations, the engine checks them on the rows
//!   as it writes them (dropping what `drop` expectations reject) and returns the counts; the
//!   driver decides from them whether to commit. An engine that cannot check them returns
//!   `Unsupported` having written nothing.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use deltalake::kernel::Add;
use futures::future::BoxFuture;

use super::error::TaskError;
use crate::expect::{CompiledExpectations, ExpectationCounts};

/// Writes one task's rows as Parquet data files of a Delta table.
pub trait DataFileWriter: fmt::Debug + Send + Sync {
    /// Writes every row of the task as data files laid out as `layout` says — checking
    /// `expectations` on them, when given, and writing only the rows they keep — and returns
    /// their add actions (and the expectations' counts), or fails having committed nothing.
    fn write_data_files(
        &self,
        layout: DataFileLayout,
        expectations: Option<Arc<CompiledExpectations>>,
    ) -> BoxFuture<'static, Result<WrittenDataFiles, DataFileWriteError>>;
}

/// Why an engine did not return data files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataFileWriteError {
    /// The engine turned out unable to write them (e.g. a cluster whose nodes lack viewdag's
    /// codec) and wrote nothing: the driver streams the rows instead.
    Unsupported(String),
    /// Writing failed: the task fails and nothing is committed.
    Failed(TaskError),
}

/// How the data files of one table are written: what the driver read from the table (or
/// will create it with) and what every engine-written file must follow.
#[derive(Debug, Clone, PartialEq)]
pub struct DataFileLayout {
    /// The table's root (`file:///…/` or an object-store URL), with a trailing slash.
    pub table_url: url::Url,
    /// The table's columns in table order, as Delta stores them (a string column is `Utf8`,
    /// whatever encoding the rows carry): every batch is cast to it before it is written.
    pub schema: SchemaRef,
    /// The partition columns (Hive-style directories, values in the add actions).
    pub partition_columns: Vec<String>,
    /// Which columns get min/max/null-count statistics in the add actions.
    pub statistics: StatisticsColumns,
    /// Size in bytes above which a writer starts a new file.
    pub target_file_size: u64,
}

/// Which columns a data file's statistics cover (the table's
/// `delta.dataSkippingNumIndexedCols` / `delta.dataSkippingStatsColumns`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatisticsColumns {
    /// The first N columns (Delta's default: 32).
    Leading(u64),
    /// Every column.
    All,
    /// These columns.
    Named(Vec<String>),
}

/// What an engine wrote: the add actions of its files and how many rows they hold.
#[derive(Debug, Clone, Default)]
pub struct WrittenDataFiles {
    /// One add action per file, in a deterministic order (by path).
    pub adds: Vec<Add>,
    /// Rows in those files.
    pub rows: u64,
    /// What the task's expectations found (every partition's counts added up), when the
    /// engine was asked to check them.
    pub expectations: Option<ExpectationCounts>,
}
