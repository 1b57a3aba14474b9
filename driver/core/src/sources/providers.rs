//! What loading a source ends with, wherever its data lives: a provider and an identity
//! from an opened Delta table ([`delta_source`]) or from a listing of Parquet or CSV files
//! ([`listing_source`]), or a diagnostic. Shared by the local loader and the object-store
//! loader, so a table in S3 and one on disk become the same kind of provider.

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::execution::session_state::SessionState;
use deltalake::DeltaTable;
use viewdag_ir::types::parse_type_name;
use viewdag_ir::{Code, CsvOptions, Diagnostic, FieldPath, ProviderIdentity, SourceFile, SourceFormat, SourceResolution, SpecLocation};
use viewdag_schedule::Volume;

/// What loading one source produced.
pub struct LoadedSource {
    /// The source's identity (or why it failed to load).
    pub resolution: SourceResolution,
    /// Its table provider, when it loaded.
    pub provider: Option<Arc<dyn TableProvider>>,
    /// How much data the source holds: a Delta table's from its log, files' from their sizes
    /// (and, for local Parquet files, their footers' row counts).
    pub volume: Option<Volume>,
}

impl LoadedSource {
    pub(crate) fn failed(diagnostic: Diagnostic) -> Self {
        LoadedSource { resolution: SourceResolution::Failed(diagnostic), provider: None, volume: None }
    }
}

/// The schema a source declares (`schema:`), or the diagnostic of its first unknown type.
pub(crate) fn declared_schema(name: &str, columns: &indexmap::IndexMap<String, String>) -> Result<SchemaRef, Diagnostic> {
    let mut fields = Vec::new();
    for (column, type_text) in columns {
        let parsed = parse_type_name(type_text).map_err(|unknown| {
            Diagnostic::new(
                Code::SourceSchemaType,
                SpecLocation::source(name).with_field(FieldPath(vec!["schema".into(), column.clone()])),
                unknown.to_string(),
            )
        })?;
        fields.push(Field::new(column, parsed.data_type, parsed.nullable));
    }
    Ok(Arc::new(Schema::new(fields)))
}

/// A pinned `version:` as deltalake's version, or the diagnostic of a negative one.
pub(crate) fn pinned_version(name: &str, version: Option<i64>, location: &SpecLocation) -> Result<Option<u64>, Diagnostic> {
    version
        .map(|version| {
            u64::try_from(version).map_err(|_| {
                Diagnostic::new(Code::InvalidValue, location.clone(), format!("source `{name}`: version {version} is negative"))
            })
        })
        .transpose()
}

/// The source a loaded Delta table is: its provider (the table's object store registered in
/// `state`'s runtime), its identity at the loaded version and its volume. `location_text`
/// names it in the identity (relative to the spec's directory, or the URL).
pub(crate) async fn delta_source(
    name: &str,
    table: DeltaTable,
    location_text: String,
    state: &SessionState,
    location: SpecLocation,
) -> LoadedSource {
    let Some(loaded_version) = table.version() else {
        return LoadedSource::failed(Diagnostic::new(
            Code::SourceNotDelta,
            location,
            format!("source `{name}`: the Delta table has no version"),
        ));
    };
    if let Err(error) = table.update_datafusion_session(state) {
        return LoadedSource::failed(Diagnostic::new(Code::SourceLoadFailed, location, format!("source `{name}`: {error}")));
    }
    let provider = match table.table_provider().await {
        Ok(provider) => provider,
        Err(error) => return LoadedSource::failed(Diagnostic::new(Code::SourceLoadFailed, location, format!("source `{name}`: {error}"))),
    };
    let identity = ProviderIdentity::Delta { location: location_text, version: i64::try_from(loaded_version).unwrap_or(i64::MAX) };
    LoadedSource {
        resolution: SourceResolution::Resolved { identity, schema: provider.schema() },
        provider: Some(provider),
        volume: delta_volume(&table),
    }
}

/// The active files' sizes and record counts at the loaded version (record counts are
/// missing when a file has no statistics).
pub fn delta_volume(table: &DeltaTable) -> Option<Volume> {
    let state = table.snapshot().ok()?;
    let mut volume = Volume::EMPTY;
    for file in state.log_data().iter() {
        volume.bytes = volume.bytes.saturating_add(u64::try_from(file.size()).unwrap_or(0));
        volume.rows = volume.rows.zip(file.num_records()).map(|(rows, more)| rows.saturating_add(u64::try_from(more).unwrap_or(0)));
    }
    Some(volume)
}

/// Parquet or CSV files found for a source, wherever they live.
pub(crate) struct ListedFiles {
    pub format: SourceFormat,
    /// The source's location in its identity (relative to the spec's directory, or the URL).
    pub location_text: String,
    /// What the schema is inferred from: the one file, or the directory (prefix).
    pub table_url: ListingTableUrl,
    /// Each file's URL, in `files`' order: what the provider reads (exactly these files,
    /// never one added between loading and executing).
    pub file_urls: Vec<ListingTableUrl>,
    /// Whether the source's path names one file (read whatever its name ends with) rather
    /// than a directory (only files with the format's extension are data).
    pub single_file: bool,
    /// Each file, sorted by path.
    pub files: Vec<SourceFile>,
    /// The rows of the files, when known without reading them (local Parquet footers).
    pub rows: Option<u64>,
    /// The declared schema (CSV reads with it instead of inferring).
    pub declared: Option<SchemaRef>,
}

