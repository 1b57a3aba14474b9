//! # Optimization: P1 (optimized logical plan) and P2 (physical plan) per view
//!
//! P1 runs DataFusion's analyzer and logical optimizer over a view's P0; P2 runs the
//! physical planner (which applies the physical optimizer rules) over P1.
//!
//! ## Invariants
//! - Optimizing is deterministic: each view gets a fresh alias generator and no query start
//!   time (so `now()` is never folded), and rules come from the session of the planning
//!   surface, in DataFusion's order.
//! - Plan text is normalized before it is digested: the spec root's absolute path becomes
//!   `$ROOT`, so the same project gives the same digests on any machine.
//! - A failure is a diagnostic naming the stage; it never panics and never hides a rule
//!   failure.

pub mod config;
pub mod normalize;
pub mod queries;

pub use queries::{OptimizedView, PhysicalView, optimized_view, physical_view};

/// The optimizer database.
#[salsa::db]
pub trait Db: viewdag_lower::Db {}
