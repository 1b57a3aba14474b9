//! The two scan sources incremental refresh gives the derivation for each relation that
//! gained rows (`viewdag_optimize::incremental::AppendedInput`): its appended rows, and the
//! relation as the last refresh read it.
//!
//! - A Delta table: the appended rows are a scan of the table at its current version
//!   restricted to the files the new commits added (deltalake's file selection); the previous
//!   version is the table at the version last read, opened only when a plan scans it (a join
//!   whose both sides gained rows), by time travel.
//! - A file source: both are listing tables over exact file lists (the new files; the files
//!   last read), read like the source.
//!
//! Every source has the relation's schema: a change of schema is a rewrite, never an append.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::{TableType, provider_as_source};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use deltalake::kernel::Add;
use viewdag_ir::{CsvOptions, SourceFile, SourceFormat};
use viewdag_optimize::incremental::AppendedInput;

use crate::sources::pinned_files_table;
use crate::storage::location::LocationUrlError;

/// A Delta table at one version, opened when it is first scanned (so a refresh that never
/// scans an input's previous version never replays its log).
#[derive(Debug)]
struct DeltaVersionTable {
    url: url::Url,
    version: u64,
    schema: SchemaRef,
}

#[async_trait]
impl TableProvider for DeltaVersionTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let table = deltalake::open_table_with_version(self.url.clone(), self.version)
            .await
            .map_err(|error| DataFusionError::External(Box::new(error)))?;
        let provider = table.table_provider().await?;
        provider.scan(state, projection, filters, limit).await
    }
}

/// Why what a relation appended cannot be read as scan sources (its task is then refreshed
/// fully, this being why).
#[derive(Debug, thiserror::Error)]
pub enum AppendedReadError {
    /// The relation has no loaded provider.
    #[error("`{0}` has no loaded provider")]
    NoProvider(String),
    /// The relation is no longer the same kind (a Delta table, or files).
    #[error("`{0}` changed kind")]
    ChangedKind(String),
    /// A Delta table in an object store: its changes are not derived (opening it needs its
    /// store's options).
    #[error("`{0}` is in an object store, whose Delta changes are not derived yet")]
    InObjectStore(String),
    /// The table's directory has no `file://` URL.
    #[error(transparent)]
    Url(#[from] LocationUrlError),
    /// A version that is not a Delta version (negative).
    #[error(transparent)]
    Version(#[from] std::num::TryFromIntError),
    /// The table does not open at the version read.
    #[error(transparent)]
    Delta(#[from] deltalake::DeltaTableError),
    /// The scan sources cannot be made.
    #[error("{}", .0.strip_backtrace())]
    Scan(#[from] DataFusionError),
}

/// A Delta table's appended rows (the `adds` of its commits up to `version`) and its
/// previous version `previous`, both with `schema`.
pub async fn delta_appended_input(
    url: &url::Url,
    version: i64,
    previous: i64,
    adds: Vec<Add>,
    schema: &SchemaRef,
) -> std::result::Result<AppendedInput, AppendedReadError> {
    let version = u64::try_from(version)?;
    let previous = u64::try_from(previous)?;
    let table = deltalake::open_table_with_version(url.clone(), version).await?;
    let delta = table.table_provider().with_adds(adds).await?;
    let previous = Arc::new(DeltaVersionTable { url: url.clone(), version: previous, schema: Arc::clone(schema) });
    Ok(AppendedInput { delta: provider_as_source(delta), previous: provider_as_source(previous) })
}

/// A file source's new files and the files last read, both read as `format` with `schema`.
pub fn files_appended_input(
    root: &Path,
    format: SourceFormat,
    csv: &CsvOptions,
    new_files: &[SourceFile],
    previous_files: &[SourceFile],
    schema: &SchemaRef,
) -> std::result::Result<AppendedInput, AppendedReadError> {
    let table = |files: &[SourceFile]| pinned_files_table(format, csv, root, files, schema).map(Arc::new);
    Ok(AppendedInput { delta: provider_as_source(table(new_files)?), previous: provider_as_source(table(previous_files)?) })
}
