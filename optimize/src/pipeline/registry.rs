//! The registry of named optimizer rules: DataFusion 55's defaults, taken from the
//! planning session, plus any rule an embedder (or a test) registers.
//!
//! ## Invariants
//! - Keys are unique per phase. A rule name that repeats in a phase's default list (the
//!   physical `OutputRequirements`, `ProjectionPushdown`, `FilterPushdown`) gets `#2`,
//!   `#3`, … on its later occurrences, so every default instance stays addressable.
//! - The default order of each phase is exactly DataFusion's order in the session.
//! - The analyzer's function rewrites (if the session has any) are one rule,
//!   `apply_function_rewrites`, first in the analyzer's default order, as DataFusion runs it.
//! - Equality compares keys and rule identities (the `Arc` address), so replacing a rule
//!   under the same name invalidates what was optimized with the old one. Addresses never
//!   reach a digest.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::execution::session_state::SessionState;
use datafusion::optimizer::OptimizerRule;
use datafusion::optimizer::analyzer::AnalyzerRule;
use datafusion::optimizer::analyzer::function_rewrite::ApplyFunctionRewrites;
use datafusion::physical_optimizer::PhysicalOptimizerRule;

use crate::pipeline::trace::OptimizerPhase;

pub type SharedAnalyzerRule = Arc<dyn AnalyzerRule + Send + Sync>;
pub type SharedLogicalRule = Arc<dyn OptimizerRule + Send + Sync>;
pub type SharedPhysicalRule = Arc<dyn PhysicalOptimizerRule + Send + Sync>;

/// One rule of any phase.
#[derive(Clone, Debug)]
pub enum RegisteredRule {
    Analyzer(SharedAnalyzerRule),
    Logical(SharedLogicalRule),
    Physical(SharedPhysicalRule),
}

impl RegisteredRule {
    pub fn phase(&self) -> OptimizerPhase {
        match self {
            RegisteredRule::Analyzer(_) => OptimizerPhase::Analyzer,
            RegisteredRule::Logical(_) => OptimizerPhase::Logical,
            RegisteredRule::Physical(_) => OptimizerPhase::Physical,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            RegisteredRule::Analyzer(rule) => rule.name(),
            RegisteredRule::Logical(rule) => rule.name(),
            RegisteredRule::Physical(rule) => rule.name(),
        }
    }

    fn address(&self) -> usize {
        match self {
            RegisteredRule::Analyzer(rule) => Arc::as_ptr(rule).cast::<()>() as usize,
            RegisteredRule::Logical(rule) => Arc::as_ptr(rule).cast::<()>() as usize,
            RegisteredRule::Physical(rule) => Arc::as_ptr(rule).cast::<()>() as usize,
        }
    }
}

/// Rules an embedder adds on top of DataFusion's defaults (registered under their names;
/// a name equal to a default rule's replaces it).
#[derive(Clone, Debug, Default)]
pub struct OptimizerRuleExtensions {
    rules: Vec<RegisteredRule>,
}

