//! Plan-bundle artifacts on disk: `viewdag compile --out DIR` (the compile envelope and one
//! bundle per compiled view) and `viewdag diff OLD_DIR NEW_DIR`.
//!
//! The rendering, hashing and comparing live in `viewdag_artifact`; this module only reads
//! and writes files.
//!
//! ## Invariants
//! - The files written are a pure function of the spec's meaning, the surface and the
//!   provider identities: no time, no absolute path. A stale `*.bundle.json` left in the
//!   directory by an earlier compile (of a view that no longer compiles) is removed, so the
//!   directory always matches its envelope.
//! - Reading checks every bundle against the digest its envelope records.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use viewdag_artifact::{
    ArtifactDiff, CompileEnvelope, ENVELOPE_FILE_NAME, ENVELOPE_SCHEMA_VERSION, EnvelopeTask, EnvelopeTaskCost, EnvelopeView, PlanBundle,
    VIEWDAG_VERSION, ViewBundle, ViewCompileStatus, bundle_file_digest, bundle_file_name, diff_artifacts, read_bundle, read_envelope,
    spec_digest, view_bundle,
};
use viewdag_ir::ViewInput;
use viewdag_lower::{LowerResult, ViewFailure};
use viewdag_schedule::{TaskCost, TaskKind};

use crate::compiler::{CompileResponse, ViewStatus};
use crate::error::DriverError;
use crate::parallel::for_each_in_parallel;
use crate::snapshot::Snapshot;

/// What `write_compile_output` wrote.
#[derive(Debug, Clone)]
pub struct WrittenArtifacts {
    /// The compile envelope (`manifest.json`) that was written.
    pub envelope: CompileEnvelope,
    /// Bundle file paths, in view-name order.
    pub bundle_files: Vec<PathBuf>,
}

impl Snapshot<'_> {
    /// A view's plan bundle (`None` when the view is not declared).
    pub fn view_bundle(&self, name: &str) -> Option<LowerResult<ViewBundle>> {
        let view = self.view_input(name)?;
        Some(view_bundle(self.db, view).clone())
    }

    /// The compile envelope of the last compile, listing `bundles` (view name → digest).
    pub fn compile_envelope(&self, response: &CompileResponse) -> Result<CompileEnvelope, DriverError> {
        let project = viewdag_ir::ProjectInput::get(self.db);
        // Every compiled view's bundle, made on several threads first (each is independent
        // of the others): the loop below then reads them in order.
        let compiled: Vec<ViewInput> = response
            .views
            .iter()
            .filter(|outcome| matches!(outcome.status, ViewStatus::Compiled { .. }))
            .filter_map(|outcome| self.view_input(&outcome.name))
            .collect();
        for_each_in_parallel(self.db, &compiled, self.jobs, |db, view| {
            view_bundle(db, *view);
        });
        let mut views = BTreeMap::new();
        for outcome in response.views.iter() {
            let (status, blocked_by) = match &outcome.status {
                ViewStatus::Compiled { .. } => (ViewCompileStatus::Compiled, None),
                ViewStatus::Checked { .. } => (ViewCompileStatus::Checked, None),
                ViewStatus::Failed => (ViewCompileStatus::Failed, None),
                ViewStatus::Blocked { upstream } => (ViewCompileStatus::Blocked, Some(upstream.clone())),
            };
            // Only planned views have bundles: asking for another's would plan it.
            let bundle = if status == ViewCompileStatus::Compiled { self.view_bundle(&outcome.name) } else { None };
            let (status, bundle_file, bundle_digest) = match bundle {
                Some(Ok(bundle)) if status == ViewCompileStatus::Compiled => {
                    (status, Some(bundle_file_name(&outcome.name)), Some(bundle.digest.clone()))
                }
                Some(Err(ViewFailure::Errors(_))) if status == ViewCompileStatus::Compiled => (ViewCompileStatus::Failed, None, None),
                _ => (status, None, None),
            };
            views.insert(
                outcome.name.clone(),
                EnvelopeView {
                    status,
                    materialized: outcome.materialized,
                    bundle_file,
                    bundle_digest,
                    blocked_by,
                    definition_digest: crate::select::definition_digest(&outcome.status).map(str::to_string),
                },
            );
        }
        let (tasks, costs) = self.task_costs();
        let tasks = tasks
            .into_iter()
            .map(|task| {
                let (kind, output) = match task.kind {
                    TaskKind::Materialize => ("materialize".to_string(), None),
                    TaskKind::Output { output } => ("output".to_string(), Some(output)),
                };
                let cost = costs.get(&task.id).map(envelope_cost).unwrap_or_default();
                EnvelopeTask {
                    id: task.id.to_string(),
                    view: task.view,
                    kind,
                    output,
                    reads: task.reads.iter().map(ToString::to_string).collect(),
                    wave: task.wave,
                    cost,
                }
            })
            .collect();
        let envelope = CompileEnvelope {
            schema_version: ENVELOPE_SCHEMA_VERSION,
            viewdag_version: VIEWDAG_VERSION.to_string(),
            datafusion_version: datafusion::DATAFUSION_VERSION.to_string(),
            spec_digest: spec_digest(self.db, project).clone(),
            surface_manifest_hash: self.surface_hash(),
            views,
            tasks,
            envelope_hash: String::new(),
        };
        envelope.seal().map_err(|error| DriverError::Serialize(error.to_string()))
    }
}

