//! Loading sources: the only place that opens Delta logs and lists files. Each source
//! becomes a provider identity, a schema and a provider, or a diagnostic.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::execution::session_state::SessionState;
use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
use deltalake::DeltaTable;
use viewdag_ir::types::parse_type_name;
use viewdag_ir::{
    Code, CsvOptions, Diagnostic, FieldPath, ProviderIdentity, SourceFile, SourceFormat, SourceResolution, SourceSpec, SpecLocation,
};
use viewdag_schedule::Volume;

/// What loading one source produced.
pub struct LoadedSource {
    /// The source's identity (or why it failed to load).
    pub resolution: SourceResolution,
    /// Its table provider, when it loaded.
    pub provider: Option<Arc<dyn TableProvider>>,
    /// How much data the source holds: a Delta table's from its log, files' from their sizes
    /// (and, for Parquet, their footers' row counts).
    pub volume: Option<Volume>,
}

impl LoadedSource {
    fn failed(diagnostic: Diagnostic) -> Self {
        LoadedSource { resolution: SourceResolution::Failed(diagnostic), provider: None, volume: None }
    }
}

/// A path relative to the spec root, with `/` separators.
pub fn relative_location(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative.components().map(|component| component.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/")
}

/// The spec's directory as absolute text with `/` separators, for the lexical path checks.
pub fn root_path_text(root: &Path) -> String {
    std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf()).to_string_lossy().into_owned()
}

/// `file://` URL of a directory (with a trailing slash).
pub fn directory_url(path: &Path) -> Result<url::Url, String> {
    let absolute = std::path::absolute(path).map_err(|error| error.to_string())?;
    url::Url::from_directory_path(&absolute).map_err(|()| format!("cannot make a URL of {}", absolute.display()))
}

/// A cheap fingerprint of what a source reads: the names, sizes and modification times of
/// its files (for Delta, of its `_delta_log`). `None` when the path cannot be read, so the
/// source is loaded again (and its diagnostic reported).
pub fn source_fingerprint(root: &Path, spec: &SourceSpec) -> Option<String> {
    let absolute = root.join(&spec.path);
    let listed = match spec.format {
        SourceFormat::Delta => list_files(&absolute.join("_delta_log"), "").ok()?,
        SourceFormat::Parquet => list_files(&absolute, ".parquet").ok()?,
        SourceFormat::Csv => list_files(&absolute, ".csv").ok()?,
    };
    let mut fingerprint = String::new();
    for file in listed {
        let metadata = std::fs::metadata(&file).ok()?;
        let modified = metadata
            .modified()
            .ok()
            .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|duration| duration.as_nanos())
            .unwrap_or(0);
        fingerprint.push_str(&format!("{}:{}:{modified};", file.display(), metadata.len()));
    }
    Some(fingerprint)
}

pub(crate) async fn load_source(name: &str, spec: &SourceSpec, root: &Path, csv: &CsvOptions, state: &SessionState) -> LoadedSource {
    let SourceSpec { format, path, schema, version } = spec;
    let location = SpecLocation::source(name).with_field(FieldPath::from(["path"]));
    let absolute: PathBuf = root.join(path);
    if !absolute.exists() {
        return LoadedSource::failed(
            Diagnostic::new(Code::SourceNotFound, location, format!("source `{name}`: `{path}` does not exist"))
                .with_note(format!("paths are relative to the spec file's directory ({})", root.display())),
        );
    }
    let declared = match schema.as_ref().map(|columns| declared_schema(name, columns)).transpose() {
        Ok(declared) => declared,
        Err(diagnostic) => return LoadedSource::failed(diagnostic),
    };
    let location_text = relative_location(root, &absolute);
    match format {
        SourceFormat::Delta => load_delta(name, &absolute, location_text, *version, state, location).await,
        SourceFormat::Parquet | SourceFormat::Csv => {
            if version.is_some() {
                return LoadedSource::failed(Diagnostic::new(
                    Code::InvalidValue,
                    SpecLocation::source(name).with_field(FieldPath::from(["version"])),
                    format!("source `{name}`: `version` applies to Delta tables only"),
                ));
            }
            let files = FilesToLoad { format: *format, absolute: &absolute, root, location_text, declared, csv };
            load_files(name, files, state, location).await
        }
    }
}

