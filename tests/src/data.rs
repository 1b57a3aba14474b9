//! Writing source files the way users' tools would: Delta tables through `deltalake`,
//! Parquet through the Arrow writer, CSV with a header through the Arrow CSV writer.

use std::fs::File;
use std::path::Path;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::csv::WriterBuilder;
use datafusion::dataframe::DataFrame;
use datafusion::parquet::arrow::ArrowWriter;
use deltalake::protocol::SaveMode;

/// Writes a Delta table (one commit) at `directory`.
pub fn write_delta_table(directory: &Path, batches: Vec<RecordBatch>) {
    commit_delta(directory, batches, SaveMode::Overwrite);
}

/// Appends one commit to an existing Delta table.
pub fn append_delta_table(directory: &Path, batches: Vec<RecordBatch>) {
    commit_delta(directory, batches, SaveMode::Append);
}

fn commit_delta(directory: &Path, batches: Vec<RecordBatch>, mode: SaveMode) {
    std::fs::create_dir_all(directory).expect("the table directory is created");
    let url = viewdag_driver::sources::directory_url(directory).expect("a URL");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let table = deltalake::DeltaTable::try_from_url(url).await.expect("the table opens");
        table.write(batches).with_save_mode(mode).await.expect("the Delta commit is written");
    });
}

pub fn write_parquet_file(path: &Path, batch: &RecordBatch) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("the directory is created");
    }
    let file = File::create(path).expect("the Parquet file is created");
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None).expect("a Parquet writer");
    writer.write(batch).expect("the batch is written");
    writer.close().expect("the Parquet file is closed");
}

pub fn write_csv_file(path: &Path, batch: &RecordBatch) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("the directory is created");
    }
    let file = File::create(path).expect("the CSV file is created");
    let mut writer = WriterBuilder::new().with_header(true).build(file);
    writer.write(batch).expect("the batch is written");
}

/// Reads every row of the Delta table at `directory` (latest version) with a fresh
/// `deltalake` reader, in the canonical row form (`viewdag_driver::execute::rows`).
pub fn read_delta_rows(directory: &Path) -> Vec<String> {
    canonical_rows(&read_delta_batches(directory))
}

/// How many rows the Delta table at `directory` holds (latest version), counted by DataFusion
/// over a fresh `deltalake` reader (from the files' statistics where they have them).
pub fn count_delta_rows(directory: &Path) -> usize {
    with_delta_frame(directory, |frame| async { frame.count().await.expect("the rows are counted") })
}

/// Every batch of the Delta table at `directory` (latest version), read with a fresh
/// `deltalake` reader.
fn read_delta_batches(directory: &Path) -> Vec<RecordBatch> {
    with_delta_frame(directory, |frame| async { frame.collect().await.expect("the table reads") })
}

/// `read` over a DataFrame of the Delta table at `directory` (latest version), in a session
/// and a runtime of their own.
fn with_delta_frame<T, F: Future<Output = T>>(directory: &Path, read: impl FnOnce(DataFrame) -> F) -> T {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let url = viewdag_driver::sources::directory_url(directory).expect("a URL");
        let table = deltalake::open_table(url).await.expect("the output is a Delta table");
        let context = datafusion::prelude::SessionContext::new();
        table.update_datafusion_session(&context.state()).expect("the object store is registered");
        let provider = table.table_provider().await.expect("a provider");
        read(context.read_table(provider).expect("the table is readable")).await
    })
}

pub use viewdag_driver::execute::canonical_rows;

/// Copies the directory `from` to `to`, recursively.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("the directory is created");
    for entry in std::fs::read_dir(from).expect("the directory is listed") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("the file is copied");
        }
    }
}

/// Every row of the Delta table at `directory` with every value exactly as stored (floats
/// in their shortest round-trip form, all digits), sorted: two tables with equal exact rows
/// hold the same values bit for bit.
pub fn read_delta_rows_exact(directory: &Path) -> Vec<String> {
    let mut rows = Vec::new();
    for batch in &read_delta_batches(directory) {
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = batch
                .columns()
                .iter()
                .map(|column| datafusion::arrow::util::display::array_value_to_string(column, row).expect("a displayable value"))
                .collect();
            rows.push(cells.join("|"));
        }
    }
    rows.sort();
    rows
}

/// The latest version of the Delta table at `directory`, read with a fresh `deltalake`
/// reader (`None` if it is not a Delta table).
pub fn delta_version(directory: &Path) -> Option<u64> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let url = viewdag_driver::sources::directory_url(directory).ok()?;
        let table = deltalake::open_table(url).await.ok()?;
        table.version()
    })
}

/// Storage options for deltalake from `(variable, value)` pairs of a client's environment
/// (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, …): deltalake reads the same names as options.
fn storage_options(environment: &[(String, String)]) -> std::collections::HashMap<String, String> {
    environment.iter().cloned().collect()
}

/// Writes one Delta commit (overwrite) to the table at object-store `url` with deltalake
/// itself, configured by `environment`; the commit's error, if any.
pub fn write_delta_table_at(url: &str, environment: &[(String, String)], batches: Vec<RecordBatch>) -> Result<(), String> {
    let url = url::Url::parse(url).map_err(|error| error.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let table = deltalake::DeltaTableBuilder::from_url(url)
            .and_then(|builder| builder.with_storage_options(storage_options(environment)).build())
            .map_err(|error| error.to_string())?;
        table.write(batches).with_save_mode(SaveMode::Overwrite).await.map(|_| ()).map_err(|error| error.to_string())
    })
}

/// Reads every row of the Delta table at object-store `url` (latest version) with a fresh
/// `deltalake` reader configured by `environment`, in the canonical row form: an
/// independent reader of what viewdag wrote, not viewdag's own run path.
pub fn read_delta_rows_at(url: &str, environment: &[(String, String)]) -> Vec<String> {
    let url = url::Url::parse(url).expect("a URL");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let table =
            deltalake::open_table_with_storage_options(url.clone(), storage_options(environment)).await.expect("a Delta table at the URL");
        let context = datafusion::prelude::SessionContext::new();
        table.update_datafusion_session(&context.state()).expect("the object store is registered");
        let provider = table.table_provider().await.expect("a provider");
        let batches = context.read_table(provider).expect("the table is readable").collect().await.expect("the table reads");
        canonical_rows(&batches)
    })
}

/// The latest version of the Delta table at object-store `url` (`None` if there is none).
pub fn delta_version_at(url: &str, environment: &[(String, String)]) -> Option<u64> {
    let url = url::Url::parse(url).ok()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async { deltalake::open_table_with_storage_options(url, storage_options(environment)).await.ok()?.version() })
}

/// A Parquet file of columns `id` (int64) and `small`/`medium`/`big`/`huge` (uint8 … uint64),
/// each unsigned column holding its type's largest value in row 1 (`huge` holds `huge`).
pub fn write_unsigned_parquet(path: &Path, huge: u64) {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, UInt8Array, UInt16Array, UInt32Array, UInt64Array};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("small", DataType::UInt8, true),
            Field::new("medium", DataType::UInt16, true),
            Field::new("big", DataType::UInt32, true),
            Field::new("huge", DataType::UInt64, true),
        ])),
        vec![
            Arc::new(Int64Array::from(vec![1, 2])),
            Arc::new(UInt8Array::from(vec![u8::MAX, 3])),
            Arc::new(UInt16Array::from(vec![u16::MAX, 4])),
            Arc::new(UInt32Array::from(vec![u32::MAX, 5])),
            Arc::new(UInt64Array::from(vec![huge, 6])),
        ],
    )
    .expect("a batch");
    write_parquet_file(path, &batch);
}
