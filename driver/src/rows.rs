//! Rows as comparable text: how results are compared as multisets (replay, tests).

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::array_value_to_string;

/// Rows rendered as `a|b|c` lines (nulls as `NULL`, floats rounded to 6 places), sorted, so
/// two results compare equal exactly when they hold the same rows in any order.
pub fn rows_as_text(batches: &[RecordBatch]) -> Vec<String> {
    let mut rows = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = batch
                .columns()
                .iter()
                .map(|column| {
                    if column.is_null(row) {
                        return "NULL".to_string();
                    }
                    let text = array_value_to_string(column, row).unwrap_or_default();
                    match column.data_type() {
                        DataType::Float32 | DataType::Float64 => text.parse::<f64>().map(|value| format!("{value:.6}")).unwrap_or(text),
                        _ => text,
                    }
                })
                .collect();
            rows.push(cells.join("|"));
        }
    }
    rows.sort();
    rows
}