fn declared_schema(name: &str, columns: &indexmap::IndexMap<String, String>) -> Result<SchemaRef, Diagnostic> {
    let mut fields = Vec::new();
    for (column, type_text) in columns {
        let parsed = parse_type_name(type_text).map_err(|message| {
            Diagnostic::new(
                Code::SourceSchemaType,
                SpecLocation::source(name).with_field(FieldPath(vec!["schema".into(), column.clone()])),
                message,
            )
        })?;
        fields.push(Field::new(column, parsed.data_type, parsed.nullable));
    }
    Ok(Arc::new(Schema::new(fields)))
}

async fn load_delta(
    name: &str,
    absolute: &Path,
    location_text: String,
    version: Option<i64>,
    state: &SessionState,
    location: SpecLocation,
) -> LoadedSource {
    if !absolute.join("_delta_log").is_dir() {
        return LoadedSource::failed(
            Diagnostic::new(
                Code::SourceNotDelta,
                location,
                format!(
                    "source `{name}` is declared `format: delta`, but `{}` is not a Delta table (it has no `_delta_log`)",
                    absolute.display()
                ),
            )
            .with_suggestion("use `format: parquet` or `format: csv` for plain files"),
        );
    }
    let url = match directory_url(absolute) {
        Ok(url) => url,
        Err(message) => return LoadedSource::failed(Diagnostic::new(Code::SourceLoadFailed, location, message)),
    };
    let opened = match version {
        Some(version) => match u64::try_from(version) {
            Ok(version) => deltalake::open_table_with_version(url, version).await,
            Err(_) => {
                return LoadedSource::failed(Diagnostic::new(
                    Code::InvalidValue,
                    location,
                    format!("source `{name}`: version {version} is negative"),
                ));
            }
        },
        None => deltalake::open_table(url).await,
    };
    let table = match opened {
        Ok(table) => table,
        Err(error) => {
            return LoadedSource::failed(Diagnostic::new(
                Code::SourceLoadFailed,
                location,
                format!("source `{name}`: cannot open the Delta table: {error}"),
            ));
        }
    };
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

/// The rows of Parquet files, from their footers; `None` if a footer cannot be read.
fn parquet_rows(files: &[PathBuf]) -> Option<u64> {
    files.iter().try_fold(0u64, |rows, file| {
        let reader = SerializedFileReader::new(std::fs::File::open(file).ok()?).ok()?;
        Some(rows.saturating_add(u64::try_from(reader.metadata().file_metadata().num_rows()).unwrap_or(0)))
    })
}

/// Lists data files under `absolute` (itself if it is a file), sorted, skipping hidden
/// and `_`-prefixed entries.
fn list_files(absolute: &Path, extension: &str) -> std::io::Result<Vec<PathBuf>> {
    if absolute.is_file() {
        return Ok(vec![absolute.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut stack = vec![absolute.to_path_buf()];
    while let Some(directory) = stack.pop() {
        for entry in std::fs::read_dir(&directory)? {
            let path = entry?.path();
            let file_name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
            if file_name.starts_with('.') || file_name.starts_with('_') {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if file_name.ends_with(extension) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// What `load_files` reads: the source's facts.
struct FilesToLoad<'a> {
    format: SourceFormat,
    absolute: &'a Path,
    root: &'a Path,
    location_text: String,
    declared: Option<SchemaRef>,
    csv: &'a CsvOptions,
}

async fn load_files(name: &str, files: FilesToLoad<'_>, state: &SessionState, location: SpecLocation) -> LoadedSource {
    let FilesToLoad { format, absolute, root, location_text, declared, csv } = files;
    let extension = match format {
        SourceFormat::Parquet => ".parquet",
        _ => ".csv",
    };
    let files = match list_files(absolute, extension) {
        Ok(files) => files,
        Err(error) => return LoadedSource::failed(Diagnostic::new(Code::SourceLoadFailed, location, format!("source `{name}`: {error}"))),
    };
    if files.is_empty() {
        return LoadedSource::failed(Diagnostic::new(
            Code::SourceNotFound,
            location,
            format!("source `{name}`: no `*{extension}` files under `{}`", absolute.display()),
        ));
    }
    let identity_files: Vec<SourceFile> = files.iter().map(|file| source_file(root, file)).collect();
    let table_url = if absolute.is_file() {
        ListingTableUrl::parse(absolute.to_string_lossy())
    } else {
        directory_url(absolute).map_err(datafusion::error::DataFusionError::Plan).and_then(|url| ListingTableUrl::parse(url.as_str()))
    };
    let table_url = match table_url {
        Ok(url) => url,
        Err(error) => {
            return LoadedSource::failed(Diagnostic::new(
                Code::SourceLoadFailed,
                location,
                format!("source `{name}`: {}", error.strip_backtrace()),
            ));
        }
    };
    // A path naming one file is read in the declared format whatever its name ends with; in
    // a directory, only files with the format's extension are data.
    let listed_extension = if absolute.is_file() { "" } else { extension };
    let schema = match (format, declared) {
        (SourceFormat::Csv, Some(declared)) => declared,
        _ => match listing_options(format, csv, listed_extension).infer_schema(state, &table_url).await {
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
    let table = match pinned_files_table(format, csv, &files, &schema) {
        Ok(table) => table,
        Err(error) => {
            return LoadedSource::failed(Diagnostic::new(
                Code::SourceLoadFailed,
                location,
                format!("source `{name}`: {}", error.strip_backtrace()),
            ));
        }
    };
    let volume = Volume {
        bytes: identity_files.iter().map(|file| file.size).sum(),
        rows: if format == SourceFormat::Parquet { parquet_rows(&files) } else { None },
        exact: true,
    };
    let options = if format == SourceFormat::Csv { csv.canonical() } else { String::new() };
    let identity = ProviderIdentity::Files { format, location: location_text, files: identity_files, options };
    LoadedSource { resolution: SourceResolution::Resolved { identity, schema }, provider: Some(Arc::new(table)), volume: Some(volume) }
}

/// How files of `format` are read; `extension` filters a directory's files (empty: all).
fn listing_options(format: SourceFormat, csv: &CsvOptions, extension: &str) -> ListingOptions {
    match format {
        SourceFormat::Parquet => ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(extension),
        _ => ListingOptions::new(Arc::new(csv_format(csv))).with_file_extension(extension),
    }
}

/// A table reading exactly `files` (absolute paths) as `format` with `schema`: a file
/// source's provider, or (incremental refresh) its new files only, or the files an earlier
/// run read.
pub(crate) fn pinned_files_table(
    format: SourceFormat,
    csv: &CsvOptions,
    files: &[PathBuf],
    schema: &SchemaRef,
) -> datafusion::error::Result<ListingTable> {
    let urls = files.iter().map(|file| ListingTableUrl::parse(file.to_string_lossy())).collect::<datafusion::error::Result<Vec<_>>>()?;
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(listing_options(format, csv, ""))
        .with_schema(Arc::clone(schema));
    ListingTable::try_new(config)
}

/// A file as a file source's identity lists it: its path relative to `root`, its size and
/// its modification time.
pub(crate) fn source_file(root: &Path, file: &Path) -> SourceFile {
    let metadata = std::fs::metadata(file).ok();
    let modified = metadata
        .as_ref()
        .and_then(|metadata| metadata.modified().ok())
        .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|duration| i64::try_from(duration.as_nanos()).ok())
        .unwrap_or(0);
    SourceFile { path: relative_location(root, file), size: metadata.map(|metadata| metadata.len()).unwrap_or(0), modified }
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
