//! Random changes to a generated project's sources ([`crate::generate`]), made the way
//! users' tools make them, for the incremental-refresh property: mostly appends of a few
//! random rows (a Delta commit, or a new file in a Parquet/CSV directory), sometimes a
//! delete, an overwrite, or a change that adds a column.
//!
//! | change | Delta source | Parquet / CSV directory |
//! |---|---|---|
//! | append | an append commit | a new file |
//! | delete | deltalake's `DELETE` of a third of the rows | a file rewritten with half its rows |
//! | overwrite | an overwrite commit | every file removed, one new file |
//! | add a column | an append commit merging the schema (`x0`, `x1`, …) | (Parquet) a new file with the column; CSV sources get an append instead (their schema is declared) |
//!
//! ## Invariants
//! - Deterministic: the same project and seed give the same changes and the same rows.
//! - Ids keep growing per source, so appended rows are new rows (other columns repeat, so
//!   groups and join keys are shared with old rows).
//! - Needs the project written with `file_sources_in_directories`.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use deltalake::operations::write::SchemaMode;
use deltalake::protocol::SaveMode;
use viewdag_ir::SourceFormat;

use crate::data::{write_csv_file, write_parquet_file};
use crate::generate::{GeneratedProject, GeneratedSource, Random, file_extension};

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Rows added, nothing else.
    Append,
    /// Rows removed.
    Delete,
    /// Every row replaced.
    Overwrite,
    /// Rows added with a new column.
    AddColumn,
}

/// One change made to one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceChange {
    pub source: String,
    pub kind: ChangeKind,
}

/// What the changer knows of one source.
#[derive(Debug, Clone)]
struct SourceState {
    name: String,
    format: SourceFormat,
    /// The next row's id.
    next_id: i64,
    /// How many columns were added (`x0` … ).
    added_columns: usize,
    /// A directory source's files (name, rows), in the order they were written.
    files: Vec<(String, RecordBatch)>,
    /// The number of the next file written.
    next_file: usize,
}

/// Makes random changes to the sources of one generated project.
pub struct SourceChanger {
    random: Random,
    sources: Vec<SourceState>,
}

impl SourceChanger {
    /// A changer for `project`'s sources as [`GeneratedProject::write`] wrote them.
    pub fn new(project: &GeneratedProject, seed: u64) -> SourceChanger {
        assert!(project.file_sources_in_directories, "files are added to directory sources only");
        let sources = project
            .sources
            .iter()
            .map(|source| SourceState {
                name: source.name.clone(),
                format: source.format,
                next_id: source.ids.len() as i64,
                added_columns: 0,
                files: vec![(format!("part-00000{}", file_extension(source.format)), source.batch())],
                next_file: 1,
            })
            .collect();
        SourceChanger { random: Random::new(seed), sources }
    }

    /// Draws one change and makes it under the project directory `root`.
    pub fn change(&mut self, root: &Path) -> SourceChange {
        let index = self.random.below(self.sources.len());
        let roll = self.random.below(100);
        let kind = match roll {
            0..=75 => ChangeKind::Append,
            76..=83 => ChangeKind::Delete,
            84..=91 => ChangeKind::Overwrite,
            _ if self.sources[index].format == SourceFormat::Csv => ChangeKind::Append,
            _ => ChangeKind::AddColumn,
        };
        let rows = 1 + self.random.below(6);
        let source = &mut self.sources[index];
        let directory = root.join("data").join(&source.name);
        match kind {
            ChangeKind::Append => {
                let batch = new_rows(&mut self.random, source, rows);
                add(source, &directory, batch, SaveMode::Append);
            }
            ChangeKind::AddColumn => {
                source.added_columns += 1;
                let batch = new_rows(&mut self.random, source, rows);
                add(source, &directory, batch, SaveMode::Append);
            }
            ChangeKind::Overwrite => {
                let batch = new_rows(&mut self.random, source, rows);
                if source.format != SourceFormat::Delta {
                    for (file, _) in source.files.drain(..) {
                        std::fs::remove_file(directory.join(file)).expect("the old file is removed");
                    }
                }
                add(source, &directory, batch, SaveMode::Overwrite);
            }
            ChangeKind::Delete => delete(&mut self.random, source, &directory),
        }
        SourceChange { source: source.name.clone(), kind }
    }
}

/// `rows` new rows of `source`, with its added columns.
fn new_rows(random: &mut Random, source: &mut SourceState, rows: usize) -> RecordBatch {
    let ids = source.next_id..source.next_id + rows as i64;
    source.next_id += rows as i64;
    let generated = GeneratedSource::random(random, source.name.clone(), source.format, ids.clone());
    with_added_columns(generated.batch(), source.added_columns)
}

/// `batch` with `count` added int64 columns `x0`…: `id * (n + 1)`.
fn with_added_columns(batch: RecordBatch, count: usize) -> RecordBatch {
    let ids: Vec<i64> = batch.column(0).as_any().downcast_ref::<Int64Array>().expect("id is int64").values().to_vec();
    let mut fields: Vec<Field> = batch.schema().fields().iter().map(|field| field.as_ref().clone()).collect();
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    for added in 0..count {
        fields.push(Field::new(format!("x{added}"), DataType::Int64, true));
        columns.push(Arc::new(Int64Array::from(ids.iter().map(|id| id * (added as i64 + 1)).collect::<Vec<_>>())));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("a valid batch")
}

/// Adds `batch` to `source`: a Delta commit (`mode`, merging the schema when it gained a
/// column), or a new file in its directory.
fn add(source: &mut SourceState, directory: &Path, batch: RecordBatch, mode: SaveMode) {
    match source.format {
        SourceFormat::Delta => delta_commit(directory, batch, mode),
        SourceFormat::Parquet | SourceFormat::Csv => {
            let name = format!("part-{:05}{}", source.next_file, file_extension(source.format));
            source.next_file += 1;
            write_file(source.format, &directory.join(&name), &batch);
            source.files.push((name, batch));
        }
    }
}

fn write_file(format: SourceFormat, path: &Path, batch: &RecordBatch) {
    match format {
        SourceFormat::Parquet => write_parquet_file(path, batch),
        _ => write_csv_file(path, batch),
    }
}

fn delta_commit(directory: &Path, batch: RecordBatch, mode: SaveMode) {
    let url = viewdag_driver::sources::directory_url(directory).expect("a URL");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let table = deltalake::DeltaTable::try_from_url(url).await.expect("the table opens");
        let schema_mode = if mode == SaveMode::Overwrite { SchemaMode::Overwrite } else { SchemaMode::Merge };
        table.write(vec![batch]).with_save_mode(mode).with_schema_mode(schema_mode).await.expect("the Delta commit is written");
    });
}

/// Removes rows: a third of a Delta table's (by id), or half of one file's.
fn delete(random: &mut Random, source: &mut SourceState, directory: &Path) {
    let remainder = random.below(3);
    match source.format {
        SourceFormat::Delta => {
            let url = viewdag_driver::sources::directory_url(directory).expect("a URL");
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(async {
                let table = deltalake::open_table(url).await.expect("the table opens");
                table.delete().with_predicate(format!("id % 3 = {remainder}")).await.expect("the rows are deleted");
            });
        }
        SourceFormat::Parquet | SourceFormat::Csv => {
            let index = random.below(source.files.len());
            let (name, batch) = &mut source.files[index];
            let kept = batch.slice(0, batch.num_rows() / 2);
            let path = directory.join(name.as_str());
            std::fs::remove_file(&path).expect("the file is removed");
            write_file(source.format, &path, &kept);
            *batch = kept;
        }
    }
}
