//! Generators of valid specs with small random data, for property tests.
//!
//! A [`GeneratedProject`] is built deterministically from a seed and a view count: the
//! proptest strategy [`project_strategy`] draws those two numbers, so a failing case is
//! reproduced by its seed (proptest prints it) and shrinks toward fewer views.
//!
//! Every generated spec is valid by construction: the generator tracks each relation's
//! columns and types and only writes transforms that type-check. Joins read a renaming
//! `project` of their right side, so non-key names never clash; `limit` only reads a
//! `sort` over every column, so its rows are deterministic; unions read relations with the
//! same column types.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use indexmap::IndexMap;
use proptest::prelude::*;
use viewdag_ir::{
    AggregateView, DistinctView, FilterView, JoinKind, JoinView, LimitView, Materialize, OutputSpec, ProjectView, SortView, SourceFormat,
    SourceSpec, SqlView, Transform, UnionView, ViewDefinition, WriteMode,
};

use crate::data::{write_csv_file, write_delta_table, write_parquet_file};

/// A column type of the generator's small type system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Int,
    Float,
    Text,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    pub name: String,
    pub columns: Vec<(String, ColumnType)>,
}

/// A source's declaration and its rows (columns `id`, `k`, `v`, `s`).
#[derive(Debug, Clone)]
pub struct GeneratedSource {
    pub name: String,
    pub format: SourceFormat,
    pub ids: Vec<i64>,
    pub keys: Vec<Option<i64>>,
    pub values: Vec<Option<f64>>,
    pub texts: Vec<Option<String>>,
}

#[derive(Debug, Clone)]
pub struct GeneratedProject {
    pub seed: u64,
    pub sources: Vec<GeneratedSource>,
    pub views: IndexMap<String, ViewDefinition>,
    pub outputs: IndexMap<String, OutputSpec>,
    /// Parquet and CSV sources are directories (`data/NAME/part-00000.parquet`) rather than
    /// single files (`data/NAME.parquet`), so files can be added to them.
    pub file_sources_in_directories: bool,
}

/// SplitMix64: small, fast, and the same on every machine.
pub struct Random(u64);

