//! The synthetic `facts(id, k, v, s)` table the benchmarks read.

use std::ops::Range;
use std::sync::Arc;

use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

/// `rows` rows: `id` = 0.., `k` = id mod `keys`, `v` = id / 3, `s` = "s" + (id mod `strings`).
pub fn facts(rows: usize, keys: i64, strings: i64) -> RecordBatch {
    fact_rows(0..rows as i64, keys, strings)
}

/// The rows of [`facts`] whose ids are `ids` (a later range: rows appended to the table).
pub fn fact_rows(ids: Range<i64>, keys: i64, strings: i64) -> RecordBatch {
    let ids: Vec<i64> = ids.collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("k", DataType::Int64, true),
            Field::new("v", DataType::Float64, true),
            Field::new("s", DataType::Utf8, true),
        ])),
        vec![
            Arc::new(Int64Array::from(ids.clone())),
            Arc::new(Int64Array::from(ids.iter().map(|id| id % keys).collect::<Vec<i64>>())),
            Arc::new(Float64Array::from(ids.iter().map(|id| *id as f64 / 3.0).collect::<Vec<f64>>())),
            Arc::new(StringArray::from(ids.iter().map(|id| format!("s{}", id % strings)).collect::<Vec<String>>())),
        ],
    )
    .expect("a valid batch")
}
