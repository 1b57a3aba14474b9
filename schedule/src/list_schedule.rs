//! List scheduling: whenever a worker is free, it takes the ready task with the longest
//! critical path (ties: task order). The same rule orders the driver's ready queue when it
//! runs tasks, so the simulated schedule is the plan the run follows, in estimated bytes.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use crate::cost::TaskCost;
use crate::task_id::TaskId;
use crate::tasks::Task;

/// One task's place in a schedule, in units of estimated work (bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub task: TaskId,
    pub worker: usize,
    pub start: u64,
    pub finish: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub workers: usize,
    /// In start order (ties: worker).
    pub slots: Vec<Slot>,
    pub makespan: u64,
    pub total_work: u64,
    /// The longest chain of dependent work: no number of workers finishes sooner.
    pub critical_path: u64,
}

/// `ready` sorted by descending critical path, then by position in `tasks`.
pub fn priority_order(ready: &mut [&Task], tasks: &[Task], costs: &BTreeMap<TaskId, TaskCost>) {
    let position: BTreeMap<&TaskId, usize> = tasks.iter().enumerate().map(|(index, task)| (&task.id, index)).collect();
    let critical_path = |task: &Task| costs.get(&task.id).map_or(0, |cost| cost.critical_path);
    ready.sort_by_key(|task| (Reverse(critical_path(task)), position.get(&task.id).copied().unwrap_or(usize::MAX)));
}