/// The extension of a format's data files in a directory.
pub(crate) fn data_extension(format: SourceFormat) -> &'static str {
    match format {
        SourceFormat::Parquet => ".parquet",
        _ => ".csv",
    }
}

/// The source listed files are: a listing table (the store of its URL must be registered in
/// `state`'s runtime) with the declared or inferred schema, its identity and volume.
pub(crate) async fn listing_source(
    name: &str,
    listed: ListedFiles,
    csv: &CsvOptions,
    state: &SessionState,
    location: SpecLocation,
) -> LoadedSource {
    let ListedFiles { format, location_text, table_url, file_urls, single_file, files, rows, declared } = listed;
    // A path naming one file is read in the declared format whatever its name ends with; in
    // a directory, only files with the format's extension are data.
    let listed_extension = if single_file { "" } else { data_extension(format) };
    let schema = match (format, declared) {
        (SourceFormat::Csv, Some(declared)) => declared,
        _ => match infer_schema(format, csv, listed_extension, state, &table_url).await {
            Ok(schema) => schema,
            Err(error) => {
                return LoadedSource::failed(Diagnostic::new(
                    Code::SourceLoadFailed,
                    location,
                    format!("source `{name}`: cannot read the schema: {}", error.strip_backtrace()),
                ));
            }
        },
    };
    // The provider reads exactly the files listed now (the identity's), never a file added
    // to the directory between loading and executing.
    let table = match pinned_table(format, csv, file_urls, &schema) {
        Ok(table) => table,
        Err(error) => {
            return LoadedSource::failed(Diagnostic::new(
                Code::SourceLoadFailed,
                location,
                format!("source `{name}`: {}", error.strip_backtrace()),
            ));
        }
    };
    let volume = Volume { bytes: files.iter().map(|file| file.size).sum(), rows, exact: true };
    let options = if format == SourceFormat::Csv { csv.canonical() } else { String::new() };
    let identity = ProviderIdentity::Files { format, location: location_text, files, options };
    LoadedSource { resolution: SourceResolution::Resolved { identity, schema }, provider: Some(Arc::new(table)), volume: Some(volume) }
}

/// The schema of the files at `table_url` (those with `extension`; empty: all), read as
/// `format`. Parquet's is inferred in time linear in its width (`parquet_schema`).
async fn infer_schema(
    format: SourceFormat,
    csv: &CsvOptions,
    extension: &str,
    state: &SessionState,
    table_url: &ListingTableUrl,
) -> datafusion::error::Result<SchemaRef> {
    let options = listing_options(format, csv, extension);
    match options.format.downcast_ref::<ParquetFormat>() {
        Some(parquet) => super::parquet_schema::infer_parquet_schema(state, &options, parquet, table_url).await,
        None => options.infer_schema(state, table_url).await,
    }
}

/// How files of `format` are read; `extension` filters a directory's files (empty: all).
fn listing_options(format: SourceFormat, csv: &CsvOptions, extension: &str) -> ListingOptions {
    match format {
        SourceFormat::Parquet => ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(extension),
        _ => ListingOptions::new(Arc::new(csv_format(csv))).with_file_extension(extension),
    }
}

/// A table reading exactly the files at `urls` as `format` with `schema` (an object store's
/// files need their store registered in the runtime that scans it).
fn pinned_table(
    format: SourceFormat,
    csv: &CsvOptions,
    urls: Vec<ListingTableUrl>,
    schema: &SchemaRef,
) -> datafusion::error::Result<ListingTable> {
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(listing_options(format, csv, ""))
        .with_schema(Arc::clone(schema));
    ListingTable::try_new(config)
}

/// A table reading exactly `files` (as a file source's identity lists them: relative to
/// `root`, or URLs whose stores the scanning runtime has registered) as `format` with
/// `schema`: (incremental refresh) a source's new files only, or the files an earlier run read.
pub(crate) fn pinned_files_table(
    format: SourceFormat,
    csv: &CsvOptions,
    root: &std::path::Path,
    files: &[SourceFile],
    schema: &SchemaRef,
) -> datafusion::error::Result<ListingTable> {
    let urls = files
        .iter()
        .map(|file| match viewdag_ir::StorageUrl::looks_like_url(&file.path) {
            true => ListingTableUrl::parse(&file.path),
            false => ListingTableUrl::parse(root.join(&file.path).to_string_lossy()),
        })
        .collect::<datafusion::error::Result<Vec<_>>>()?;
    pinned_table(format, csv, urls, schema)
}

/// The CSV reader `profile.surface.csv` asks for (the validation of the profile guarantees
/// ASCII characters; anything else falls back to the default).
fn csv_format(options: &CsvOptions) -> CsvFormat {
    let ascii = |character: Option<char>| character.filter(char::is_ascii).map(|character| character as u8);
    let mut format = CsvFormat::default().with_has_header(options.header.unwrap_or(true));
    if let Some(delimiter) = ascii(options.delimiter) {
        format = format.with_delimiter(delimiter);
    }
    if let Some(quote) = ascii(options.quote) {
        format = format.with_quote(quote);
    }
    format
}
