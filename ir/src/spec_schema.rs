//! The JSON Schema of spec version 1, generated from the serde types the parser reads.
//!
//! The parser reads a spec's top level entry by entry (so a malformed entry loses only
//! itself) and has no single document type; [`SpecDocument`] is that document spelled as
//! one struct, for the schema only. Every other type in the schema is the very type the
//! parser deserializes (`SourceSpec`, `RawViewSpec`, `OutputSpec`, `ProfileSpec`), so a new
//! field appears in the schema with no edit here. The committed copy
//! (`docs/schemas/spec.v1.schema.json`) is kept equal to [`spec_json_schema_text`] by a test.
//!
//! What the schema cannot say: that a view has exactly one transform key (it lists them all
//! as optional), names resolving, types and expressions — `viewdag check` and `viewdag lsp`
//! report those.

use indexmap::IndexMap;
use schemars::JsonSchema;

use crate::spec::{OutputSpec, ProfileSpec, RawViewSpec, SourceSpec};

/// A viewdag spec, version 1: sources, views (each exactly one transform key plus an
/// optional `materialize`) and outputs, with compile settings in `profile`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields, title = "viewdag spec v1")]
#[allow(dead_code, reason = "describes the document for the schema; the parser reads entries one by one")]
pub struct SpecDocument {
    /// The spec format version; this build reads `1`.
    #[schemars(range(min = 1, max = 1))]
    version: u64,
    /// Named data relations (Delta tables, Parquet, CSV), by name.
    #[serde(default)]
    sources: IndexMap<String, SourceSpec>,
    /// Named views, by name: exactly one transform key each.
    #[serde(default)]
    views: IndexMap<String, RawViewSpec>,
    /// Views written to Delta tables, by output name.
    #[serde(default)]
    outputs: IndexMap<String, OutputSpec>,
    /// Compile and run settings.
    #[serde(default)]
    profile: ProfileSpec,
}

/// The file the schema is committed as, under `docs/schemas/`.
pub const SPEC_SCHEMA_FILE_NAME: &str = "spec.v1.schema.json";

/// The schema (JSON Schema draft-07, which yaml-language-server and VS Code read).
pub fn spec_json_schema() -> serde_json::Value {
    let schema = schemars::generate::SchemaSettings::draft07().into_generator().into_root_schema_for::<SpecDocument>();
    schema.to_value()
}

/// The schema as committed: pretty JSON with a final newline (key order is the derive's,
/// which is declaration order, so the text is deterministic).
pub fn spec_json_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&spec_json_schema()).expect("a JSON value serializes");
    text.push('\n');
    text
}
