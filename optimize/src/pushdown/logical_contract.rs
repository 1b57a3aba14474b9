//! Classifying and placing every scan predicate of P1.

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchemaRef};
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{Expr, LogicalPlan, Projection, TableProviderFilterPushDown, TableScan};

use crate::pushdown::implication::implied_by;
use crate::pushdown::predicate_key::predicate_key;
use crate::pushdown::report::{
    PredicatePlacement, PushdownClassification, PushdownPredicateReport, PushdownReport, PushdownVerdict, ScanPushdownReport,
};

/// One predicate of one scan, with the expression used to find it again in P2.
#[derive(Debug, Clone)]
pub struct ScanPredicate {
    pub expression: Expr,
    pub report: PushdownPredicateReport,
}

/// One scan of P1 and its predicates.
#[derive(Debug, Clone)]
pub struct ScanContract {
    pub relation: String,
    pub scan_index: usize,
    /// The scan's output schema (what a residual filter above it reads).
    pub projected_schema: DFSchemaRef,
    /// The scan itself, to scan the relation again (see `exact_audit`).
    pub scan: TableScan,
    pub predicates: Vec<ScanPredicate>,
}

/// The contracts of every scan of a plan, in depth-first order.
pub fn scan_contracts(plan: &LogicalPlan) -> Vec<ScanContract> {
    let mut contracts = Vec::new();
    visit(plan, Vec::new(), &mut contracts);
    contracts
}

/// The P1 pushdown report.
pub fn verify_logical_pushdown(plan: &LogicalPlan) -> PushdownReport {
    let scans = scan_contracts(plan)
        .into_iter()
        .map(|contract| ScanPushdownReport {
            relation: contract.relation,
            scan_index: contract.scan_index,
            predicates: contract.predicates.into_iter().map(|predicate| predicate.report).collect(),
        })
        .collect();
    PushdownReport { plan: "p1".to_string(), scans }
}

/// `residual_above`: conjuncts of the filters between this node and the nearest ancestor
/// that is not a filter, an alias or a projection (through which they are rewritten over
/// its input), expressed over this node's output.
fn visit(plan: &LogicalPlan, residual_above: Vec<Expr>, contracts: &mut Vec<ScanContract>) {
    match plan {
        LogicalPlan::TableScan(scan) => {
            let contract = scan_contract(scan, &residual_above, contracts.len() + 1);
            contracts.push(contract);
        }
        LogicalPlan::Filter(filter) => {
            let mut residual = residual_above;
            residual.extend(split_conjunction(&filter.predicate).into_iter().cloned());
            visit(&filter.input, residual, contracts);
        }
        LogicalPlan::SubqueryAlias(alias) => visit(&alias.input, residual_above, contracts),
        LogicalPlan::Projection(projection) if projection.expr.iter().all(is_column_keeping_its_name) => {
            visit(&projection.input, residual_above, contracts);
        }
        // A projection that names expressions (DataFusion's common-subexpression rule puts
        // `v * 1.09 AS __common_expr_1` below a filter on `__common_expr_1`): the filters
        // above read its outputs, so they are followed down with each output replaced by the
        // expression it names.
        LogicalPlan::Projection(projection) if !residual_above.is_empty() && projection.expr.iter().all(is_named) => {
            let residual = residual_above.into_iter().map(|expression| inline_projection(expression, projection)).collect();
            visit(&projection.input, residual, contracts);
        }
        other => {
            for input in other.inputs() {
                visit(input, Vec::new(), contracts);
            }
        }
    }
}

/// A column or an aliased expression: an output the projection names.
fn is_named(expression: &Expr) -> bool {
    matches!(expression, Expr::Column(_) | Expr::Alias(_))
}

