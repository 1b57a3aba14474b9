//! # The planning surface
//!
//! Everything outside the spec that can change a plan: DataFusion's configuration, its
//! function registry, and the identity of every provider a plan scans.
//!
//! ## Invariants
//! - The `SessionState` built here is deterministic: `target_partitions` and `batch_size`
//!   come from the spec's profile (never from the machine), no query start time is set (so
//!   `now()` is never folded), identifiers are case-sensitive, and `sum`/`avg` over floats
//!   are exact and rounded once (`deterministic_aggregates`), so their results do not
//!   depend on the order threads finish in. `range`/`generate_series` are DataFusion's,
//!   counted (`generated_series`).
//! - The [`SurfaceManifest`] hash covers every configuration entry and every registered
//!   function name, so two machines with the same hash plan identically.
//! - This crate reads no data and no files. Providers are built by the driver and looked
//!   up here by [`viewdag_ir::ProviderIdentity`]: a provider is a pure function of its
//!   identity, so a tracked query that reads a source's identity may use its provider.

pub mod blocking;
pub mod catalog;
pub mod clock;
pub mod deterministic_aggregates;
pub mod exact_sum;
pub mod generated_series;
pub mod manifest;
pub mod materialized;
pub mod session;
pub mod sql_context;

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use viewdag_ir::ProviderIdentity;

pub use blocking::{block_on, block_on_runtime};
pub use catalog::session_with_tables;
pub use generated_series::GeneratedSeries;
pub use manifest::SurfaceManifest;
pub use materialized::MaterializedViewTable;
pub use session::{SessionHandle, build_session_state, planning_session};
pub use sql_context::RelationsContext;

/// The surface database: provider lookup and the runtime physical planning runs on.
#[salsa::db]
pub trait Db: viewdag_ir::Db {
    /// The provider for exactly this identity (loaded by the driver before compiling).
    fn provider(&self, identity: &ProviderIdentity) -> Option<Arc<dyn TableProvider>>;
    /// The runtime on which async DataFusion planning calls are driven to completion (use
    /// [`block_on`], never this runtime's own `block_on`).
    fn runtime(&self) -> &tokio::runtime::Runtime;
    /// DataFusion's runtime environment (object stores, memory pool). Not part of the
    /// manifest: it says where bytes live, not what a plan is.
    fn runtime_env(&self) -> Arc<datafusion::execution::runtime_env::RuntimeEnv>;
}
