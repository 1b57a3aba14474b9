//! Diagnostics are data: a stable code, a severity, a message, a location, labels, notes
//! and an optional suggestion.
//!
//! Locations are *logical* ([`SpecLocation`]: which relation, which field, which byte range
//! inside an expression string). They never carry line numbers, so editing one view does not
//! shift (and so invalidate) the diagnostics of the views below it. The driver resolves a
//! logical location to `file:line:column` with the spec's span index when it renders.
//!
//! Every code lives in [`Code`]: one registry with a stable identifier (`V0101`), a
//! kebab-case name and a one-line summary. Codes are never reused or renumbered.

use serde::{Deserialize, Serialize};

use crate::spec::FieldPath;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

macro_rules! codes {
    ($($variant:ident = ($id:literal, $name:literal, $severity:ident, $summary:literal);)*) => {
        /// Every diagnostic code viewdag can emit.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
            /// The stable identifier, e.g. `V0101`.
            pub fn id(self) -> &'static str { match self { $(Code::$variant => $id,)* } }
            /// The kebab-case name, e.g. `unknown-reference`.
            pub fn name(self) -> &'static str { match self { $(Code::$variant => $name,)* } }
            pub fn default_severity(self) -> Severity { match self { $(Code::$variant => Severity::$severity,)* } }
            pub fn summary(self) -> &'static str { match self { $(Code::$variant => $summary,)* } }
        }
    };
}

