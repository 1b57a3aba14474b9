//! A pass-through node that maps every batch of a task's rows on their way to its sink, or
//! fails the task with a typed error: how the sinks convert rows to their stored types
//! (`stored_types`) and refuse NULL merge keys (`merge`), and how the driver's writer
//! tells the plan's own execution error from a failed write ([`observe_execution`]).
//!
//! ## Invariants
//! - The first failure is recorded in the [`GuardFailure`] slot before the stream ends
//!   with an error, so the sink reports the typed [`TaskError`] (with its code) whatever
//!   deltalake wraps the stream's error in; the writer commits nothing.
//! - A guard passes its input's errors on untouched; only [`observe_execution`]'s records
//!   them (as `TaskError::Execution`), so a typed failure raised between the observer and
//!   the sink (an expectation, a value that does not fit) keeps its own error.
//! - Partitioning and boundedness are the input's; only the schema may change (to the
//!   schema the map produces).

use std::sync::{Arc, Mutex};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::metrics::MetricsSet;
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
    Arc::new(BatchGuardExec::new(input, schema, label, map, Arc::clone(failure), InputErrors::PassOn))
}

/// `input`'s rows unchanged, its first error recorded in `failure` as the plan's execution
/// error (a division by zero, a failing cast): deltalake's writer reports a failing input
/// stream as "Failed to convert into Arrow schema", which would blame the write.
pub fn observe_execution(input: Arc<dyn ExecutionPlan>, failure: &GuardFailure) -> Arc<dyn ExecutionPlan> {
    let schema = input.schema();
    let unchanged: BatchMap = Arc::new(|batch: &RecordBatch| Ok(batch.clone()));
    Arc::new(BatchGuardExec::new(input, schema, "observe execution".to_string(), unchanged, Arc::clone(failure), InputErrors::Record))
}

/// What a guard does with an error of its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InputErrors {
    /// Passes it on (a guard's own failures are its only record).
    PassOn,
    /// Records it as the task's execution error, then passes it on.
    Record,
}

struct BatchGuardExec {
    input: Arc<dyn ExecutionPlan>,
    schema: SchemaRef,
    /// What the guard does, for the plan's display.
    label: String,
    map: BatchMap,
    failure: GuardFailure,
    input_errors: InputErrors,
    properties: Arc<PlanProperties>,
}

impl std::fmt::Debug for BatchGuardExec {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("BatchGuardExec").field("label", &self.label).field("input", &self.input).finish()
    }
}

impl BatchGuardExec {
    fn new(
        input: Arc<dyn ExecutionPlan>,
        schema: SchemaRef,
        label: String,
        map: BatchMap,
        failure: GuardFailure,
        input_errors: InputErrors,
    ) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            input.output_partitioning().clone(),
            input.pipeline_behavior(),
            input.boundedness(),
        ));
        BatchGuardExec { input, schema, label, map, failure, input_errors, properties }
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
        let BatchGuardExec { schema, label, map, failure, input_errors, .. } = self.as_ref();
        let child = children.remove(0);
        Ok(Arc::new(BatchGuardExec::new(child, Arc::clone(schema), label.clone(), Arc::clone(map), Arc::clone(failure), *input_errors)))
    }

    /// An observer is transparent: what its input measured (a writer falls back on the rows'
    /// `output_rows`). A mapping guard measures nothing of its own.
    fn metrics(&self) -> Option<MetricsSet> {
        (self.input_errors == InputErrors::Record).then(|| self.input.metrics()).flatten()
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let map = Arc::clone(&self.map);
        let failure = Arc::clone(&self.failure);
        let input_errors = self.input_errors;
        let mapped = input.map(move |batch| {
            let record = |error: TaskError| {
                failure.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get_or_insert(error);
            };
            match batch {
                Ok(batch) => map(&batch).map_err(|error| {
                    let message = error.to_string();
                    record(error);
                    DataFusionError::Execution(message)
                }),
                Err(error) => {
                    if input_errors == InputErrors::Record {
                        record(TaskError::Execution(format!("executing the task's plan failed: {}", error.strip_backtrace())));
                    }
                    Err(error)
                }
            }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(Arc::clone(&self.schema), mapped)))
    }
}
