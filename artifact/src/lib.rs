//! # Artifacts: plan bundles, the compile envelope, diff
//!
//! A **plan bundle** ([`PlanBundle`], one per compiled view, `<view>.bundle.json`) holds
//! everything needed to explain, compare and replay one view's plan: the view's definition
//! and its digest, the planning surface's manifest hash, the identities of the providers
//! it scans, its P0 / P1 / P2 plan text and digests, EXPLAIN text, the logical plan as
//! `datafusion-proto` bytes, SQL and (with the `substrait` feature) Substrait,
//! the optimizer's pass trace and pushdown report,
//! column-level [`lineage`] and warnings.
//!
//! The **compile envelope** ([`CompileEnvelope`], `manifest.json`) lists every view with
//! its bundle digest, the task list, the spec digest and the versions, sealed by a hash.
//!
//! ## Invariants
//! - Deterministic bytes: the same spec (in any declaration order), surface and provider
//!   identities give byte-identical files on any machine. No time, absolute path, memory
//!   address or map-iteration order reaches a written field (see [`canonical`]).
//! - [`view_bundle`] is a salsa query over the view's P0/P1/P2; it fails exactly when the
//!   view's P2 fails and compares by the digest of its bytes, so an edit re-bundles exactly
//!   the views whose plans (or providers, or definition) changed.
//! - Pure: no I/O. The driver writes and reads files; this crate renders and parses text.
//! - Readers accept schema version 1 and reject newer versions with a clear error.

pub mod bundle;
pub mod canonical;
pub mod diff;
pub mod envelope;
pub mod lineage;
pub mod queries;
pub mod read;
pub mod schema;
pub mod serialize;

pub use bundle::{BUNDLE_SCHEMA_VERSION, PlanBundle, ProviderRecord};
pub use diff::{ArtifactDiff, BundlePart, ViewChange, ViewDiff, diff_artifacts};
pub use envelope::{
    CompileEnvelope, ENVELOPE_FILE_NAME, ENVELOPE_SCHEMA_VERSION, EnvelopeTask, EnvelopeTaskCost, EnvelopeView, ViewCompileStatus,
    bundle_file_name,
};
pub use lineage::{ColumnLineage, EdgeKind, LineageEdge, column_lineage};
pub use queries::{ViewBundle, spec_digest, view_bundle};
pub use read::{ArtifactReadError, bundle_file_digest, read_bundle, read_envelope};

/// The artifact database.
#[salsa::db]
pub trait Db: viewdag_optimize::Db {}

/// The viewdag version written into envelopes.
pub const VIEWDAG_VERSION: &str = env!("CARGO_PKG_VERSION");
