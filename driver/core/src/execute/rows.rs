//! The canonical row form: how every comparison of results (lab across rulepacks, replay
//! against the compiled plan, expectations' tests, the integration tests) sees rows.
//!
//! A row is its cells rendered with Arrow's display and joined by `|`; a null is `NULL`; the
//! rows are sorted, so two results compare equal exactly when they hold the same multiset of
//! rows, whatever their partitioning or order.
//!
//! ## The float rule
//! A `float16`/`float32`/`float64` cell is written with 9 significant digits in scientific
//! notation (`{:.8e}`: `2.5` is `2.50000000e0`), `-0` as `0.00000000e0`, `NaN` and `inf`
//! as Rust prints them. Why relative precision rather than a fixed number of decimals: a
//! fixed `{:.6}` erases every value below 5e-7 (a ratio of `1e-9` reads `0.000000`) while
//! printing the order-dependent last digits of a large sum (`1e15` has no 6 reliable
//! decimals), so it both hides real differences and shows spurious ones. Nine significant
//! digits keep every magnitude distinguishable and stay far above the few ulps by which two
//! correct plans may differ when they sum in another order. Floats nested in lists or
//! structs are rendered by Arrow's display as they are.
//!
//! ## Invariants
//! - Pure and deterministic: the same rows give the same strings on every run and machine.
//! - Total: a cell Arrow cannot display renders as `<unprintable TYPE>` (never an error, so
//!   a comparison never stops halfway).

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Float16Type, Float32Type, Float64Type};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

/// Rows in the canonical form (see the module doc), sorted.
pub fn canonical_rows(batches: &[RecordBatch]) -> Vec<String> {
    let options = FormatOptions::default();
    let mut rows = Vec::new();
    for batch in batches {
        let formatters: Vec<Option<ArrayFormatter<'_>>> =
            batch.columns().iter().map(|column| ArrayFormatter::try_new(column.as_ref(), &options).ok()).collect();
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = batch
                .columns()
                .iter()
                .zip(&formatters)
                .map(|(column, formatter)| canonical_cell(column.as_ref(), row, formatter.as_ref()))
                .collect();
            rows.push(cells.join("|"));
        }
    }
    rows.sort();
    rows
}

/// One cell in the canonical form.
fn canonical_cell(column: &dyn Array, row: usize, formatter: Option<&ArrayFormatter<'_>>) -> String {
    if column.is_null(row) {
        return "NULL".to_string();
    }
    let float = match column.data_type() {
        DataType::Float16 => Some(column.as_primitive::<Float16Type>().value(row).to_f64()),
        DataType::Float32 => Some(f64::from(column.as_primitive::<Float32Type>().value(row))),
        DataType::Float64 => Some(column.as_primitive::<Float64Type>().value(row)),
        _ => None,
    };
    match (float, formatter) {
        (Some(value), _) => canonical_float(value),
        (None, Some(formatter)) => formatter.value(row).to_string(),
        (None, None) => format!("<unprintable {}>", column.data_type()),
    }
}

/// A float with 9 significant digits; negative zero is zero.
pub fn canonical_float(value: f64) -> String {
    let value = if value == 0.0 { 0.0 } else { value };
    format!("{value:.8e}")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Float32Array, Float64Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    use super::*;

    #[test]
    fn floats_keep_nine_significant_digits_at_every_magnitude() {
        assert_eq!(canonical_float(2.5), "2.50000000e0");
        assert_eq!(canonical_float(1e-9), "1.00000000e-9");
        assert_ne!(canonical_float(1e-9), canonical_float(2e-9), "tiny values stay distinct");
        assert_eq!(canonical_float(1e15 + 0.25), canonical_float(1e15), "digits beyond the ninth do not show");
        assert_eq!(canonical_float(-0.0), canonical_float(0.0));
        assert_eq!(canonical_float(f64::NAN), "NaN");
        assert_eq!(canonical_float(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn rows_are_a_sorted_multiset_with_nulls_and_floats_canonical() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
            Field::new("amount", DataType::Float64, true),
            Field::new("ratio", DataType::Float32, true),
        ]));
        let batch = |ids: Vec<i64>, names: Vec<Option<&str>>, amounts: Vec<Option<f64>>, ratios: Vec<Option<f32>>| {
            RecordBatch::try_new(
                Arc::clone(&schema),
                vec![
                    Arc::new(Int64Array::from(ids)),
                    Arc::new(StringArray::from(names)),
                    Arc::new(Float64Array::from(amounts)),
                    Arc::new(Float32Array::from(ratios)),
                ],
            )
            .unwrap()
        };
        let one = batch(vec![2, 1], vec![Some("b"), None], vec![Some(0.1), None], vec![Some(0.5), Some(-0.0)]);
        let other =
            [batch(vec![1], vec![None], vec![None], vec![Some(0.0)]), batch(vec![2], vec![Some("b")], vec![Some(0.1)], vec![Some(0.5)])];
        assert_eq!(canonical_rows(std::slice::from_ref(&one)), ["1|NULL|NULL|0.00000000e0", "2|b|1.00000000e-1|5.00000000e-1"]);
        assert_eq!(canonical_rows(&[one]), canonical_rows(&other), "partitioning and order do not matter");
    }
}
