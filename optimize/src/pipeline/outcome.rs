//! What running a phase produced, and the diagnostics a rule failure becomes.

use std::time::{Duration, Instant};

use viewdag_ir::{Code, Diagnostic, IdempotenceCheck, OptimizerFailMode, Severity, SpecLocation};

use crate::pipeline::fingerprint::LogicalPlanFingerprint;
use crate::pipeline::guard::RuleFailure;
// Where embedders and the driver have always found it.
pub use crate::pipeline::fingerprint::PhaseReporting;
use crate::pipeline::settings::PhaseConfig;
use crate::pipeline::trace::{Convergence, IdempotenceVerdict, OptimizerPhase, PassOutcome, PassTraceEntry, PhaseTrace, pass_id};

/// A phase that ran to its end (rules may have been skipped under fail-open).
#[derive(Debug)]
pub struct PhaseSuccess<P> {
    pub plan: P,
    /// The output plan's normalized text and digest (rendered once, by the last rule that
    /// changed the plan or by the phase's input).
    pub output: LogicalPlanFingerprint,
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

/// One rule application, as every phase names it in its trace.
#[derive(Debug, Clone)]
pub struct RuleStep<'a> {
    pub phase: OptimizerPhase,
    pub pass_id: String,
    pub rule_key: &'a str,
    pub pass_number: usize,
    /// 1-based position of the rule in its rulepack.
    pub position: usize,
    pub fail_mode: OptimizerFailMode,
    pub elapsed: Duration,
}

impl<'a> RuleStep<'a> {
    /// The step of the rule at 0-based `index` of `config`'s rulepack, started at `started`.
    pub fn new(phase: OptimizerPhase, config: &PhaseConfig, pass_number: usize, index: usize, rule_key: &'a str, started: Instant) -> Self {
        RuleStep {
            phase,
            pass_id: pass_id(phase, pass_number, index + 1, rule_key),
            rule_key,
            pass_number,
            position: index + 1,
            fail_mode: config.fail_mode_of(rule_key),
            elapsed: started.elapsed(),
        }
    }
}

/// The error of a plan that breaks DataFusion's invariants before or after a phase's rules,
/// reported like a fail-closed rule named `invariants` at position `position`.
pub fn invariants_failure(
    reporting: &PhaseReporting<'_>,
    phase: OptimizerPhase,
    pass_number: usize,
    position: usize,
    message: &str,
) -> Diagnostic {
    let id = pass_id(phase, pass_number, position, "invariants");
    rule_failure(reporting, phase, &id, "invariants", OptimizerFailMode::Closed, message).1
}

/// Folds one rule's result into its phase, the same way in every phase: on success the plan
/// becomes the rewritten one (fingerprinted by `fingerprint_if_changed`, which returns `None`
/// when the rule left the plan as it was), on failure the input plan is kept and the rule's
/// fail mode decides; the trace entry is recorded when `entries` is given. Returns the
/// outcome: `Failed` means the phase stops.
#[allow(clippy::too_many_arguments, reason = "the phase's running state; grouping it would only rename the arguments")]
pub fn record_rule_result<P>(
    step: RuleStep<'_>,
    result: Result<P, RuleFailure>,
    plan: &mut P,
    current: &mut LogicalPlanFingerprint,
    fingerprint_if_changed: impl FnOnce(&P, &P) -> Option<LogicalPlanFingerprint>,
    entries: Option<&mut Vec<PassTraceEntry>>,
    diagnostics: &mut Vec<Diagnostic>,
    reporting: &PhaseReporting<'_>,
) -> PassOutcome {
    // `after` is `None` when the plan stayed as it was: the current fingerprint still holds
    // and is not copied (it carries the whole plan text).
    let (outcome, after, failure) = match result {
        Ok(rewritten) => {
            let after = fingerprint_if_changed(plan, &rewritten).filter(|after| after.digest != current.digest);
            *plan = rewritten;
            let outcome = if after.is_some() { PassOutcome::Changed } else { PassOutcome::Unchanged };
            (outcome, after, None)
        }
        Err(failure) => {
            let message = failure.to_string();
            let (outcome, diagnostic) = rule_failure(reporting, step.phase, &step.pass_id, step.rule_key, step.fail_mode, &message);
            diagnostics.push(diagnostic);
            (outcome, None, Some(message))
        }
    };
    if let Some(entries) = entries {
        entries.push(current.entry(
            after.as_ref().unwrap_or(current),
            step.pass_id,
            step.phase,
            step.rule_key,
            step.pass_number,
            step.position,
            outcome,
            failure,
            step.elapsed,
            reporting,
        ));
    }
    if let Some(after) = after {
        *current = after;
    }
    outcome
}

