//! Synthetic view DAGs of any size, for the compile benchmarks and the incremental tests at
//! scale, in two shapes:
//!
//! - [`DagShape::Transforms`] (the benchmark's original shape): two Parquet sources,
//!   `facts(id, k, v, s)` and `dims(k, label)`; filters, projections, left joins with a
//!   renamed `dims` and aggregates.
//! - [`DagShape::SqlHeavy`] (shaped like a real project): four sources of every format
//!   (`facts` Parquet and `events` Delta with sixteen columns, `dims` Parquet, `regions` CSV);
//!   filters, sixteen-column projections, aggregates, joins with a renamed `regions`, and
//!   one view in five a `sql` view — a join of two earlier views or a grouped aggregate.
//!
//! Either way each view reads the previous view (85 %, chains capped at [`MAX_CHAIN`] deep)
//! or a random earlier one, or a source; [`OUTPUTS`] outputs are spread over the declaration
//! order. Every view also has the SQL a user would write by hand for it (the baseline).
//!
//! ## Invariants
//! - Deterministic: the same shape, count and seed give the same text byte for byte.
//! - Valid: every generated spec checks without an error (the benchmarks assert it). In the
//!   SQL-heavy shape every readable view has exactly the wide schema of `facts`, so any two
//!   can be joined; aggregates and joins with `regions` are leaves.
//! - Runnable: every join keeps the row count (`id` is unique in the wide sources, `k` in
//!   `dims` and `regions`), so no task of a run has more rows than a source, at any size.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use crate::data::{write_csv_file, write_delta_table, write_parquet_file};
use crate::generate::Random;

/// The deepest chain of views the generator builds.
pub const MAX_CHAIN: usize = 200;
/// How many outputs (tasks) a synthetic DAG declares.
pub const OUTPUTS: usize = 10;
/// The wide shape's extra columns after `id, k, v, s`: `c0`..`c11`, cycling int64, float64, utf8.
const EXTRA_COLUMNS: usize = 12;

/// Which kind of project the generator writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DagShape {
    /// Two sources of four and two columns; transforms only.
    Transforms,
    /// Four sources (Parquet, Delta, CSV), sixteen-column schemas, one view in five `sql`.
    SqlHeavy,
}

impl DagShape {
    /// The name the benchmarks print and accept (`transforms`, `sql`).
    pub fn name(self) -> &'static str {
        match self {
            DagShape::Transforms => "transforms",
            DagShape::SqlHeavy => "sql",
        }
    }

    pub fn from_name(name: &str) -> Option<DagShape> {
        [DagShape::Transforms, DagShape::SqlHeavy].into_iter().find(|shape| shape.name() == name)
    }
}

/// What kind of view a synthetic view is (what an edit scenario looks for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyntheticKind {
    Filter,
    Project,
    Join,
    Aggregate,
    SqlJoin,
    SqlAggregate,
}

/// One synthetic view: its viewdag YAML entry and the equivalent SQL.
#[derive(Debug, Clone)]
pub struct SyntheticView {
    pub name: String,
    pub kind: SyntheticKind,
    /// The entry, indented under `views:`, ending with a newline.
    pub yaml: String,
    /// The same view as a SQL query (for `CREATE VIEW name AS …`).
    pub sql: String,
    /// The relations it reads.
    pub reads: Vec<String>,
}

/// A generated DAG.
#[derive(Debug, Clone)]
pub struct SyntheticDag {
    pub shape: DagShape,
    pub views: Vec<SyntheticView>,
}

/// The SQL-heavy shape's wide columns: name and type.
fn wide_columns() -> Vec<(String, DataType)> {
    let mut columns = vec![
        ("id".to_string(), DataType::Int64),
        ("k".to_string(), DataType::Int64),
        ("v".to_string(), DataType::Float64),
        ("s".to_string(), DataType::Utf8),
    ];
    for index in 0..EXTRA_COLUMNS {
        let data_type = [DataType::Int64, DataType::Float64, DataType::Utf8][index % 3].clone();
        columns.push((format!("c{index}"), data_type));
    }
    columns
}

/// A readable view the generator may extend: its name and its depth in ephemeral views.
#[derive(Debug, Clone)]
struct Readable {
    name: String,
    depth: usize,
    /// Transforms shape: whether it already joined `dims` (its columns include `label`).
    joined: bool,
}

