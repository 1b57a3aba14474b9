//! The spec wire contract, version 1: what a user writes in YAML or JSON.
//!
//! Every struct denies unknown fields. Maps keep their declaration order (`IndexMap`): the
//! order of `project.columns` and `aggregate.measures` is the order of the output columns.
//! A view is written as a map with exactly one transform key plus an optional
//! `materialize`; [`RawViewSpec::into_definition`] turns that into a [`ViewDefinition`]
//! whose [`Transform`] enum holds exactly one transform.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::expectation::ExpectationsSpec;

/// The only spec version this build understands.
pub const SPEC_VERSION: u64 = 1;

/// A declared source relation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    pub format: SourceFormat,
    /// Relative to the directory holding the spec file, or an object-store URL
    /// (`s3://bucket/key`, `gs://…`, `az://…`, `abfss://…`).
    pub path: String,
    /// Declared column types, in order. Optional for Delta and Parquet (the file knows);
    /// for CSV it fixes the types instead of inferring them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<IndexMap<String, String>>,
    /// Delta only: pin this table version instead of the latest one at load time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    Delta,
    Parquet,
    Csv,
}

impl SourceFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Delta => "delta",
            SourceFormat::Parquet => "parquet",
            SourceFormat::Csv => "csv",
        }
    }
}

/// A view as written: one optional field per transform kind (exactly one must be set).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawViewSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<ProjectView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join: Option<JoinView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<AggregateView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub union: Option<UnionView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<SortView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<LimitView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distinct: Option<DistinctView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    #[serde(default)]
    pub materialize: Materialize,
    /// Labels for node selection (`--select tag:X`). Not part of the definition digest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// What the view's rows must satisfy (see [`crate::expectation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<ExpectationsSpec>,
    /// How `run` brings a materialized view's table up to date (see [`RefreshPolicy`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<RefreshPolicy>,
}

/// The transform keys, in the order the spec reference lists them.
pub const TRANSFORM_KEYS: [&str; 9] = ["filter", "project", "join", "aggregate", "union", "sort", "limit", "distinct", "sql"];

impl RawViewSpec {
    /// Converts to a definition; on failure returns the transform keys that were present
    /// (none, or more than one).
    pub fn into_definition(self) -> Result<ViewDefinition, Vec<&'static str>> {
        let RawViewSpec { filter, project, join, aggregate, union, sort, limit, distinct, sql, materialize, tags, expect, refresh } = self;
        let mut present = Vec::new();
        let mut transforms = Vec::new();
        let mut push = |key: &'static str, transform: Option<Transform>| {
            if let Some(transform) = transform {
                present.push(key);
                transforms.push(transform);
            }
        };
        push("filter", filter.map(Transform::Filter));
        push("project", project.map(Transform::Project));
        push("join", join.map(Transform::Join));
        push("aggregate", aggregate.map(Transform::Aggregate));
        push("union", union.map(Transform::Union));
        push("sort", sort.map(Transform::Sort));
        push("limit", limit.map(Transform::Limit));
        push("distinct", distinct.map(Transform::Distinct));
        push("sql", sql.map(|query| Transform::Sql(SqlView { query })));
        if transforms.len() == 1 {
            let transform = transforms.pop().expect("exactly one transform");
            Ok(ViewDefinition { transform, materialize, tags, expect, refresh })
        } else {
            Err(present)
        }
    }
}

/// A view with exactly one transform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewDefinition {
    pub transform: Transform,
    pub materialize: Materialize,
    /// Selection labels: deliberately outside the serialized definition (and so outside
    /// the definition digest): retagging a view does not make its task out of date.
    #[serde(skip)]
    pub tags: Vec<String>,
    /// Part of the definition (a `drop` expectation changes the rows written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect: Option<ExpectationsSpec>,
    /// How `run` refreshes the view's table (`None`: not written, i.e. `auto`). Outside the
    /// serialized definition (and so outside every digest): an incremental refresh and a full
    /// one write the same rows, so changing the policy never makes a table out of date.
    #[serde(skip)]
    pub refresh: Option<RefreshPolicy>,
}

impl ViewDefinition {
    pub fn is_materialized(&self) -> bool {
        self.materialize == Materialize::Table
    }

