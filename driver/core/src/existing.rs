//! What already exists (on disk or in an object store) that a compile checks the spec
//! against: the schema of the Delta table an `append`, `merge` or `replace_where` output
//! writes into, and the header row of a CSV source whose `schema` is declared. Read by the
//! driver (the only crate that does I/O) and set as the `ExistingDataInput` before the
//! queries run; `viewdag_lower::output_check` and `project_global_diagnostics` compare it with the spec
//! (`append_schema_mismatch`, `write_schema_mismatch`, `source_schema_mismatch`).
//!
//! ## Invariants
//! - Reading never fails a compile: a table or file that cannot be read is simply not
//!   compared (loading the source itself reports why it cannot be read).
//! - Nothing here runs inside a tracked function.
//! - A local table is opened again only when its log's newest commit changed
//!   ([`TargetSchemaCache`], kept by the host): a compile per editor keystroke does not
//!   re-read unchanged tables. A table in an object store is read on every compile.

use std::collections::BTreeMap;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use datafusion::arrow::datatypes::SchemaRef;
use futures::StreamExt;
use object_store::ObjectStoreExt;
use viewdag_ir::{CsvOptions, OutputSpec, SourceFormat, SourceSpec, StorageUrl, WriteMode};

use crate::storage::location::{TableLocation, open_delta_table};
use crate::storage::registry::object_store;
use crate::storage::{StorageSettings, StoreOptions};

/// A header longer than this is not a header: reading stops there.
const HEADER_LIMIT: u64 = 1 << 20;

/// Existing data the spec is checked against.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExistingData {
    /// Output name → the schema of the Delta table already at its path (`append`, `merge` and
    /// `replace_where` outputs: the modes that keep its rows).
    pub target_schemas: BTreeMap<String, SchemaRef>,
    /// Source name → the column names in the first CSV file's header (declared CSV only).
    pub csv_headers: BTreeMap<String, Vec<String>>,
}

/// The schemas of local tables read before, each with the log's newest commit it was read
/// at (its file name and modification time): a host keeps one, so a compile opens only the
/// tables whose log changed. Tables in object stores are read each time.
#[derive(Debug, Default)]
pub struct TargetSchemaCache {
    local: BTreeMap<PathBuf, (LogCommit, Option<SchemaRef>)>,
}

/// A `_delta_log`'s newest commit file: its name and modification time.
type LogCommit = (String, Option<std::time::SystemTime>);

/// The newest commit file of a `_delta_log` directory (name, modification time), if any.
fn newest_commit(log: &Path) -> Option<LogCommit> {
    std::fs::read_dir(log)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let is_commit = name.ends_with(".json") || name.ends_with(".checkpoint.parquet");
            is_commit.then(|| (name, entry.metadata().ok().and_then(|metadata| metadata.modified().ok())))
        })
        .max()
}

/// Reads the schema of each existing table an output keeps rows of (every mode but
/// `overwrite`) and each declared CSV
/// source's header.
pub fn read_existing_data(
    cache: &mut TargetSchemaCache,
    root: &Path,
    outputs: &[(String, OutputSpec)],
    sources: &[(String, Option<SourceSpec>)],
    csv: &CsvOptions,
    storage: &StorageSettings,
    runtime: &tokio::runtime::Runtime,
) -> ExistingData {
    let mut existing = ExistingData::default();
    for (name, spec) in outputs {
        // An overwrite replaces the table's columns: nothing to compare.
        if spec.mode == WriteMode::Overwrite {
            continue;
        }
        let Ok(target) = TableLocation::of(root, &spec.path) else { continue };
        let schema = match target.storage_url() {
            None => {
                let log = root.join(&spec.path).join("_delta_log");
                let Some(commit) = newest_commit(&log) else { continue };
                // The log's newest commit names the schema: an unchanged table is not
                // opened again (every editor keystroke compiles).
                match cache.local.get(&log) {
                    Some((cached, schema)) if *cached == commit => schema.clone(),
                    _ => {
                        let schema = runtime.block_on(delta_schema(&target, &StoreOptions::default()));
                        cache.local.insert(log, (commit, schema.clone()));
                        schema
                    }
                }
            }
            Some(url) => match storage.options(url) {
                Ok(options) => runtime.block_on(delta_schema(&target, &options)),
                Err(_) => continue,
            },
        };
        if let Some(schema) = schema {
            existing.target_schemas.insert(name.clone(), schema);
        }
    }
    for (name, spec) in sources {
        let Some(SourceSpec { format: SourceFormat::Csv, path, schema: Some(_), version: _ }) = spec else { continue };
        // Without a header line there is nothing to compare the declared names with.
        if csv.header == Some(false) {
            continue;
        }
        let delimiter = csv.delimiter.unwrap_or(',');
        let header = match StorageUrl::parse(path) {
            Ok(None) => csv_header(&root.join(path), delimiter),
            Ok(Some(url)) => storage.options(&url).ok().and_then(|options| runtime.block_on(object_csv_header(&url, &options, delimiter))),
            Err(_) => None,
        };
        if let Some(header) = header {
            existing.csv_headers.insert(name.clone(), header);
        }
    }
    existing
}

async fn delta_schema(target: &TableLocation, options: &StoreOptions) -> Option<SchemaRef> {
    let table = open_delta_table(target, options, None).await.ok()?;
    Some(table.snapshot().ok()?.snapshot().arrow_schema())
}

/// The header of a CSV object, or of the first `*.csv` object (by key) below a prefix.
async fn object_csv_header(url: &StorageUrl, options: &StoreOptions, delimiter: char) -> Option<Vec<String>> {
    let store = object_store(url, options).ok()?;
    let key = object_store::path::Path::parse(url.key().join("/")).ok()?;
    let object = match store.head(&key).await {
        Ok(object) => object,
        Err(_) => {
            let mut listing = store.list(Some(&key));
            let mut first: Option<object_store::ObjectMeta> = None;
            while let Some(object) = listing.next().await {
                let object = object.ok()?;
                if object.location.as_ref().ends_with(".csv") && first.as_ref().is_none_or(|first| object.location < first.location) {
                    first = Some(object);
                }
            }
            first?
        }
    };
    let bytes = store.get_range(&object.location, 0..object.size.min(HEADER_LIMIT)).await.ok()?;
    let text = String::from_utf8_lossy(&bytes);
    Some(header_names(text.lines().next()?, delimiter))
}

/// The column names of a header line.
fn header_names(line: &str, delimiter: char) -> Vec<String> {
    line.trim_end_matches(['\r', '\n']).split(delimiter).map(|name| name.trim().trim_matches('"').to_string()).collect()
}

/// The header of a CSV file, or of the first `*.csv` file (by name) in a directory.
fn csv_header(path: &Path, delimiter: char) -> Option<Vec<String>> {
    let file = if path.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .ok()?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|file| file.extension().is_some_and(|extension| extension == "csv"))
            .collect();
        files.sort();
        files.into_iter().next()?
    } else {
        path.to_path_buf()
    };
    let mut line = String::new();
    std::io::BufReader::new(std::fs::File::open(file).ok()?).take(HEADER_LIMIT).read_line(&mut line).ok()?;
    Some(header_names(&line, delimiter))
}
