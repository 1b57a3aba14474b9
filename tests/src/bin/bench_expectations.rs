//! Expectation benchmark: one output over a Parquet source of ROWS rows, run with no
//! expectations, with the row expectations (`not_null`, `accepted_values`, a `warn`
//! predicate, `row_count`), and with those plus `unique` on the id column, or a `drop`
//! predicate — what checking inside the task's stream costs against the plain write.
//!
//! ```sh
//! cargo run --release -p viewdag-tests --bin bench-expectations -- 2000000
//! ```
//!
//! Each configuration runs three times in a fresh directory (compile first, so the timing
//! is execution and writing only); the median is reported.

use std::time::Instant;

use viewdag_driver::{CompileRequest, Compiler, RunOptions};
use viewdag_tests::data::write_parquet_file;

fn spec(expect: &str) -> String {
    format!(
        "version: 1\nsources:\n  facts: {{ format: parquet, path: data/facts.parquet }}\nviews:\n  all_facts:\n    project: {{ input: facts, columns: {{ id: id, k: k, v: v, s: s }} }}\noutputs:\n  facts_out:\n    view: all_facts\n    path: out/facts\n{expect}"
    )
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The allocator of this binary (see `mimalloc` in the workspace's Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let rows: usize = std::env::args().nth(1).and_then(|argument| argument.parse().ok()).unwrap_or(2_000_000);
    let data = tempfile::tempdir().expect("a temporary directory");
    write_parquet_file(&data.path().join("facts.parquet"), &viewdag_tests::synthetic::facts(rows, 1000, 50));
    let accepted: Vec<String> = (0..50).map(|index| format!("s{index}")).collect();
    let row_checks = format!(
        "    expect:\n      not_null: [id, k]\n      accepted_values: {{ s: [{}] }}\n      positive: {{ predicate: \"v >= 0\", on_fail: warn }}\n      row_count: {{ min: 1 }}\n",
        accepted.join(", ")
    );
    let with_unique = format!("{row_checks}      unique: [id]\n");
    let with_drop = format!("{row_checks}      small_k: {{ predicate: \"k < 900\", on_fail: drop }}\n");
    println!("rows={rows}");
    let mut baseline = None;
    let configurations = [
        ("no expectations", String::new()),
        ("row expectations (5)", row_checks),
        ("+ unique(id)", with_unique),
        ("+ drop (10% of rows)", with_drop),
    ];
    for (label, expect) in configurations {
        let mut times = Vec::new();
        for _ in 0..3 {
            let project = tempfile::tempdir().expect("a temporary directory");
            std::fs::create_dir_all(project.path().join("data")).expect("a data directory");
            std::fs::copy(data.path().join("facts.parquet"), project.path().join("data/facts.parquet")).expect("the source copies");
            let spec_path = project.path().join("spec.yaml");
            std::fs::write(&spec_path, spec(&expect)).expect("the spec writes");
            let mut compiler = Compiler::new().expect("a compiler");
            let response = compiler.compile(&CompileRequest::new(&spec_path)).expect("the spec reads");
            assert!(!response.has_errors(), "{:?}", response.diagnostics);
            let start = Instant::now();
            let report = compiler
                .run_with(&CompileRequest::new(&spec_path), &RunOptions { jobs: 1, ..RunOptions::default() }, &mut |_| {})
                .expect("runs");
            times.push(start.elapsed().as_secs_f64());
            assert!(report.succeeded(), "{:?}", report.tasks);
        }
        let time = median(times);
        let ratio = baseline.map(|base: f64| time / base).unwrap_or(1.0);
        baseline.get_or_insert(time);
        println!("{label:<24} {time:>8.3} s  ×{ratio:.2}");
    }
}
