//! What already exists on disk that a compile checks the spec against: the schema of the
//! Delta table an `append` output writes into, and the header row of a CSV source whose
//! `schema` is declared. Read by the driver (the only crate that does I/O) and set as the
//! `ExistingDataInput` before the queries run; `viewdag_lower::checked_project` compares it
//! with the spec (`append_schema_mismatch`, `source_schema_mismatch`).
//!
//! ## Invariants
//! - Reading never fails a compile: a table or file that cannot be read is simply not
//!   compared (loading the source itself reports why it cannot be read).
//! - Nothing here runs inside a tracked function.

use std::collections::BTreeMap;
use std::io::{BufRead, Read};
use std::path::Path;

use datafusion::arrow::datatypes::SchemaRef;
use viewdag_ir::{CsvOptions, OutputSpec, SourceFormat, SourceSpec, WriteMode};

/// Existing data the spec is checked against.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExistingData {
    /// Output name → the schema of the Delta table already at its path (`append` only).
    pub append_targets: BTreeMap<String, SchemaRef>,
    /// Source name → the column names in the first CSV file's header (declared CSV only).
    pub csv_headers: BTreeMap<String, Vec<String>>,
}

/// Reads the schema of each `append` output's existing table and each declared CSV
/// source's header.
pub fn read_existing_data(
    root: &Path,
    outputs: &[(String, OutputSpec)],
    sources: &[(String, Option<SourceSpec>)],
    csv: &CsvOptions,
    runtime: &tokio::runtime::Runtime,
) -> ExistingData {
    let mut existing = ExistingData::default();
    for (name, spec) in outputs {
        if spec.mode != WriteMode::Append {
            continue;
        }
        let target = root.join(&spec.path);
        if !target.join("_delta_log").is_dir() {
            continue;
        }
        if let Some(schema) = runtime.block_on(delta_schema(&target)) {
            existing.append_targets.insert(name.clone(), schema);
        }
    }
    for (name, spec) in sources {
        let Some(SourceSpec { format: SourceFormat::Csv, path, schema: Some(_), version: _ }) = spec else { continue };
        // Without a header line there is nothing to compare the declared names with.
        if csv.header == Some(false) {
            continue;
        }
        if let Some(header) = csv_header(&root.join(path), csv.delimiter.unwrap_or(',')) {
            existing.csv_headers.insert(name.clone(), header);
        }
    }
    existing
}

async fn delta_schema(target: &Path) -> Option<SchemaRef> {
    let url = crate::sources::directory_url(target).ok()?;
    let table = deltalake::open_table(url).await.ok()?;
    Some(table.snapshot().ok()?.snapshot().arrow_schema())
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
    // A header longer than this is not a header: stop reading.
    std::io::BufReader::new(std::fs::File::open(file).ok()?).take(1 << 20).read_line(&mut line).ok()?;
    let line = line.trim_end_matches(['\r', '\n']);
    Some(line.split(delimiter).map(|name| name.trim().trim_matches('"').to_string()).collect())
}
