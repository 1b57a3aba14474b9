//! The optimizer trace: one entry per rule application, per phase, with digests.
//!
//! ## Invariants
//! - Pass ids are deterministic: `<phase>/p<pass>/<index>-<rule key>`, the index being
//!   the rule's 1-based position in its phase's rulepack (two digits), so repeated
//!   physical rule names stay distinct.
//! - Elapsed times are measured but never part of [`OptimizerTrace::digest`] nor of
//!   equality: two compiles of the same spec give equal traces.
//! - Digests are BLAKE3 over normalized plan text.

use std::time::Duration;

use serde::Serialize;

/// The three optimizer phases, in run order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerPhase {
    Analyzer,
    Logical,
    Physical,
}

impl OptimizerPhase {
    pub const ALL: [OptimizerPhase; 3] = [OptimizerPhase::Analyzer, OptimizerPhase::Logical, OptimizerPhase::Physical];

    pub fn as_str(self) -> &'static str {
        match self {
            OptimizerPhase::Analyzer => "analyzer",
            OptimizerPhase::Logical => "logical",
            OptimizerPhase::Physical => "physical",
        }
    }

    pub fn parse(text: &str) -> Option<OptimizerPhase> {
        OptimizerPhase::ALL.into_iter().find(|phase| phase.as_str() == text)
    }
}

/// What one rule application did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PassOutcome {
    Changed,
    Unchanged,
    /// The rule failed under fail-open: its input plan was kept.
    FailedSkipped,
    /// The rule failed under fail-closed: the view fails.
    Failed,
}

impl PassOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            PassOutcome::Changed => "changed",
            PassOutcome::Unchanged => "unchanged",
            PassOutcome::FailedSkipped => "failed-skipped",
            PassOutcome::Failed => "failed",
        }
    }
}

/// One rule applied once.
#[derive(Debug, Clone, Serialize)]
pub struct PassTraceEntry {
    pub pass_id: String,
    pub phase: OptimizerPhase,
    /// The rule's registry key (`push_down_filter`, `ProjectionPushdown#2`).
    pub rule: String,
    /// 1-based pass number (always 1 outside the logical phase; the idempotence re-run is
    /// the pass after the last).
    pub pass_number: usize,
    /// 1-based position of the rule in its phase's rulepack.
    pub rule_index: usize,
    pub before_digest: String,
    pub after_digest: String,
    pub changed: bool,
    pub outcome: PassOutcome,
    /// Why the rule failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Wall-clock time of the rule; never digested, never compared.
    #[serde(serialize_with = "serialize_micros", rename = "elapsed_us")]
    pub elapsed: Duration,
    /// The normalized plan after the rule, when plan text was requested and it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_text_after: Option<String>,
}

fn serialize_micros<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(u64::try_from(duration.as_micros()).unwrap_or(u64::MAX))
}

impl PassTraceEntry {
    /// The deterministic part of the entry, one line.
    fn canonical(&self) -> String {
        format!(
            "{} {} {} {} {} {} {}",
            self.pass_id,
            self.before_digest,
            self.after_digest,
            self.changed,
            self.outcome.as_str(),
            self.failure.as_deref().unwrap_or("-"),
            self.plan_text_after.as_deref().map(|text| blake3::hash(text.as_bytes()).to_hex().to_string()).unwrap_or_default()
        )
    }
}

/// How a phase stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Convergence {
    /// The plan digest after pass `pass` had been seen before.
    FixedPoint { pass: usize },
    /// `max_passes` passes ran and the plan was still changing.
    MaxPasses { passes: usize },
    /// The phase runs its rules once (analyzer, physical).
    SinglePass,
    /// A rule failed under fail-closed.
    Stopped,
}

/// The result of re-running a phase on its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdempotenceVerdict {
    NotChecked,
    Idempotent,
    NotIdempotent,
}

/// One phase of the pipeline.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseTrace {
    pub phase: OptimizerPhase,
    pub input_digest: String,
    pub output_digest: String,
    pub convergence: Convergence,
    pub idempotence: IdempotenceVerdict,
    pub entries: Vec<PassTraceEntry>,
    /// The normalized plan text the phase started from, when plan text was requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_text: Option<String>,
}

impl PhaseTrace {
    pub fn new(phase: OptimizerPhase, input_digest: String) -> Self {
        PhaseTrace {
            phase,
            output_digest: input_digest.clone(),
            input_digest,
            convergence: Convergence::SinglePass,
            idempotence: IdempotenceVerdict::NotChecked,
            entries: Vec::new(),
            input_text: None,
        }
    }

    fn canonical(&self) -> String {
        let mut text = format!(
            "phase {} {} -> {} {:?} {:?}\n",
            self.phase.as_str(),
            self.input_digest,
            self.output_digest,
            self.convergence,
            self.idempotence
        );
        for entry in &self.entries {
            text.push_str(&entry.canonical());
            text.push('\n');
        }
        text
    }
}

/// The trace of a whole view: the phases run so far (P1 carries analyzer and logical,
/// P2 adds physical).
#[derive(Debug, Clone, Serialize, Default)]
pub struct OptimizerTrace {
    /// The pipeline configuration's label (`default`, `inline(minimal)`, …).
    pub pipeline: String,
    pub phases: Vec<PhaseTrace>,
    /// BLAKE3 over every deterministic field of every phase.
    pub digest: String,
}

impl OptimizerTrace {
    pub fn new(pipeline: &str, phases: Vec<PhaseTrace>) -> Self {
        let mut hasher = blake3::Hasher::new();
        hasher.update(pipeline.as_bytes());
        for phase in &phases {
            hasher.update(b"\n");
            hasher.update(phase.canonical().as_bytes());
        }
        OptimizerTrace { pipeline: pipeline.to_string(), phases, digest: hasher.finalize().to_hex().to_string() }
    }

    pub fn entries(&self) -> impl Iterator<Item = &PassTraceEntry> {
        self.phases.iter().flat_map(|phase| phase.entries.iter())
    }

    /// The keys of the rules that changed the plan, in first-change order, without repeats.
    pub fn changing_rules(&self) -> Vec<String> {
        let mut rules: Vec<String> = Vec::new();
        for entry in self.entries().filter(|entry| entry.changed) {
            let qualified = format!("{}/{}", entry.phase.as_str(), entry.rule);
            if !rules.contains(&qualified) {
                rules.push(qualified);
            }
        }
        rules
    }

    pub fn phase(&self, phase: OptimizerPhase) -> Option<&PhaseTrace> {
        self.phases.iter().find(|trace| trace.phase == phase)
    }
}

impl PartialEq for OptimizerTrace {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest
    }
}
impl Eq for OptimizerTrace {}

/// The deterministic pass id of a rule application.
pub fn pass_id(phase: OptimizerPhase, pass_number: usize, rule_index: usize, rule_key: &str) -> String {
    format!("{}/p{pass_number}/{rule_index:02}-{rule_key}", phase.as_str())
}
