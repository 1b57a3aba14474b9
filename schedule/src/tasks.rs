//! The task list: every materialized view and every output, ordered in waves.

use std::collections::{BTreeMap, BTreeSet};

use viewdag_ir::ViewDag;

use crate::task_id::TaskId;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaskKind {
    /// A `materialize: table` view, written to the project's table store.
    Materialize,
    /// An output, written to its path.
    Output { output: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Which task (`view:NAME` or `output:NAME`).
    pub id: TaskId,
    pub view: String,
    pub kind: TaskKind,
    /// The materialization tasks this task reads.
    pub reads: Vec<TaskId>,
    /// 0-based wave: every task in wave n reads only tasks of waves < n.
    pub wave: usize,
}

/// Every relation a view reads directly or through ephemeral views, stopping at each
/// materialized one (which is included, its inputs are not), sorted: what the view's
/// inlined plan scans.
pub fn reads_through_ephemeral_views(dag: &ViewDag, view: &str, is_materialized: &dyn Fn(&str) -> bool) -> Vec<String> {
    let mut found = BTreeSet::new();
    let mut stack = dag.reads(view);
    while let Some(current) = stack.pop() {
        if !found.insert(current.clone()) {
            continue;
        }
        if !is_materialized(&current) {
            stack.extend(dag.reads(&current));
        }
    }
    found.into_iter().collect()
}

/// The materialized views a view reads through ephemeral views (stopping at each
/// materialized one), sorted.
pub fn materialized_inputs(dag: &ViewDag, view: &str, is_materialized: &dyn Fn(&str) -> bool) -> Vec<String> {
    reads_through_ephemeral_views(dag, view, is_materialized).into_iter().filter(|name| is_materialized(name)).collect()
}

/// Builds the task list in execution order, with waves.
pub fn plan_tasks(dag: &ViewDag, is_materialized: &dyn Fn(&str) -> bool, outputs: &[(String, String)]) -> Vec<Task> {
    let mut tasks = Vec::new();
    let mut wave_of: BTreeMap<TaskId, usize> = BTreeMap::new();
    for view in dag.topological_order() {
        if !is_materialized(view) {
            continue;
        }
        let reads: Vec<TaskId> = materialized_inputs(dag, view, is_materialized).into_iter().map(TaskId::View).collect();
        let wave = reads.iter().filter_map(|id| wave_of.get(id)).map(|wave| wave + 1).max().unwrap_or(0);
        let id = TaskId::View(view.clone());
        wave_of.insert(id.clone(), wave);
        tasks.push(Task { id, view: view.clone(), kind: TaskKind::Materialize, reads, wave });
    }
    for (output, view) in outputs {
        let reads: Vec<TaskId> = if is_materialized(view) {
            vec![TaskId::View(view.clone())]
        } else {
            materialized_inputs(dag, view, is_materialized).into_iter().map(TaskId::View).collect()
        };
        let wave = reads.iter().filter_map(|id| wave_of.get(id)).map(|wave| wave + 1).max().unwrap_or(0);
        tasks.push(Task {
            id: TaskId::Output(output.clone()),
            view: view.clone(),
            kind: TaskKind::Output { output: output.clone() },
            reads,
            wave,
        });
    }
    tasks.sort_by_key(|task| task.wave);
    tasks
}

#[cfg(test)]
mod tests {
    use viewdag_ir::dag::{RelationKind, RelationReads};

    use super::*;

    #[test]
    fn contracts_through_ephemeral_views() {
        let relation = |name: &str, kind, reads: &[&str]| RelationReads {
            name: name.into(),
            kind,
            reads: reads.iter().map(|r| r.to_string()).collect(),
        };
        let dag = ViewDag::build(&[
            relation("s", RelationKind::Source, &[]),
            relation("a", RelationKind::View, &["s"]),
            relation("m", RelationKind::View, &["a"]),
            relation("b", RelationKind::View, &["m"]),
            relation("c", RelationKind::View, &["b", "s"]),
        ]);
        let materialized = |name: &str| name == "m";
        let tasks = plan_tasks(&dag, &materialized, &[("out".into(), "c".into())]);
        assert_eq!(tasks.len(), 2);
        assert_eq!(tasks[0].id, "view:m");
        assert_eq!(tasks[0].wave, 0);
        assert_eq!(tasks[1].reads, vec![TaskId::View("m".into())]);
        assert_eq!(tasks[1].wave, 1);
    }
}