impl SyntheticDag {
    /// `count` views of `shape`, drawn from `seed`.
    pub fn generate(shape: DagShape, count: usize, seed: u64) -> SyntheticDag {
        match shape {
            DagShape::Transforms => SyntheticDag::transforms(count, seed),
            DagShape::SqlHeavy => SyntheticDag::sql_heavy(count, seed),
        }
    }

    /// The input of the next view: the previous view (85 %, below the chain cap), a random
    /// earlier readable one, or `source`.
    fn next_input(random: &mut Random, previous: &Option<Readable>, readable: &[Readable], source: &str) -> Readable {
        let start = || Readable { name: source.to_string(), depth: 0, joined: false };
        match previous {
            Some(previous) if previous.depth < MAX_CHAIN && random.chance(85) => previous.clone(),
            _ if !readable.is_empty() && random.chance(50) => {
                let candidate = random.pick(readable).clone();
                if candidate.depth < MAX_CHAIN { candidate } else { start() }
            }
            _ => start(),
        }
    }

    fn transforms(count: usize, seed: u64) -> SyntheticDag {
        let mut random = Random::new(seed);
        let mut views = vec![SyntheticView {
            name: "dims_r".into(),
            kind: SyntheticKind::Project,
            yaml: "  dims_r:\n    project: { input: dims, columns: { dk: k, label: label } }\n".into(),
            sql: "SELECT k AS dk, label FROM dims".into(),
            reads: vec!["dims".into()],
        }];
        let mut readable: Vec<Readable> = Vec::new();
        let mut previous: Option<Readable> = None;
        for index in 0..count.saturating_sub(1) {
            let name = format!("v{index}");
            let input = SyntheticDag::next_input(&mut random, &previous, &readable, "facts");
            let from = &input.name;
            let kind = random.below(10);
            let (kind, yaml, sql, reads) = match kind {
                0..=3 => (
                    SyntheticKind::Filter,
                    format!("  {name}:\n    filter: {{ input: {from}, predicate: \"v > {}\" }}\n", index % 7),
                    format!("SELECT * FROM {from} WHERE v > {}", index % 7),
                    vec![from.clone()],
                ),
                4..=6 => (
                    SyntheticKind::Project,
                    format!("  {name}:\n    project: {{ input: {from}, columns: {{ id: id, k: k, v: \"v * 1.01\", s: s }} }}\n"),
                    format!("SELECT id, k, v * 1.01 AS v, s FROM {from}"),
                    vec![from.clone()],
                ),
                7 | 8 if !input.joined => (
                    SyntheticKind::Join,
                    format!("  {name}:\n    join: {{ left: {from}, right: dims_r, kind: left, on: [[k, dk]] }}\n"),
                    format!("SELECT {from}.*, dims_r.dk, dims_r.label FROM {from} LEFT JOIN dims_r ON {from}.k = dims_r.dk"),
                    vec![from.clone(), "dims_r".into()],
                ),
                _ => (
                    SyntheticKind::Aggregate,
                    format!(
                        "  {name}:\n    aggregate: {{ input: {from}, group_by: [k], measures: {{ total: \"sum(v)\", n: \"count(*)\" }} }}\n"
                    ),
                    format!("SELECT k, sum(v) AS total, count(*) AS n FROM {from} GROUP BY k"),
                    vec![from.clone()],
                ),
            };
            let joined = input.joined || kind == SyntheticKind::Join;
            views.push(SyntheticView { name: name.clone(), kind, yaml, sql, reads });
            if kind == SyntheticKind::Aggregate {
                previous = None;
            } else {
                let entry = Readable { name, depth: input.depth + 1, joined };
                readable.push(entry.clone());
                previous = Some(entry);
            }
        }
        SyntheticDag { shape: DagShape::Transforms, views }
    }

