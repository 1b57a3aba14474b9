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

/// A Delta table's appended rows (the `adds` of its commits up to `version`) and its
/// previous version `previous`, both with `schema`.
pub async fn delta_appended_input(
    url: &url::Url,
    version: i64,
    previous: i64,
    adds: Vec<Add>,
    schema: &SchemaRef,
) -> std::result::Result<AppendedInput, String> {
    let version = u64::try_from(version).map_err(|error| error.to_string())?;
    let previous = u64::try_from(previous).map_err(|error| error.to_string())?;
    let table = deltalake::open_table_with_version(url.clone(), version).await.map_err(|error| error.to_string())?;
    let delta = table.table_provider().with_adds(adds).await.map_err(|error| error.strip_backtrace())?;
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
) -> std::result::Result<AppendedInput, String> {
    let table =
        |files: &[SourceFile]| pinned_files_table(format, csv, root, files, schema).map(Arc::new).map_err(|error| error.strip_backtrace());
    Ok(AppendedInput { delta: provider_as_source(table(new_files)?), previous: provider_as_source(table(previous_files)?) })
}
