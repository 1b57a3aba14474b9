//! The deterministic DataFusion session built from a [`PlanningSurfaceSpec`].

use std::sync::Arc;

use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::session_state::SessionState;
use datafusion::prelude::SessionConfig;
use viewdag_ir::{PlanningSurfaceSpec, SurfaceInput};

use crate::Db;
use crate::deterministic_aggregates::make_float_aggregates_exact;
use crate::generated_series::count_generated_rows;
use crate::manifest::SurfaceManifest;

/// Builds the session state for a surface spec. Same spec, same state, on any machine.
pub fn build_session_state(spec: &PlanningSurfaceSpec, runtime_env: Arc<RuntimeEnv>) -> SessionState {
    let PlanningSurfaceSpec { target_partitions, batch_size, surface } = spec;
    let mut config = SessionConfig::new()
        .with_target_partitions(*target_partitions)
        .with_batch_size(*batch_size)
        .with_information_schema(false)
        .with_create_default_catalog_and_schema(true)
        .set_bool("datafusion.sql_parser.enable_ident_normalization", false)
        // Plans must not depend on how many files a listing happens to find first.
        .set_bool("datafusion.execution.collect_statistics", true);
    if let Some(pushdown_filters) = surface.parquet.pushdown_filters {
        config = config.set_bool("datafusion.execution.parquet.pushdown_filters", pushdown_filters);
    }
    if let Some(pruning) = surface.parquet.pruning {
        config = config.set_bool("datafusion.execution.parquet.pruning", pruning);
    }
    let mut state = SessionStateBuilder::new().with_config(config).with_runtime_env(runtime_env).with_default_features().build();
    count_generated_rows(&mut state);
    make_float_aggregates_exact(&mut state);
    state
}

/// A session state with the manifest it was built from. Compares by manifest hash.
#[derive(Clone)]
pub struct SessionHandle {
    pub state: Arc<SessionState>,
    pub manifest: Arc<SurfaceManifest>,
}

impl PartialEq for SessionHandle {
    fn eq(&self, other: &Self) -> bool {
        self.manifest.hash == other.manifest.hash
    }
}
impl Eq for SessionHandle {}

impl std::fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionHandle({})", self.manifest.hash)
    }
}

/// The session for the current surface; rebuilt only when the surface input changes.
#[salsa::tracked(returns(ref))]
pub fn planning_session(db: &dyn Db, surface: SurfaceInput) -> SessionHandle {
    let state = build_session_state(surface.spec(db), db.runtime_env());
    let manifest = SurfaceManifest::of(surface.spec(db), &state);
    SessionHandle { state: Arc::new(state), manifest: Arc::new(manifest) }
}
