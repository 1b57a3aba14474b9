//! The cost model's inputs, gathered from the compiled database: source volumes (file sizes
//! and Parquet footers' row counts, Delta file sizes and record counts from the log) and each
//! task's P2 statistics. The model itself lives in `viewdag-schedule`.
//!
//! ## Invariants
//! - Every number is a function of provider identities and plans, never of timing, so the
//!   costs written into the compile envelope are as deterministic as the rest of it.
//! - A source whose volume is unknown counts as zero bytes and makes the estimate inexact.

use std::collections::BTreeMap;

use datafusion::arrow::datatypes::Schema;
use datafusion::common::stats::Precision;
use datafusion::physical_plan::statistics::{StatisticsArgs, StatisticsContext};
use viewdag_ir::ProviderIdentity;
use viewdag_lower::view_plan;
use viewdag_optimize::physical_view;
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

    /// The tasks of the last compile with each one's estimated cost, keyed by task id. A task
    /// whose view does not compile is costed as reading nothing.
    pub fn task_costs(&self) -> (Vec<Task>, BTreeMap<String, TaskCost>) {
        let tasks = self.tasks();
        let facts = tasks.iter().filter_map(|task| Some((task.id.clone(), self.task_facts(task)?))).collect();
        let costs = estimate_costs(&tasks, &facts);
        (tasks, costs)
    }

    fn task_facts(&self, task: &Task) -> Option<TaskFacts> {
        let view = self.view_input(&task.view)?;
        let lowered = view_plan(&self.db, view).as_ref().ok()?;
        let sources = lowered
            .scans
            .values()
            .filter(|identity| !matches!(identity, ProviderIdentity::Materialized { .. }))
            .map(|identity| self.source_volume(identity))
            .collect();
        let estimated_output = physical_view(&self.db, view).as_ref().ok().and_then(|physical| {
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
