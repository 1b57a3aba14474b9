//! Sources on the local file system: a Delta table's directory, or Parquet/CSV files (one
//! file, or a directory of them). The only code that opens local Delta logs and lists
//! local files for sources.

use std::path::{Path, PathBuf};

use datafusion::datasource::listing::ListingTableUrl;
use datafusion::execution::session_state::SessionState;
use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
use viewdag_ir::{Code, Diagnostic, SourceFile, SourceFormat, SpecLocation};

use super::providers::{ListedFiles, LoadedSource, data_extension, delta_source, listing_source};
use crate::confinement::{delta_table_escape, source_escape_diagnostic};
use crate::storage::location::{directory_url, relative_location};

/// A local source's facts.
pub(crate) struct LocalSource<'a> {
    pub name: &'a str,
    pub format: SourceFormat,
    pub absolute: PathBuf,
    pub root: &'a Path,
    /// `profile.paths.allow`.
    pub allow: &'a [String],
    pub location: SpecLocation,
}

/// Opens the Delta table at `source.absolute`, at `version` (else the latest).
pub(crate) async fn load_delta(source: LocalSource<'_>, version: Option<u64>, state: &SessionState) -> LoadedSource {
    let LocalSource { name, absolute, root, allow, location, .. } = source;
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
    let url = match directory_url(&absolute) {
        Ok(url) => url,
        Err(error) => return LoadedSource::failed(Diagnostic::new(Code::SourceLoadFailed, location, error.to_string())),
    };
    let opened = match version {
        Some(version) => deltalake::open_table_with_version(url, version).await,
        None => deltalake::open_table(url).await,
    };
    match opened {
        Ok(table) => {
            // The log and the files it names are read too: each must stay inside the roots.
            let files: Vec<String> = table
                .snapshot()
                .map(|snapshot| snapshot.log_data().iter().map(|file| file.path().into_owned()).collect())
                .unwrap_or_default();
            let escape = delta_table_escape(root, allow, &absolute, &files);
            if let Some((entry, resolved)) = escape {
                return LoadedSource::failed(source_escape_diagnostic(name, root, &entry, &resolved));
            }
            delta_source(name, table, relative_location(root, &absolute), state, location).await
        }
        Err(error) => LoadedSource::failed(Diagnostic::new(
            Code::SourceLoadFailed,
            location,
            format!("source `{name}`: cannot open the Delta table: {error}"),
        )),
    }
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

/// The rows of Parquet files, from their footers; `None` if a footer cannot be read.
fn parquet_rows(files: &[PathBuf]) -> Option<u64> {
    files.iter().try_fold(0u64, |rows, file| {
        let reader = SerializedFileReader::new(std::fs::File::open(file).ok()?).ok()?;
        Some(rows.saturating_add(u64::try_from(reader.metadata().file_metadata().num_rows()).unwrap_or(0)))
    })
}

/// Lists data files under `absolute` (itself if it is a file), sorted, skipping hidden
/// and `_`-prefixed entries.
pub(crate) fn list_files(absolute: &Path, extension: &str) -> std::io::Result<Vec<PathBuf>> {
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

/// Lists the Parquet or CSV files of `source` and makes the listing table over them.
pub(crate) async fn load_files(
    source: LocalSource<'_>,
    declared: Option<datafusion::arrow::datatypes::SchemaRef>,
    csv: &viewdag_ir::CsvOptions,
    state: &SessionState,
) -> LoadedSource {
    let LocalSource { name, format, absolute, root, allow: _, location } = source;
    let extension = data_extension(format);
    let paths = match list_files(&absolute, extension) {
        Ok(paths) => paths,
        Err(error) => return LoadedSource::failed(Diagnostic::new(Code::SourceLoadFailed, location, format!("source `{name}`: {error}"))),
    };
    if paths.is_empty() {
        return LoadedSource::failed(Diagnostic::new(
            Code::SourceNotFound,
            location,
            format!("source `{name}`: no `*{extension}` files under `{}`", absolute.display()),
        ));
    }
    let files: Vec<SourceFile> = paths.iter().map(|file| source_file(root, file)).collect();
    let single_file = absolute.is_file();
    let table_url = if single_file {
        ListingTableUrl::parse(absolute.to_string_lossy())
    } else {
        directory_url(&absolute)
            .map_err(|error| datafusion::error::DataFusionError::Plan(error.to_string()))
            .and_then(|url| ListingTableUrl::parse(url.as_str()))
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
    let file_urls = match paths.iter().map(|file| ListingTableUrl::parse(file.to_string_lossy())).collect::<Result<Vec<_>, _>>() {
        Ok(urls) => urls,
        Err(error) => {
            return LoadedSource::failed(Diagnostic::new(
                Code::SourceLoadFailed,
                location,
                format!("source `{name}`: {}", error.strip_backtrace()),
            ));
        }
    };
    let rows = if format == SourceFormat::Parquet { parquet_rows(&paths) } else { None };
    let location_text = relative_location(root, &absolute);
    let listed = ListedFiles { format, location_text, table_url, file_urls, single_file, files, rows, declared };
    listing_source(name, listed, csv, state, location).await
}
