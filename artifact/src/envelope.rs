//! The compile envelope (`manifest.json`): what was compiled, with what, and the digest of
//! every bundle, sealed by a hash over all of it.
//!
//! ## Invariants
//! - Nothing in it depends on the machine, the clock or declaration order: views are keyed
//!   by name, tasks are sorted by wave then id, the spec digest is order-independent.
//! - `envelope_hash` is BLAKE3 of the canonical compact JSON of the envelope with
//!   `envelope_hash` set to the empty string; [`CompileEnvelope::verify_hash`] checks it.
//! - Elapsed times are never in the envelope: the directory must be byte-identical across
//!   compiles of the same project.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::canonical::{canonical_compact, digest_bytes};

/// The envelope format version this build writes and the newest it reads.
pub const ENVELOPE_SCHEMA_VERSION: u32 = 1;

/// The file name of the envelope inside a compile output directory.
pub const ENVELOPE_FILE_NAME: &str = "manifest.json";

/// The file name of a view's bundle inside a compile output directory.
pub fn bundle_file_name(view: &str) -> String {
    format!("{view}.bundle.json")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompileEnvelope {
    pub schema_version: u32,
    /// The viewdag version that compiled.
    pub viewdag_version: String,
    pub datafusion_version: String,
    /// Order-independent digest of the spec (see `spec_digest`).
    pub spec_digest: String,
    pub surface_manifest_hash: String,
    /// Every declared view, by name.
    pub views: BTreeMap<String, EnvelopeView>,
    /// The task list (materialized views and outputs), sorted by wave then id.
    pub tasks: Vec<EnvelopeTask>,
    /// BLAKE3 over everything above (see the module docs).
    pub envelope_hash: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ViewCompileStatus {
    /// Validated and planned: the view has a bundle.
    Compiled,
    /// Validated, not planned (not a task; `compile --all-views` plans every view).
    Checked,
    /// The view has errors of its own.
    Failed,
    /// A relation upstream has errors.
    Blocked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeView {
    pub status: ViewCompileStatus,
    pub materialized: bool,
    /// The bundle's file name (compiled views only).
    pub bundle_file: Option<String>,
    /// BLAKE3 of the bundle file's bytes (compiled views only).
    pub bundle_digest: Option<String>,
    /// For a blocked view: the upstream relation that failed.
    pub blocked_by: Option<String>,
    /// The view's Merkle definition digest (views that validate); `--select
    /// state:modified --state DIR` compares it.
    #[serde(default)]
    pub definition_digest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeTask {
    /// `view:NAME` or `output:NAME`.
    pub id: String,
    pub view: String,
    /// `materialize` or `output`.
    pub kind: String,
    /// For an output task: the output's name.
    pub output: Option<String>,
    /// Ids of the tasks this one reads, sorted.
    pub reads: Vec<String>,
    pub wave: usize,
    /// The cost model's estimate (see `viewdag-schedule`).
    pub cost: EnvelopeTaskCost,
}

/// A task's estimated cost, in bytes: what it reads (sources and upstream tasks' outputs),
/// what it writes, and the longest chain of work from it to the end of the run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeTaskCost {
    pub input_bytes: u64,
    pub input_rows: Option<u64>,
    pub output_bytes: u64,
    pub output_rows: Option<u64>,
    /// Whether every number behind the input and output estimates was exact.
    pub exact: bool,
    /// `input_bytes + output_bytes`.
    pub work: u64,
    /// This task's work plus the longest `critical_path` among the tasks that read it; the
    /// runner starts ready tasks in descending order of it.
    pub critical_path: u64,
}

impl CompileEnvelope {
    /// Sorts the tasks canonically and computes `envelope_hash`.
    pub fn seal(mut self) -> Result<CompileEnvelope, serde_json::Error> {
        for task in &mut self.tasks {
            task.reads.sort();
        }
        self.tasks.sort_by(|left, right| (left.wave, &left.id).cmp(&(right.wave, &right.id)));
        self.envelope_hash = self.computed_hash()?;
        Ok(self)
    }

    fn computed_hash(&self) -> Result<String, serde_json::Error> {
        let unsealed = CompileEnvelope { envelope_hash: String::new(), ..self.clone() };
        Ok(digest_bytes(canonical_compact(&unsealed)?.as_bytes()))
    }

    /// Whether `envelope_hash` matches the envelope's content.
    pub fn verify_hash(&self) -> bool {
        self.computed_hash().is_ok_and(|hash| hash == self.envelope_hash)
    }
}
