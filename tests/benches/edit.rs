//! Criterion benchmarks of what an editor waits for on a generated 1,000-view spec
//! (`viewdag_tests::synthetic_dag`, the transforms shape): a cold check (a fresh compiler on
//! the shared runtime), and the recompile after a leaf view's filter is edited (the edit and
//! its undo, alternately, on a warm compiler: each iteration is one edit). The figures and
//! the command are in BENCHMARKS.md (`cargo bench -p viewdag-tests --bench edit`).

use criterion::{Criterion, criterion_group, criterion_main};
use viewdag_driver::{AsyncRuntime, Compiler};
use viewdag_tests::synthetic_dag::{DagShape, SyntheticProject};

/// Views in the generated spec.
const VIEWS: usize = 1000;

fn edit_benchmarks(criterion: &mut Criterion) {
    let project = SyntheticProject::create(DagShape::Transforms, VIEWS);
    let leaf = project.dag.leaf_filter().expect("the generated DAG has a leaf filter");
    let edited = project.dag.with_leaf_edit(&project.text, leaf);
    let runtime = AsyncRuntime::new().expect("the async runtime starts");
    let mut group = criterion.benchmark_group("edit_1000_views");
    group.sample_size(10);
    group.bench_function("cold_check", |bench| {
        bench.iter(|| {
            let mut compiler = Compiler::with_runtime(&runtime);
            let response = compiler.check_text(&project.spec_path, &project.text);
            assert!(!response.has_errors(), "the generated spec checks");
            response
        })
    });
    let mut compiler = Compiler::with_runtime(&runtime);
    assert!(!compiler.compile_text(&project.spec_path, &project.text).has_errors(), "the generated spec compiles");
    let mut texts = [&edited, &project.text].into_iter().cycle();
    group.bench_function("leaf_edit_recompile", |bench| {
        bench.iter(|| {
            let response = compiler.compile_text(&project.spec_path, texts.next().expect("the texts cycle"));
            assert!(response.stats.executed() > 0, "an edit re-executes the queries it touched");
            response
        })
    });
    group.finish();
}

criterion_group!(benches, edit_benchmarks);
criterion_main!(benches);
