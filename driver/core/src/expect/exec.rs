//! The pass-through node that checks a task's expectations while its rows stream into the
//! writer (see the module docs of `expect`).
//!
//! ## Invariants
//! - One output partition (the input's partitions are coalesced), so uniqueness and row
//!   counts are decided over every row before the stream ends.
//! - The stream ends with an error exactly when an expectation whose `on_fail` is `fail`
//!   failed: the writer then commits nothing. The results are published either way.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, StringArray};
use datafusion::arrow::compute::{cast, filter_record_batch};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties};
use futures::StreamExt;
use viewdag_ir::OnFail;

use super::ExpectationResult;
use super::compile::{Check, CompiledExpectations};

/// Where a finished stream leaves its results.
pub type ExpectationTally = Arc<Mutex<Vec<ExpectationResult>>>;

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
        let checker = Arc::new(Mutex::new(Checker::new(Arc::clone(&self.expectations))));
        let tally = Arc::clone(&self.tally);
        let batches = {
            let checker = Arc::clone(&checker);
            input.map(move |batch| batch.and_then(|batch| lock(&checker).check_batch(&batch)))
        };
        let end = futures::stream::once(async move {
            let results = lock(&checker).finish();
            let failed: Vec<String> = results.iter().filter(|result| result.blocks_commit()).map(ExpectationResult::describe).collect();
            *tally.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = results;
            if failed.is_empty() {
                Ok(None)
            } else {
                Err(DataFusionError::Execution(format!("expectations failed, nothing committed: {}", failed.join("; "))))
            }
        })
        .filter_map(|end: Result<Option<RecordBatch>>| async move { end.transpose() });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, batches.chain(end))))
    }
}

fn lock(checker: &Mutex<Checker>) -> std::sync::MutexGuard<'_, Checker> {
    checker.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Running counts over the rows seen so far.
struct Checker {
    expectations: Arc<CompiledExpectations>,
    results: Vec<ExpectationResult>,
    /// Per `unique` expectation: the keys seen, in Arrow's row format (no text casts).
    seen_keys: Vec<HashSet<Box<[u8]>>>,
    /// Per `unique` expectation on one integer column: the values seen (no row encoding).
    seen_integers: Vec<HashSet<i64>>,
    converters: Vec<Option<RowConverter>>,
    rows_kept: u64,
}

impl Checker {
    fn new(expectations: Arc<CompiledExpectations>) -> Self {
        let results = expectations
            .expectations
            .iter()
            .map(|expectation| ExpectationResult {
                owner: expectation.owner.clone(),
                name: expectation.name.clone(),
                on_fail: expectation.on_fail.as_str(),
                rows_checked: 0,
                rows_failed: 0,
                rows_dropped: 0,
            })
            .collect();
        let seen_keys = expectations.expectations.iter().map(|_| HashSet::new()).collect();
        let converters = expectations.expectations.iter().map(|_| None).collect();
        let seen_integers = expectations.expectations.iter().map(|_| HashSet::new()).collect();
        Checker { expectations, results, seen_keys, seen_integers, converters, rows_kept: 0 }
    }

    /// Whether each row of `batch` passes `expectation` (`None` for the checks that are
    /// not per row: `unique`, `row_count`).
    fn row_passes(expectation: &super::compile::CompiledExpectation, batch: &RecordBatch) -> Result<Option<Vec<bool>>> {
        let rows = batch.num_rows();
        Ok(Some(match &expectation.check {
            Check::Row { passes } => {
                let value = passes.evaluate(batch)?.into_array(rows)?;
                let value = value
                    .as_any()
                    .downcast_ref::<BooleanArray>()
                    .ok_or_else(|| DataFusionError::Execution(format!("expectation `{}` is not boolean", expectation.name)))?;
                (0..rows).map(|row| value.is_valid(row) && value.value(row)).collect()
            }
            Check::Relationship { column, values, compare_as, .. } => {
                let text = as_text(&cast(batch.column(*column), compare_as)?)?;
                (0..rows).map(|row| text.is_null(row) || values.contains(text.value(row))).collect()
            }
            Check::Unique { .. } | Check::RowCount { .. } => return Ok(None),
        }))
    }

