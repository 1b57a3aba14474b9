//! The cost model's inputs, gathered from the compiled database: source volumes (file sizes
//! and Parquet footers' row counts, Delta file sizes and record counts from the log) and each
//! task's P2 statistics. The model itself lives in `viewdag-schedule`.
//!
//! ## Invariants
//! - Every number is a function of provider identities and plans, never of timing, so the
//!   costs written into the compile envelope are as deterministic as the rest of it.
//! - A source whose volume is unknown counts as zero bytes and makes the estimate inexact.

use std::collections::{BTreeMap, BTreeSet};

use datafusion::arrow::datatypes::Schema;
use datafusion::common::stats::Precision;
use datafusion::physical_plan::statistics::{StatisticsArgs, StatisticsContext};
use viewdag_ir::{ProjectInput, ProviderIdentity, SourceResolution};
use viewdag_lower::view_check;
use viewdag_optimize::physical_view;
use viewdag_validate::{Relation, resolve_relation};
use viewdag_schedule::{Task, TaskCost, TaskFacts, Volume, estimate_costs, plan_tasks};

use crate::compiler::Compiler;

/// A volume no provider reported.
const UNKNOWN: Volume = Volume { bytes: 0, rows: None, exact: false };

impl Compiler {
    /// The tasks of the last compile, in execution order (see `viewdag_schedule::plan_tasks`).
    pub fn tasks(&self) -> Vec<Task> {
        let outputs: Vec<(String, String)> = self.outputs.iter().map(|(name, spec)| (name.clone(), spec.view.clone())).collect();
        let materialized = |name: &str| self.is_materialized(name);
        plan_tasks(&self.structure().dag, &materialized, &outputs)
    }

    /// The tasks of the last compile with each one's estimated cost, keyed by task id, using
    /// each task's P2 statistics (which plans every task). A task whose view does not
    /// compile is costed as reading nothing.
    pub fn task_costs(&self) -> (Vec<Task>, BTreeMap<String, TaskCost>) {
        self.estimate_task_costs(true)
    }

    /// The same from the view DAG and source volumes alone, planning nothing: a task's
    /// output is then estimated by what it reads (an upper bound).
    pub fn task_costs_without_plans(&self) -> (Vec<Task>, BTreeMap<String, TaskCost>) {
        self.estimate_task_costs(false)
    }

    fn estimate_task_costs(&self, with_plan_statistics: bool) -> (Vec<Task>, BTreeMap<String, TaskCost>) {
        let tasks = self.tasks();
        let facts = tasks.iter().filter_map(|task| Some((task.id.clone(), self.task_facts(task, with_plan_statistics)?))).collect();
        let costs = estimate_costs(&tasks, &facts);
        (tasks, costs)
    }

    /// The sources a view reads through ephemeral views (stopping at materialized ones):
    /// what its P0 scans besides materialized tables, found without planning it.
    fn sources_read(&self, view: &str) -> Vec<ProviderIdentity> {
        let dag = &self.structure().dag;
        let mut identities = BTreeMap::new();
        let mut stack = dag.reads(view);
        let mut seen = BTreeSet::new();
        while let Some(name) = stack.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            match resolve_relation(&self.db, ProjectInput::get(&self.db), name.clone()) {
                Some(Relation::Source(source)) => {
                    if let SourceResolution::Resolved { identity, .. } = source.resolution(&self.db) {
                        identities.insert(name, identity.clone());
                    }
                }
                Some(Relation::View(_)) if !self.is_materialized(&name) => stack.extend(dag.reads(&name)),
                Some(Relation::View(_)) | None => {}
            }
        }
        identities.into_values().collect()
    }

    fn task_facts(&self, task: &Task, with_plan_statistics: bool) -> Option<TaskFacts> {
        let view = self.view_input(&task.view)?;
        if !view_check(&self.db, view).status.is_valid() {
            return None;
        }
        let sources = self.sources_read(&task.view).iter().map(|identity| self.source_volume(identity)).collect();
        let physical = if with_plan_statistics { physical_view(&self.db, view).as_ref().ok() } else { None };
        let estimated_output = physical.and_then(|physical| {
            let statistics = StatisticsContext::new().compute(physical.plan.as_ref(), &StatisticsArgs::new()).ok()?;
            let rows = precise(&statistics.num_rows);
            // Without a byte size, rows × the schema's row width (variable-width values
            // count as `VARIABLE_WIDTH` bytes) is an estimate.
            let bytes = precise(&statistics.total_byte_size)
                .or_else(|| rows.map(|(rows, _)| (rows.saturating_mul(row_width(&physical.plan.schema())), false)))?;
            let exact = bytes.1 && rows.is_some_and(|(_, exact)| exact);
            Some(Volume { bytes: bytes.0, rows: rows.map(|rows| rows.0), exact })
        });
        Some(TaskFacts { sources, estimated_output })
    }

    fn source_volume(&self, identity: &ProviderIdentity) -> Volume {
        match identity {
            // Loading registers the volume (with Parquet row counts); the sizes are the fallback.
            ProviderIdentity::Files { files, .. } => {
                self.db.volume(identity).unwrap_or(Volume { bytes: files.iter().map(|(_, size)| size).sum(), rows: None, exact: true })
            }
            ProviderIdentity::Delta { .. } => self.db.volume(identity).unwrap_or(UNKNOWN),
            ProviderIdentity::Materialized { .. } => UNKNOWN,
        }
    }
}

/// Bytes assumed for one value of a variable-width type (strings, binaries, lists).
const VARIABLE_WIDTH: u64 = 16;

/// The estimated bytes of one row of `schema`.
fn row_width(schema: &Schema) -> u64 {
    schema.fields().iter().map(|field| field.data_type().primitive_width().map_or(VARIABLE_WIDTH, |width| width as u64)).sum()
}

/// The value of a statistic, and whether it is exact; `None` when it is absent.
fn precise(statistic: &Precision<usize>) -> Option<(u64, bool)> {
    let value = statistic.get_value()?;
    Some((u64::try_from(*value).unwrap_or(u64::MAX), statistic.is_exact() == Some(true)))
}