    fn sql_heavy(count: usize, seed: u64) -> SyntheticDag {
        let mut random = Random::new(seed);
        let columns = wide_columns();
        let projection_yaml: Vec<String> = columns
            .iter()
            .map(|(column, _)| if column == "v" { "v: \"v * 1.01\"".to_string() } else { format!("{column}: {column}") })
            .collect();
        let projection_yaml = projection_yaml.join(", ");
        let projection_sql: Vec<String> =
            columns.iter().map(|(column, _)| if column == "v" { "v * 1.01 AS v".to_string() } else { column.clone() }).collect();
        let projection_sql = projection_sql.join(", ");
        let mut views = vec![SyntheticView {
            name: "regions_r".into(),
            kind: SyntheticKind::Project,
            yaml: "  regions_r:\n    project: { input: regions, columns: { rk: k, region: region } }\n".into(),
            sql: "SELECT k AS rk, region FROM regions".into(),
            reads: vec!["regions".into()],
        }];
        let mut readable: Vec<Readable> = Vec::new();
        let mut previous: Option<Readable> = None;
        for index in 0..count.saturating_sub(1) {
            let name = format!("v{index}");
            let source = if random.chance(50) { "facts" } else { "events" };
            let input = SyntheticDag::next_input(&mut random, &previous, &readable, source);
            let from = input.name.clone();
            let mut depth = input.depth + 1;
            let bucket = random.below(100);
            let (kind, yaml, sql, reads) = match bucket {
                0..30 => {
                    let (column, bound) = if index % 2 == 0 { ("v", index % 7) } else { ("c0", index % 5) };
                    (
                        SyntheticKind::Filter,
                        format!("  {name}:\n    filter: {{ input: {from}, predicate: \"{column} > {bound}\" }}\n"),
                        format!("SELECT * FROM {from} WHERE {column} > {bound}"),
                        vec![from],
                    )
                }
                30..52 => (
                    SyntheticKind::Project,
                    format!("  {name}:\n    project: {{ input: {from}, columns: {{ {projection_yaml} }} }}\n"),
                    format!("SELECT {projection_sql} FROM {from}"),
                    vec![from],
                ),
                52..62 => (
                    SyntheticKind::Aggregate,
                    format!(
                        "  {name}:\n    aggregate: {{ input: {from}, group_by: [k, s], measures: {{ total: \"sum(v)\", n: \"count(*)\", top: \"max(c1)\" }} }}\n"
                    ),
                    format!("SELECT k, s, sum(v) AS total, count(*) AS n, max(c1) AS top FROM {from} GROUP BY k, s"),
                    vec![from],
                ),
                62..80 => (
                    SyntheticKind::Join,
                    format!("  {name}:\n    join: {{ left: {from}, right: regions_r, kind: left, on: [[k, rk]] }}\n"),
                    format!("SELECT {from}.*, regions_r.rk, regions_r.region FROM {from} LEFT JOIN regions_r ON {from}.k = regions_r.rk"),
                    vec![from, "regions_r".into()],
                ),
                80..92 => {
                    // A join of two earlier views (or sources) written as SQL.
                    let other = if readable.is_empty() {
                        Readable { name: "facts".into(), depth: 0, joined: false }
                    } else {
                        random.pick(&readable).clone()
                    };
                    let other = if other.depth >= MAX_CHAIN || other.name == from {
                        Readable { name: "events".into(), depth: 0, joined: false }
                    } else {
                        other
                    };
                    depth = depth.max(other.depth + 1);
                    let query = format!(
                        "SELECT a.* FROM {from} AS a JOIN {} AS b ON a.id = b.id AND a.k = b.k WHERE b.v > {}",
                        other.name,
                        index % 5
                    );
                    (SyntheticKind::SqlJoin, format!("  {name}:\n    sql: \"{query}\"\n"), query.clone(), vec![from, other.name.clone()])
                }
                _ => {
                    let query = format!(
                        "SELECT k, s, sum(v) AS total, count(*) AS n, avg(c1) AS mean FROM {from} WHERE c3 > {} GROUP BY k, s",
                        index % 3
                    );
                    (SyntheticKind::SqlAggregate, format!("  {name}:\n    sql: \"{query}\"\n"), query.clone(), vec![from])
                }
            };
            views.push(SyntheticView { name: name.clone(), kind, yaml, sql, reads });
            if matches!(kind, SyntheticKind::Aggregate | SyntheticKind::SqlAggregate | SyntheticKind::Join) || depth > MAX_CHAIN {
                previous = None;
            } else {
                let entry = Readable { name, depth, joined: false };
                readable.push(entry.clone());
                previous = Some(entry);
            }
        }
        SyntheticDag { shape: DagShape::SqlHeavy, views }
    }