/// `expression` (over `projection`'s output) with every output column replaced by the
/// expression the projection computes it with (over the projection's input).
fn inline_projection(expression: Expr, projection: &Projection) -> Expr {
    let outputs: Vec<(Column, Expr)> =
        projection.schema.columns().into_iter().zip(projection.expr.iter().map(|output| output.clone().unalias())).collect();
    let inlined = expression.clone().transform(|node| {
        let Expr::Column(column) = &node else { return Ok(Transformed::no(node)) };
        let found = outputs.iter().find(|(output, _)| output == column).or_else(|| {
            // An unqualified reference names the output of that name, if only one has it.
            let mut by_name = outputs.iter().filter(|(output, _)| column.relation.is_none() && output.name == column.name);
            by_name.next().filter(|_| by_name.next().is_none())
        });
        match found {
            Some((_, computed)) => Ok(Transformed::yes(computed.clone())),
            None => Ok(Transformed::no(node)),
        }
    });
    inlined.map(|transformed| transformed.data).unwrap_or(expression)
}

fn is_column_keeping_its_name(expression: &Expr) -> bool {
    match expression {
        Expr::Column(_) => true,
        Expr::Alias(alias) => matches!(alias.expr.as_ref(), Expr::Column(column) if column.name == alias.name),
        _ => false,
    }
}

fn classify(scan: &TableScan, expression: &Expr) -> (PushdownClassification, Option<String>) {
    match scan.source.supports_filters_pushdown(&[expression]) {
        Ok(answers) => match answers.first() {
            Some(TableProviderFilterPushDown::Exact) => (PushdownClassification::Exact, None),
            Some(TableProviderFilterPushDown::Inexact) => (PushdownClassification::Inexact, None),
            Some(TableProviderFilterPushDown::Unsupported) => (PushdownClassification::Unsupported, None),
            None => (PushdownClassification::Unsupported, Some("the provider gave no answer; assumed unsupported".to_string())),
        },
        Err(error) => (
            PushdownClassification::Unsupported,
            Some(format!("the provider failed to answer ({}); assumed unsupported", error.strip_backtrace())),
        ),
    }
}

fn scan_contract(scan: &TableScan, residual_above: &[Expr], scan_index: usize) -> ScanContract {
    // (key, expression, at scan, above)
    let mut found: Vec<(String, Expr, bool, bool)> = Vec::new();
    let at_scan =
        scan.filters.iter().flat_map(|filter| split_conjunction(filter).into_iter().cloned()).map(|expression| (expression, true));
    let above = residual_above.iter().cloned().map(|expression| (expression, false));
    for (expression, is_at_scan) in at_scan.chain(above) {
        let key = predicate_key(&expression);
        match found.iter_mut().find(|(existing, ..)| *existing == key) {
            Some(entry) => {
                if is_at_scan {
                    entry.2 = true;
                } else {
                    entry.3 = true;
                    // Keep the residual's form: it is what P2 filters with.
                    entry.1 = expression;
                }
            }
            None => found.push((key, expression, is_at_scan, !is_at_scan)),
        }
    }
    let predicates = found
        .into_iter()
        .map(|(key, expression, is_at_scan, is_above)| {
            let (classification, mut note) = classify(scan, &expression);
            // Pushed, with no residual of its own, but applied by a tighter bound above: the
            // bound is what P2 must keep.
            let implied = (is_at_scan && !is_above).then(|| implied_by(&expression, residual_above)).flatten();
            let (expression, is_above) = match implied {
                Some(bound) => {
                    note = Some(format!("applied by the tighter `{}` above the scan", predicate_key(bound)));
                    (bound.clone(), true)
                }
                None => (expression, is_above),
            };
            let placement = match (is_at_scan, is_above) {
                (true, true) => PredicatePlacement::AtScanAndAbove,
                (true, false) => PredicatePlacement::AtScan,
                _ => PredicatePlacement::AboveScan,
            };
            let verdict = match (classification, placement) {
                (_, PredicatePlacement::AtScanAndAbove) => PushdownVerdict::Honoured,
                (PushdownClassification::Exact, PredicatePlacement::AtScan) => PushdownVerdict::Honoured,
                (_, PredicatePlacement::AtScan) => PushdownVerdict::Violated,
                (PushdownClassification::Unsupported, _) => PushdownVerdict::Honoured,
                _ => PushdownVerdict::KeptAbove,
            };
            ScanPredicate { expression, report: PushdownPredicateReport { predicate: key, classification, placement, verdict, note } }
        })
        .collect();
    ScanContract {
        relation: scan.table_name.to_string(),
        scan_index,
        projected_schema: scan.projected_schema.clone(),
        scan: scan.clone(),
        predicates,
    }
}