fn unparsable(path: &Path, error: impl std::fmt::Display) -> DriverError {
    DriverError::Unparsable { path: path.to_path_buf(), message: error.to_string() }
}

/// A view name that is safe as a file name (names are validated identifiers; this guards
/// the file system against anything else).
fn is_safe_file_stem(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\']) && !name.contains('\0')
}

/// Writes `manifest.json` and one `<view>.bundle.json` per compiled view into `out`.
pub fn write_compile_output(snapshot: Snapshot<'_>, response: &CompileResponse, out: &Path) -> Result<WrittenArtifacts, DriverError> {
    std::fs::create_dir_all(out).map_err(DriverError::write(out))?;
    let envelope = snapshot.compile_envelope(response)?;
    let mut bundle_files = Vec::new();
    for (name, entry) in &envelope.views {
        let Some(file_name) = &entry.bundle_file else { continue };
        if !is_safe_file_stem(name) {
            return Err(DriverError::ViewFileName(name.clone()));
        }
        let Some(Ok(bundle)) = snapshot.view_bundle(name) else { continue };
        let path = out.join(file_name);
        std::fs::write(&path, bundle.file_text.as_bytes()).map_err(DriverError::write(&path))?;
        bundle_files.push(path);
    }
    remove_stale_bundles(out, &envelope)?;
    let text = viewdag_artifact::canonical::canonical_pretty(&envelope).map_err(|error| DriverError::Serialize(error.to_string()))?;
    let path = out.join(ENVELOPE_FILE_NAME);
    std::fs::write(&path, text).map_err(DriverError::write(&path))?;
    Ok(WrittenArtifacts { envelope, bundle_files })
}

fn remove_stale_bundles(out: &Path, envelope: &CompileEnvelope) -> Result<(), DriverError> {
    let current: Vec<&str> = envelope.views.values().filter_map(|view| view.bundle_file.as_deref()).collect();
    let entries = std::fs::read_dir(out).map_err(DriverError::read(out))?;
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.ends_with(".bundle.json") && !current.contains(&file_name.as_str()) {
            std::fs::remove_file(entry.path()).map_err(DriverError::write(entry.path()))?;
        }
    }
    Ok(())
}

/// A compile output directory read back: the envelope and every bundle it lists.
#[derive(Debug, Clone)]
pub struct CompileOutput {
    /// The envelope (`manifest.json`).
    pub envelope: CompileEnvelope,
    /// View name → its plan bundle, as listed by the envelope (digests checked).
    pub bundles: BTreeMap<String, PlanBundle>,
}

/// Reads `dir/manifest.json` and the bundles it lists, checking versions and digests.
pub fn read_compile_output(dir: &Path) -> Result<CompileOutput, DriverError> {
    let path = dir.join(ENVELOPE_FILE_NAME);
    let text = std::fs::read_to_string(&path).map_err(DriverError::read(&path))?;
    let envelope = read_envelope(&text).map_err(|error| unparsable(&path, error))?;
    let mut bundles = BTreeMap::new();
    for (name, entry) in &envelope.views {
        let (Some(file_name), Some(expected)) = (&entry.bundle_file, &entry.bundle_digest) else { continue };
        if !is_safe_file_stem(file_name) {
            return Err(unparsable(&path, format!("bundle file name `{file_name}` is not a plain file name")));
        }
        let bundle_path = dir.join(file_name);
        let text = std::fs::read_to_string(&bundle_path).map_err(DriverError::read(&bundle_path))?;
        let found = bundle_file_digest(&text);
        if &found != expected {
            return Err(unparsable(&bundle_path, format!("digest {found} does not match the envelope's {expected}")));
        }
        bundles.insert(name.clone(), read_bundle(&text).map_err(|error| unparsable(&bundle_path, error))?);
    }
    Ok(CompileOutput { envelope, bundles })
}

/// Compares two compile output directories.
pub fn diff_directories(old: &Path, new: &Path) -> Result<ArtifactDiff, DriverError> {
    let old = read_compile_output(old)?;
    let new = read_compile_output(new)?;
    Ok(diff_artifacts(&old.envelope, &old.bundles, &new.envelope, &new.bundles))
}

fn envelope_cost(cost: &TaskCost) -> EnvelopeTaskCost {
    EnvelopeTaskCost {
        input_bytes: cost.input.bytes,
        input_rows: cost.input.rows,
        output_bytes: cost.output.bytes,
        output_rows: cost.output.rows,
        exact: cost.input.exact && cost.output.exact,
        work: cost.work,
        critical_path: cost.critical_path,
    }
}