    /// The `sources:` section of the spec.
    fn sources_yaml(&self) -> &'static str {
        match self.shape {
            DagShape::Transforms => {
                "sources:\n  facts: { format: parquet, path: data/facts.parquet }\n  dims: { format: parquet, path: data/dims.parquet }\n"
            }
            DagShape::SqlHeavy => concat!(
                "sources:\n",
                "  facts: { format: parquet, path: data/facts.parquet }\n",
                "  events: { format: delta, path: data/events }\n",
                "  dims: { format: parquet, path: data/dims.parquet }\n",
                "  regions: { format: csv, path: data/regions.csv, schema: { k: int64, region: utf8 } }\n",
            ),
        }
    }

    /// The whole spec.
    pub fn spec_yaml(&self) -> String {
        let mut text = format!("version: 1\n{}views:\n", self.sources_yaml());
        for view in &self.views {
            text.push_str(&view.yaml);
        }
        text.push_str("outputs:\n");
        for (index, view) in self.output_views().iter().enumerate() {
            let _ = writeln!(text, "  out{index}: {{ view: {view}, path: out/out{index} }}");
        }
        text
    }

    /// The views of the DAG's outputs: [`OUTPUTS`] views spread evenly over the declaration
    /// order (so they sit at every depth of the chains).
    pub fn output_views(&self) -> Vec<String> {
        let count = self.views.len();
        (1..=OUTPUTS).map(|index| self.views[(index * count / (OUTPUTS + 1)).min(count - 1)].name.clone()).collect()
    }

    /// How many views the outputs inline (themselves and their ephemeral ancestors).
    pub fn inlined_count(&self) -> usize {
        let reads: HashMap<&str, &[String]> = self.views.iter().map(|view| (view.name.as_str(), view.reads.as_slice())).collect();
        let mut seen = HashSet::new();
        let mut stack: Vec<String> = self.output_views();
        while let Some(name) = stack.pop() {
            if let Some(inputs) = reads.get(name.as_str())
                && seen.insert(name.clone())
            {
                stack.extend(inputs.iter().cloned());
            }
        }
        seen.len()
    }

    /// Per view, the views that read it.
    fn readers(&self) -> HashMap<&str, Vec<&SyntheticView>> {
        let mut readers: HashMap<&str, Vec<&SyntheticView>> = HashMap::new();
        for view in &self.views {
            for input in &view.reads {
                readers.entry(input.as_str()).or_default().push(view);
            }
        }
        readers
    }

    /// The last filter no view reads (and no output writes): an edit of its predicate keeps
    /// every schema.
    pub fn leaf_filter(&self) -> Option<&SyntheticView> {
        let readers = self.readers();
        let outputs = self.output_views();
        self.views
            .iter()
            .rev()
            .find(|view| view.kind == SyntheticKind::Filter && !readers.contains_key(view.name.as_str()) && !outputs.contains(&view.name))
    }

    /// A projection a third of the way down whose one reader has an explicit column list (a
    /// projection or an aggregate): adding a column to it changes its schema and that one
    /// reader's input, and stops there.
    pub fn mid_projection(&self) -> Option<&SyntheticView> {
        let readers = self.readers();
        self.views.iter().skip(self.views.len() / 3).find(|view| {
            view.kind == SyntheticKind::Project
                && view.name.starts_with('v')
                && readers.get(view.name.as_str()).is_some_and(|readers| {
                    readers.len() == 1 && matches!(readers[0].kind, SyntheticKind::Project | SyntheticKind::Aggregate)
                })
        })
    }

    /// The spec with `view`'s projection gaining a column (`extra: "k + 1"`).
    pub fn with_extra_column(&self, text: &str, view: &SyntheticView) -> String {
        let edited = view.yaml.replacen(" } }\n", ", extra: \"k + 1\" } }\n", 1);
        text.replacen(&view.yaml, &edited, 1)
    }

    /// The spec with `view`'s predicate edited (`>` becomes `>=`): same schema.
    pub fn with_leaf_edit(&self, text: &str, view: &SyntheticView) -> String {
        text.replacen(&view.yaml, &view.yaml.replacen(" > ", " >= ", 1), 1)
    }

    /// The spec with a new filter over `facts` inserted in the middle of the views (every
    /// entry after it moves down two lines).
    pub fn with_added_view(&self, text: &str) -> String {
        let middle = &self.views[self.views.len() / 2];
        let added = format!("{}  added_view:\n    filter: {{ input: facts, predicate: \"v > 1\" }}\n", middle.yaml);
        text.replacen(&middle.yaml, &added, 1)
    }

    /// The spec without `view` (a leaf: nothing reads it), as `text` has it, edited or not:
    /// every entry is two lines, its key and its transform.
    pub fn without_view(&self, text: &str, view: &SyntheticView) -> String {
        let key = format!("\n  {}:\n", view.name);
        let Some(start) = text.find(&key).map(|at| at + 1) else { return text.to_string() };
        let body = start + key.len() - 1;
        let end = text[body..].find('\n').map_or(text.len(), |offset| body + offset + 1);
        format!("{}{}", &text[..start], &text[end..])
    }

    /// Writes the sources' files under `root/data`.
    pub fn write_sources(&self, root: &Path) {
        let data = root.join("data");
        match self.shape {
            DagShape::Transforms => {
                write_parquet_file(&data.join("facts.parquet"), &crate::synthetic::facts(64, 8, 5));
                write_parquet_file(&data.join("dims.parquet"), &keyed_labels("k", "label"));
            }
            DagShape::SqlHeavy => {
                let wide = wide_facts(64);
                write_parquet_file(&data.join("facts.parquet"), &wide);
                write_delta_table(&data.join("events"), vec![wide]);
                write_parquet_file(&data.join("dims.parquet"), &keyed_labels("k", "label"));
                write_csv_file(&data.join("regions.csv"), &keyed_labels("k", "region"));
            }
        }
    }
}

