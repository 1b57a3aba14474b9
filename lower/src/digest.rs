//! Plan digests: BLAKE3 over canonical text. Stable across runs and machines.

use std::collections::BTreeMap;

use datafusion::logical_expr::LogicalPlan;
use viewdag_ir::ProviderIdentity;

/// The text a logical plan digest is taken over: the indented plan with schemas.
pub fn logical_plan_text(plan: &LogicalPlan) -> String {
    plan.display_indent_schema().to_string()
}

/// Digest of a plan and the identities of what it scans.
pub fn plan_digest(plan_text: &str, scans: &BTreeMap<String, ProviderIdentity>) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(plan_text.as_bytes());
    for (name, identity) in scans {
        hasher.update(b"\nscan ");
        hasher.update(name.as_bytes());
        hasher.update(b"=");
        hasher.update(identity.canonical().as_bytes());
    }
    hasher.finalize().to_hex().to_string()
}