impl Random {
    pub fn new(seed: u64) -> Self {
        Random(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound.max(1) as u64) as usize
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const TEXTS: [&str; 4] = ["a", "b", "c", "d"];

fn source_columns() -> Vec<(String, ColumnType)> {
    vec![("id".into(), ColumnType::Int), ("k".into(), ColumnType::Int), ("v".into(), ColumnType::Float), ("s".into(), ColumnType::Text)]
}

impl GeneratedProject {
    /// Builds a project from a seed: 1–3 sources and `view_count` views (a join adds a
    /// renaming view, so there may be a few more).
    pub fn generate(seed: u64, view_count: usize) -> GeneratedProject {
        let mut random = Random::new(seed);
        let source_count = 1 + random.below(3);
        let formats = [SourceFormat::Delta, SourceFormat::Parquet, SourceFormat::Csv];
        let mut sources = Vec::new();
        let mut relations: Vec<Relation> = Vec::new();
        for index in 0..source_count {
            let rows = random.below(25);
            let name = format!("src{index}");
            let format = formats[random.below(3)];
            sources.push(GeneratedSource::random(&mut random, name.clone(), format, 0..rows as i64));
            relations.push(Relation { name, columns: source_columns() });
        }
        let mut views = IndexMap::new();
        let mut index = 0;
        while views.len() < view_count {
            add_view(&mut random, &mut relations, &mut views, index);
            index += 1;
        }
        let view_names: Vec<String> = views.keys().cloned().collect();
        let mut outputs = IndexMap::new();
        if let Some(last) = view_names.last() {
            outputs.insert("o0".to_string(), output(last, "out/o0"));
            let other = random.pick(&view_names).clone();
            if &other != last {
                outputs.insert("o1".to_string(), output(&other, "out/o1"));
            }
        }
        GeneratedProject { seed, sources, views, outputs, file_sources_in_directories: false }
    }

    /// The spec as YAML text.
    pub fn spec_yaml(&self) -> String {
        let mut document = serde_json::Map::new();
        document.insert("version".into(), 1.into());
        let mut sources = serde_json::Map::new();
        for source in &self.sources {
            let extension = if self.file_sources_in_directories { "" } else { file_extension(source.format) };
            let schema = match source.format {
                SourceFormat::Csv => Some(IndexMap::from([
                    ("id".to_string(), "int64".to_string()),
                    ("k".to_string(), "int64".to_string()),
                    ("v".to_string(), "float64".to_string()),
                    ("s".to_string(), "utf8".to_string()),
                ])),
                _ => None,
            };
            let spec = SourceSpec { format: source.format, path: format!("data/{}{extension}", source.name), schema, version: None };
            sources.insert(source.name.clone(), serde_json::to_value(spec).expect("serializes"));
        }
        document.insert("sources".into(), sources.into());
        let mut views = serde_json::Map::new();
        for (name, definition) in &self.views {
            views.insert(name.clone(), serde_json::to_value(definition.to_raw()).expect("serializes"));
        }
        document.insert("views".into(), views.into());
        document.insert("outputs".into(), serde_json::to_value(&self.outputs).expect("serializes"));
        serde_yaml_ng::to_string(&serde_json::Value::Object(document)).expect("YAML serializes")
    }

    /// Writes the sources under `root/data` and the spec at `root/spec.yaml`.
    pub fn write(&self, root: &Path) -> std::path::PathBuf {
        for source in &self.sources {
            let batch = source.batch();
            match source.format {
                SourceFormat::Delta => write_delta_table(&root.join("data").join(&source.name), vec![batch]),
                SourceFormat::Parquet => write_parquet_file(&self.first_file_of(root, source), &batch),
                SourceFormat::Csv => write_csv_file(&self.first_file_of(root, source), &batch),
            }
        }
        let path = root.join("spec.yaml");
        std::fs::write(&path, self.spec_yaml()).expect("the spec is written");
        path
    }

    /// The file a Parquet or CSV source's rows are first written to under `root`.
    fn first_file_of(&self, root: &Path, source: &GeneratedSource) -> std::path::PathBuf {
        let extension = file_extension(source.format);
        if self.file_sources_in_directories {
            root.join("data").join(&source.name).join(format!("part-00000{extension}"))
        } else {
            root.join("data").join(format!("{}{extension}", source.name))
        }
    }
}

impl GeneratedSource {
    /// A source with the rows `ids`, their other columns drawn from `random` (each null one
    /// time in ten): `k` in 0–5, `v` a multiple of 1/8 below 125 (sums of a few are exact),
    /// `s` one of four letters.
    pub fn random(random: &mut Random, name: String, format: SourceFormat, ids: std::ops::Range<i64>) -> GeneratedSource {
        let rows = ids.clone().count();
        GeneratedSource {
            name,
            format,
            ids: ids.collect(),
            keys: (0..rows).map(|_| if random.chance(10) { None } else { Some(random.below(6) as i64) }).collect(),
            values: (0..rows).map(|_| if random.chance(10) { None } else { Some(random.below(1000) as f64 / 8.0) }).collect(),
            texts: (0..rows).map(|_| if random.chance(10) { None } else { Some(TEXTS[random.below(4)].to_string()) }).collect(),
        }
    }

    pub fn batch(&self) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("k", DataType::Int64, true),
            Field::new("v", DataType::Float64, true),
            Field::new("s", DataType::Utf8, true),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(self.ids.clone())),
            Arc::new(Int64Array::from(self.keys.clone())),
            Arc::new(Float64Array::from(self.values.clone())),
            Arc::new(StringArray::from(self.texts.clone())),
        ];
        RecordBatch::try_new(schema, columns).expect("a valid batch")
    }
}

/// The extension the generator gives a source's files (none for a Delta table's directory).
pub fn file_extension(format: SourceFormat) -> &'static str {
    match format {
        SourceFormat::Delta => "",
        SourceFormat::Parquet => ".parquet",
        SourceFormat::Csv => ".csv",
    }
}

