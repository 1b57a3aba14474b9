//! Recompile statistics: per tracked function, how many calls executed and how many
//! memoized values were reused, from salsa's events.
//!
//! A compile in which no input changed starts no new revision: salsa neither executes nor
//! re-validates anything, and every count is zero (`inputs_changed == 0` says why).

use std::collections::BTreeMap;

use crate::database::QueryLog;

/// How many queries of one tracked function executed and how many were reused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StageStats {
    /// Executed (their inputs changed).
    pub executed: usize,
    /// Reused without executing.
    pub reused: usize,
}

/// What one compile recomputed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecompileStats {
    /// Salsa inputs whose value was set in this compile.
    pub inputs_changed: usize,
    /// Per tracked function name (`view_plan`, `optimized_view`, …).
    pub stages: BTreeMap<String, StageStats>,
    /// How the project's structure (the view DAG, names, structural diagnostics) was
    /// brought up to date.
    pub structure: StructureSync,
}

/// How a compile brought the project's structure up to date.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StructureSync {
    /// Nothing it depends on was set: kept as it was.
    #[default]
    Kept,
    /// Patched in place, for an edit of views nothing reads.
    Patched,
    /// Computed whole.
    Computed,
}

impl RecompileStats {
    pub(crate) fn from_events(events: &QueryLog, inputs_changed: usize) -> Self {
        let mut counted: std::collections::HashMap<&str, StageStats> = std::collections::HashMap::new();
        for event in &events.executed {
            counted.entry(event.function.as_ref()).or_default().executed += 1;
        }
        for (function, count) in &events.reused {
            counted.entry(function.as_ref()).or_default().reused += count;
        }
        let stages: BTreeMap<String, StageStats> = counted.into_iter().map(|(function, stage)| (function.to_string(), stage)).collect();
        RecompileStats { inputs_changed, stages, structure: StructureSync::Kept }
    }

    /// Queries executed, all functions together.
    pub fn executed(&self) -> usize {
        self.stages.values().map(|stage| stage.executed).sum()
    }

    /// Queries reused, all functions together.
    pub fn reused(&self) -> usize {
        self.stages.values().map(|stage| stage.reused).sum()
    }

    /// A table for terminals: one line per tracked function, then the totals.
    pub fn render(&self) -> String {
        if self.inputs_changed == 0 {
            return "recompile: no input changed; nothing re-executed\n".to_string();
        }
        let mut text =
            format!("recompile: {} input(s) changed\n  {:<24} {:>9} {:>9}\n", self.inputs_changed, "query", "executed", "reused");
        for (function, stage) in &self.stages {
            text.push_str(&format!("  {function:<24} {:>9} {:>9}\n", stage.executed, stage.reused));
        }
        text.push_str(&format!("  {:<24} {:>9} {:>9}\n", "total", self.executed(), self.reused()));
        text
    }
}
