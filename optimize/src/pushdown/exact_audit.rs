//! Execution-time audit of `Exact` pushdown claims.
//!
//! When a provider answers `Exact` for a predicate, the optimizer removes the filter above
//! the scan and trusts the provider to return only matching rows. No plan check can see a
//! provider that claims `Exact` and does not filter (the plan is exactly what an honest
//! answer gives). The audit asks the data instead: for every predicate P1 leaves *only* at
//! a scan under an `Exact` answer, it scans the relation again with that predicate pushed
//! and counts the rows for which the predicate is not true:
//!
//! ```text
//! Aggregate: count(*)
//!   Filter: NOT (predicate IS TRUE)
//!     TableScan: relation, filters=[predicate]
//! ```
//!
//! The audit plan bypasses the logical optimizer (which would push the audit filter into the
//! scan too); the physical optimizer keeps a `FilterExec` unless the source itself reports it
//! applies the filter exactly, which DataFusion's file sources do not by default.
//!
//! ## Invariants
//! - Only claims the plan depends on are audited (`Exact` and placed at the scan only); an
//!   honest provider yields zero violating rows.
//! - Audits are in plan order (scans depth-first, predicates in the order found).

use std::sync::Arc;

use datafusion::execution::SessionState;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, lit, not};
use datafusion::physical_plan::collect;
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};

use crate::pushdown::logical_contract::scan_contracts;
use crate::pushdown::report::{PredicatePlacement, PushdownClassification};

/// One audited claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExactClaimAudit {
    pub relation: String,
    /// The predicate with unqualified column names.
    pub predicate: String,
    /// Rows the provider returned for which the predicate is not true (0 when honest).
    pub violating_rows: u64,
}

/// A claim to audit: the scan to repeat and the predicate it must apply exactly.
#[derive(Debug, Clone)]
pub struct ExactClaim {
    pub relation: String,
    pub predicate: String,
    audit_plan: LogicalPlan,
}

/// The `Exact` claims `plan` (a P1) depends on, each with its audit plan.
pub fn exact_claims(plan: &LogicalPlan) -> datafusion::error::Result<Vec<ExactClaim>> {
    let mut claims = Vec::new();
    for contract in scan_contracts(plan) {
        for predicate in contract.predicates {
            let report = &predicate.report;
            if report.classification != PushdownClassification::Exact || report.placement != PredicatePlacement::AtScan {
                continue;
            }
            let expression = predicate.expression;
            let audit_plan = LogicalPlanBuilder::scan_with_filters(
                contract.scan.table_name.clone(),
                Arc::clone(&contract.scan.source),
                None,
                vec![expression.clone()],
            )?
            .filter(not(Expr::IsTrue(Box::new(expression))))?
            .aggregate(Vec::<Expr>::new(), vec![count(lit(1)).alias("violating_rows")])?
            .build()?;
            claims.push(ExactClaim { relation: contract.relation.clone(), predicate: report.predicate.clone(), audit_plan });
        }
    }
    Ok(claims)
}

impl ExactClaim {
    /// Executes the audit plan.
    pub async fn audit(&self, state: &SessionState) -> datafusion::error::Result<ExactClaimAudit> {
        let physical = DefaultPhysicalPlanner::default().create_physical_plan(&self.audit_plan, state).await?;
        let batches = collect(physical, state.task_ctx()).await?;
        let violating_rows = batches
            .iter()
            .filter(|batch| batch.num_columns() == 1 && batch.num_rows() == 1)
            .filter_map(|batch| {
                batch.column(0).as_any().downcast_ref::<datafusion::arrow::array::Int64Array>().map(|counts| counts.value(0))
            })
            .map(|count| u64::try_from(count).unwrap_or(0))
            .sum();
        Ok(ExactClaimAudit { relation: self.relation.clone(), predicate: self.predicate.clone(), violating_rows })
    }
}