impl OptimizerRuleExtensions {
    pub fn new() -> Self {
        OptimizerRuleExtensions::default()
    }
    pub fn with_analyzer_rule(mut self, rule: SharedAnalyzerRule) -> Self {
        self.rules.push(RegisteredRule::Analyzer(rule));
        self
    }
    pub fn with_logical_rule(mut self, rule: SharedLogicalRule) -> Self {
        self.rules.push(RegisteredRule::Logical(rule));
        self
    }
    pub fn with_physical_rule(mut self, rule: SharedPhysicalRule) -> Self {
        self.rules.push(RegisteredRule::Physical(rule));
        self
    }
    pub fn rules(&self) -> &[RegisteredRule] {
        &self.rules
    }
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

impl PartialEq for OptimizerRuleExtensions {
    fn eq(&self, other: &Self) -> bool {
        self.rules.len() == other.rules.len()
            && self
                .rules
                .iter()
                .zip(&other.rules)
                .all(|(a, b)| a.phase() == b.phase() && a.name() == b.name() && a.address() == b.address())
    }
}
impl Eq for OptimizerRuleExtensions {}

/// Every rule the pipeline can name, per phase, with each phase's default order.
#[derive(Clone, Debug, Default)]
pub struct OptimizerRuleRegistry {
    rules: BTreeMap<(OptimizerPhase, String), RegisteredRule>,
    default_orders: BTreeMap<OptimizerPhase, Vec<String>>,
}

impl PartialEq for OptimizerRuleRegistry {
    fn eq(&self, other: &Self) -> bool {
        self.default_orders == other.default_orders
            && self.rules.len() == other.rules.len()
            && self.rules.iter().zip(&other.rules).all(|((key_a, a), (key_b, b))| key_a == key_b && a.address() == b.address())
    }
}
impl Eq for OptimizerRuleRegistry {}

impl OptimizerRuleRegistry {
    /// DataFusion's default rules of a session, in the session's order.
    pub fn from_session_state(state: &SessionState) -> Self {
        let mut registry = OptimizerRuleRegistry::default();
        let analyzer = state.analyzer();
        if !analyzer.function_rewrites.is_empty() {
            let rewrites: SharedAnalyzerRule = Arc::new(ApplyFunctionRewrites::new(analyzer.function_rewrites.clone()));
            registry.push_default(RegisteredRule::Analyzer(rewrites));
        }
        for rule in &analyzer.rules {
            registry.push_default(RegisteredRule::Analyzer(Arc::clone(rule)));
        }
        for rule in state.optimizers() {
            registry.push_default(RegisteredRule::Logical(Arc::clone(rule)));
        }
        for rule in state.physical_optimizers() {
            registry.push_default(RegisteredRule::Physical(Arc::clone(rule)));
        }
        registry
    }

    /// The session's defaults plus an embedder's extensions.
    pub fn with_extensions(mut self, extensions: &OptimizerRuleExtensions) -> Self {
        for rule in extensions.rules() {
            self.register(rule.clone());
        }
        self
    }

    fn push_default(&mut self, rule: RegisteredRule) {
        let phase = rule.phase();
        let order = self.default_orders.entry(phase).or_default();
        let occurrences = order.iter().filter(|key| base_rule_name(key) == rule.name()).count();
        let key = if occurrences == 0 { rule.name().to_string() } else { format!("{}#{}", rule.name(), occurrences + 1) };
        order.push(key.clone());
        self.rules.insert((phase, key), rule);
    }

    /// Registers (or replaces) a rule under its own name. It is not in any preset: name it
    /// in a pipeline configuration to run it.
    pub fn register(&mut self, rule: RegisteredRule) {
        self.rules.insert((rule.phase(), rule.name().to_string()), rule);
    }

    pub fn contains(&self, phase: OptimizerPhase, key: &str) -> bool {
        self.rules.contains_key(&(phase, key.to_string()))
    }

    pub fn has_base_name(&self, phase: OptimizerPhase, name: &str) -> bool {
        self.keys(phase).iter().any(|key| base_rule_name(key) == name)
    }

    pub fn get(&self, phase: OptimizerPhase, key: &str) -> Option<&RegisteredRule> {
        self.rules.get(&(phase, key.to_string()))
    }

    /// DataFusion's order of a phase's default rules.
    pub fn default_order(&self, phase: OptimizerPhase) -> &[String] {
        self.default_orders.get(&phase).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every key of a phase, sorted.
    pub fn keys(&self, phase: OptimizerPhase) -> Vec<String> {
        self.rules.keys().filter(|(rule_phase, _)| *rule_phase == phase).map(|(_, key)| key.clone()).collect()
    }
}

/// A registry key without its `#n` repeat suffix.
pub fn base_rule_name(key: &str) -> &str {
    key.split('#').next().unwrap_or(key)
}
