//! Run benchmark: the same project run with `--jobs 1` and `--jobs 2` (and the cost model's
//! simulated makespans for both), in one process, so the ratio compares like with like.
//!
//! ```sh
//! cargo run --release -p viewdag-tests --bin bench-run -- 2000000 8
//! ```
//!
//! The project: one Parquet source `facts(id, k, v, s)` of ROWS rows and OUTPUTS independent
//! outputs, each a filter and an aggregate over it (so the tasks share no work and any
//! speedup comes from running them at once). Each configuration runs three times in a fresh
//! directory; the median is reported.

use std::time::Instant;

use viewdag_driver::viewdag_schedule::list_schedule;
use viewdag_driver::{CompileRequest, Compiler, RunOptions};
use viewdag_tests::data::write_parquet_file;

fn spec(outputs: usize) -> String {
    let mut text = String::from("version: 1\nsources:\n  facts: { format: parquet, path: data/facts.parquet }\nviews:\n");
    for index in 0..outputs {
        text.push_str(&format!(
            "  f{index}:\n    filter: {{ input: facts, predicate: \"k % {modulus} <> {index}\" }}\n  a{index}:\n    aggregate: {{ input: f{index}, group_by: [s], measures: {{ total: \"sum(v)\", n: \"count(*)\", top: \"max(id)\" }} }}\n",
            modulus = outputs + 1
        ));
    }
    text.push_str("outputs:\n");
    for index in 0..outputs {
        text.push_str(&format!("  o{index}: {{ view: a{index}, path: out/o{index} }}\n"));
    }
    text
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The allocator of this binary (see `mimalloc` in the workspace's Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let arguments: Vec<usize> = std::env::args().skip(1).filter_map(|argument| argument.parse().ok()).collect();
    let rows = arguments.first().copied().unwrap_or(2_000_000);
    let outputs = arguments.get(1).copied().unwrap_or(8);
    let data = tempfile::tempdir().expect("a temporary directory");
    write_parquet_file(&data.path().join("facts.parquet"), &viewdag_tests::synthetic::facts(rows, 1000, 5000));
    let text = spec(outputs);
    println!("rows={rows} outputs={outputs}");
    let mut medians = Vec::new();
    for jobs in [1, 2] {
        let mut times = Vec::new();
        let mut simulated = 0;
        for _ in 0..3 {
            let project = tempfile::tempdir().expect("a temporary directory");
            std::fs::create_dir_all(project.path().join("data")).expect("a data directory");
            std::fs::copy(data.path().join("facts.parquet"), project.path().join("data/facts.parquet")).expect("the source copies");
            let spec_path = project.path().join("spec.yaml");
            std::fs::write(&spec_path, &text).expect("the spec writes");
            let mut compiler = Compiler::new().expect("a compiler");
            // Compile first, so the timing below is execution and writing only.
            let response = compiler.compile(&CompileRequest::new(&spec_path)).expect("the spec reads");
            assert!(!response.has_errors(), "{:?}", response.diagnostics);
            let (tasks, costs) = compiler.snapshot().task_costs();
            simulated = list_schedule(&tasks, &costs, jobs).makespan;
            let start = Instant::now();
            let report = compiler
                .run_with(&CompileRequest::new(&spec_path), &RunOptions { jobs, ..RunOptions::default() }, &mut |_| {})
                .expect("the run starts");
            times.push(start.elapsed().as_secs_f64());
            assert!(report.succeeded(), "{:?}", report.tasks);
        }
        let time = median(times);
        println!("jobs={jobs} run_seconds={time:.3} simulated_makespan_bytes={simulated}");
        medians.push((time, simulated));
    }
    let (sequential, parallel) = (medians[0], medians[1]);
    println!("speedup measured={:.2}x simulated={:.2}x", sequential.0 / parallel.0, sequential.1 as f64 / parallel.1.max(1) as f64);
}