/// Simulates running `tasks` on `workers` workers (at least one). Event-driven: O((n + e)
/// log n) for n tasks and e reads.
pub fn list_schedule(tasks: &[Task], costs: &BTreeMap<TaskId, TaskCost>, workers: usize) -> Schedule {
    let workers = workers.max(1);
    let index_of: BTreeMap<&TaskId, usize> = tasks.iter().enumerate().map(|(index, task)| (&task.id, index)).collect();
    let work: Vec<u64> = tasks.iter().map(|task| costs.get(&task.id).map_or(0, |cost| cost.work)).collect();
    // The same order as `priority_order`: longest critical path first, then task order.
    let priority: Vec<(Reverse<u64>, usize)> =
        tasks.iter().enumerate().map(|(index, task)| (Reverse(costs.get(&task.id).map_or(0, |cost| cost.critical_path)), index)).collect();
    // Reads of tasks not in the list count as done.
    let mut unfinished_reads = vec![0usize; tasks.len()];
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); tasks.len()];
    for (index, task) in tasks.iter().enumerate() {
        for read in &task.reads {
            if let Some(&upstream) = index_of.get(read) {
                unfinished_reads[index] += 1;
                readers[upstream].push(index);
            }
        }
    }
    let mut ready: BTreeSet<(Reverse<u64>, usize)> =
        (0..tasks.len()).filter(|&index| unfinished_reads[index] == 0).map(|index| priority[index]).collect();
    // (finish, worker, task): the worker is free again at `finish`.
    let mut running: BTreeSet<(u64, usize, usize)> = BTreeSet::new();
    let mut free: BTreeSet<usize> = (0..workers).collect();
    let mut slots = Vec::new();
    let mut now = 0;
    loop {
        while !free.is_empty()
            && let Some((_, index)) = ready.pop_first()
        {
            let worker = free.pop_first().expect("a free worker");
            let finish = now + work[index];
            running.insert((finish, worker, index));
            slots.push(Slot { task: tasks[index].id.clone(), worker, start: now, finish });
        }
        let Some(&(next, _, _)) = running.first() else {
            break;
        };
        now = next;
        while let Some(&(finish, worker, index)) = running.first()
            && finish <= now
        {
            running.pop_first();
            free.insert(worker);
            for &reader in &readers[index] {
                unfinished_reads[reader] -= 1;
                if unfinished_reads[reader] == 0 {
                    ready.insert(priority[reader]);
                }
            }
        }
    }
    slots.sort_by_key(|slot| (slot.start, slot.worker));
    Schedule {
        workers,
        makespan: slots.iter().map(|slot| slot.finish).max().unwrap_or(0),
        total_work: work.iter().sum(),
        critical_path: costs.values().map(|cost| cost.critical_path).max().unwrap_or(0),
        slots,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::cost::{TaskFacts, Volume, estimate_costs};
    use crate::tasks::TaskKind;

    /// Tasks `t0..tn`, each reading some earlier ones, with a source volume each.
    fn task_dag() -> impl Strategy<Value = (Vec<Task>, BTreeMap<TaskId, TaskFacts>)> {
        prop::collection::vec((prop::collection::vec(any::<prop::sample::Index>(), 0..3), 0u64..1000), 1..14).prop_map(|specs| {
            let mut tasks = Vec::new();
            let mut facts = BTreeMap::new();
            for (index, (reads, bytes)) in specs.into_iter().enumerate() {
                let mut reads: Vec<TaskId> = if index == 0 {
                    Vec::new()
                } else {
                    reads.iter().map(|read| TaskId::View(format!("t{}", read.index(index)))).collect()
                };
                reads.sort();
                reads.dedup();
                let id = TaskId::View(format!("t{index}"));
                facts.insert(id.clone(), TaskFacts { sources: vec![Volume { bytes, rows: None, exact: true }], estimated_output: None });
                tasks.push(Task { id, view: String::new(), kind: TaskKind::Materialize, reads, wave: 0 });
            }
            (tasks, facts)
        })
    }

    proptest! {
        #[test]
        fn schedules_respect_dependencies_workers_and_bounds((tasks, facts) in task_dag(), workers in 1usize..5) {
            let costs = estimate_costs(&tasks, &facts);
            let schedule = list_schedule(&tasks, &costs, workers);
            prop_assert_eq!(schedule.slots.len(), tasks.len());
            let slot = |id: &TaskId| schedule.slots.iter().find(|slot| &slot.task == id).unwrap();
            for task in &tasks {
                let own = slot(&task.id);
                prop_assert_eq!(own.finish - own.start, costs[&task.id].work);
                for read in &task.reads {
                    prop_assert!(slot(read).finish <= own.start, "{} starts before {} finishes", task.id, read);
                    prop_assert!(costs[read].critical_path >= costs[&task.id].critical_path + costs[read].work);
                }
            }
            for (index, left) in schedule.slots.iter().enumerate() {
                prop_assert!(left.worker < workers);
                for right in &schedule.slots[index + 1..] {
                    let overlap = left.start < right.finish && right.start < left.finish;
                    prop_assert!(left.worker != right.worker || !overlap, "{:?} and {:?} share a worker", left, right);
                }
            }
            prop_assert!(schedule.makespan >= schedule.critical_path);
            prop_assert!(schedule.makespan * workers as u64 >= schedule.total_work);
            prop_assert!(schedule.makespan <= schedule.total_work);
            if workers == 1 {
                prop_assert_eq!(schedule.makespan, schedule.total_work);
            }
        }
    }

    #[test]
    fn the_longest_chain_starts_first_and_upstream_outputs_feed_inputs() {
        let id = |name: &str| TaskId::View(name.to_string());
        let task = |name: &str, reads: &[&str]| Task {
            id: id(name),
            view: name.into(),
            kind: TaskKind::Materialize,
            reads: reads.iter().map(|read| id(read)).collect(),
            wave: 0,
        };
        // `small` comes first in task order, but `big` heads the longer chain.
        let tasks = vec![task("small", &[]), task("big", &[]), task("after_big", &["big"])];
        let volume = |bytes| Volume { bytes, rows: Some(bytes / 10), exact: true };
        let facts = BTreeMap::from([
            (id("small"), TaskFacts { sources: vec![volume(100)], estimated_output: Some(volume(10)) }),
            (id("big"), TaskFacts { sources: vec![volume(500)], estimated_output: Some(volume(50)) }),
            (id("after_big"), TaskFacts { sources: vec![volume(5)], estimated_output: Some(volume(1)) }),
        ]);
        let costs = estimate_costs(&tasks, &facts);
        assert_eq!(costs[&id("big")].work, 550);
        // A reader of a task: input = its sources + the upstream's output; its own estimate is
        // not trusted (at compile time it sees a placeholder), so output = input, inexact.
        assert_eq!(costs[&id("after_big")].input, Volume { bytes: 55, rows: Some(5), exact: true });
        assert_eq!(costs[&id("after_big")].output, Volume { bytes: 55, rows: Some(5), exact: false });
        assert_eq!(costs[&id("big")].critical_path, 550 + 110);
        let schedule = list_schedule(&tasks, &costs, 1);
        let order: Vec<&str> = schedule.slots.iter().map(|slot| slot.task.name()).collect();
        assert_eq!(order, vec!["big", "small", "after_big"]);
        let parallel = list_schedule(&tasks, &costs, 2);
        assert_eq!(parallel.makespan, 660);
        assert_eq!(parallel.slots[0], Slot { task: id("big"), worker: 0, start: 0, finish: 550 });
    }
}
