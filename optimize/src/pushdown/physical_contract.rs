//! Checking in P2 that every residual predicate of P1 is still applied by a `FilterExec`.
//!
//! A residual counts as applied when it is a conjunct of a `FilterExec` or of the filter a
//! file scan accepted from the physical `FilterPushdown` rule (Parquet row filters).
//! Residuals are compared as physical expressions rendered without column indices
//! (`amount@2 > 0` → `amount > 0`), each made from the P1 residual against its scan's
//! output schema. The search is over all `FilterExec`s of P2, not per scan (physical
//! rules may swap join inputs, so scans are not matched one to one): two scans with the
//! same residual predicate can mask each other.

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::context::ExecutionProps;
use datafusion::logical_expr::LogicalPlan;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::create_physical_expr;
use datafusion::physical_expr::expressions::Column as PhysicalColumn;
use datafusion::physical_expr::utils::split_conjunction;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;

use crate::pushdown::logical_contract::scan_contracts;
use crate::pushdown::report::{PredicatePlacement, PushdownPredicateReport, PushdownReport, PushdownVerdict, ScanPushdownReport};

/// Text of a physical expression without `@index` suffixes.
fn without_column_indices(text: &str) -> String {
    let mut result = String::with_capacity(text.len());
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        if character == '@' && characters.peek().is_some_and(char::is_ascii_digit) {
            while characters.peek().is_some_and(char::is_ascii_digit) {
                characters.next();
            }
        } else {
            result.push(character);
        }
    }
    result
}

fn collect_filter_conjuncts(plan: &Arc<dyn ExecutionPlan>, conjuncts: &mut BTreeSet<String>) {
    if let Some(filter) = plan.downcast_ref::<FilterExec>() {
        for conjunct in split_conjunction(filter.predicate()) {
            conjuncts.insert(without_column_indices(&conjunct.to_string()));
            // Over a projection that computes the columns it reads (the common-subexpression
            // rule's `v * 1.09 AS __common_expr_1`): also as computed from below it.
            let mut input = Arc::clone(filter.input());
            let mut inlined = Arc::clone(conjunct);
            while let Some(projection) = input.downcast_ref::<ProjectionExec>() {
                inlined = inline_projection(inlined, projection);
                conjuncts.insert(without_column_indices(&inlined.to_string()));
                input = Arc::clone(projection.input());
            }
        }
    }
    // A file scan that accepted a filter from the physical `FilterPushdown` rule (Parquet
    // with row-filter pushdown) applies it while reading: the `FilterExec` above is gone.
    if let Some(scan) = plan.downcast_ref::<DataSourceExec>()
        && let Some(files) = scan.data_source().downcast_ref::<FileScanConfig>()
        && let Some(filter) = files.file_source().filter()
    {
        for conjunct in split_conjunction(&filter) {
            conjuncts.insert(without_column_indices(&conjunct.to_string()));
        }
    }
    for child in plan.children() {
        collect_filter_conjuncts(child, conjuncts);
    }
}

/// `expression` over `projection`'s output, rewritten over its input.
fn inline_projection(expression: Arc<dyn PhysicalExpr>, projection: &ProjectionExec) -> Arc<dyn PhysicalExpr> {
    let outputs = projection.expr();
    let inlined = Arc::clone(&expression).transform(|node| match node.downcast_ref::<PhysicalColumn>() {
        Some(column) => match outputs.get(column.index()) {
            Some(output) => Ok(Transformed::yes(Arc::clone(&output.expr))),
            None => Ok(Transformed::no(node)),
        },
        None => Ok(Transformed::no(node)),
    });
    inlined.map(|transformed| transformed.data).unwrap_or(expression)
}

/// The P2 pushdown report of a view, given its P1 and P2.
pub fn verify_physical_pushdown(p1: &LogicalPlan, p2: &Arc<dyn ExecutionPlan>) -> PushdownReport {
    let mut conjuncts = BTreeSet::new();
    collect_filter_conjuncts(p2, &mut conjuncts);
    let props = ExecutionProps::new();
    let scans = scan_contracts(p1)
        .into_iter()
        .map(|contract| {
            let predicates = contract
                .predicates
                .into_iter()
                .map(|predicate| {
                    let p1_report = predicate.report;
                    let needs_residual = matches!(p1_report.placement, PredicatePlacement::AboveScan | PredicatePlacement::AtScanAndAbove);
                    if !needs_residual {
                        return p1_report;
                    }
                    let physical = match create_physical_expr(
                        &predicate.expression,
                        &contract.projected_schema,
                        &props,
                        &PhysicalPlanningContext::default(),
                    ) {
                        Ok(physical) => without_column_indices(&physical.to_string()),
                        Err(error) => {
                            return PushdownPredicateReport {
                                note: Some(format!("could not be planned physically for the check: {}", error.strip_backtrace())),
                                ..p1_report
                            };
                        }
                    };
                    if conjuncts.contains(&physical) {
                        return p1_report;
                    }
                    let exact_at_scan = p1_report.placement == PredicatePlacement::AtScanAndAbove
                        && p1_report.classification == crate::pushdown::report::PushdownClassification::Exact;
                    PushdownPredicateReport {
                        placement: if exact_at_scan { PredicatePlacement::AtScan } else { PredicatePlacement::Missing },
                        verdict: if exact_at_scan { PushdownVerdict::Honoured } else { PushdownVerdict::Violated },
                        note: Some(format!("no FilterExec of P2 applies `{physical}`")),
                        ..p1_report
                    }
                })
                .collect();
            ScanPushdownReport { relation: contract.relation, scan_index: contract.scan_index, predicates }
        })
        .collect();
    PushdownReport { plan: "p2".to_string(), scans }
}