fn output(view: &str, path: &str) -> OutputSpec {
    OutputSpec {
        view: view.to_string(),
        path: path.to_string(),
        mode: WriteMode::Overwrite,
        partition_by: Vec::new(),
        contract: None,
        expect: None,
        unique_key: Vec::new(),
        when_not_matched_by_source: None,
        replace_where: None,
        schema_mode: None,
        refresh: None,
    }
}

fn definition(transform: Transform, materialize: bool) -> ViewDefinition {
    ViewDefinition {
        transform,
        materialize: if materialize { Materialize::Table } else { Materialize::Ephemeral },
        tags: Vec::new(),
        expect: None,
        refresh: None,
    }
}

fn columns_of(relation: &Relation, wanted: ColumnType) -> Vec<String> {
    relation.columns.iter().filter(|(_, column_type)| *column_type == wanted).map(|(name, _)| name.clone()).collect()
}

fn predicate(random: &mut Random, relation: &Relation) -> String {
    let (name, column_type) = random.pick(&relation.columns).clone();
    match column_type {
        ColumnType::Int => match random.below(3) {
            0 => format!("{name} > {}", random.below(5)),
            1 => format!("{name} IS NOT NULL"),
            _ => format!("{name} % 2 = 0"),
        },
        ColumnType::Float => format!("{name} >= {}.5", random.below(60)),
        ColumnType::Text => format!("{name} <> '{}'", TEXTS[random.below(4)]),
    }
}

