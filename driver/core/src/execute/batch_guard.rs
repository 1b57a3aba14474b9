//! A pass-through node that maps every batch of a task's rows on their way to its sink, or
//! fails the task with a typed error: how the sinks convert rows to their stored types
//! (`stored_types`) and refuse NULL merge keys (`merge`).
//!
//! ## Invariants
//! - The first failure is recorded in the [`GuardFailure`] slot before the stream ends
//!   with an error, so the sink reports the typed [`TaskError`] (with its code) whatever
//!   deltalake wraps the stream's error in; the writer commits nothing.
//! - Partitioning and boundedness are the input's; only the schema may change (to the
//!   schema the map produces).

use std::sync::{Arc, Mutex};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties};
use futures::StreamExt;

use super::error::TaskError;

/// Where a guard records the first failure of a task's rows.
pub type GuardFailure = Arc<Mutex<Option<TaskError>>>;

/// What a guard does to each batch: the batch to pass on, or why the task fails.
pub type BatchMap = Arc<dyn Fn(&RecordBatch) -> Result<RecordBatch, TaskError> + Send + Sync>;

/// The failure a guard recorded, else `otherwise` (what the writer reported).
pub fn recorded_or(failure: &GuardFailure, otherwise: TaskError) -> TaskError {
    failure.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take().unwrap_or(otherwise)
}

/// `input` with `map` applied to every batch; `schema` is what `map` produces.
pub fn guard(
    input: Arc<dyn ExecutionPlan>,
    schema: SchemaRef,
    label: String,
    map: BatchMap,
    failure: &GuardFailure,
) -> Arc<dyn ExecutionPlan> {
    Arc::new(BatchGuardExec::new(input, schema, label, map, Arc::clone(failure)))
}

struct BatchGuardExec {
    input: Arc<dyn ExecutionPlan>,
    schema: SchemaRef,
    /// What the guard does, for the plan's display.
    label: String,
    map: BatchMap,
    failure: GuardFailure,
    properties: Arc<PlanProperties>,
}

impl std::fmt::Debug for BatchGuardExec {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("BatchGuardExec").field("label", &self.label).field("input", &self.input).finish()
    }
}

impl BatchGuardExec {
    fn new(input: Arc<dyn ExecutionPlan>, schema: SchemaRef, label: String, map: BatchMap, failure: GuardFailure) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            input.output_partitioning().clone(),
            input.pipeline_behavior(),
            input.boundedness(),
        ));
        BatchGuardExec { input, schema, label, map, failure, properties }
    }
}

impl DisplayAs for BatchGuardExec {
    fn fmt_as(&self, _format: DisplayFormatType, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(formatter, "BatchGuardExec: {}", self.label)
    }
}

impl ExecutionPlan for BatchGuardExec {
    fn name(&self) -> &str {
        "BatchGuardExec"
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
            return Err(DataFusionError::Internal("BatchGuardExec has one child".to_string()));
        }
        let BatchGuardExec { schema, label, map, failure, .. } = self.as_ref();
        Ok(Arc::new(BatchGuardExec::new(children.remove(0), Arc::clone(schema), label.clone(), Arc::clone(map), Arc::clone(failure))))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let map = Arc::clone(&self.map);
        let failure = Arc::clone(&self.failure);
        let mapped = input.map(move |batch| {
            batch.and_then(|batch| {
                map(&batch).map_err(|error| {
                    let message = error.to_string();
                    failure.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get_or_insert(error);
                    DataFusionError::Execution(message)
                })
            })
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(Arc::clone(&self.schema), mapped)))
    }
}
