//! Checking a task's expectations batch by batch: the running counts of one stream of rows
//! ([`ExpectationChecker`]), as plain numbers ([`ExpectationCounts`]) that add up across
//! streams, and the results they make ([`CompiledExpectations::results`]).
//!
//! The driver checks one stream (`ExpectationExec`, above the task's plan); a cluster's
//! executors check one stream per partition while they write the data files, and the driver
//! adds their counts up before it decides to commit. Counts add up exactly when every
//! `unique` key lands in one partition (the executors' rows are hash-partitioned by it).
//!
//! ## Invariants
//! - `drop` expectations are evaluated first, in declaration order, each over the rows the
//!   ones before kept; every other expectation (row checks and keys) counts only the kept
//!   rows, which are the rows written; `row_count` counts the kept rows, decided only once
//!   every stream's counts are in.
//! - Counts are in the expectations' fixed order (view's, output's, merge key).

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, StringArray};
use datafusion::arrow::compute::{cast, filter_record_batch};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::{DataFusionError, Result};
use serde::{Deserialize, Serialize};
use viewdag_ir::OnFail;

use super::ExpectationResult;
use super::compile::{Check, CompiledExpectation, CompiledExpectations};

/// What one or more streams of a task's rows found, per expectation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectationCounts {
    /// Per expectation, in order: rows checked, rows failed, rows dropped.
    pub counts: Vec<[u64; 3]>,
    /// Rows kept (not dropped): the rows written.
    pub rows_kept: u64,
}

impl ExpectationCounts {
    /// Adds another stream's counts (of the same expectations).
    pub fn add(&mut self, other: &ExpectationCounts) {
        if self.counts.len() < other.counts.len() {
            self.counts.resize(other.counts.len(), [0; 3]);
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            for (count, more) in mine.iter_mut().zip(theirs) {
                *count += more;
            }
        }
        self.rows_kept += other.rows_kept;
    }
}

impl CompiledExpectations {
    /// The results `counts` (every stream's, added up) make: `row_count` decided on the kept
    /// rows.
    pub fn results(&self, counts: &ExpectationCounts) -> Vec<ExpectationResult> {
        self.expectations
            .iter()
            .enumerate()
            .map(|(index, expectation)| {
                let [checked, failed, dropped] = counts.counts.get(index).copied().unwrap_or_default();
                let (rows_checked, rows_failed) = match &expectation.check {
                    Check::RowCount { min, max } => {
                        let kept = counts.rows_kept;
                        (kept, u64::from(min.is_some_and(|min| kept < min) || max.is_some_and(|max| kept > max)))
                    }
                    _ => (checked, failed),
                };
                ExpectationResult {
                    owner: expectation.owner.clone(),
                    name: expectation.name.clone(),
                    on_fail: expectation.on_fail,
                    rows_checked,
                    rows_failed,
                    rows_dropped: dropped,
                }
            })
            .collect()
    }
}

/// Why a task with these results commits nothing, if it does not.
pub fn failure_message(results: &[ExpectationResult]) -> Option<String> {
    let failed: Vec<String> = results.iter().filter(|result| result.blocks_commit()).map(ExpectationResult::describe).collect();
    (!failed.is_empty()).then(|| format!("expectations failed, nothing committed: {}", failed.join("; ")))
}

/// Running counts over the rows of one stream seen so far.
pub struct ExpectationChecker {
    expectations: Arc<CompiledExpectations>,
    counts: ExpectationCounts,
    /// Per `unique` expectation: the keys seen, in Arrow's row format (no text casts).
    seen_keys: Vec<HashSet<Box<[u8]>>>,
    /// Per `unique` expectation on one integer column: the values seen (no row encoding).
    seen_integers: Vec<HashSet<i64>>,
    converters: Vec<Option<RowConverter>>,
}

impl std::fmt::Debug for ExpectationChecker {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("ExpectationChecker").field("counts", &self.counts).finish()
    }
}

impl ExpectationChecker {
    /// A checker of `expectations` that has seen no row.
    pub fn new(expectations: Arc<CompiledExpectations>) -> Self {
        let count = expectations.expectations.len();
        ExpectationChecker {
            counts: ExpectationCounts { counts: vec![[0; 3]; count], rows_kept: 0 },
            seen_keys: (0..count).map(|_| HashSet::new()).collect(),
            seen_integers: (0..count).map(|_| HashSet::new()).collect(),
            converters: (0..count).map(|_| None).collect(),
            expectations,
        }
    }

    /// What the rows seen so far found.
    pub fn counts(&self) -> &ExpectationCounts {
        &self.counts
    }

    /// Whether each row of `batch` passes `expectation` (`None` for the checks that are not
    /// per row: `unique`, `row_count`).
    fn row_passes(expectation: &CompiledExpectation, batch: &RecordBatch) -> Result<Option<Vec<bool>>> {
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

    /// Counts one row expectation's result over `passes` (one entry per row checked).
    fn count(&mut self, index: usize, passes: &[bool], dropping: bool) {
        let failed = passes.iter().filter(|passed| !**passed).count() as u64;
        let [checked, failed_so_far, dropped] = &mut self.counts.counts[index];
        *checked += passes.len() as u64;
        *failed_so_far += failed;
        if dropping {
            *dropped += failed;
        }
    }

    /// Evaluates the `drop` expectations first, in declaration order, each over the rows the
    /// ones before kept, removing the rows each rejects; then every other row expectation
    /// over the rows kept; then the keys over the rows kept, which it returns.
    pub fn check_batch(&mut self, batch: &RecordBatch) -> Result<RecordBatch> {
        let expectations = Arc::clone(&self.expectations);
        let mut kept = batch.clone();
        for (index, expectation) in
            expectations.expectations.iter().enumerate().filter(|(_, expectation)| expectation.on_fail == OnFail::Drop)
        {
            let Some(passes) = Self::row_passes(expectation, &kept)? else { continue };
            self.count(index, &passes, true);
            if passes.iter().any(|passed| !*passed) {
                kept = filter_record_batch(&kept, &BooleanArray::from(passes))?;
            }
        }
        for (index, expectation) in
            expectations.expectations.iter().enumerate().filter(|(_, expectation)| expectation.on_fail != OnFail::Drop)
        {
            let Some(passes) = Self::row_passes(expectation, &kept)? else { continue };
            self.count(index, &passes, false);
        }
        self.counts.rows_kept += kept.num_rows() as u64;
        for (index, expectation) in expectations.expectations.iter().enumerate() {
            let Check::Unique { columns } = &expectation.check else { continue };
            let keys: Vec<ArrayRef> = columns.iter().map(|column| Arc::clone(kept.column(*column))).collect();
            self.counts.counts[index][0] += kept.num_rows() as u64;
            if let [key] = keys.as_slice()
                && let Some(integers) = as_integers(key)
            {
                let seen = &mut self.seen_integers[index];
                seen.reserve(integers.len());
                let repeated = integers.iter().flatten().filter(|value| !seen.insert(*value)).count();
                self.counts.counts[index][1] += repeated as u64;
                continue;
            }
            let converter = match &mut self.converters[index] {
                Some(converter) => converter,
                slot => slot.insert(RowConverter::new(keys.iter().map(|key| SortField::new(key.data_type().clone())).collect())?),
            };
            let encoded = converter.convert_columns(&keys)?;
            for row in 0..kept.num_rows() {
                if keys.iter().any(|key| key.is_null(row)) {
                    continue;
                }
                if !self.seen_keys[index].insert(Box::from(encoded.row(row).as_ref())) {
                    self.counts.counts[index][1] += 1;
                }
            }
        }
        Ok(kept)
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
