//! A run's start time, bound into the plan it executes.
//!
//! Compiled plans (P0, P1, P2) never know when they will run: they are planned without a
//! query start time, so `now()`, `current_date()` and `current_time()` stay calls and every
//! digest is the same on any day. DataFusion 55 evaluates those functions only by folding
//! them into literals of the start time (their `invoke` is an internal error), so a plan
//! that calls one is executed from a copy of its P1 with the calls folded
//! ([`with_start_time`]), physically planned again ([`plan_at_start`]; for a compiled view,
//! [`executable_plan`]).
//!
//! ## Invariants
//! - A function is bound when its own simplification folds it given a start time and keeps
//!   it without one (`viewdag_surface::clock`): exactly the functions that cannot be
//!   evaluated otherwise. Nothing else in the plan changes (no other simplification runs),
//!   so the executed plan is the compiled one with those calls replaced by literals.
//! - One start time per run: every task of a run (and every subquery of a task) sees the
//!   same `now()`.
//! - A plan without such a call is executed from its memoized P2, untouched.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::execution_plan::reset_plan_states;
use viewdag_ir::{Code, Diagnostic, SpecLocation, ViewInput};
use viewdag_lower::{LowerResult, ViewFailure};
use viewdag_surface::clock::folds_start_time;

use crate::Db;
use crate::plan_view::{OptimizedView, PhysicalView, PlanningContext, physicalize_plan};
use crate::queries::{optimized_view, physical_view, with_planning_context};

/// `plan` with every call that needs a start time folded into a literal of `start`, or
/// `None` when it has none.
pub fn with_start_time(plan: &LogicalPlan, config: &Arc<ConfigOptions>, start: DateTime<Utc>) -> Result<Option<LogicalPlan>> {
    let bound = SimplifyContext::builder().with_config_options(Arc::clone(config)).with_query_execution_start_time(Some(start)).build();
    let mut found = false;
    let _ = plan.apply_with_subqueries(|node| {
        node.apply_expressions(|expression| {
            expression.apply(|expression| {
                found = needs_start_time(expression, config);
                Ok(if found { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
            })
        })?;
        Ok(if found { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
    });
    if !found {
        return Ok(None);
    }
    let rewritten = plan.clone().transform_up_with_subqueries(|node| {
        node.map_expressions(|expression| {
            expression.transform_up(|expression| {
                if !needs_start_time(&expression, config) {
                    return Ok(Transformed::no(expression));
                }
                let Expr::ScalarFunction(call) = expression else { unreachable!("only a call needs a start time") };
                match call.func.simplify(call.args.clone(), &bound)? {
                    ExprSimplifyResult::Simplified(folded) => Ok(Transformed::yes(folded)),
                    ExprSimplifyResult::Original(args) => {
                        Ok(Transformed::no(Expr::ScalarFunction(ScalarFunction::new_udf(call.func, args))))
                    }
                }
            })
        })
    })?;
    Ok(Some(rewritten.data))
}

/// Whether `expression` is a call DataFusion evaluates only by folding it into the start time.
fn needs_start_time(expression: &Expr, config: &Arc<ConfigOptions>) -> bool {
    matches!(expression, Expr::ScalarFunction(call) if folds_start_time(&call.func, &call.args, config))
}

/// The physical plan that executes `view` in a run that started at `start` (see
/// [`plan_at_start`]).
pub fn executable_plan(db: &dyn Db, view: ViewInput, start: DateTime<Utc>) -> LowerResult<Arc<dyn ExecutionPlan>> {
    let compiled = physical_view(db, view).as_ref().map_err(Clone::clone)?;
    let optimized = optimized_view(db, view).as_ref().map_err(Clone::clone)?;
    with_planning_context(db, |context| plan_at_start(context, view.name(db), optimized, compiled, start))
}

/// What executes a view planned as `optimized` (P1) and `compiled` (P2) at `start`: a fresh
/// copy of P2, or, when P1 calls a function of the start time, P1 with the calls folded,
/// planned again through the same physical phase.
pub fn plan_at_start(
    context: &PlanningContext<'_>,
    view_name: &str,
    optimized: &OptimizedView,
    compiled: &PhysicalView,
    start: DateTime<Utc>,
) -> LowerResult<Arc<dyn ExecutionPlan>> {
    let failed = |error: datafusion::error::DataFusionError| {
        let message = format!("planning view `{view_name}` at the run's start time failed: {}", error.strip_backtrace());
        ViewFailure::Errors(Arc::new(vec![Diagnostic::new(Code::PhysicalPlanFailed, SpecLocation::view(view_name), message)]))
    };
    match with_start_time(&optimized.plan, context.state.config_options(), start).map_err(failed)? {
        Some(bound) => {
            let at_start = OptimizedView { plan: Arc::new(bound), ..optimized.clone() };
            physicalize_plan(context, view_name, &at_start).map(|physical| physical.plan)
        }
        // A physical plan keeps execution state: run a fresh copy of the compiled one.
        None => reset_plan_states(Arc::clone(&compiled.plan)).map_err(failed),
    }
}
