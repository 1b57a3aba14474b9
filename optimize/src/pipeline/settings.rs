//! The optimizer pipeline configuration: three phases (analyzer, logical, physical), each
//! an ordered rulepack of registry keys with fail modes and an idempotence check, plus the
//! logical `max_passes`.
//!
//! ## Invariants
//! - A configuration is plain data (rule *names*, never rule objects), so it compares and
//!   hashes by content and can be a salsa value.
//! - Presets are defined by filtering the registry's default order: `default` is
//!   DataFusion's own order, `minimal` keeps a fixed set of rules in that order, `none`
//!   keeps only what makes a plan executable and correct (the analyzer, the logical rules
//!   the physical planner or executor rely on — [`REQUIRED_LOGICAL_RULES`]: the rewrites of
//!   subqueries into joins, `replace_distinct_aggregate` and `simplify_expressions` — and
//!   the physical rules that pick join modes, enforce distribution and ordering, and check
//!   the result). A SQL view with `EXISTS`, `IN (SELECT …)`, a scalar subquery, `= ANY` or
//!   `LATERAL` therefore plans under every preset (the physical planner has no operator
//!   for a subquery expression).
//! - Resolving a profile never panics: an unknown preset or rule is a diagnostic.

use std::collections::BTreeMap;

use viewdag_ir::{Code, Diagnostic, IdempotenceCheck, InlineOptimizerConfig, OptimizerFailMode, OptimizerProfile, Section, SpecLocation};

use crate::pipeline::registry::{OptimizerRuleRegistry, base_rule_name};
use crate::pipeline::trace::OptimizerPhase;
use viewdag_ir::suggestion::closest_within;

/// DataFusion's default for `datafusion.optimizer.max_passes`.
pub const DEFAULT_MAX_PASSES: usize = 3;

/// The preset names, in the order they are documented.
pub const PRESET_NAMES: [&str; 3] = ["default", "minimal", "none"];

/// Logical rules kept by the `minimal` preset.
const MINIMAL_LOGICAL_RULES: [&str; 4] = ["simplify_expressions", "push_down_filter", "push_down_limit", "optimize_projections"];

/// Logical rules without which the physical planner rejects some plans (kept by every preset).
/// `simplify_expressions` rewrites `coalesce` to `CASE` (the physical `coalesce` refuses to
/// run); the four subquery rules turn `= ANY`/`> ALL` into `EXISTS`, `EXISTS`/`IN` into semi
/// and anti joins, scalar subqueries and `LATERAL` into joins (the physical planner refuses
/// a subquery expression: "Physical plan does not support logical expression Exists").
const REQUIRED_LOGICAL_RULES: [&str; 6] = [
    "rewrite_set_comparison",
    "simplify_expressions",
    "replace_distinct_aggregate",
    "decorrelate_predicate_subquery",
    "scalar_subquery_to_join",
    "decorrelate_lateral_join",
];

/// Physical rules needed for a correct, executable plan (kept by every preset):
/// `join_selection` resolves `PartitionMode::Auto`, which a hash join cannot execute.
const REQUIRED_PHYSICAL_RULES: [&str; 4] = ["OutputRequirements", "join_selection", "EnsureRequirements", "SanityCheckPlan"];

/// Physical rules the `minimal` preset adds to the required ones.
const MINIMAL_PHYSICAL_RULES: [&str; 3] = ["FilterPushdown", "ProjectionPushdown", "LimitPushdown"];

/// One phase: which rules run, in which order, and what a failure does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhaseConfig {
    /// Registry keys in run order (physical keys of repeated names carry `#2`, `#3`, …).
    pub rules: Vec<String>,
    /// The fail mode of every rule without an entry in `rule_fail_modes`.
    pub fail_mode: OptimizerFailMode,
    /// Per-rule fail modes, by registry key (or by rule name for repeated physical rules).
    pub rule_fail_modes: BTreeMap<String, OptimizerFailMode>,
    /// Re-run the phase on its output and check that nothing changes.
    pub idempotence: IdempotenceCheck,
}

impl PhaseConfig {
    pub fn new(rules: Vec<String>) -> Self {
        PhaseConfig { rules, fail_mode: OptimizerFailMode::Closed, rule_fail_modes: BTreeMap::new(), idempotence: IdempotenceCheck::Off }
    }

    /// The fail mode of the rule with this registry key.
    pub fn fail_mode_of(&self, rule_key: &str) -> OptimizerFailMode {
        if let Some(mode) = self.rule_fail_modes.get(rule_key) {
            return *mode;
        }
        let base_name = rule_key.split('#').next().unwrap_or(rule_key);
        self.rule_fail_modes.get(base_name).copied().unwrap_or(self.fail_mode)
    }
}

