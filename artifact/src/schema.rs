//! JSON Schemas of the plan bundle and the compile envelope, generated with `schemars`
//! and committed under `docs/schemas/` (a test regenerates and compares them).

use crate::bundle::PlanBundle;
use crate::canonical::canonical_pretty;
use crate::envelope::CompileEnvelope;

/// The file name and canonical text of every committed schema.
pub fn json_schemas() -> Vec<(&'static str, String)> {
    let bundle = schemars::schema_for!(PlanBundle);
    let envelope = schemars::schema_for!(CompileEnvelope);
    vec![
        ("plan-bundle.v1.schema.json", canonical_pretty(&bundle).unwrap_or_default()),
        ("compile-envelope.v1.schema.json", canonical_pretty(&envelope).unwrap_or_default()),
    ]
}
