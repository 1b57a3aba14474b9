//! The surface manifest: a canonical listing of everything in the session that can change
//! a plan, and its hash.

use datafusion::execution::session_state::SessionState;
use serde::Serialize;
use viewdag_ir::PlanningSurfaceSpec;

/// The DataFusion version this build plans with.
pub const DATAFUSION_VERSION: &str = datafusion::DATAFUSION_VERSION;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SurfaceManifest {
    pub datafusion_version: String,
    pub spec: PlanningSurfaceSpec,
    /// `key=value` for every configuration option, sorted by key.
    pub config: Vec<String>,
    /// Registered scalar, aggregate, window and table function names, sorted.
    pub functions: Vec<String>,
    /// BLAKE3 of the canonical JSON of the fields above.
    pub hash: String,
}

impl SurfaceManifest {
    pub fn of(spec: &PlanningSurfaceSpec, state: &SessionState) -> SurfaceManifest {
        let mut config: Vec<String> = state
            .config_options()
            .entries()
            .into_iter()
            .map(|entry| format!("{}={}", entry.key, entry.value.unwrap_or_default()))
            .collect();
        config.sort();
        let mut functions: Vec<String> = Vec::new();
        functions.extend(state.scalar_functions().keys().map(|name| format!("scalar:{name}")));
        functions.extend(state.aggregate_functions().keys().map(|name| format!("aggregate:{name}")));
        functions.extend(state.window_functions().keys().map(|name| format!("window:{name}")));
        functions.extend(state.table_functions().keys().map(|name| format!("table:{name}")));
        functions.sort();
        let mut manifest = SurfaceManifest {
            datafusion_version: DATAFUSION_VERSION.to_string(),
            spec: spec.clone(),
            config,
            functions,
            hash: String::new(),
        };
        let canonical = serde_json::to_string(&manifest).expect("a manifest serializes");
        manifest.hash = blake3::hash(canonical.as_bytes()).to_hex().to_string();
        manifest
    }
}
