//! Plan texts and digests: the one definition of each.
//!
//! | digest | over | defined by |
//! |---|---|---|
//! | P0, P1, P2 (bundles, `compile` output, replay) | a stage's normalized text and the identities it scans | [`stage_digest`] of [`logical_text`] / [`physical_text`] |
//! | pass trace (`before`/`after` of a rule) | the normalized text alone | [`text_digest`] |
//! | lowered key (`LoweredView::key`) | the view's definition and its inputs' keys, no plan text | `viewdag_lower` (an equality key, never shown) |
//! | task digest (up-to-date checks) | definition digest, surface manifest, pipeline | [`crate::task_digest`] |
//!
//! ## Invariants
//! - Text is normalized before it is digested: the spec root's absolute path becomes
//!   `$ROOT` ([`crate::normalize`]), so one project gives one digest on any machine.
//! - Logical text is the indented plan with schemas; physical text is the indented plan
//!   with DataFusion's default (non-verbose) detail. Elapsed times never reach a text.
//! - Every producer and every checker of a stage digest (the optimizer queries, the plan
//!   bundle, the driver's plan views, replay) calls these functions: a digest recomputed
//!   from a bundle's plan compares equal exactly when the plans print the same.

use std::collections::BTreeMap;

use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::{ExecutionPlan, displayable};
use viewdag_ir::ProviderIdentity;
use viewdag_lower::digest::{logical_plan_text, plan_digest};

use crate::normalize::normalize_plan_text;

/// A logical plan's normalized text: the text P0 and P1 digests are taken over.
pub fn logical_text(plan: &LogicalPlan, root: &str) -> String {
    normalize_plan_text(&logical_plan_text(plan), root)
}

/// A physical plan's normalized text: the text P2 digests are taken over.
pub fn physical_text(plan: &dyn ExecutionPlan, root: &str) -> String {
    normalize_plan_text(&displayable(plan).indent(true).to_string(), root)
}

/// A stage digest (P0, P1 or P2): BLAKE3 over the stage's normalized text and the
/// identities (Delta versions, file lists) of what the plan scans.
pub fn stage_digest(text: &str, scans: &BTreeMap<String, ProviderIdentity>) -> String {
    plan_digest(text, scans)
}

/// The P0 digest of a lowered plan, as the plan bundle records it.
pub fn p0_digest(plan: &LogicalPlan, scans: &BTreeMap<String, ProviderIdentity>, root: &str) -> String {
    stage_digest(&logical_text(plan, root), scans)
}

/// A pass trace digest: BLAKE3 of normalized plan text alone.
pub fn text_digest(text: &str) -> String {
    blake3::hash(text.as_bytes()).to_hex().to_string()
}
