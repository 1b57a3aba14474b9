//! A task's rows converted to the types their Delta table stores (`viewdag_ir::delta_types`)
//! on their way into the table: what the writer commits is what every reader reads back.
//!
//! deltalake declares a column by its Arrow shape and writes its values untouched: a
//! `uint32` column was declared `integer` over files holding values up to 2³²−1, and the
//! table could not be read by anyone. [`as_stored`] casts each batch to the stored schema —
//! unsigned integers widened (`uint64` checked: a value above 2⁶³−1 fails the task with
//! `V0510`, naming the column), timestamps to microseconds, dictionaries to their values,
//! nested types element by element.
//!
//! ## Invariants
//! - A plan whose schema is stored already is returned as it is (no node added).
//! - No value changes except where Delta cannot hold it: widenings are exact; `uint64` is
//!   checked, never wrapped; timestamps lose only what Delta cannot store (below a
//!   microsecond).

use std::sync::Arc;

use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::physical_plan::ExecutionPlan;
use viewdag_ir::Code;
use viewdag_ir::delta_types::{ColumnConversion, column_conversion, delta_stored_schema};
use viewdag_ir::types::type_name;

use super::batch_guard::{GuardFailure, guard};
use super::error::TaskError;

/// `plan`, its rows converted to the types its table stores; `failure` receives the first
/// value that does not fit. A schema Delta cannot store at all is the task's error (`check`
/// reports it as `V0508` first).
pub fn as_stored(plan: Arc<dyn ExecutionPlan>, failure: &GuardFailure) -> Result<Arc<dyn ExecutionPlan>, TaskError> {
    let schema = plan.schema();
    let stored = delta_stored_schema(&schema).map_err(|(column, why)| {
        TaskError::Planning(format!("column `{column}` has a type no Delta table can store: {why} (nothing was written)"))
    })?;
    if stored == *schema.as_ref() {
        return Ok(plan);
    }
    let stored: SchemaRef = Arc::new(stored);
    let label = schema
        .fields()
        .iter()
        .zip(stored.fields())
        .filter(|(from, to)| from.data_type() != to.data_type())
        .map(|(from, to)| format!("{} as {}", from.name(), type_name(to.data_type())))
        .collect::<Vec<_>>()
        .join(", ");
    let target = Arc::clone(&stored);
    let map = Arc::new(move |batch: &RecordBatch| convert(batch, &target));
    Ok(guard(plan, stored, format!("stored types [{label}]"), map, failure))
}

/// `batch` with each column cast to `schema`'s type; a value that does not fit is `V0510`.
fn convert(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, TaskError> {
    let options = CastOptions { safe: false, ..CastOptions::default() };
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (column, field) in batch.columns().iter().zip(schema.fields()) {
        if column.data_type() == field.data_type() {
            columns.push(Arc::clone(column));
            continue;
        }
        let converted = cast_with_options(column, field.data_type(), &options).map_err(|error| {
            let checked = column_conversion(column.data_type()).is_ok_and(|conversion| conversion == ColumnConversion::Checked);
            let hint = if checked { " (cast it to `decimal128(20,0)` to keep every value)" } else { "" };
            TaskError::ValueNotStorable {
                column: field.name().clone(),
                message: format!(
                    "error[{code}]: column `{name}` (`{from}`) holds a value its Delta table cannot store as `{to}`: {error}; nothing was committed{hint}",
                    code = Code::ValueNotStorable.id(),
                    name = field.name(),
                    from = type_name(column.data_type()),
                    to = type_name(field.data_type()),
                ),
            }
        })?;
        columns.push(converted);
    }
    RecordBatch::try_new(Arc::clone(schema), columns).map_err(|error| TaskError::Execution(error.to_string()))
}
