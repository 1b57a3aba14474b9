//! The cost model's inputs, gathered from the database without planning: which sources each
//! task reads (through ephemeral views, from the view DAG) and their volumes (file sizes and
//! Parquet footers' row counts, Delta file sizes and record counts from the log). The model
//! itself lives in `viewdag-schedule`.
//!
//! ## Invariants
//! - Every number is a function of provider identities and the DAG, never of timing, so the
//!   costs written into the compile envelope are as deterministic as the rest of it.
//! - A source whose volume is unknown counts as zero bytes and makes the estimate inexact.

use std::collections::BTreeMap;

use viewdag_ir::{ProjectInput, ProviderIdentity, SourceResolution};
use viewdag_lower::view_check;
use viewdag_schedule::{Task, TaskCost, TaskFacts, TaskId, Volume, estimate_costs, plan_tasks, reads_through_ephemeral_views};
use viewdag_validate::{Relation, resolve_relation};

use crate::snapshot::Snapshot;

/// A volume no provider reported.
const UNKNOWN: Volume = Volume { bytes: 0, rows: None, exact: false };

impl Snapshot<'_> {
    /// The tasks of the last compile, in execution order (see `viewdag_schedule::plan_tasks`).
    pub fn tasks(&self) -> Vec<Task> {
        let outputs: Vec<(String, String)> = self.outputs.iter().map(|(name, spec)| (name.clone(), spec.view.clone())).collect();
        let materialized = |name: &str| self.is_materialized(name);
        plan_tasks(&self.structure().dag, &materialized, &outputs)
    }

    /// The tasks of the last compile with each one's estimated cost, keyed by task id: from
    /// the view DAG and the sources' volumes alone, planning nothing (a task's output is
    /// estimated by what it reads, an upper bound). `run` follows the schedule of these
    /// costs, so an unchanged project plans nothing. A task whose view does not validate is
    /// costed as reading nothing.
    pub fn task_costs(&self) -> (Vec<Task>, BTreeMap<TaskId, TaskCost>) {
        let tasks = self.tasks();
        let facts = tasks.iter().filter_map(|task| Some((task.id.clone(), self.task_facts(task)?))).collect();
        let costs = estimate_costs(&tasks, &facts);
        (tasks, costs)
    }

    /// The sources a view reads through ephemeral views (stopping at materialized ones):
    /// what its P0 scans besides materialized tables, found without planning it.
    fn sources_read(&self, view: &str) -> Vec<ProviderIdentity> {
        let materialized = |name: &str| self.is_materialized(name);
        reads_through_ephemeral_views(&self.structure().dag, view, &materialized)
            .into_iter()
            .filter_map(|name| match resolve_relation(self.db, ProjectInput::get(self.db), name) {
                Some(Relation::Source(source)) => match source.resolution(self.db) {
                    SourceResolution::Resolved { identity, .. } => Some(identity.clone()),
                    SourceResolution::Failed(_) => None,
                },
                Some(Relation::View(_)) | None => None,
            })
            .collect()
    }

    fn task_facts(&self, task: &Task) -> Option<TaskFacts> {
        let view = self.view_input(&task.view)?;
        if !view_check(self.db, view).status.is_valid() {
            return None;
        }
        let sources = self.sources_read(&task.view).iter().map(|identity| self.source_volume(identity)).collect();
        Some(TaskFacts { sources, estimated_output: None })
    }

    fn source_volume(&self, identity: &ProviderIdentity) -> Volume {
        match identity {
            // Loading registers the volume (with Parquet row counts); the sizes are the fallback.
            ProviderIdentity::Files { files, .. } => {
                self.db.volume(identity).unwrap_or(Volume { bytes: files.iter().map(|file| file.size).sum(), rows: None, exact: true })
            }
            ProviderIdentity::Delta { .. } => self.db.volume(identity).unwrap_or(UNKNOWN),
            ProviderIdentity::Materialized { .. } => UNKNOWN,
        }
    }
}