/// Adds one view (and, for a join, the renaming view it reads) to `views`.
fn add_view(random: &mut Random, relations: &mut Vec<Relation>, views: &mut IndexMap<String, ViewDefinition>, index: usize) {
    let name = format!("v{index}");
    let materialize = random.chance(15);
    let input = random.pick(relations).clone();
    let (transform, columns) = match random.below(9) {
        0 => (Transform::Filter(FilterView { input: input.name.clone(), predicate: predicate(random, &input) }), input.columns.clone()),
        1 => {
            let mut columns = IndexMap::new();
            let mut types = Vec::new();
            for (column, column_type) in &input.columns {
                if random.chance(70) || columns.is_empty() {
                    columns.insert(column.clone(), column.clone());
                    types.push((column.clone(), *column_type));
                }
            }
            if let Some(integer) = columns_of(&input, ColumnType::Int).first() {
                let computed = format!("{integer}_x2");
                if !input.columns.iter().any(|(existing, _)| *existing == computed) {
                    columns.insert(computed.clone(), format!("{integer} * 2"));
                    types.push((computed, ColumnType::Int));
                }
            }
            (Transform::Project(ProjectView { input: input.name.clone(), columns }), types)
        }
        2 => {
            let groupable: Vec<(String, ColumnType)> = input
                .columns
                .iter()
                .filter(|(column, column_type)| *column_type != ColumnType::Float && column != "n" && column != "total")
                .cloned()
                .collect();
            let mut measures = IndexMap::from([("n".to_string(), "count(*)".to_string())]);
            let mut types = Vec::new();
            let group_by = if groupable.is_empty() || random.chance(15) {
                Vec::new()
            } else {
                let (group, group_type) = random.pick(&groupable).clone();
                types.push((group.clone(), group_type));
                vec![group]
            };
            types.push(("n".to_string(), ColumnType::Int));
            let numeric: Vec<(String, ColumnType)> = input
                .columns
                .iter()
                .filter(|(column, column_type)| *column_type != ColumnType::Text && !group_by.contains(column) && column != "n")
                .cloned()
                .collect();
            if !numeric.is_empty() {
                let (column, column_type) = random.pick(&numeric).clone();
                measures.insert("total".to_string(), format!("sum({column})"));
                types.push(("total".to_string(), column_type));
            }
            (Transform::Aggregate(AggregateView { input: input.name.clone(), group_by, measures }), types)
        }
        3 => {
            let left_keys = columns_of(&input, ColumnType::Int);
            let right = random.pick(relations).clone();
            let right_keys = columns_of(&right, ColumnType::Int);
            if left_keys.is_empty() || right_keys.is_empty() {
                (Transform::Distinct(DistinctView { input: input.name.clone() }), input.columns.clone())
            } else {
                // Rename every right column so only the key pair may share a name.
                let renamed_name = format!("{name}_right");
                let prefix = format!("r{index}_");
                let renamed_columns: IndexMap<String, String> =
                    right.columns.iter().map(|(column, _)| (format!("{prefix}{column}"), column.clone())).collect();
                let renamed = Relation {
                    name: renamed_name.clone(),
                    columns: right.columns.iter().map(|(column, column_type)| (format!("{prefix}{column}"), *column_type)).collect(),
                };
                views.insert(
                    renamed_name.clone(),
                    definition(Transform::Project(ProjectView { input: right.name.clone(), columns: renamed_columns }), false),
                );
                relations.push(renamed.clone());
                let left_key = random.pick(&left_keys).clone();
                let right_key = format!("{prefix}{}", random.pick(&right_keys));
                let kind = *random.pick(&JoinKind::ALL);
                let filter = if random.chance(25) { Some(format!("{left_key} <= {right_key} + 3")) } else { None };
                let mut columns = input.columns.clone();
                if !kind.outputs_left_only() {
                    columns.extend(renamed.columns.iter().cloned());
                }
                (
                    Transform::Join(JoinView {
                        left: input.name.clone(),
                        right: renamed_name,
                        kind,
                        on: vec![[left_key, right_key]],
                        filter,
                    }),
                    columns,
                )
            }
        }
        4 => {
            let types: Vec<ColumnType> = input.columns.iter().map(|(_, column_type)| *column_type).collect();
            let compatible: Vec<&Relation> = relations
                .iter()
                .filter(|relation| relation.columns.iter().map(|(_, column_type)| *column_type).collect::<Vec<_>>() == types)
                .collect();
            let other = compatible[random.below(compatible.len())].name.clone();
            (Transform::Union(UnionView { inputs: vec![input.name.clone(), other], distinct: random.chance(50) }), input.columns.clone())
        }
        5 => {
            let descending = random.chance(50);
            let by: Vec<String> =
                input.columns.iter().map(|(column, _)| if descending { format!("{column} DESC") } else { column.clone() }).collect();
            let limit = if random.chance(50) { Some(random.below(10) as i64) } else { None };
            (Transform::Sort(SortView { input: input.name.clone(), by, limit }), input.columns.clone())
        }
        6 => {
            let by: Vec<String> = input.columns.iter().map(|(column, _)| column.clone()).collect();
            let sorted_name = format!("{name}_sorted");
            views.insert(sorted_name.clone(), definition(Transform::Sort(SortView { input: input.name.clone(), by, limit: None }), false));
            relations.push(Relation { name: sorted_name.clone(), columns: input.columns.clone() });
            let offset = if random.chance(30) { Some(random.below(3) as i64) } else { None };
            (Transform::Limit(LimitView { input: sorted_name, count: random.below(8) as i64, offset }), input.columns.clone())
        }
        7 => (Transform::Distinct(DistinctView { input: input.name.clone() }), input.columns.clone()),
        _ => {
            let query = format!("SELECT * FROM {} WHERE {}", input.name, predicate(random, &input));
            (Transform::Sql(SqlView { query }), input.columns.clone())
        }
    };
    views.insert(name.clone(), definition(transform, materialize));
    relations.push(Relation { name, columns });
}

