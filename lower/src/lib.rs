//! # Lowering: one DataFusion `LogicalPlan` per view (P0)
//!
//! Each view is planned with `LogicalPlanBuilder` over its inputs' plans, never by
//! re-planning its ancestors: a view reading an ephemeral view builds on that view's
//! memoized P0 (shared by `Arc`), a view reading a source scans the source's provider, and
//! a view reading a *materialized* view scans a placeholder with that view's schema (the
//! task boundary; see `viewdag_surface::MaterializedViewTable`).
//!
//! Every input is wrapped in a `SubqueryAlias` named after the relation, so expressions in
//! a view name the columns of its inputs and nothing else.
//!
//! ## Invariants
//! - Expression strings are parsed against the input schema with the session's SQL
//!   dialect; names are case-sensitive.
//! - A [`LoweredView`] compares by digest: the plan text *and* the identities of every
//!   provider it scans (DataFusion's plan equality ignores providers).
//! - A view whose own definition is broken, or that reads one, fails without planning;
//!   no query here can recurse around a cycle (structure is checked first).
//! - No I/O: providers come from the surface database by identity.

pub mod digest;
pub mod expressions;
pub mod inputs;
pub mod queries;
pub mod transforms;

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::logical_expr::LogicalPlan;
use viewdag_ir::{Diagnostic, ProviderIdentity};

pub use queries::{view_plan, view_schema};

/// The lowering database.
#[salsa::db]
pub trait Db: viewdag_validate::Db + viewdag_surface::Db {}

/// A view's P0 plan with what it scans.
#[derive(Debug, Clone)]
pub struct LoweredView {
    pub plan: Arc<LogicalPlan>,
    /// Relation name → provider identity, for every scan in the plan.
    pub scans: Arc<BTreeMap<String, ProviderIdentity>>,
    /// BLAKE3 over the plan's text and the scans' identities.
    pub digest: String,
}

impl PartialEq for LoweredView {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest
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

pub type LowerResult<T> = Result<T, ViewFailure>;
