//! Comparing two compile outputs: per view, which parts of its bundle changed.
//!
//! Pure: the driver reads the directories and hands over parsed envelopes and bundles.
//! A view is unchanged exactly when its bundle digest is; when the digest differs and
//! none of the named parts did, the change is reported as `other` (never hidden).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::bundle::PlanBundle;
use crate::envelope::CompileEnvelope;

/// A part of a bundle a diff reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BundlePart {
    Status,
    Definition,
    Providers,
    Surface,
    OutputSchema,
    P0,
    P1,
    P2,
    Lineage,
    Trace,
    PushdownReport,
    /// Something else (explain text, serialized SQL, warnings) differs.
    Other,
}

impl BundlePart {
    pub fn as_str(self) -> &'static str {
        match self {
            BundlePart::Status => "status",
            BundlePart::Definition => "definition",
            BundlePart::Providers => "providers",
            BundlePart::Surface => "surface",
            BundlePart::OutputSchema => "output_schema",
            BundlePart::P0 => "p0",
            BundlePart::P1 => "p1",
            BundlePart::P2 => "p2",
            BundlePart::Lineage => "lineage",
            BundlePart::Trace => "trace",
            BundlePart::PushdownReport => "pushdown_report",
            BundlePart::Other => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ViewChange {
    Unchanged,
    Added,
    Removed,
    Changed {
        parts: Vec<BundlePart>,
        /// When the traces differ: the first pass where they diverge.
        first_divergent_pass: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewDiff {
    pub view: String,
    #[serde(flatten)]
    pub change: ViewChange,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactDiff {
    /// Envelope-level fields that changed (`spec_digest`, `tasks`, …).
    pub envelope: Vec<String>,
    /// Every view in either output, by name.
    pub views: Vec<ViewDiff>,
}

impl ArtifactDiff {
    pub fn is_identical(&self) -> bool {
        self.envelope.is_empty() && self.views.iter().all(|view| view.change == ViewChange::Unchanged)
    }

    /// One line per changed view and envelope field; `identical` when nothing changed.
    pub fn render_text(&self) -> String {
        let mut lines = Vec::new();
        for field in &self.envelope {
            lines.push(format!("envelope: {field} changed"));
        }
        for view in &self.views {
            match &view.change {
                ViewChange::Unchanged => {}
                ViewChange::Added => lines.push(format!("{}: added", view.view)),
                ViewChange::Removed => lines.push(format!("{}: removed", view.view)),
                ViewChange::Changed { parts, first_divergent_pass } => {
                    let names: Vec<&str> = parts.iter().map(|part| part.as_str()).collect();
                    let mut line = format!("{}: changed: {}", view.view, names.join(", "));
                    if let Some(pass) = first_divergent_pass {
                        line.push_str(&format!(" (traces diverge at pass {pass})"));
                    }
                    lines.push(line);
                }
            }
        }
        let unchanged = self.views.iter().filter(|view| view.change == ViewChange::Unchanged).count();
        if lines.is_empty() {
            lines.push(format!("identical ({unchanged} view(s))"));
        } else {
            lines.push(format!("{unchanged} view(s) unchanged"));
        }
        lines.join("\n") + "\n"
    }
}

/// Compares two compile outputs.
pub fn diff_artifacts(
    old_envelope: &CompileEnvelope,
    old_bundles: &BTreeMap<String, PlanBundle>,
    new_envelope: &CompileEnvelope,
    new_bundles: &BTreeMap<String, PlanBundle>,
) -> ArtifactDiff {
    let mut envelope = Vec::new();
    let fields: [(&str, bool); 6] = [
        ("schema_version", old_envelope.schema_version != new_envelope.schema_version),
        ("viewdag_version", old_envelope.viewdag_version != new_envelope.viewdag_version),
        ("datafusion_version", old_envelope.datafusion_version != new_envelope.datafusion_version),
        ("spec_digest", old_envelope.spec_digest != new_envelope.spec_digest),
        ("surface_manifest_hash", old_envelope.surface_manifest_hash != new_envelope.surface_manifest_hash),
        ("tasks", old_envelope.tasks != new_envelope.tasks),
    ];
    for (field, changed) in fields {
        if changed {
            envelope.push(field.to_string());
        }
    }
    let names: BTreeSet<&String> = old_envelope.views.keys().chain(new_envelope.views.keys()).collect();
    let views = names
        .into_iter()
        .map(|name| {
            let change = match (old_envelope.views.get(name), new_envelope.views.get(name)) {
                (None, _) => ViewChange::Added,
                (_, None) => ViewChange::Removed,
                // The Merkle definition digest changes with every upstream edit; what changed
                // for this view is told by its own definition and plans, so it is left out.
                (Some(old), Some(new)) if without_digest(old) == without_digest(new) => ViewChange::Unchanged,
                (Some(old), Some(new)) => {
                    let mut parts = Vec::new();
                    if old.status != new.status || old.materialized != new.materialized || old.blocked_by != new.blocked_by {
                        parts.push(BundlePart::Status);
                    }
                    let mut first_divergent_pass = None;
                    match (old_bundles.get(name), new_bundles.get(name)) {
                        (Some(old_bundle), Some(new_bundle)) => {
                            first_divergent_pass = bundle_parts(old_bundle, new_bundle, &mut parts);
                        }
                        (None, None) => {}
                        _ => parts.push(BundlePart::Definition),
                    }
                    if parts.is_empty() {
                        parts.push(BundlePart::Other);
                    }
                    parts.sort();
                    parts.dedup();
                    ViewChange::Changed { parts, first_divergent_pass }
                }
            };
            ViewDiff { view: name.clone(), change }
        })
        .collect();
    ArtifactDiff { envelope, views }
}

/// Pushes the parts that differ; returns the first divergent pass when traces differ.
fn bundle_parts(old: &PlanBundle, new: &PlanBundle, parts: &mut Vec<BundlePart>) -> Option<String> {
    let checks = [
        (BundlePart::Definition, old.definition != new.definition),
        (BundlePart::Providers, old.providers != new.providers),
        (BundlePart::Surface, old.surface_manifest_hash != new.surface_manifest_hash || old.datafusion_version != new.datafusion_version),
        (BundlePart::OutputSchema, old.output_schema != new.output_schema),
        (BundlePart::P0, old.plans.p0.digest != new.plans.p0.digest),
        (BundlePart::P1, old.plans.p1.digest != new.plans.p1.digest),
        (BundlePart::P2, old.plans.p2.digest != new.plans.p2.digest),
        (BundlePart::Lineage, old.lineage != new.lineage),
        (BundlePart::Trace, old.pass_trace != new.pass_trace),
        (BundlePart::PushdownReport, old.pushdown_report != new.pushdown_report),
        (
            BundlePart::Other,
            old.explain != new.explain
                || old.serialized != new.serialized
                || old.warnings != new.warnings
                || old.schema_version != new.schema_version,
        ),
    ];
    for (part, changed) in checks {
        if changed {
            parts.push(part);
        }
    }
    if old.pass_trace == new.pass_trace {
        return None;
    }
    let position = old.pass_trace.iter().zip(new.pass_trace.iter()).position(|(left, right)| left != right);
    Some(match position {
        Some(index) => new.pass_trace[index].pass.clone(),
        None => {
            let shorter = old.pass_trace.len().min(new.pass_trace.len());
            format!("#{shorter} (one trace ends there)")
        }
    })
}

/// An envelope view without its definition digest (see `diff_artifacts`).
fn without_digest(view: &crate::envelope::EnvelopeView) -> crate::envelope::EnvelopeView {
    crate::envelope::EnvelopeView { definition_digest: None, ..view.clone() }
}
