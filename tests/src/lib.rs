//! Test support for viewdag: writers for real Delta, Parquet and CSV files, the shop
//! example's data, proptest generators of valid specs with small random data and of changes to their sources, and TPC-H
//! (schemas, a tiny data set, the 22 queries as a spec) and its data at any scale factor, a wide
//! and deep chain of SQL views (`wide_sql_chain`), a
//! real S3-compatible server (`s3_server`: `moto_server` as a process), and the readers of
//! the workspace's own sources that the `hygiene` tests use (`rust_tokens`, `file_imports`, `type_mentions`,
//! `declared_dependencies`).
//!
//! Everything here writes real files with the real libraries; nothing is mocked.

pub mod data;
pub mod declared_dependencies;
pub mod file_imports;
pub mod generate;
pub mod local_cluster;
pub mod lsp_client;
pub mod lsp_latency;
pub mod rust_tokens;
pub mod s3_server;
pub mod shop;
pub mod source_changes;
pub mod synthetic;
pub mod synthetic_dag;
pub mod tpch;
pub mod tpch_data;
pub mod type_mentions;
pub mod wide_sql_chain;
