//! The cost model: how much data each task reads and writes, and how long the chain of work
//! from it to the end of the run is.
//!
//! Work is measured in bytes, the one unit every provider can report: a task's input is the
//! bytes of the sources its plan scans plus the estimated output of every upstream task it
//! reads; its output comes from the plan's statistics when the plan scans only sources (a
//! plan over a materialized view sees a placeholder at compile time), otherwise the input is
//! taken as an upper bound. `work = input + output` (read it, write it).
//!
//! ## Invariants
//! - `exact` is true only when every number that went into a volume was exact.
//! - A task's `critical_path` is its own work plus the largest `critical_path` among the tasks
//!   that read it, so it is at least its work and decreases along every dependency chain.

use std::collections::BTreeMap;

use crate::task_id::TaskId;
use crate::tasks::Task;

/// An amount of data; `rows` is missing when no provider or statistic reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Volume {
    pub bytes: u64,
    pub rows: Option<u64>,
    pub exact: bool,
}

impl Volume {
    pub const EMPTY: Volume = Volume { bytes: 0, rows: Some(0), exact: true };

    /// The volume of everything in `parts` together.
    pub fn sum<'a>(parts: impl IntoIterator<Item = &'a Volume>) -> Volume {
        parts.into_iter().fold(Volume::EMPTY, |total, part| Volume {
            bytes: total.bytes.saturating_add(part.bytes),
            rows: total.rows.zip(part.rows).map(|(left, right)| left.saturating_add(right)),
            exact: total.exact && part.exact,
        })
    }

    /// The same amount, no longer claimed to be exact.
    pub fn inexact(self) -> Volume {
        Volume { exact: false, ..self }
    }
}

/// What the driver knows about one task before it runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskFacts {
    /// The volume of each source relation the task's plan scans (materialized views excluded).
    pub sources: Vec<Volume>,
    /// The plan's own estimate of its output, when it has one it can trust.
    pub estimated_output: Option<Volume>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskCost {
    pub input: Volume,
    pub output: Volume,
    /// Bytes read plus bytes written.
    pub work: u64,
    /// This task's work plus the longest chain of work among the tasks that read it.
    pub critical_path: u64,
}

/// Costs of `tasks` (in [`plan_tasks`](crate::plan_tasks) order: every task after the tasks
/// it reads), keyed by task id. A task without facts is costed as reading nothing new.
pub fn estimate_costs(tasks: &[Task], facts: &BTreeMap<TaskId, TaskFacts>) -> BTreeMap<TaskId, TaskCost> {
    let mut costs: BTreeMap<TaskId, TaskCost> = BTreeMap::new();
    for task in tasks {
        let task_facts = facts.get(&task.id).cloned().unwrap_or_default();
        let upstream: Vec<Volume> = task.reads.iter().filter_map(|read| costs.get(read)).map(|cost| cost.output).collect();
        let input = Volume::sum(task_facts.sources.iter().chain(upstream.iter()));
        let output = match task_facts.estimated_output {
            Some(estimate) if task.reads.is_empty() => estimate,
            _ => input.inexact(),
        };
        let work = input.bytes.saturating_add(output.bytes);
        costs.insert(task.id.clone(), TaskCost { input, output, work, critical_path: work });
    }
    let mut readers: BTreeMap<&TaskId, Vec<&TaskId>> = BTreeMap::new();
    for reader in tasks {
        for read in &reader.reads {
            readers.entry(read).or_default().push(&reader.id);
        }
    }
    for task in tasks.iter().rev() {
        let longest_reader = readers
            .get(&task.id)
            .into_iter()
            .flatten()
            .filter_map(|reader| costs.get(*reader))
            .map(|cost| cost.critical_path)
            .max()
            .unwrap_or(0);
        if let Some(cost) = costs.get_mut(&task.id) {
            cost.critical_path = cost.work.saturating_add(longest_reader);
        }
    }
    costs
}
