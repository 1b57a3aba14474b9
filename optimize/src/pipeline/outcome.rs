//! What running a phase produced, and the diagnostics a rule failure becomes.

use viewdag_ir::{Code, Diagnostic, IdempotenceCheck, OptimizerFailMode, Severity, SpecLocation};

use crate::pipeline::trace::{IdempotenceVerdict, OptimizerPhase, PassOutcome, PhaseTrace};

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

/// A phase that ran to its end (rules may have been skipped under fail-open).
#[derive(Debug)]
pub struct PhaseSuccess<P> {
    pub plan: P,
    pub trace: PhaseTrace,
    /// Warnings: skipped rules, non-idempotence under `warn`.
    pub diagnostics: Vec<Diagnostic>,
}

/// A phase stopped by a rule failing under fail-closed (or by an idempotence failure).
#[derive(Debug)]
pub struct PhaseFailure {
    pub trace: Box<PhaseTrace>,
    /// The error naming the rule, after any warnings issued before it.
    pub diagnostics: Vec<Diagnostic>,
}

pub type PhaseResult<P> = Result<PhaseSuccess<P>, PhaseFailure>;

/// The outcome and diagnostic of a failed rule under its fail mode.
pub fn rule_failure(
    reporting: &PhaseReporting<'_>,
    phase: OptimizerPhase,
    pass_id: &str,
    rule_key: &str,
    mode: OptimizerFailMode,
    message: &str,
) -> (PassOutcome, Diagnostic) {
    let view = reporting.view_name;
    match mode {
        OptimizerFailMode::Closed => (
            PassOutcome::Failed,
            Diagnostic::new(
                Code::OptimizerRuleFailed,
                SpecLocation::view(view),
                format!("{} rule `{rule_key}` failed on view `{view}` (pass {pass_id}): {message}", phase.as_str()),
            )
            .with_note("the rule is fail-closed; make it fail-open in `profile.optimizer.rule_fail_modes` to skip it instead"),
        ),
        OptimizerFailMode::Open => (
            PassOutcome::FailedSkipped,
            Diagnostic::new(
                Code::OptimizerRuleSkipped,
                SpecLocation::view(view),
                format!("{} rule `{rule_key}` failed on view `{view}` and was skipped (pass {pass_id}): {message}", phase.as_str()),
            ),
        ),
    }
}

/// The verdict and optional diagnostic of an idempotence re-run.
pub fn idempotence_outcome(
    reporting: &PhaseReporting<'_>,
    phase: OptimizerPhase,
    check: IdempotenceCheck,
    output_digest: &str,
    rerun_digest: &str,
) -> (IdempotenceVerdict, Option<Diagnostic>) {
    if output_digest == rerun_digest {
        return (IdempotenceVerdict::Idempotent, None);
    }
    let view = reporting.view_name;
    let diagnostic = Diagnostic::new(
        Code::OptimizerNotIdempotent,
        SpecLocation::view(view),
        format!("running the {} phase again on view `{view}` changed its plan", phase.as_str()),
    )
    .with_note(format!("digest after the phase: {output_digest}; after running it again: {rerun_digest}"));
    let diagnostic = match check {
        IdempotenceCheck::Fail => diagnostic.with_severity(Severity::Error),
        IdempotenceCheck::Warn | IdempotenceCheck::Off => diagnostic,
    };
    (IdempotenceVerdict::NotIdempotent, Some(diagnostic))
}
