//! One rule per operator: given the changes of the operator's inputs (at least one of them
//! appended), the operator's change or the reason there is none.
//!
//! | operator | change (Δ: appended rows; `_old`: as last read) |
//! |---|---|
//! | scan (`scan.rs`) | the appended files of an appended relation |
//! | filter, projection (`filter.rs`, `projection.rs`) | applied to Δ (deterministic expressions) |
//! | `union all` (`union.rs`) | the union of the changed inputs' Δ, in the union's columns (an unchanged input left out) |
//! | join (`join.rs`) | inner: `ΔL ⋈ R ∪ L_old ⋈ ΔR`; outer/semi/anti/mark: Δ of the preserved side ⋈ the other, which must be unchanged |
//! | sort (`sort.rs`) | without a limit: Δ (a table has no order); with one: refused |
//! | limit (`limit.rs`), window (`window.rs`) | refused |
//! | aggregate, distinct (`aggregate.rs`, `distinct.rs`) | at the task's top: merged by group keys; below another operator: refused |
//! | alias, repartition, unnest (`passthrough.rs`) | the input's Δ under the same operator |
//! | anything else (`unsupported.rs`) | refused, naming the operator |

pub mod aggregate;
pub mod distinct;
pub mod filter;
pub mod join;
pub mod limit;
pub mod passthrough;
pub mod projection;
pub mod scan;
pub mod sort;
pub mod union;
pub mod unsupported;
pub mod window;

use datafusion::logical_expr::LogicalPlan;

use super::reason::NotIncremental;
use super::subtree::{SubtreeChange, Subtrees};

/// The change of `plan`'s rows, given its inputs' `children` changes (in input order, at
/// least one appended).
pub fn derive_operator(plan: &LogicalPlan, children: Vec<SubtreeChange>, deriver: &dyn Subtrees) -> Result<SubtreeChange, NotIncremental> {
    match plan {
        LogicalPlan::Filter(_) => filter::derive(plan, children),
        LogicalPlan::Projection(_) => projection::derive(plan, children),
        LogicalPlan::Union(union) => union::derive(union, children),
        LogicalPlan::Join(join) => join::derive(plan, join, children, deriver),
        LogicalPlan::Sort(sort) => sort::derive(sort, children),
        LogicalPlan::Limit(_) => limit::derive(),
        LogicalPlan::Window(window) => window::derive(window),
        LogicalPlan::Aggregate(_) => aggregate::derive_below_top(),
        LogicalPlan::Distinct(_) => distinct::derive_below_top(),
        LogicalPlan::SubqueryAlias(_) | LogicalPlan::Repartition(_) | LogicalPlan::Unnest(_) => passthrough::derive(plan, children),
        other => unsupported::derive(other),
    }
}