    /// Back to the wire shape (used to write specs, e.g. by generators).
    pub fn to_raw(&self) -> RawViewSpec {
        let mut raw = RawViewSpec {
            materialize: self.materialize,
            tags: self.tags.clone(),
            expect: self.expect.clone(),
            refresh: self.refresh,
            ..RawViewSpec::default()
        };
        match self.transform.clone() {
            Transform::Filter(view) => raw.filter = Some(view),
            Transform::Project(view) => raw.project = Some(view),
            Transform::Join(view) => raw.join = Some(view),
            Transform::Aggregate(view) => raw.aggregate = Some(view),
            Transform::Union(view) => raw.union = Some(view),
            Transform::Sort(view) => raw.sort = Some(view),
            Transform::Limit(view) => raw.limit = Some(view),
            Transform::Distinct(view) => raw.distinct = Some(view),
            Transform::Sql(view) => raw.sql = Some(view.query),
        }
        raw
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Transform {
    Filter(FilterView),
    Project(ProjectView),
    Join(JoinView),
    Aggregate(AggregateView),
    Union(UnionView),
    Sort(SortView),
    Limit(LimitView),
    Distinct(DistinctView),
    Sql(SqlView),
}

impl Transform {
    /// The spec key of this transform (`filter`, `join`, ...).
    pub fn key(&self) -> &'static str {
        match self {
            Transform::Filter(_) => "filter",
            Transform::Project(_) => "project",
            Transform::Join(_) => "join",
            Transform::Aggregate(_) => "aggregate",
            Transform::Union(_) => "union",
            Transform::Sort(_) => "sort",
            Transform::Limit(_) => "limit",
            Transform::Distinct(_) => "distinct",
            Transform::Sql(_) => "sql",
        }
    }

    /// Relations this transform reads by name, with the spec field that names each.
    /// `sql` views return nothing here: their references are found by parsing the SQL.
    pub fn named_inputs(&self) -> Vec<(&str, FieldPath)> {
        fn single(input: &str) -> Vec<(&str, FieldPath)> {
            vec![(input, FieldPath::from(["input"]))]
        }
        match self {
            Transform::Filter(FilterView { input, .. })
            | Transform::Project(ProjectView { input, .. })
            | Transform::Aggregate(AggregateView { input, .. })
            | Transform::Sort(SortView { input, .. })
            | Transform::Limit(LimitView { input, .. })
            | Transform::Distinct(DistinctView { input }) => single(input),
            Transform::Join(JoinView { left, right, .. }) => {
                vec![(left.as_str(), FieldPath::from(["left"])), (right.as_str(), FieldPath::from(["right"]))]
            }
            Transform::Union(UnionView { inputs, .. }) => inputs
                .iter()
                .enumerate()
                .map(|(index, input)| (input.as_str(), FieldPath(vec!["inputs".into(), index.to_string()])))
                .collect(),
            Transform::Sql(_) => Vec::new(),
        }
    }
}

/// A path of keys below a view's transform key (`["on", "0", "1"]`), or from the spec root.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, serde::Deserialize)]
pub struct FieldPath(pub Vec<String>);

impl<const N: usize> From<[&str; N]> for FieldPath {
    fn from(keys: [&str; N]) -> Self {
        FieldPath(keys.iter().map(|key| key.to_string()).collect())
    }
}

impl FieldPath {
    pub fn join(&self, other: &FieldPath) -> FieldPath {
        FieldPath(self.0.iter().chain(other.0.iter()).cloned().collect())
    }
    pub fn child(&self, key: impl Into<String>) -> FieldPath {
        let mut keys = self.0.clone();
        keys.push(key.into());
        FieldPath(keys)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterView {
    pub input: String,
    pub predicate: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectView {
    pub input: String,
    /// Output name → SQL expression, in output order.
    pub columns: IndexMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinView {
    pub left: String,
    pub right: String,
    pub kind: JoinKind,
    /// `[[left_column, right_column], …]`.
    pub on: Vec<[String; 2]>,
    /// An extra join condition over both sides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
    Semi,
    Anti,
}

impl JoinKind {
    pub const ALL: [JoinKind; 6] = [JoinKind::Inner, JoinKind::Left, JoinKind::Right, JoinKind::Full, JoinKind::Semi, JoinKind::Anti];

    /// Semi and anti joins output the left side only.
    pub fn outputs_left_only(self) -> bool {
        matches!(self, JoinKind::Semi | JoinKind::Anti)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AggregateView {
    pub input: String,
    /// Column names or `expr AS name`; empty means one output row.
    #[serde(default)]
    pub group_by: Vec<String>,
    /// Output name → aggregate expression, in output order.
    #[serde(default)]
    pub measures: IndexMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnionView {
    pub inputs: Vec<String>,
    #[serde(default)]
    pub distinct: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SortView {
    pub input: String,
    /// `"expr [asc|desc] [nulls first|last]"`, most significant first.
    pub by: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitView {
    pub input: String,
    pub count: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DistinctView {
    pub input: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SqlView {
    pub query: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Materialize {
    #[default]
    Ephemeral,
    Table,
}

/// An output: a view written to a Delta table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    pub view: String,
    /// Relative to the spec file's directory, or an object-store URL.
    pub path: String,
    #[serde(default)]
    pub mode: WriteMode,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partition_by: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<ContractSpec>,
    /// What the output's rows must satisfy (see [`crate::expectation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<ExpectationsSpec>,
    /// `mode: merge`: the columns that identify a row (must be unique in the new rows).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unique_key: Vec<String>,
    /// `mode: merge`: what happens to target rows the new rows do not match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_not_matched_by_source: Option<NotMatchedBySource>,
    /// `mode: replace_where`: the predicate whose rows the new rows replace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_where: Option<String>,
    /// Whether new columns may be added to the table (`merge`); otherwise a schema change is
    /// an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_mode: Option<SchemaEvolution>,
    /// How `run` brings the table up to date (`overwrite` outputs; see [`RefreshPolicy`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<RefreshPolicy>,
}

/// `refresh` of a materialized view or an `overwrite` output: how `run` brings its table up
/// to date when what it reads changed.
///
/// An *incremental* refresh computes only the change that the appended rows of its inputs
/// make (derived by the compiler from the task's plan) and commits it as an append or a
/// merge by group keys; a *full* refresh recomputes the whole table. Both write the same
/// rows, so the policy is part of no digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RefreshPolicy {
    /// Incremental where the change can be derived, else full (the run says why).
    #[default]
    Auto,
    /// Incremental or nothing: a task whose change cannot be derived fails (`V1003`,
    /// nothing committed) instead of recomputing everything; a plan that can never be
    /// incremental is a `check` error (`V1001`).
    Incremental,
    /// Always recompute the whole table.
    Full,
}

impl RefreshPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            RefreshPolicy::Auto => "auto",
            RefreshPolicy::Incremental => "incremental",
            RefreshPolicy::Full => "full",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WriteMode {
    #[default]
    Overwrite,
    Append,
    /// Upsert by `unique_key` (one Delta merge commit).
    Merge,
    /// Overwrite the rows matching `replace_where` (partition overwrite).
    ReplaceWhere,
}

/// `when_not_matched_by_source` of a merge output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotMatchedBySource {
    /// Keep target rows the new rows do not mention (the default when absent).
    Keep,
    /// Delete them.
    Delete,
}

/// `schema_mode` of an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SchemaEvolution {
    /// Add the new rows' extra columns to the table.
    Merge,
}

/// The columns an output promises, with their types (`int64`, `utf8 not null`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractSpec {
    pub columns: IndexMap<String, String>,
    /// When true, columns beyond the contract's are an error.
    #[serde(default)]
    pub strict: bool,
}

/// Compile and run settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<OptimizerProfile>,
    #[serde(default)]
    pub pushdown: PushdownPolicy,
    /// DataFusion `target_partitions` (default 4, fixed so plans do not depend on the machine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_partitions: Option<usize>,
    /// DataFusion `batch_size` (default 8192).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// Where source and output paths may point besides the spec's directory.
    #[serde(default, skip_serializing_if = "PathsProfile::is_default")]
    pub paths: PathsProfile,
    /// What the planning surface allows: source formats, table functions, file options.
    #[serde(default, skip_serializing_if = "SurfaceProfile::is_default")]
    pub surface: SurfaceProfile,
    /// Where `run` executes task plans (the command line's `--engine`/`--scheduler` win).
    #[serde(default, skip_serializing_if = "EngineProfile::is_default")]
    pub engine: EngineProfile,
    /// Where the tables of `materialize: table` views are written: a directory relative to
    /// the spec's directory or an object-store URL (`s3://lake/project/tables`); each view's
    /// table is `TABLES/VIEW`. Default [`DEFAULT_TABLES_LOCATION`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tables: Option<String>,
    /// Object-store settings per store (`s3://bucket`, `gs://bucket`, `az://container`,
    /// `abfss://container@account.dfs.core.windows.net`): option name (`AWS_ENDPOINT_URL`,
    /// `aws_access_key_id`, `AZURE_STORAGE_ACCOUNT_KEY`, …) → the name of the environment
    /// variable holding its value. Values are never written in the spec; options not given
    /// come from the standard environment (`AWS_ACCESS_KEY_ID`, …).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub storage: IndexMap<String, IndexMap<String, String>>,
}

/// Where `materialize: table` views' tables go when `profile.tables` is not set, relative to
/// the spec's directory.
pub const DEFAULT_TABLES_LOCATION: &str = ".viewdag/tables";

impl ProfileSpec {
    /// `profile.tables`, or [`DEFAULT_TABLES_LOCATION`].
    pub fn tables_location(&self) -> &str {
        self.tables.as_deref().unwrap_or(DEFAULT_TABLES_LOCATION)
    }
}

/// `profile.surface`: the planning surface's governance. Every field is part of the surface
/// manifest (and its hash), so changing one re-plans every task; a spec using a format or a
/// table function the profile does not allow gets a diagnostic (`V0306`, `V0404`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SurfaceProfile {
    /// The source formats sources may declare (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formats: Option<Vec<SourceFormat>>,
    /// The row-generating table functions SQL views may call (`generate_series`, `range`);
    /// none by default. Functions that read files are never allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub table_functions: Vec<String>,
    /// How every CSV source is read.
    #[serde(default, skip_serializing_if = "CsvOptions::is_default")]
    pub csv: CsvOptions,
    /// How every Parquet scan reads (DataFusion's `datafusion.execution.parquet.*`).
    #[serde(default, skip_serializing_if = "ParquetOptions::is_default")]
    pub parquet: ParquetOptions,
}

impl SurfaceProfile {
    pub fn is_default(&self) -> bool {
        self == &SurfaceProfile::default()
    }

    /// Whether sources may declare `format`.
    pub fn allows_format(&self, format: SourceFormat) -> bool {
        self.formats.as_ref().is_none_or(|formats| formats.contains(&format))
    }
}

/// `profile.surface.csv`. Unset fields keep the defaults: `,`, `"`, a header line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CsvOptions {
    /// The field separator (one ASCII character).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<char>,
    /// The quote character (one ASCII character).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<char>,
    /// Whether the first line names the columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<bool>,
}

impl CsvOptions {
    pub fn is_default(&self) -> bool {
        self == &CsvOptions::default()
    }

    /// A canonical rendering of the options that differ from the defaults (empty when none
    /// do), part of a CSV source's provider identity.
    pub fn canonical(&self) -> String {
        let mut parts = Vec::new();
        if let Some(delimiter) = self.delimiter {
            parts.push(format!("delimiter={delimiter:?}"));
        }
        if let Some(quote) = self.quote {
            parts.push(format!("quote={quote:?}"));
        }
        if let Some(header) = self.header {
            parts.push(format!("header={header}"));
        }
        parts.join(",")
    }
}

/// `profile.surface.parquet`. Unset fields keep DataFusion's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParquetOptions {
    /// Evaluate filters while decoding (late materialization).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushdown_filters: Option<bool>,
    /// Skip row groups by their statistics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pruning: Option<bool>,
}

impl ParquetOptions {
    pub fn is_default(&self) -> bool {
        self == &ParquetOptions::default()
    }
}

/// `profile.engine`: `{ kind: local }` (the default) runs task plans in the `viewdag`
/// process; `{ kind: ballista, scheduler: "df://HOST:PORT" }` runs them on an Apache
/// Ballista cluster. The engine changes where rows are computed, never what is written.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EngineProfile {
    #[serde(default)]
    pub kind: EngineKind,
    /// The Ballista scheduler, `df://HOST:PORT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<String>,
    /// Seconds a task's Ballista job may take before it is cancelled and the task fails
    /// (`V0802`); default 3600. `run --task-timeout` wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_timeout: Option<u64>,
}

impl EngineProfile {
    pub fn is_default(&self) -> bool {
        *self == EngineProfile::default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    #[default]
    Local,
    Ballista,
}

impl EngineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Local => "local",
            EngineKind::Ballista => "ballista",
        }
    }
}

/// `profile.paths`: the directories outside the spec's directory (and the object-store URL
/// prefixes) that sources may read and outputs may write. Without it, every path must stay
/// inside the spec's directory, and no URL is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PathsProfile {
    /// Allowed roots: absolute directories, directories relative to the spec's directory
    /// (`../shared`), or object-store URL prefixes (`s3://lake/sales`). A path inside one of
    /// them is allowed.
    #[serde(default)]
    pub allow: Vec<String>,
}

impl PathsProfile {
    pub fn is_default(&self) -> bool {
        self.allow.is_empty()
    }
}

/// A named rulepack (`default`, `minimal`, `none`) or an inline pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OptimizerProfile {
    Preset(String),
    Inline(InlineOptimizerConfig),
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InlineOptimizerConfig {
    /// Preset to start from (default `default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analyzer: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logical: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_passes: Option<usize>,
    /// What a failing rule does, in every phase (default `closed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_mode: Option<OptimizerFailMode>,
    /// Per-rule fail modes, keyed by rule name (`push_down_filter`) or by phase and rule
    /// (`logical/push_down_filter`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_fail_modes: Option<IndexMap<String, OptimizerFailMode>>,
    /// Whether to re-run every phase on its output and check nothing changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotence: Option<IdempotenceCheck>,
}

/// What a failing optimizer rule does: `closed` fails the view, `open` restores the rule's
/// input plan, warns and goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerFailMode {
    Open,
    Closed,
}

/// The idempotence check of an optimizer phase: `off`, `warn` or `fail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum IdempotenceCheck {
    #[default]
    Off,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PushdownPolicy {
    Off,
    #[default]
    Warn,
    Strict,
}
