//! A task's rows converted to the types their Delta table stores (`viewdag_ir::delta_types`)
//! on their way into the table: what the writer commits is what every reader reads back.
//!
//! deltalake declares a column by its Arrow shape and writes its values untouched: a
//! `uint32` column was declared `integer` over files holding values up to 2³²−1, and the
//! table could not be read by anyone. [`StoredTypesExec`] casts each batch to the stored
//! schema — unsigned integers widened (`uint64` checked: a value above 2⁶³−1 fails the task
//! with `V0510`, naming the column), timestamps to microseconds, dictionaries to their
//! values, nested types element by element.
//!
//! ## Invariants
//! - A plan whose schema is stored already is returned as it is (no node added).
//! - No value changes except where Delta cannot hold it: widenings are exact; `uint64` is
//!   checked, never wrapped; timestamps lose only what Delta cannot store (below a
//!   microsecond).
//! - The first value that does not fit is recorded in the [`StorageFailure`] slot before
//!   the stream fails, so the sink reports it with its code whatever wraps the error.

use std::sync::{Arc, Mutex};

use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties};
use futures::StreamExt;
use viewdag_ir::delta_types::{ColumnConversion, column_conversion, delta_stored_schema};
use viewdag_ir::types::type_name;

use super::error::TaskError;

/// Where a conversion records the value that did not fit (the first one).
pub type StorageFailure = Arc<Mutex<Option<TaskError>>>;

/// `plan`, its rows converted to the types its table stores; `failure` receives the first
/// value that does not fit. A schema Delta cannot store at all is the task's error (`check`
/// reports it as `V0508` first).
pub fn as_stored(plan: Arc<dyn ExecutionPlan>, failure: &StorageFailure) -> Result<Arc<dyn ExecutionPlan>, TaskError> {
    let schema = plan.schema();
    let stored = delta_stored_schema(&schema).map_err(|(column, why)| {
        TaskError::Planning(format!("column `{column}` has a type no Delta table can store: {why} (nothing was written)"))
    })?;
    if stored == *schema.as_ref() {
        return Ok(plan);
    }
    let checked: Vec<bool> = schema
        .fields()
        .iter()
        .map(|field| column_conversion(field.data_type()).is_ok_and(|conversion| conversion == ColumnConversion::Checked))
        .collect();
    Ok(Arc::new(StoredTypesExec::new(plan, Arc::new(stored), checked, Arc::clone(failure))))
}

#[derive(Debug)]
struct StoredTypesExec {
    input: Arc<dyn ExecutionPlan>,
    schema: SchemaRef,
    /// Per column: whether its conversion may fail on a value (`uint64`).
    checked: Vec<bool>,
    failure: StorageFailure,
    properties: Arc<PlanProperties>,
}

impl StoredTypesExec {
    fn new(input: Arc<dyn ExecutionPlan>, schema: SchemaRef, checked: Vec<bool>, failure: StorageFailure) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            input.output_partitioning().clone(),
            input.pipeline_behavior(),
            input.boundedness(),
        ));
        StoredTypesExec { input, schema, checked, failure, properties }
    }
}

impl DisplayAs for StoredTypesExec {
    fn fmt_as(&self, _format: DisplayFormatType, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        let columns: Vec<String> = self
            .input
            .schema()
            .fields()
            .iter()
            .zip(self.schema.fields())
            .filter(|(from, to)| from.data_type() != to.data_type())
            .map(|(from, to)| format!("{}: {} as {}", from.name(), type_name(from.data_type()), type_name(to.data_type())))
            .collect();
        write!(formatter, "StoredTypesExec: [{}]", columns.join(", "))
    }
}

impl ExecutionPlan for StoredTypesExec {
    fn name(&self) -> &str {
        "StoredTypesExec"
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
            return Err(DataFusionError::Internal("StoredTypesExec has one child".to_string()));
        }
        Ok(Arc::new(StoredTypesExec::new(children.remove(0), Arc::clone(&self.schema), self.checked.clone(), Arc::clone(&self.failure))))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let schema = Arc::clone(&self.schema);
        let checked = self.checked.clone();
        let failure = Arc::clone(&self.failure);
        let converted = input.map(move |batch| batch.and_then(|batch| convert(&batch, &schema, &checked, &failure)));
        Ok(Box::pin(RecordBatchStreamAdapter::new(Arc::clone(&self.schema), converted)))
    }
}

/// `batch` with each column cast to `schema`'s type; a value that does not fit records the
/// failure and ends the stream.
fn convert(batch: &RecordBatch, schema: &SchemaRef, checked: &[bool], failure: &StorageFailure) -> Result<RecordBatch> {
    let options = CastOptions { safe: false, ..CastOptions::default() };
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (index, (column, field)) in batch.columns().iter().zip(schema.fields()).enumerate() {
        if column.data_type() == field.data_type() {
            columns.push(Arc::clone(column));
            continue;
        }
        match cast_with_options(column, field.data_type(), &options) {
            Ok(converted) => columns.push(converted),
            Err(error) => {
                let input_type = type_name(column.data_type());
                let message = format!(
                    "error[{code}]: column `{name}` (`{input_type}`) holds a value its Delta table cannot store as `{stored}`: {error}; nothing was committed",
                    code = viewdag_ir::Code::ValueNotStorable.id(),
                    name = field.name(),
                    stored = type_name(field.data_type()),
                );
                let hint = if checked[index] { " (cast it to `decimal128(20,0)` to keep every value)" } else { "" };
                let error = TaskError::ValueNotStorable { column: field.name().clone(), message: format!("{message}{hint}") };
                let mut slot = failure.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                slot.get_or_insert(error.clone());
                return Err(DataFusionError::Execution(error.to_string()));
            }
        }
    }
    RecordBatch::try_new(Arc::clone(schema), columns).map_err(DataFusionError::from)
}
