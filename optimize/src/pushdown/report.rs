//! The per-scan pushdown report and the diagnostics a policy makes of it.

use serde::Serialize;
use viewdag_ir::{Code, Diagnostic, PushdownPolicy, Severity, SpecLocation};

/// The provider's answer for one predicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PushdownClassification {
    Unsupported,
    Inexact,
    Exact,
}

impl PushdownClassification {
    pub fn as_str(self) -> &'static str {
        match self {
            PushdownClassification::Unsupported => "unsupported",
            PushdownClassification::Inexact => "inexact",
            PushdownClassification::Exact => "exact",
        }
    }
}

/// Where a predicate ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PredicatePlacement {
    AtScan,
    AboveScan,
    AtScanAndAbove,
    /// Only in P2 reports: the residual was not found in any `FilterExec`.
    Missing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PushdownVerdict {
    Honoured,
    /// Safe but not pushed: an Exact or Inexact predicate only filtered above the scan.
    KeptAbove,
    Violated,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PushdownPredicateReport {
    /// The predicate with unqualified column names.
    pub predicate: String,
    pub classification: PushdownClassification,
    pub placement: PredicatePlacement,
    pub verdict: PushdownVerdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ScanPushdownReport {
    /// The scanned relation (the source or materialized view name).
    pub relation: String,
    /// 1-based position among the plan's scans (depth-first).
    pub scan_index: usize,
    pub predicates: Vec<PushdownPredicateReport>,
}

/// Every scan of a plan, in plan order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Default)]
pub struct PushdownReport {
    /// `p1` or `p2`.
    pub plan: String,
    pub scans: Vec<ScanPushdownReport>,
}

impl PushdownReport {
    pub fn violations(&self) -> impl Iterator<Item = (&ScanPushdownReport, &PushdownPredicateReport)> {
        self.scans
            .iter()
            .flat_map(|scan| scan.predicates.iter().map(move |predicate| (scan, predicate)))
            .filter(|(_, predicate)| predicate.verdict == PushdownVerdict::Violated)
    }
}

/// The diagnostics `policy` makes of a report: none for `off`, warnings for `warn`, errors
/// for `strict`.
pub fn pushdown_diagnostics(report: &PushdownReport, policy: PushdownPolicy, view_name: &str) -> Vec<Diagnostic> {
    let severity = match policy {
        PushdownPolicy::Off => return Vec::new(),
        PushdownPolicy::Warn => Severity::Warning,
        PushdownPolicy::Strict => Severity::Error,
    };
    report
        .violations()
        .map(|(scan, predicate)| {
            Diagnostic::new(
                Code::PushdownViolation,
                SpecLocation::view(view_name),
                format!(
                    "in {} of view `{view_name}`, predicate `{}` on scan of `{}` is {} for its provider but no filter applies it above the scan",
                    report.plan.to_uppercase(),
                    predicate.predicate,
                    scan.relation,
                    predicate.classification.as_str()
                ),
            )
            .with_severity(severity)
            .with_note("rows the provider does not filter exactly would reach the result; an optimizer rule dropped the residual filter")
        })
        .collect()
}
