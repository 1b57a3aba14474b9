//! The plan bundle: everything needed to explain, compare and replay one view's plan.
//!
//! ## Invariants
//! - Every field is a pure function of the view's definition, the planning surface and the
//!   identities of the providers the plan scans: no time, no absolute path (plan text is
//!   normalized to `$ROOT`), no memory address, no hash-map order.
//! - Maps are `BTreeMap`s or arrays in a meaningful order (output columns in schema order),
//!   and the file form is canonical JSON (sorted keys), so equal bundles are equal bytes and
//!   the bundle digest is BLAKE3 of the file's bytes.
//! - `schema_version` is [`BUNDLE_SCHEMA_VERSION`]; a reader rejects a newer one.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use viewdag_ir::ProviderIdentity;

use crate::lineage::ColumnLineage;

/// The bundle format version this build writes and the newest it reads.
pub const BUNDLE_SCHEMA_VERSION: u32 = 1;

/// One view's plan bundle (`<view>.bundle.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanBundle {
    /// Always [`BUNDLE_SCHEMA_VERSION`] when written by this build.
    pub schema_version: u32,
    pub view: String,
    pub definition: DefinitionRecord,
    /// The planning surface's manifest hash (configuration and function registry).
    pub surface_manifest_hash: String,
    /// The DataFusion version the plans were built with.
    pub datafusion_version: String,
    /// Relation name → the identity of the provider every scan of it reads.
    pub providers: BTreeMap<String, ProviderRecord>,
    /// The view's output columns, in order.
    pub output_schema: Vec<OutputField>,
    pub plans: StagePlans,
    /// EXPLAIN-style text: the optimized logical plan, then the physical plan, without schemas.
    pub explain: String,
    pub serialized: SerializedPlan,
    /// The optimizer's per-pass trace; empty until the optimizer exposes one.
    pub pass_trace: Vec<PassTraceEntry>,
    /// The filter-pushdown report; empty until the optimizer exposes one.
    pub pushdown_report: Vec<PushdownReportEntry>,
    /// For every output column, in schema order, the source columns it depends on.
    pub lineage: Vec<ColumnLineage>,
    /// Things that did not stop the bundle but make part of it approximate or missing.
    pub warnings: Vec<String>,
}

/// The view's definition as declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DefinitionRecord {
    /// BLAKE3 of `json`.
    pub digest: String,
    /// The definition as compact JSON in declaration order (kept as a string because the
    /// order of a view's maps, such as a project's columns, is meaning).
    pub json: String,
    pub materialized: bool,
}

/// A provider identity, as written in bundles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProviderRecord {
    /// A Delta table at one version; `location` is relative to the spec's directory, or a URL.
    Delta { location: String, version: i64, canonical: String },
    /// Parquet or CSV files with their sizes in bytes, sorted by path.
    Files { format: String, location: String, files: Vec<FileRecord>, canonical: String },
    /// The table a materialized view's task writes (read by downstream tasks).
    Materialized { view: String, canonical: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileRecord {
    pub path: String,
    pub size: u64,
    /// Last modification, nanoseconds since the Unix epoch (0 when unknown).
    pub modified: i64,
}

impl ProviderRecord {
    pub fn of(identity: &ProviderIdentity) -> ProviderRecord {
        let canonical = identity.canonical();
        match identity {
            ProviderIdentity::Delta { location, version } => {
                ProviderRecord::Delta { location: location.clone(), version: *version, canonical }
            }
            ProviderIdentity::Files { format, location, files, options: _ } => ProviderRecord::Files {
                format: format.as_str().to_string(),
                location: location.clone(),
                files: files.iter().map(|file| FileRecord { path: file.path.clone(), size: file.size, modified: file.modified }).collect(),
                canonical,
            },
            ProviderIdentity::Materialized { view } => ProviderRecord::Materialized { view: view.clone(), canonical },
        }
    }

    /// The one-line canonical rendering (as `ProviderIdentity::canonical`).
    pub fn canonical(&self) -> &str {
        match self {
            ProviderRecord::Delta { canonical, .. }
            | ProviderRecord::Files { canonical, .. }
            | ProviderRecord::Materialized { canonical, .. } => canonical,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputField {
    pub name: String,
    /// Arrow's rendering of the data type (`Int64`, `Utf8View`, …).
    pub data_type: String,
    pub nullable: bool,
}

/// P0 (unoptimized logical), P1 (optimized logical) and P2 (physical).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StagePlans {
    pub p0: StagePlan,
    pub p1: StagePlan,
    pub p2: StagePlan,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StagePlan {
    /// Normalized indented plan text (logical plans with schemas).
    pub text: String,
    /// BLAKE3 over `text` and the canonical identities of the scanned providers (the same
    /// digest the compiler reports).
    pub digest: String,
}

/// The logical plan (P0) in forms another process can rebuild it from. Each form is either
/// present or has an error saying why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SerializedPlan {
    /// `datafusion-proto` bytes (standard base64). Scans are references to relation names,
    /// bound to providers when the plan is decoded (see `serialize::proto`).
    pub proto: Option<String>,
    /// Why `proto` is missing, when it is.
    pub proto_error: Option<String>,
    /// SQL through DataFusion's unparser, when it can express the plan.
    pub sql: Option<String>,
    /// Why `sql` is missing, when it is.
    pub sql_error: Option<String>,
    /// Substrait protobuf bytes (standard base64); scans are named tables.
    pub substrait: Option<String>,
    /// Why `substrait` is missing, when it is (always, in a build without the `substrait`
    /// feature).
    pub substrait_error: Option<String>,
}

/// One optimizer rule application, from the optimizer's trace (elapsed time left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PassTraceEntry {
    /// Deterministic pass id (phase, pass number, position and rule name).
    pub pass: String,
    /// `changed`, `unchanged`, `failed-skipped` or `failed`.
    pub outcome: String,
    pub before_digest: String,
    pub after_digest: String,
    pub changed: bool,
}

/// One scan predicate's pushdown contract: the provider's answer and where it ended up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PushdownReportEntry {
    /// `p1` or `p2`: the plan the contract was checked in.
    pub plan: String,
    pub relation: String,
    pub predicate: String,
    /// `exact`, `inexact` or `unsupported`: the provider's answer.
    pub outcome: String,
    /// Where the predicate ended up (`at-scan`, `above-scan`, `at-scan-and-above`, `missing`).
    pub placement: String,
    /// `honoured`, `kept-above` or `violated`.
    pub verdict: String,
}
