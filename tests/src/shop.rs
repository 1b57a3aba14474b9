//! The shop example's data: orders (Delta), customers (Parquet), regions (CSV).
//! Deterministic: the same rows every time.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Date32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use crate::data::{write_csv_file, write_delta_table, write_parquet_file};

pub const REGIONS: [&str; 4] = ["north", "south", "east", "west"];
pub const STATUSES: [&str; 3] = ["paid", "pending", "refunded"];
pub const SEGMENTS: [&str; 3] = ["retail", "wholesale", "online"];

pub fn orders(count: i64) -> RecordBatch {
    let ids: Vec<i64> = (1..=count).collect();
    let customers: Vec<i64> = ids.iter().map(|id| (id * 7) % 12 + 1).collect();
    let statuses: Vec<&str> = ids.iter().map(|id| STATUSES[(*id as usize * 5) % 3]).collect();
    let amounts: Vec<f64> = ids.iter().map(|id| ((id * 37) % 500) as f64 / 4.0 - if id % 11 == 0 { 200.0 } else { 0.0 }).collect();
    let dates: Vec<i32> = ids.iter().map(|id| 19_700 + (*id as i32 % 60)).collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("order_id", DataType::Int64, false),
            Field::new("customer_id", DataType::Int64, true),
            Field::new("status", DataType::Utf8, true),
            Field::new("amount", DataType::Float64, true),
            Field::new("order_date", DataType::Date32, true),
        ])),
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(Int64Array::from(customers)),
            Arc::new(StringArray::from(statuses)),
            Arc::new(Float64Array::from(amounts)),
            Arc::new(Date32Array::from(dates)),
        ],
    )
    .expect("a valid batch")
}

pub fn customers() -> RecordBatch {
    let ids: Vec<i64> = (1..=12).collect();
    let names: Vec<String> = ids.iter().map(|id| format!("customer_{id:02}")).collect();
    // Customer 12 has a region that regions.csv does not list.
    let regions: Vec<i64> = ids.iter().map(|id| if *id == 12 { 9 } else { id % 4 + 1 }).collect();
    let segments: Vec<&str> = ids.iter().map(|id| SEGMENTS[*id as usize % 3]).collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("customer_id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
            Field::new("region_id", DataType::Int64, true),
            Field::new("segment", DataType::Utf8, true),
        ])),
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(StringArray::from(names)),
            Arc::new(Int64Array::from(regions)),
            Arc::new(StringArray::from(segments)),
        ],
    )
    .expect("a valid batch")
}

pub fn regions() -> RecordBatch {
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("region_id", DataType::Int64, false), Field::new("region", DataType::Utf8, false)])),
        vec![Arc::new(Int64Array::from(vec![1, 2, 3, 4])), Arc::new(StringArray::from(REGIONS.to_vec()))],
    )
    .expect("a valid batch")
}

/// Writes the example's three sources under `data`.
pub fn write_shop_data(data: &Path) {
    let orders_path = data.join("orders");
    if orders_path.exists() {
        std::fs::remove_dir_all(&orders_path).expect("old orders are removed");
    }
    write_delta_table(&orders_path, vec![orders(48)]);
    write_parquet_file(&data.join("customers.parquet"), &customers());
    write_csv_file(&data.join("regions.csv"), &regions());
}