impl GeneratedProject {
    /// A project whose float aggregates are read twice within one task: 1–2 sources of
    /// 4 000–12 000 rows whose float values span twelve orders of magnitude (their sums
    /// depend on the order of the additions), ephemeral `aggregate` views (`sum`, `avg`
    /// over floats, by key), views reading each of them twice (`union … distinct: true`
    /// of the view with itself, and a self-join on the key requiring equal totals), then
    /// `extra_views` random views over all of these. Every shared reader is an output.
    pub fn generate_shared_float_aggregates(seed: u64, extra_views: usize) -> GeneratedProject {
        let mut random = Random::new(seed);
        let mut sources = Vec::new();
        let mut relations: Vec<Relation> = Vec::new();
        for index in 0..1 + random.below(2) {
            let rows = 4_000 + random.below(8_000);
            let name = format!("src{index}");
            let values = (0..rows)
                .map(|_| {
                    let magnitude = 10f64.powi(random.below(12) as i32 - 3);
                    let fraction = random.next_u64() as f64 / u64::MAX as f64;
                    if random.chance(3) { None } else { Some(if random.chance(30) { -fraction } else { fraction } * magnitude) }
                })
                .collect();
            sources.push(GeneratedSource {
                name: name.clone(),
                format: SourceFormat::Parquet,
                ids: (0..rows as i64).collect(),
                keys: (0..rows).map(|_| Some(random.below(40) as i64)).collect(),
                values,
                texts: (0..rows).map(|_| Some(TEXTS[random.below(4)].to_string())).collect(),
            });
            relations.push(Relation { name, columns: source_columns() });
        }
        let mut views = IndexMap::new();
        let mut outputs = IndexMap::new();
        for source in sources.iter().map(|source| source.name.clone()) {
            let aggregate = format!("{source}_totals");
            let measures = IndexMap::from([
                ("total".to_string(), "sum(v)".to_string()),
                ("mean".to_string(), "avg(v)".to_string()),
                ("n".to_string(), "count(*)".to_string()),
            ]);
            views.insert(
                aggregate.clone(),
                definition(Transform::Aggregate(AggregateView { input: source.clone(), group_by: vec!["k".to_string()], measures }), false),
            );
            let totals_columns = vec![
                ("k".to_string(), ColumnType::Int),
                ("total".to_string(), ColumnType::Float),
                ("mean".to_string(), ColumnType::Float),
                ("n".to_string(), ColumnType::Int),
            ];
            relations.push(Relation { name: aggregate.clone(), columns: totals_columns.clone() });
            let twice = format!("{source}_twice");
            views.insert(
                twice.clone(),
                definition(Transform::Union(UnionView { inputs: vec![aggregate.clone(), aggregate.clone()], distinct: true }), false),
            );
            relations.push(Relation { name: twice.clone(), columns: totals_columns });
            let renamed = format!("{source}_totals_again");
            let renamed_columns =
                IndexMap::from([("again_k".to_string(), "k".to_string()), ("again_total".to_string(), "total".to_string())]);
            views.insert(
                renamed.clone(),
                definition(Transform::Project(ProjectView { input: aggregate.clone(), columns: renamed_columns }), false),
            );
            let agreeing = format!("{source}_agreeing");
            views.insert(
                agreeing.clone(),
                definition(
                    Transform::Join(JoinView {
                        left: aggregate.clone(),
                        right: renamed,
                        kind: JoinKind::Inner,
                        on: vec![["k".to_string(), "again_k".to_string()]],
                        filter: Some("total = again_total".to_string()),
                    }),
                    false,
                ),
            );
            for view in [&twice, &agreeing] {
                outputs.insert(view.clone(), output(view, &format!("out/{view}")));
            }
        }
        let mut index = 0;
        while index < extra_views {
            add_view(&mut random, &mut relations, &mut views, index);
            index += 1;
        }
        if let Some(last) = views.keys().last().cloned()
            && !outputs.contains_key(&last)
        {
            outputs.insert("last".to_string(), output(&last, "out/last"));
        }
        GeneratedProject { seed, sources, views, outputs, file_sources_in_directories: false }
    }
}

/// Projects of [`GeneratedProject::generate_shared_float_aggregates`]: a seed and
/// 0..=extra_views random views on top.
pub fn shared_float_aggregates_strategy(extra_views: usize) -> impl Strategy<Value = GeneratedProject> {
    (any::<u64>(), 0..=extra_views).prop_map(|(seed, extra)| GeneratedProject::generate_shared_float_aggregates(seed, extra))
}

/// Random valid projects: a seed and 1..=max_views views.
pub fn project_strategy(max_views: usize) -> impl Strategy<Value = GeneratedProject> {
    (any::<u64>(), 1..=max_views).prop_map(|(seed, view_count)| GeneratedProject::generate(seed, view_count))
}