/// A phase's trace before any rule ran: its input digest (and text, when recorded).
pub fn input_trace(phase: OptimizerPhase, input: &LogicalPlanFingerprint, reporting: &PhaseReporting<'_>) -> PhaseTrace {
    let mut trace = PhaseTrace::new(phase, input.digest.clone());
    trace.input_text = reporting.record_plan_text.then(|| input.text.clone());
    trace
}

/// The rules of a phase applied once, as pass `pass_number`, recording trace entries when
/// given: the rewritten plan and its fingerprint, or `Err` when the phase must stop.
pub type ApplyPass<'f, P> = dyn Fn(P, LogicalPlanFingerprint, usize, Option<&mut Vec<PassTraceEntry>>, &mut Vec<Diagnostic>) -> Result<(P, LogicalPlanFingerprint), ()>
    + 'f;

/// Runs a single-pass phase (analyzer, physical): `apply` once as pass 1, then
/// [`finish_phase`], whose idempotence re-run is `apply` as pass 2 on the output.
pub fn run_single_pass_phase<P: Clone>(
    plan: P,
    input: LogicalPlanFingerprint,
    phase: OptimizerPhase,
    check: IdempotenceCheck,
    reporting: &PhaseReporting<'_>,
    apply: &ApplyPass<'_, P>,
) -> PhaseResult<P> {
    let mut trace = input_trace(phase, &input, reporting);
    let mut diagnostics = Vec::new();
    let (plan, current) = match apply(plan, input, 1, Some(&mut trace.entries), &mut diagnostics) {
        Ok(result) => result,
        Err(()) => {
            trace.convergence = Convergence::Stopped;
            return Err(PhaseFailure { trace: Box::new(trace), diagnostics });
        }
    };
    finish_phase(plan, trace, diagnostics, phase, check, current, reporting, |output, fingerprint| {
        apply(output.clone(), fingerprint.clone(), 2, None, &mut Vec::new()).map(|(_, fingerprint)| fingerprint)
    })
}

/// Ends a phase: records its output digest, runs the idempotence check when asked (`rerun`
/// applies the phase's rules once more to the output and returns the result's
/// fingerprint), and builds the phase's result.
#[allow(clippy::too_many_arguments, reason = "the phase's final state")]
pub fn finish_phase<P>(
    plan: P,
    mut trace: PhaseTrace,
    mut diagnostics: Vec<Diagnostic>,
    phase: OptimizerPhase,
    check: IdempotenceCheck,
    output: LogicalPlanFingerprint,
    reporting: &PhaseReporting<'_>,
    rerun: impl FnOnce(&P, &LogicalPlanFingerprint) -> Result<LogicalPlanFingerprint, ()>,
) -> PhaseResult<P> {
    trace.output_digest = output.digest.clone();
    if check != IdempotenceCheck::Off {
        let rerun_digest = rerun(&plan, &output).map(|fingerprint| fingerprint.digest).unwrap_or_else(|()| "failed".to_string());
        let (verdict, diagnostic) = idempotence_outcome(reporting, phase, check, &output.digest, &rerun_digest);
        trace.idempotence = verdict;
        if let Some(diagnostic) = diagnostic {
            let is_error = diagnostic.is_error();
            diagnostics.push(diagnostic);
            if is_error {
                return Err(PhaseFailure { trace: Box::new(trace), diagnostics });
            }
        }
    }
    Ok(PhaseSuccess { plan, output, trace, diagnostics })
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
