//! The pass-through node that checks a task's expectations while its rows stream into the
//! writer (see the module docs of `expect`).
//!
//! ## Invariants
//! - One output partition (the input's partitions are coalesced), so uniqueness and row
//!   counts are decided over every row before the stream ends.
//! - The stream ends with an error exactly when an expectation whose `on_fail` is `fail`
//!   failed: the writer then commits nothing. The results are published either way.

use std::sync::{Arc, Mutex};

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties};
use futures::StreamExt;

use super::ExpectationResult;
use super::checker::{ExpectationChecker, failure_message};
use super::compile::CompiledExpectations;

/// Where a finished stream leaves its results.
pub type ExpectationTally = Arc<Mutex<Vec<ExpectationResult>>>;

/// A task's expectations checked on its rows as they stream (one output partition).
#[derive(Debug)]
pub struct ExpectationExec {
    input: Arc<dyn ExecutionPlan>,
    expectations: Arc<CompiledExpectations>,
    tally: ExpectationTally,
    properties: Arc<PlanProperties>,
}

impl ExpectationExec {
    /// Wraps `input` (coalesced to one partition when it has more).
    pub fn new(input: Arc<dyn ExecutionPlan>, expectations: Arc<CompiledExpectations>, tally: ExpectationTally) -> Self {
        let input: Arc<dyn ExecutionPlan> =
            if input.output_partitioning().partition_count() == 1 { input } else { Arc::new(CoalescePartitionsExec::new(input)) };
        let properties = Arc::clone(input.properties());
        ExpectationExec { input, expectations, tally, properties }
    }
}

impl DisplayAs for ExpectationExec {
    fn fmt_as(&self, _format: DisplayFormatType, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        let names: Vec<&str> = self.expectations.expectations.iter().map(|expectation| expectation.name.as_str()).collect();
        write!(formatter, "ExpectationExec: [{}]", names.join(", "))
    }
}

impl ExecutionPlan for ExpectationExec {
    fn name(&self) -> &str {
        "ExpectationExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(&self, _visit: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, mut children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return Err(DataFusionError::Internal("ExpectationExec has one child".to_string()));
        }
        Ok(Arc::new(ExpectationExec::new(children.remove(0), Arc::clone(&self.expectations), Arc::clone(&self.tally))))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!("ExpectationExec has one partition, not {partition}")));
        }
        let input = self.input.execute(0, context)?;
        let schema = input.schema();
        let checker = Arc::new(Mutex::new(ExpectationChecker::new(Arc::clone(&self.expectations))));
        let tally = Arc::clone(&self.tally);
        let expectations = Arc::clone(&self.expectations);
        let batches = {
            let checker = Arc::clone(&checker);
            input.map(move |batch| batch.and_then(|batch| lock(&checker).check_batch(&batch)))
        };
        let end = futures::stream::once(async move {
            let results = expectations.results(lock(&checker).counts());
            let failed = failure_message(&results);
            *tally.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = results;
            match failed {
                None => Ok(None),
                Some(message) => Err(DataFusionError::Execution(message)),
            }
        })
        .filter_map(|end: Result<Option<RecordBatch>>| async move { end.transpose() });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, batches.chain(end))))
    }
}

fn lock(checker: &Mutex<ExpectationChecker>) -> std::sync::MutexGuard<'_, ExpectationChecker> {
    checker.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