codes! {
    // V00xx: reading the spec file.
    SpecSyntax = ("V0001", "spec-syntax", Error, "the spec file is not well-formed YAML or JSON");
    UnknownField = ("V0002", "unknown-field", Error, "a key that the spec format does not define");
    UnsupportedVersion = ("V0003", "unsupported-version", Error, "the spec's `version` is missing or not one this build reads");
    InvalidValue = ("V0004", "invalid-value", Error, "a field has the wrong shape or type");
    DuplicateKey = ("V0005", "duplicate-key", Error, "the same key appears twice in one mapping");
    // V0006 (spec-unreadable) is retired: a spec file that cannot be read has no text to
    // point into, so it is the driver's I/O error (exit code 2), never a diagnostic.
    SpecTooLarge = ("V0007", "spec-too-large", Error, "the spec exceeds a size limit (bytes, nesting or number of entries)");
    ValueOutOfRange = ("V0008", "value-out-of-range", Error, "a number in the profile (or on the command line) is outside the range viewdag accepts");
    // V01xx: structure of the view DAG.
    UnknownReference = ("V0101", "unknown-reference", Error, "a view reads a relation that no source or view declares");
    DuplicateName = ("V0102", "duplicate-name", Error, "a name is declared both as a source and as a view");
    Cycle = ("V0103", "cycle", Error, "views read each other in a cycle");
    OutputUnknownView = ("V0104", "output-unknown-view", Error, "an output names a view that does not exist");
    TransformCount = ("V0105", "transform-count", Error, "a view must have exactly one transform key");
    Blocked = ("V0106", "blocked", Note, "a view is not compiled because a view it reads has errors");
    // V0107 (invalid-name) is retired: it was never emitted; an empty view name is V0108.
    ViewNameNotPathComponent = ("V0108", "view-name-not-path-component", Error, "a view's name cannot be a single directory name (it holds `/`, `\\`, NUL, is `.`/`..`, starts with `.` or exceeds 255 bytes)");
    // V02xx: semantics of views.
    PlanError = ("V0201", "plan-error", Error, "DataFusion rejected the view while planning it");
    ExpressionSyntax = ("V0202", "expression-syntax", Error, "an expression string does not parse");
    UnknownColumn = ("V0203", "unknown-column", Error, "an expression names a column its input does not have");
    JoinNameClash = ("V0204", "join-name-clash", Error, "both join sides have a non-key column of the same name");
    InvalidLimit = ("V0205", "invalid-limit", Error, "a limit, count or offset is negative or absurdly large");
    AmbiguousColumn = ("V0206", "ambiguous-column", Error, "an expression names a column that more than one input has");
    NonBooleanPredicate = ("V0207", "non-boolean-predicate", Error, "a filter or join condition is not a boolean expression");
    TypeMismatch = ("V0208", "type-mismatch", Error, "an operator or function is applied to values of types it does not accept");
    UnknownFunction = ("V0209", "unknown-function", Error, "an expression calls a function that does not exist");
    WrongArity = ("V0210", "wrong-arity", Error, "a function is called with the wrong number of arguments");
    JoinKeyCount = ("V0211", "join-key-count", Error, "a join has no keys, or a key pair that is not exactly two columns");
    JoinKeyTypeMismatch = ("V0212", "join-key-type-mismatch", Error, "a join key pair has types that cannot be compared");
    JoinKeyCoercion = ("V0213", "join-key-coercion", Note, "a join key pair has different but comparable types; one side is cast");
    UngroupedColumn = ("V0214", "ungrouped-column", Error, "a measure uses a column outside an aggregate that is not a group key");
    AggregateInGroupBy = ("V0215", "aggregate-in-group-by", Error, "a group key contains an aggregate function");
    NestedAggregate = ("V0216", "nested-aggregate", Error, "an aggregate function is applied to the result of another aggregate");
    MeasureWithoutAggregate = ("V0217", "measure-without-aggregate", Error, "a measure does not use any aggregate function");
    UnnamedGroupKey = ("V0218", "unnamed-group-key", Error, "a group key is an expression without an `AS name`");
    UnionArity = ("V0219", "union-arity", Error, "union inputs have different numbers of columns");
    UnionTypeMismatch = ("V0220", "union-type-mismatch", Error, "union inputs have incompatible types at the same position");
    UnionNameMismatch = ("V0221", "union-name-mismatch", Warning, "union inputs name the same position differently; the first input's names win");
    DuplicateColumn = ("V0222", "duplicate-column", Error, "a view would output two columns with the same name");
    TooFewItems = ("V0223", "too-few-items", Error, "a list or map that needs entries has too few (no columns, no sort keys, one union input)");
    ExpressionTooComplex = ("V0224", "expression-too-complex", Error, "an expression or SQL text exceeds a length or nesting limit");
    PlanTooDeep = ("V0225", "plan-too-deep", Error, "a view no task needs, planned on its own, would inline a longer chain of ephemeral views than the limit");
    ChainMaterialized = ("V0226", "chain-materialized", Warning, "a view is materialized automatically: a chain of ephemeral views as long as one plan may inline ends at it");
    SubqueryOutsideFilter = ("V0227", "subquery-outside-filter", Error, "a SQL view uses `EXISTS` or `IN (SELECT …)` outside `WHERE`/`HAVING`, which DataFusion 55 cannot execute");
    // V03xx: sources and providers.
    SourceNotFound = ("V0301", "source-not-found", Error, "a source's path does not exist");
    SourceNotDelta = ("V0302", "source-not-delta", Error, "a `format: delta` source is not a Delta table");
    SourceLoadFailed = ("V0303", "source-load-failed", Error, "a source exists but could not be opened");
    SourceSchemaType = ("V0304", "unknown-type-name", Error, "a declared type is not a known logical type name");
    SourceSchemaMismatch = ("V0305", "source-schema-mismatch", Error, "a source's declared `schema` disagrees with the data's actual schema");
    SourceFormatNotAllowed = ("V0306", "source-format-not-allowed", Error, "a source's format is not one `profile.surface.formats` allows");
    StorageUrlInvalid = ("V0307", "storage-url-invalid", Error, "a path, `profile.tables`, `profile.paths.allow` entry or `profile.storage` key is a URL viewdag cannot use (unknown scheme, no bucket, `.`/`..` segments, credentials or parameters in the URL)");
    StorageOptionInvalid = ("V0308", "storage-option-invalid", Error, "a `profile.storage` option is not one its store knows, or its value is not the name of an environment variable");
    StorageVariableUnset = ("V0309", "storage-variable-unset", Error, "a `profile.storage` option names an environment variable that is not set (reported where the store is needed: a source, or a task's table)");
    SourceAccessDenied = ("V0310", "source-access-denied", Error, "a source's object store refused the credentials");
    SourceBucketNotFound = ("V0311", "source-bucket-not-found", Error, "a source's bucket or container does not exist");
    SourceStoreUnreachable = ("V0312", "source-store-unreachable", Error, "a source's object store could not be reached (endpoint refused the connection, unknown host)");
    // V04xx: SQL views.
    SqlForbiddenStatement = ("V0401", "sql-forbidden-statement", Error, "a `sql` view is not a single SELECT query");
    SqlForbiddenFunction = ("V0402", "sql-forbidden-function", Error, "a `sql` view calls a table function that reads files");
    SqlSyntax = ("V0403", "sql-syntax", Error, "a `sql` view does not parse");
    SqlTableFunctionNotAllowed = ("V0404", "sql-table-function-not-allowed", Error, "a `sql` view calls a row-generating table function that `profile.surface.table_functions` does not allow");
    // V05xx: outputs.
    ContractMismatch = ("V0501", "contract-mismatch", Error, "an output's schema does not satisfy its contract");
    PartitionColumnMissing = ("V0502", "partition-column-missing", Error, "a `partition_by` column is not in the output");
    AppendSchemaMismatch = ("V0503", "append-schema-mismatch", Error, "an `append` output's schema differs from the existing Delta table's");
    OutputPathConflict = ("V0504", "output-path-conflict", Error, "an output writes another output's Delta table, a source, the project's directory or `.viewdag` (or a directory inside or above one of them)");
    PathOutsideProject = ("V0505", "path-outside-project", Error, "a source or output path (or `profile.tables`) is absolute, climbs out of the spec's directory or is an object-store URL, and no `profile.paths.allow` root or URL prefix holds it");
    MergeKeyMissing = ("V0506", "merge-key-missing", Error, "a `merge` output has no `unique_key`, or a key column the view does not have");
    WriteOptionMisplaced = ("V0507", "write-option-misplaced", Error, "an output sets a write option its `mode` does not use (`unique_key`, `when_not_matched_by_source`, `replace_where`), or lacks one it needs");
    ColumnTypeNotStorable = ("V0508", "column-type-not-storable", Error, "a column of an output or a materialized view has a type no Delta table can store (time of day, duration, interval, union, an out-of-range decimal)");
    ColumnNamesDifferInCase = ("V0509", "column-names-differ-in-case", Error, "an output or a materialized view has two columns whose names differ only in case, which a Delta table cannot tell apart");
    ValueNotStorable = ("V0510", "value-not-storable", Error, "a value of a task's rows does not fit the type its Delta table stores the column as (a `uint64` above 2^63-1); the task committed nothing");
    MergeKeyNull = ("V0511", "merge-key-null", Error, "a `merge` output's new rows have a NULL in their `unique_key`, which would match no row and be inserted again by every run; the task committed nothing");
    WriteSchemaMismatch = ("V0512", "write-schema-mismatch", Error, "a `merge` or `replace_where` output's columns do not fit the existing Delta table's: a changed type, a column the table has and the view lacks, or a new column without `schema_mode: merge`");
    TablesLocationConflict = ("V0520", "tables-location-conflict", Error, "`profile.tables` (where materialized views' tables go) is the project's directory or `.viewdag`, or lies on, inside or above a source or an output's table");
    // V06xx: optimizer and physical planning.
    // V0601 (optimizer-failed) is retired: a failing rule is V0604 (fail-closed) or V0605
    // (fail-open), physical planning V0602.
    PhysicalPlanFailed = ("V0602", "physical-plan-failed", Error, "physical planning failed on a view");
    UnknownRulepack = ("V0603", "unknown-rulepack", Error, "the profile names an optimizer preset that does not exist");
    OptimizerRuleFailed = ("V0604", "optimizer-rule-failed", Error, "an optimizer rule failed (error, panic or schema change) under fail-closed");
    OptimizerRuleSkipped = ("V0605", "optimizer-rule-skipped", Warning, "an optimizer rule failed under fail-open; its input plan was kept");
    UnknownOptimizerRule = ("V0606", "unknown-optimizer-rule", Error, "the optimizer pipeline names a rule that no registry holds");
    OptimizerNotIdempotent = ("V0607", "optimizer-not-idempotent", Warning, "running an optimizer phase again on its output changed the plan");
    PushdownViolation = ("V0608", "pushdown-violation", Warning, "a filter-pushdown contract is broken: a predicate a provider does not apply exactly is missing above its scan");
    // V07xx: expectations.
    ExpectationUnknownColumn = ("V0701", "expectation-unknown-column", Error, "an expectation names a column the view or output does not have");
    ExpectationUnknownRelation = ("V0702", "expectation-unknown-relation", Error, "a `relationships` expectation points at a relation (or a column of it) that does not exist");
    ExpectationNotRun = ("V0703", "expectation-not-run", Warning, "a view's expectations are checked by no task (it is ephemeral and no output writes it); only `viewdag test` checks them");
    ExpectationTypeMismatch = ("V0704", "expectation-type-mismatch", Error, "an `accepted_values` value is not of its column's kind, or a `relationships` column cannot be compared with its target column");
    ExpectationEmptyRange = ("V0705", "expectation-empty-range", Error, "a `row_count` expectation's `min` is greater than its `max`: no table passes it");
    // V08xx: execution engines.
    EngineUnsupportedTable = ("V0801", "engine-unsupported-table", Error, "a task reads a Delta table the `ballista` engine cannot read as plain Parquet files (deletion vectors, column mapping)");
    EngineTaskTimeout = ("V0802", "engine-task-timeout", Error, "a task's Ballista job did not finish within the task timeout; it was cancelled and the task committed nothing");
    EngineNoExecutor = ("V0803", "engine-no-executor", Error, "a task's Ballista job cannot finish because no executor of the cluster is alive; the job failed and the task committed nothing");
    // V09xx: running (problems of a run, reported by `run`, not by `check`).
    RunLocked = ("V0901", "run-locked", Error, "another `viewdag run` holds this project's run lock");
    CommitConflict = ("V0902", "commit-conflict", Error, "another writer committed to a task's Delta table while the task wrote it; the task committed nothing");
    RunStateUnsaved = ("V0903", "run-state-unsaved", Error, "the run state could not be saved");
    StorageAccessDenied = ("V0910", "storage-access-denied", Error, "the object store of a task's table refused the credentials; the task committed nothing");
    StorageBucketNotFound = ("V0911", "storage-bucket-not-found", Error, "the bucket or container of a task's table does not exist; the task committed nothing");
    StorageUnreachable = ("V0912", "storage-unreachable", Error, "the object store of a task's table could not be reached; the task committed nothing");
    // V092x: the cache across processes (`.viewdag/cache/`), reported by every command that uses it.
    CacheUnreadable = ("V0920", "cache-unreadable", Warning, "a cache file in `.viewdag/cache/` (view signatures, the last check's record) could not be read (truncated, corrupted or written by another version); it was ignored and is rebuilt");
    // V10xx: incremental refresh.
    RefreshNeverIncremental = ("V1001", "refresh-never-incremental", Error, "a task declared `refresh: incremental` has a plan whose change can never be derived from appended inputs (a window, a limit, a non-deterministic function, …)");
    RefreshNotApplicable = ("V1002", "refresh-not-applicable", Error, "`refresh` is set where it means nothing: on a view that is not materialized, or `incremental` on an output whose mode is not `overwrite`");
    IncrementalRefreshRefused = ("V1003", "incremental-refresh-refused", Error, "a `refresh: incremental` task could not be refreshed incrementally in this run (an input was rewritten, its definition changed, …); it failed and committed nothing");
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

/// A code reads back from its stable identifier (`V0101`); an identifier no code has is an error.
impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Code::ALL
            .iter()
            .copied()
            .find(|code| code.id() == id)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown diagnostic code `{id}`")))
    }
}

