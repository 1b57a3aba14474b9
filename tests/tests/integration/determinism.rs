//! Identical runs give identical tables: float `sum`/`avg` do not depend on the order
//! partitions finish in, so a view read twice within one task gives one answer (issue 21,
//! item 21: `union [agg, agg] distinct: true` over a float `sum()` wrote 61, 41 and 32 rows
//! on three `--force` runs; 32 is right).

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use proptest::prelude::*;
use viewdag_driver::{CompileRequest, Compiler, RunOptions};
use viewdag_tests::data::{read_delta_rows_exact, write_parquet_file};
use viewdag_tests::generate::{GeneratedProject, shared_float_aggregates_strategy};

use crate::support::TempProject;

/// Runs every task of `spec` (forced), one task at a time or `jobs` at once.
fn run_forced(spec: &std::path::Path, jobs: usize) {
    let options = RunOptions { force: true, jobs, ..RunOptions::default() };
    let report = Compiler::new().expect("a compiler").run_with(&CompileRequest::new(spec), &options, &mut |_| {}).expect("readable");
    assert!(report.succeeded(), "{:?}\n{:?}", report.compile.diagnostics, report.tasks);
}

/// 40 000 values over 32 keys spanning twelve orders of magnitude: the order in which
/// they are added changes the last digits of a float sum.
fn write_wide_floats(project: &TempProject) {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let rows = 40_000;
    let keys: Vec<i64> = (0..rows).map(|row| row % 32).collect();
    let values: Vec<f64> = (0..rows).map(|_| (next() % 1_000_000) as f64 / 997.0 * 10f64.powi((next() % 12) as i32 - 3)).collect();
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, false), Field::new("v", DataType::Float64, false)])),
        vec![Arc::new(Int64Array::from(keys)), Arc::new(Float64Array::from(values))],
    )
    .expect("a batch");
    write_parquet_file(&project.path().join("data/floats.parquet"), &batch);
}

#[test]
fn a_float_aggregate_read_twice_in_one_task_gives_one_answer_on_every_run() {
    let project = TempProject::empty();
    write_wide_floats(&project);
    let spec = project.write_spec(
        "spec.yaml",
        "version: 1
sources:
  floats: { format: parquet, path: data/floats.parquet }
views:
  totals:
    aggregate: { input: floats, group_by: [k], measures: { total: \"sum(v)\", mean: \"avg(v)\" } }
  twice:
    union: { inputs: [totals, totals], distinct: true }
outputs:
  twice: { view: twice, path: out/twice }
profile:
  batch_size: 256
",
    );
    let mut tables = BTreeSet::new();
    for _ in 0..3 {
        run_forced(&spec, 4);
        let rows = read_delta_rows_exact(&project.path().join("out/twice"));
        // One row per key: both copies of `totals` summed to the same bits.
        assert_eq!(rows.len(), 32, "{rows:?}");
        tables.insert(rows);
    }
    assert_eq!(tables.len(), 1, "three runs wrote different tables");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, ..ProptestConfig::default() })]

    /// Generated DAGs whose float aggregates are read twice within one task (a union of a
    /// view with itself, a self-join requiring equal totals) and built upon, run twice:
    /// every output is identical bit for bit, the self-union has one row per key and the
    /// self-join keeps every key.
    #[test]
    fn generated_dags_with_shared_float_aggregates_give_identical_tables(project in shared_float_aggregates_strategy(4)) {
        let directory = TempProject::empty();
        let spec = project.write(directory.path());
        std::fs::write(&spec, format!("{}profile:\n  batch_size: 256\n", project.spec_yaml())).expect("the spec is written");
        let read_all = |project: &GeneratedProject| -> Vec<(String, Vec<String>)> {
            project.outputs.iter().map(|(name, output)| (name.clone(), read_delta_rows_exact(&directory.path().join(&output.path)))).collect()
        };
        run_forced(&spec, 4);
        let first = read_all(&project);
        run_forced(&spec, 1);
        let second = read_all(&project);
        prop_assert_eq!(&first, &second);
        for source in &project.sources {
            let keys: BTreeSet<i64> = source.keys.iter().flatten().copied().collect();
            let twice = &first.iter().find(|(name, _)| *name == format!("{}_twice", source.name)).expect("an output").1;
            prop_assert_eq!(twice.len(), keys.len(), "{}_twice: {:?}", source.name, twice);
            let agreeing = &first.iter().find(|(name, _)| *name == format!("{}_agreeing", source.name)).expect("an output").1;
            prop_assert_eq!(agreeing.len(), keys.len(), "{}_agreeing: {:?}", source.name, agreeing);
        }
    }
}