/// The whole pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OptimizerPipelineConfig {
    /// The preset this configuration came from (or `inline`), for reports.
    pub label: String,
    pub analyzer: PhaseConfig,
    pub logical: PhaseConfig,
    pub physical: PhaseConfig,
    /// The most logical passes (each runs every logical rule once).
    pub max_passes: usize,
}

impl OptimizerPipelineConfig {
    pub fn phase(&self, phase: OptimizerPhase) -> &PhaseConfig {
        match phase {
            OptimizerPhase::Analyzer => &self.analyzer,
            OptimizerPhase::Logical => &self.logical,
            OptimizerPhase::Physical => &self.physical,
        }
    }

    pub fn phase_mut(&mut self, phase: OptimizerPhase) -> &mut PhaseConfig {
        match phase {
            OptimizerPhase::Analyzer => &mut self.analyzer,
            OptimizerPhase::Logical => &mut self.logical,
            OptimizerPhase::Physical => &mut self.physical,
        }
    }

    /// Sets one fail mode for every phase (per-rule modes stay).
    pub fn with_fail_mode(mut self, mode: OptimizerFailMode) -> Self {
        for phase in OptimizerPhase::ALL {
            self.phase_mut(phase).fail_mode = mode;
        }
        self
    }

    /// Sets the idempotence check of every phase.
    pub fn with_idempotence(mut self, check: IdempotenceCheck) -> Self {
        for phase in OptimizerPhase::ALL {
            self.phase_mut(phase).idempotence = check;
        }
        self
    }

    /// Sets the fail mode of one rule in one phase.
    pub fn with_rule_fail_mode(mut self, phase: OptimizerPhase, rule_key: &str, mode: OptimizerFailMode) -> Self {
        self.phase_mut(phase).rule_fail_modes.insert(rule_key.to_string(), mode);
        self
    }

    /// A preset over a registry: `default`, `minimal` or `none`.
    pub fn preset(name: &str, registry: &OptimizerRuleRegistry) -> Option<OptimizerPipelineConfig> {
        let keep = |phase: OptimizerPhase, predicate: &dyn Fn(&str) -> bool| -> Vec<String> {
            registry.default_order(phase).iter().filter(|key| predicate(base_rule_name(key))).cloned().collect()
        };
        let (logical, physical) = match name {
            "default" => {
                (registry.default_order(OptimizerPhase::Logical).to_vec(), registry.default_order(OptimizerPhase::Physical).to_vec())
            }
            "minimal" => (
                keep(OptimizerPhase::Logical, &|name| REQUIRED_LOGICAL_RULES.contains(&name) || MINIMAL_LOGICAL_RULES.contains(&name)),
                keep(OptimizerPhase::Physical, &|name| REQUIRED_PHYSICAL_RULES.contains(&name) || MINIMAL_PHYSICAL_RULES.contains(&name)),
            ),
            "none" => (
                keep(OptimizerPhase::Logical, &|name| REQUIRED_LOGICAL_RULES.contains(&name)),
                keep(OptimizerPhase::Physical, &|name| REQUIRED_PHYSICAL_RULES.contains(&name)),
            ),
            _ => return None,
        };
        Some(OptimizerPipelineConfig {
            label: name.to_string(),
            analyzer: PhaseConfig::new(registry.default_order(OptimizerPhase::Analyzer).to_vec()),
            logical: PhaseConfig::new(logical),
            physical: PhaseConfig::new(physical),
            max_passes: DEFAULT_MAX_PASSES,
        })
    }

    /// Resolves the spec's `profile.optimizer` (absent means `default`) against a registry.
    pub fn from_profile(
        profile: Option<&OptimizerProfile>,
        registry: &OptimizerRuleRegistry,
    ) -> Result<OptimizerPipelineConfig, Vec<Diagnostic>> {
        match profile {
            None => Ok(OptimizerPipelineConfig::preset("default", registry).expect("the default preset exists")),
            Some(OptimizerProfile::Preset(name)) => {
                OptimizerPipelineConfig::preset(name, registry).ok_or_else(|| vec![unknown_preset(name, vec!["optimizer".to_string()])])
            }
            Some(OptimizerProfile::Inline(inline)) => from_inline(inline, registry),
        }
    }