/// `k` 0..8 and a text per key.
fn keyed_labels(key: &str, label: &str) -> RecordBatch {
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new(key, DataType::Int64, false), Field::new(label, DataType::Utf8, true)])),
        vec![
            Arc::new(Int64Array::from((0..8).collect::<Vec<i64>>())),
            Arc::new(StringArray::from((0..8).map(|k| format!("{label}{k}")).collect::<Vec<String>>())),
        ],
    )
    .expect("a batch")
}

/// `rows` rows of the wide schema. `id` is unique (0..rows): the `sql` views join two views
/// on `id` and `k`, which must keep the row count (with repeated ids every join multiplied
/// the rows, exponentially along a chain of joins: `run` of the SQL-heavy shape ran out of
/// memory); the other integer columns take eight values.
fn wide_facts(rows: usize) -> RecordBatch {
    let columns = wide_columns();
    let ids: Vec<i64> = (0..rows as i64).collect();
    let arrays: Vec<ArrayRef> = columns
        .iter()
        .enumerate()
        .map(|(position, (name, data_type))| -> ArrayRef {
            match data_type {
                DataType::Int64 if name == "id" => Arc::new(Int64Array::from(ids.clone())),
                DataType::Int64 => Arc::new(Int64Array::from(ids.iter().map(|id| (id + position as i64) % 8).collect::<Vec<i64>>())),
                DataType::Float64 => Arc::new(Float64Array::from(ids.iter().map(|id| *id as f64 / 3.0).collect::<Vec<f64>>())),
                _ => Arc::new(StringArray::from(ids.iter().map(|id| format!("s{}", id % 5)).collect::<Vec<String>>())),
            }
        })
        .collect();
    let fields: Vec<Field> = columns.iter().map(|(name, data_type)| Field::new(name, data_type.clone(), name != "id")).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("a batch")
}

/// A synthetic project on disk: its sources and its spec file.
pub struct SyntheticProject {
    pub directory: tempfile::TempDir,
    pub dag: SyntheticDag,
    pub spec_path: PathBuf,
    pub text: String,
}

impl SyntheticProject {
    /// Generates `count` views of `shape` (seed 42), writes the sources and the spec into a
    /// temporary directory.
    pub fn create(shape: DagShape, count: usize) -> SyntheticProject {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let (dag, spec_path, text) = SyntheticProject::write_into(directory.path(), shape, count);
        SyntheticProject { directory, dag, spec_path, text }
    }

    /// Generates `count` views of `shape` (seed 42) and writes the sources and `spec.yaml`
    /// into `directory`: the DAG, the spec's path and its text.
    pub fn write_into(directory: &std::path::Path, shape: DagShape, count: usize) -> (SyntheticDag, PathBuf, String) {
        let dag = SyntheticDag::generate(shape, count, 42);
        dag.write_sources(directory);
        let spec_path = directory.join("spec.yaml");
        let text = dag.spec_yaml();
        std::fs::write(&spec_path, &text).expect("the spec is written");
        (dag, spec_path, text)
    }
}
