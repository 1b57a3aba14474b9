//! How a phase reports a plan: the reporting settings (view name, spec root, whether to keep
//! plan text) and a plan's fingerprint (its normalized text and digest) with the trace entry
//! a rule's step from one fingerprint to another becomes.
//!
//! A leaf of the pipeline: every phase and the outcome bookkeeping read it; it reads none of
//! them. Invariant: a fingerprint's digest is the digest of its normalized text, so two plans
//! with the same digest render the same `$ROOT`-relative text.

use std::time::Duration;

use datafusion::logical_expr::LogicalPlan;

use crate::digests::{logical_text, text_digest};
use crate::pipeline::trace::{OptimizerPhase, PassOutcome, PassTraceEntry};

/// Names and settings every phase needs to report.
#[derive(Debug, Clone, Copy)]
pub struct PhaseReporting<'a> {
    /// The view being optimized (diagnostics point at it).
    pub view_name: &'a str,
    /// The spec root, replaced by `$ROOT` in plan text.
    pub root: &'a str,
    /// Keep the normalized plan text after every changing rule.
    pub record_plan_text: bool,
}

/// A plan's normalized text and its digest.
#[derive(Debug, Clone)]
pub struct LogicalPlanFingerprint {
    pub text: String,
    pub digest: String,
}

impl LogicalPlanFingerprint {
    pub fn of(plan: &LogicalPlan, reporting: &PhaseReporting<'_>) -> Self {
        let text = logical_text(plan, reporting.root);
        let digest = text_digest(&text);
        LogicalPlanFingerprint { text, digest }
    }

    /// The trace entry of a rule that went from `self` to `after`.
    #[allow(clippy::too_many_arguments, reason = "every field of a trace entry")]
    pub fn entry(
        &self,
        after: &LogicalPlanFingerprint,
        pass_id: String,
        phase: OptimizerPhase,
        rule: &str,
        pass_number: usize,
        rule_index: usize,
        outcome: PassOutcome,
        failure: Option<String>,
        elapsed: Duration,
        reporting: &PhaseReporting<'_>,
    ) -> PassTraceEntry {
        let changed = outcome == PassOutcome::Changed;
        PassTraceEntry {
            pass_id,
            phase,
            rule: rule.to_string(),
            pass_number,
            rule_index,
            before_digest: self.digest.clone(),
            after_digest: after.digest.clone(),
            changed,
            outcome,
            failure,
            elapsed,
            plan_text_after: (reporting.record_plan_text && changed).then(|| after.text.clone()),
        }
    }
}