    /// Every problem with this configuration against a registry: unknown rule keys.
    pub fn check_against(&self, registry: &OptimizerRuleRegistry) -> Vec<Diagnostic> {
        let mut diagnostics = Vec::new();
        for phase in OptimizerPhase::ALL {
            for key in &self.phase(phase).rules {
                if !registry.contains(phase, key) {
                    diagnostics.push(unknown_rule(phase, key, registry, vec!["optimizer".to_string(), phase.as_str().to_string()]));
                }
            }
        }
        diagnostics
    }
}

fn profile_location(field: Vec<String>) -> SpecLocation {
    SpecLocation { section: Section::Profile, ..SpecLocation::root() }.with_field(field)
}

fn unknown_preset(name: &str, field: Vec<String>) -> Diagnostic {
    let mut diagnostic = Diagnostic::new(Code::UnknownRulepack, profile_location(field), format!("unknown optimizer preset `{name}`"))
        .with_note(format!("the presets are {}", PRESET_NAMES.map(|preset| format!("`{preset}`")).join(", ")));
    if let Some(closest) = closest_within(name, PRESET_NAMES, 2) {
        diagnostic = diagnostic.with_suggestion(format!("did you mean `{closest}`?"));
    }
    diagnostic
}

fn unknown_rule(phase: OptimizerPhase, key: &str, registry: &OptimizerRuleRegistry, field: Vec<String>) -> Diagnostic {
    let known = registry.keys(phase);
    let mut diagnostic = Diagnostic::new(
        Code::UnknownOptimizerRule,
        profile_location(field),
        format!("the {} phase names rule `{key}`, which no registry holds", phase.as_str()),
    )
    .with_note(format!("known {} rules: {}", phase.as_str(), known.join(", ")));
    if let Some(closest) = closest_within(key, known.iter().map(String::as_str), 3) {
        diagnostic = diagnostic.with_suggestion(format!("did you mean `{closest}`?"));
    }
    diagnostic
}

fn from_inline(inline: &InlineOptimizerConfig, registry: &OptimizerRuleRegistry) -> Result<OptimizerPipelineConfig, Vec<Diagnostic>> {
    let InlineOptimizerConfig { base, analyzer, logical, physical, max_passes, fail_mode, rule_fail_modes, idempotence } = inline;
    let base_name = base.as_deref().unwrap_or("default");
    let mut config = OptimizerPipelineConfig::preset(base_name, registry)
        .ok_or_else(|| vec![unknown_preset(base_name, vec!["optimizer".to_string(), "base".to_string()])])?;
    config.label = format!("inline({base_name})");
    let mut diagnostics = Vec::new();
    for (phase, rules) in [(OptimizerPhase::Analyzer, analyzer), (OptimizerPhase::Logical, logical), (OptimizerPhase::Physical, physical)] {
        let Some(rules) = rules else { continue };
        for key in rules {
            if !registry.contains(phase, key) {
                diagnostics.push(unknown_rule(phase, key, registry, vec!["optimizer".to_string(), phase.as_str().to_string()]));
            }
        }
        config.phase_mut(phase).rules = rules.clone();
    }
    if let Some(max_passes) = max_passes {
        // Out of range is `V0008` (reported when the spec is read); plan with the nearest.
        config.max_passes = viewdag_ir::number_bounds::MAX_PASSES.clamp_usize(*max_passes);
    }
    if let Some(mode) = fail_mode {
        config = config.with_fail_mode(*mode);
    }
    if let Some(check) = idempotence {
        config = config.with_idempotence(*check);
    }
    for (key, mode) in rule_fail_modes.iter().flatten() {
        let (phases, rule): (Vec<OptimizerPhase>, &str) = match key.split_once('/') {
            Some((phase, rule)) => match OptimizerPhase::parse(phase) {
                Some(phase) => (vec![phase], rule),
                None => {
                    diagnostics.push(Diagnostic::new(
                        Code::InvalidValue,
                        profile_location(vec!["optimizer".to_string(), "rule_fail_modes".to_string(), key.clone()]),
                        format!("`{phase}` is not an optimizer phase (expected analyzer, logical or physical)"),
                    ));
                    continue;
                }
            },
            None => (
                OptimizerPhase::ALL
                    .iter()
                    .copied()
                    .filter(|phase| registry.contains(*phase, key) || registry.has_base_name(*phase, key))
                    .collect(),
                key.as_str(),
            ),
        };
        if phases.is_empty() {
            diagnostics.push(unknown_rule(
                OptimizerPhase::Logical,
                key,
                registry,
                vec!["optimizer".to_string(), "rule_fail_modes".to_string()],
            ));
        }
        for phase in phases {
            config.phase_mut(phase).rule_fail_modes.insert(rule.to_string(), *mode);
        }
    }
    if diagnostics.is_empty() { Ok(config) } else { Err(diagnostics) }
}
