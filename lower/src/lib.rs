//! # Lowering: validation per view, and one DataFusion `LogicalPlan` per view (P0)
//!
//! Two ways to lower a view's own transform, sharing one code path (`transforms/`):
//! - over its inputs' **signatures** ([`view_signature`]): each input is an empty relation
//!   carrying only that input's schema, so validating a view costs O(size of the view) and a
//!   schema-keeping edit re-validates nothing downstream. Every diagnostic of a view, its
//!   output schema ([`view_schema`]) and its warnings come from here;
//! - over its inputs' **plans** ([`view_plan`], P0): a view reading an ephemeral view builds
//!   on that view's memoized P0 (shared by `Arc`), a view reading a source scans the
//!   source's provider, and a view reading a *materialized* view scans a placeholder with
//!   that view's schema (the task boundary; see `viewdag_surface::MaterializedViewTable`).
//!   Asked only for what executes (tasks) and on demand.
//!
//! Every input is wrapped in a `SubqueryAlias` named after the relation, so expressions in
//! a view name the columns of its inputs and nothing else. [`view_definition_digest`] is a
//! Merkle digest of a view's definition and its inputs'; [`project`] holds the project's
//! check results as queries.
//!
//! ## Invariants
//! - Expression strings are parsed against the input schema with the session's SQL
//!   dialect; names are case-sensitive. A string that is only a column reference is
//!   resolved through a [`column_index::ColumnIndex`] to the same `Expr::Column` (O(1), not a
//!   scan of the schema), so a transform naming every column of a wide input is linear in
//!   its width.
//! - A view's signature and its P0 have the same output schema (a property test checks it
//!   against lowering over inlined plans, [`inlined_signature`]).
//! - A [`LoweredView`] compares by an O(1) key over its definition, its inputs' keys and the
//!   identities of every provider it scans (DataFusion's plan equality ignores providers).
//! - Per-view queries resolve names through `viewdag_validate::resolve_relation` and read
//!   no whole-project query but the project's tables, through the narrow per-view
//!   `view_materialization` (backdated per view), so adding a view re-runs no other view's
//!   query unless it changes where a chain is cut.
//! - A view whose own definition is broken, or that reads one, fails without planning;
//!   no query here can recurse around a cycle (structure is checked first).
//! - No task's plan inlines more than `MAX_INLINED_DEPTH` ephemeral views: a longer chain is
//!   cut by materializing a view (`materialization`), since DataFusion walks plans
//!   recursively.
//! - No I/O: providers come from the surface database by identity.

pub mod chunks;
pub mod clock;
pub mod column_index;
pub mod column_reference;
pub mod definition_digest;
pub mod digest;
pub mod expectations;
pub mod expressions;
pub mod inputs;
pub mod linear_projection;
pub mod materialization;
pub mod memo_key;
pub mod project;
pub mod queries;
pub mod schema_interner;
pub mod signature;
pub mod signature_memo;
pub mod transforms;

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::logical_expr::LogicalPlan;
use viewdag_ir::{Diagnostic, ProviderIdentity};

pub use chunks::{CHUNK_BOUNDARY, ChunkOrder, ViewChunks, chunk_members, view_chunks};
pub use clock::reads_the_clock;
pub use definition_digest::{view_definition_digest, view_shape_digest};
pub use expectations::{output_diagnostics, view_expectation_diagnostics};
pub use materialization::{
    MAX_INLINED_DEPTH, Materialization, ViewTables, is_materialized, task_diagnostic, view_materialization, view_tables,
};
pub use project::{
    ChunkCheck, ViewCheck, ViewCheckStatus, chunk_check, chunk_warm, is_task, output_check, output_view_names, project_global_diagnostics,
    task_views, view_check, warm_in_dependency_order, warm_views,
};
pub use queries::{inlined_signature, stored_view_schema, view_plan, view_schema, view_signature};
pub use signature::ViewSignature;

/// The lowering database.
#[salsa::db]
pub trait Db: viewdag_validate::Db + viewdag_surface::Db {
    /// The signature memo [`view_signature`] consults, when the host keeps one across
    /// processes (see [`signature_memo`]: its values are pure functions of their keys).
    fn signature_memo(&self) -> Option<&signature_memo::SignatureMemo>;

    /// Where views' output schemas are shared by value ([`schema_interner`]).
    fn schema_interner(&self) -> &schema_interner::SchemaInterner;
}

/// A view's P0 plan with what it scans.
#[derive(Debug, Clone)]
pub struct LoweredView {
    pub plan: Arc<LogicalPlan>,
    /// Relation name → provider identity, for every scan in the plan.
    pub scans: Arc<BTreeMap<String, ProviderIdentity>>,
    /// An equality key: BLAKE3 over the view's name, canonical definition and its inputs'
    /// keys (for a scan, the scan's one-node text), and the scans' identities; O(1) per
    /// view, no plan text. Not a P0 digest: that one is taken over P0's normalized text
    /// (`viewdag_optimize::digests::p0_digest`), as bundles record it.
    pub key: String,
}

impl PartialEq for LoweredView {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for LoweredView {}

impl LoweredView {
    pub fn schema(&self) -> SchemaRef {
        Arc::clone(self.plan.schema().inner())
    }
}

/// Why a view has no plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewFailure {
    /// The view's own definition is broken; the structural diagnostics say why.
    Invalid,
    /// Planning the view failed.
    Errors(Arc<Vec<Diagnostic>>),
    /// A relation upstream has errors; `upstream` is the first one that failed itself.
    Blocked { upstream: String },
}

impl ViewFailure {
    /// The failure a reader of a view with this failure gets.
    pub fn as_seen_from_reader(&self, failed_view: &str) -> ViewFailure {
        match self {
            ViewFailure::Blocked { upstream } => ViewFailure::Blocked { upstream: upstream.clone() },
            ViewFailure::Invalid | ViewFailure::Errors(_) => ViewFailure::Blocked { upstream: failed_view.to_string() },
        }
    }
}

/// What a person reads: the errors' codes and messages (the diagnostics themselves are
/// reported with their locations by whoever holds them), never a debug dump.
impl std::fmt::Display for ViewFailure {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ViewFailure::Invalid => formatter.write_str("its definition has errors"),
            ViewFailure::Errors(errors) => {
                for (index, error) in errors.iter().enumerate() {
                    let separator = if index == 0 { "" } else { "; " };
                    write!(formatter, "{separator}{}[{}]: {}", error.severity.as_str(), error.code.id(), error.message)?;
                }
                Ok(())
            }
            ViewFailure::Blocked { upstream } => write!(formatter, "`{upstream}` upstream has errors"),
        }
    }
}

pub type LowerResult<T> = Result<T, ViewFailure>;
