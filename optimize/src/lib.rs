//! # Optimization: P1 (optimized logical plan) and P2 (physical plan) per view
//!
//! An observable optimizer pipeline drives DataFusion 55's rules one at a time in three
//! phases — analyzer, logical (repeated passes to a fixed point or `max_passes`), physical
//! (over the physical planner's unoptimized plan) — from named rulepacks
//! ([`OptimizerPipelineConfig`]: presets `default`, `minimal`, `none`, or inline in the
//! spec's `profile.optimizer`, or through the Rust API). Every rule application is a trace
//! entry with a deterministic pass id and before/after digests. Then the pushdown contracts
//! of every scan are checked in P1 and P2 ([`pushdown`]).
//!
//! ## Invariants
//! - Optimizing is deterministic: each view gets a fresh alias generator and no query start
//!   time (so `now()` is never folded); rules come from the planning session's registry,
//!   in DataFusion's order unless the pipeline says otherwise.
//! - Plan text is normalized before it is digested: the spec root's absolute path becomes
//!   `$ROOT`, so the same project gives the same digests on any machine. Elapsed times are
//!   recorded but never digested.
//! - No rule failure is silent: fail-closed fails the view with a diagnostic naming the
//!   rule and pass; fail-open restores the rule's input plan and warns. Errors, panics and
//!   output-schema changes are all failures.
//! - A rule that changes the plan's output schema (names and types) fails, in the logical
//!   and physical phases (analyzer rules may coerce types).

pub mod config;
pub mod digests;
pub mod incremental;
pub mod normalize;
pub mod pipeline;
pub mod plan_view;
pub mod project;
pub mod pushdown;
pub mod queries;
pub mod start_time;

pub use pipeline::registry::{OptimizerRuleExtensions, OptimizerRuleRegistry, RegisteredRule};
pub use pipeline::settings::{OptimizerPipelineConfig, PRESET_NAMES, PhaseConfig};
pub use pipeline::trace::{Convergence, IdempotenceVerdict, OptimizerPhase, OptimizerTrace, PassOutcome, PassTraceEntry, PhaseTrace};
pub use plan_view::{OptimizedView, PhysicalView, PlanningContext, ResolvedOptimizerPipeline, optimize_plan, physicalize_plan, plan_view};
pub use project::{
    CompiledChunk, CompiledProject, OutputPart, PlanScope, PlannedView, ProjectParts, ProjectViews, ViewOutcome, ViewStatus,
    compiled_chunk, compiled_project, planned_view, recompiled_after_view_edits, reshaped_after_view_edits, task_digest, task_shape_digest,
};
pub use pushdown::PushdownReport;
pub use queries::{OptimizerSettingsInput, optimized_view, physical_view, resolved_optimizer_pipeline};
pub use start_time::{executable_plan, plan_at_start, with_start_time};

/// The optimizer database.
#[salsa::db]
pub trait Db: viewdag_lower::Db {}