    /// Counts one row expectation's result over `rows` rows.
    fn count(&mut self, index: usize, rows: usize, passes: &[bool], dropping: bool) {
        let failed = passes.iter().filter(|passed| !**passed).count() as u64;
        let result = &mut self.results[index];
        result.rows_checked += rows as u64;
        result.rows_failed += failed;
        if dropping {
            result.rows_dropped += failed;
        }
    }

    /// Evaluates the `drop` expectations first, in declaration order, each over the rows
    /// the ones before kept, removing the rows each rejects; then every other row
    /// expectation over the rows kept; then keys over the rows kept.
    fn check_batch(&mut self, batch: &RecordBatch) -> Result<RecordBatch> {
        let expectations = Arc::clone(&self.expectations);
        let mut kept = batch.clone();
        for (index, expectation) in
            expectations.expectations.iter().enumerate().filter(|(_, expectation)| expectation.on_fail == OnFail::Drop)
        {
            let Some(passes) = Self::row_passes(expectation, &kept)? else { continue };
            self.count(index, kept.num_rows(), &passes, true);
            if passes.iter().any(|passed| !*passed) {
                kept = filter_record_batch(&kept, &BooleanArray::from(passes))?;
            }
        }
        for (index, expectation) in
            expectations.expectations.iter().enumerate().filter(|(_, expectation)| expectation.on_fail != OnFail::Drop)
        {
            let Some(passes) = Self::row_passes(expectation, &kept)? else { continue };
            self.count(index, kept.num_rows(), &passes, false);
        }
        self.rows_kept += kept.num_rows() as u64;
        for (index, expectation) in expectations.expectations.iter().enumerate() {
            let Check::Unique { columns } = &expectation.check else { continue };
            let keys: Vec<ArrayRef> = columns.iter().map(|column| Arc::clone(kept.column(*column))).collect();
            if let [key] = keys.as_slice()
                && let Some(integers) = as_integers(key)
            {
                let result = &mut self.results[index];
                result.rows_checked += kept.num_rows() as u64;
                let seen = &mut self.seen_integers[index];
                seen.reserve(integers.len());
                for value in integers.iter().flatten() {
                    if !seen.insert(value) {
                        result.rows_failed += 1;
                    }
                }
                continue;
            }
            let converter = match &mut self.converters[index] {
                Some(converter) => converter,
                slot => slot.insert(RowConverter::new(keys.iter().map(|key| SortField::new(key.data_type().clone())).collect())?),
            };
            let rows = converter.convert_columns(&keys)?;
            let result = &mut self.results[index];
            result.rows_checked += kept.num_rows() as u64;
            for row in 0..kept.num_rows() {
                if keys.iter().any(|key| key.is_null(row)) {
                    continue;
                }
                if !self.seen_keys[index].insert(Box::from(rows.row(row).as_ref())) {
                    result.rows_failed += 1;
                }
            }
        }
        Ok(kept)
    }

    fn finish(&mut self) -> Vec<ExpectationResult> {
        for (index, expectation) in self.expectations.expectations.iter().enumerate() {
            if let Check::RowCount { min, max } = &expectation.check {
                let result = &mut self.results[index];
                result.rows_checked = self.rows_kept;
                let outside = min.is_some_and(|min| self.rows_kept < min) || max.is_some_and(|max| self.rows_kept > max);
                result.rows_failed = u64::from(outside);
            }
        }
        self.results.clone()
    }
}

/// An integer key column as `i64`s (`None` for other types).
fn as_integers(array: &ArrayRef) -> Option<datafusion::arrow::array::Int64Array> {
    use datafusion::arrow::datatypes::DataType::{Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32};
    match array.data_type() {
        Int64 => array.as_any().downcast_ref::<datafusion::arrow::array::Int64Array>().cloned(),
        Int8 | Int16 | Int32 | UInt8 | UInt16 | UInt32 => {
            cast(array, &DataType::Int64).ok()?.as_any().downcast_ref::<datafusion::arrow::array::Int64Array>().cloned()
        }
        _ => None,
    }
}

fn as_text(array: &ArrayRef) -> Result<StringArray> {
    let text = cast(array, &DataType::Utf8)?;
    Ok(text.as_any().downcast_ref::<StringArray>().cloned().unwrap_or_else(|| StringArray::from(Vec::<Option<&str>>::new())))
}