/// Which top-level section of the spec a location is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Section {
    /// The document itself (`version`, unknown top-level keys, syntax errors).
    Root,
    Sources,
    Views,
    Outputs,
    Profile,
}

impl Section {
    pub fn key(self) -> Option<&'static str> {
        match self {
            Section::Root => None,
            Section::Sources => Some("sources"),
            Section::Views => Some("views"),
            Section::Outputs => Some("outputs"),
            Section::Profile => Some("profile"),
        }
    }
}

/// A place in the spec, independent of line numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SpecLocation {
    pub section: Section,
    /// The source, view or output name (none for the root or the profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    /// Keys below the entry, e.g. `["filter", "predicate"]`.
    pub field: FieldPath,
    /// Byte range inside the string value at `field` (an expression or SQL text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range_in_value: Option<(u32, u32)>,
    /// An absolute position, for syntax errors that happen before any structure exists:
    /// 1-based line and column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absolute: Option<(u32, u32)>,
}

impl SpecLocation {
    pub fn root() -> Self {
        SpecLocation { section: Section::Root, entry: None, field: FieldPath::default(), range_in_value: None, absolute: None }
    }
    pub fn at(line: u32, column: u32) -> Self {
        SpecLocation { absolute: Some((line, column)), ..SpecLocation::root() }
    }
    pub fn entry(section: Section, name: &str) -> Self {
        SpecLocation { section, entry: Some(name.to_string()), ..SpecLocation::root() }
    }
    pub fn view(name: &str) -> Self {
        SpecLocation::entry(Section::Views, name)
    }
    pub fn source(name: &str) -> Self {
        SpecLocation::entry(Section::Sources, name)
    }
    pub fn output(name: &str) -> Self {
        SpecLocation::entry(Section::Outputs, name)
    }
    pub fn with_field(mut self, field: impl Into<FieldPath>) -> Self {
        self.field = field.into();
        self
    }
    pub fn with_range(mut self, start: usize, end: usize) -> Self {
        self.range_in_value = Some((start as u32, end as u32));
        self
    }
    /// The full key path from the document root.
    pub fn key_path(&self) -> Vec<String> {
        let mut keys = Vec::new();
        if let Some(section) = self.section.key() {
            keys.push(section.to_string());
        }
        if let Some(entry) = &self.entry {
            keys.push(entry.clone());
        }
        keys.extend(self.field.0.iter().cloned());
        keys
    }
}

impl From<Vec<String>> for FieldPath {
    fn from(keys: Vec<String>) -> Self {
        FieldPath(keys)
    }
}

/// A secondary location with its own message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Label {
    pub location: SpecLocation,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub location: SpecLocation,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, location: SpecLocation, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.default_severity(),
            message: message.into(),
            location,
            labels: Vec::new(),
            notes: Vec::new(),
            suggestion: None,
        }
    }
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
    pub fn with_label(mut self, location: SpecLocation, message: impl Into<String>) -> Self {
        self.labels.push(Label { location, message: message.into() });
        self
    }
    pub fn with_suggestion(mut self, suggestion: impl Into<String>) -> Self {
        self.suggestion = Some(suggestion.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
    /// The view, source or output this diagnostic is about, if any.
    pub fn entry(&self) -> Option<&str> {
        self.location.entry.as_deref()
    }
}

/// Sorts diagnostics into a stable order: by location, then code, then message.
pub fn sort_diagnostics(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| (&a.location, a.code, &a.message).cmp(&(&b.location, b.code, &b.message)));
}
