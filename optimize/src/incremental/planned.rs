//! A task's increment planned like a view: derived over the task's P0 (the view's inlined
//! plan, with the tables of materialized inputs bound as the run binds them), then P1 and P2
//! through the one planning path (`crate::plan_view`), so an increment is optimized and
//! checked exactly as a full refresh is.

use viewdag_ir::ViewInput;
use viewdag_lower::{ViewFailure, view_plan};

use super::change::InputChanges;
use super::derive::derive_increment;
use super::increment::ApplyIncrement;
use super::reason::NotIncremental;
use crate::Db;
use crate::plan_view::{OptimizedView, PhysicalView, optimize_plan, physicalize_plan};
use crate::queries::with_planning_context;

/// An increment ready to execute.
#[derive(Debug, Clone)]
pub struct PlannedIncrement {
    /// How its rows land in the table.
    pub apply: ApplyIncrement,
    /// Its P1.
    pub optimized: OptimizedView,
    /// Its P2.
    pub physical: PhysicalView,
}

/// Why a task has no planned increment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncrementUnplanned {
    /// The derivation refused (a full refresh is needed).
    Refused(NotIncremental),
    /// The view, or its increment, failed to plan.
    Failed(ViewFailure),
}

/// Derives, optimizes and physically plans `view`'s increment for `changes`.
pub fn plan_increment(db: &dyn Db, view: ViewInput, changes: &InputChanges) -> Result<PlannedIncrement, IncrementUnplanned> {
    let lowered = view_plan(db, view).as_ref().map_err(|failure| IncrementUnplanned::Failed(failure.clone()))?;
    let name = view.name(db);
    let increment = derive_increment(&lowered.plan, changes).map_err(|refusal| IncrementUnplanned::Refused(refusal.within(name)))?;
    let planned = with_planning_context(db, |context| {
        let optimized = optimize_plan(context, name, increment.plan, std::sync::Arc::clone(&lowered.scans))?;
        let physical = physicalize_plan(context, name, &optimized)?;
        Ok((optimized, physical))
    });
    let (optimized, physical) = planned.map_err(IncrementUnplanned::Failed)?;
    Ok(PlannedIncrement { apply: increment.apply, optimized, physical })
}
