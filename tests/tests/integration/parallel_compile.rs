//! A compile on several threads is the compile on one: the same outcomes and diagnostics,
//! the same queries executed (as a multiset: only their order may differ), and byte-identical
//! `compile --out` directories — on projects with failed, blocked, cyclic and unknown views.

use std::collections::BTreeMap;
use std::path::Path;

use viewdag_driver::artifacts::write_compile_output;
use viewdag_driver::parallel::PLANNING_STACK_BYTES;
use viewdag_driver::{CompileResponse, Compiler, Planning};
use viewdag_tests::synthetic_dag::{DagShape, SyntheticProject};

/// The synthetic project's text with errors of every kind the structure and the checks find:
/// a view reading an unknown column (its readers blocked), a cycle, an unknown relation,
/// and a view declared twice.
fn with_errors(project: &SyntheticProject) -> String {
    let middle = &project.dag.views[project.dag.views.len() / 3];
    let failed = format!("  {}:\n    filter: {{ input: {}, predicate: \"no_such_column > 1\" }}\n", middle.name, middle.reads[0]);
    let broken = project.text.replacen(&middle.yaml, &failed, 1);
    let first = &project.dag.views[0].name;
    let extra = format!(
        "  cycle_a:\n    filter: {{ input: cycle_b, predicate: \"true\" }}\n  cycle_b:\n    filter: {{ input: cycle_a, predicate: \"true\" }}\n  reads_nothing_known:\n    filter: {{ input: no_such_relation, predicate: \"true\" }}\n  {first}:\n    filter: {{ input: {first}, predicate: \"true\" }}\n"
    );
    broken.replacen("outputs:\n", &format!("{extra}outputs:\n"), 1)
}

/// Compiles `text` on `jobs` threads, from a thread with the CLI's stack, and writes what
/// `compile --out` writes into `out` when anything is planned.
fn compile(project: &SyntheticProject, text: &str, planning: Planning, jobs: usize, out: &Path) -> CompileResponse {
    std::thread::scope(|scope| {
        let compiling = std::thread::Builder::new().stack_size(PLANNING_STACK_BYTES).spawn_scoped(scope, || {
            let mut compiler = Compiler::new().expect("a compiler");
            compiler.set_compile_jobs(jobs);
            let response = compiler.compile_text_with(&project.spec_path, text, planning);
            if planning != Planning::CheckOnly {
                write_compile_output(compiler.snapshot(), &response, out).expect("the compile output is written");
            }
            response
        });
        compiling.expect("a compiling thread").join().expect("no panic")
    })
}

/// Each executed (function, relation) with how often it ran.
fn executed(response: &CompileResponse) -> BTreeMap<(String, Option<String>), usize> {
    let mut counts = BTreeMap::new();
    for execution in &response.executions {
        *counts.entry((execution.function.to_string(), execution.relation.as_deref().map(str::to_string))).or_default() += 1;
    }
    counts
}

fn files(directory: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(directory) else { return BTreeMap::new() };
    entries
        .map(|entry| {
            let entry = entry.expect("a directory entry");
            (entry.file_name().to_string_lossy().into_owned(), std::fs::read(entry.path()).expect("a written file"))
        })
        .collect()
}

#[test]
fn a_compile_on_four_threads_is_the_compile_on_one() {
    for shape in [DagShape::Transforms, DagShape::SqlHeavy] {
        let project = SyntheticProject::create(shape, 60);
        for text in [project.text.clone(), with_errors(&project)] {
            for planning in [Planning::CheckOnly, Planning::Tasks, Planning::AllViews] {
                let scratch = tempfile::tempdir().expect("a temporary directory");
                let (one_out, four_out) = (scratch.path().join("one"), scratch.path().join("four"));
                let one = compile(&project, &text, planning, 1, &one_out);
                let four = compile(&project, &text, planning, 4, &four_out);
                let case = format!("{} views, {planning:?}", shape.name());
                assert_eq!(one.diagnostics, four.diagnostics, "{case}");
                assert!(one.views.iter().eq(four.views.iter()), "{case}");
                let (one_executed, four_executed) = (executed(&one), executed(&four));
                let differing: Vec<_> = one_executed
                    .keys()
                    .chain(four_executed.keys())
                    .filter(|query| one_executed.get(*query) != four_executed.get(*query))
                    .map(|query| (query, one_executed.get(query), four_executed.get(query)))
                    .collect();
                assert!(differing.is_empty(), "{case}: executions (query, on one thread, on four): {differing:?}");
                assert_eq!(files(&one_out), files(&four_out), "{case}");
                if planning != Planning::CheckOnly {
                    assert!(files(&one_out).len() > 1, "{case}: bundles were written");
                }
            }
            // The errors are there, and did not stop the other views from compiling.
            let checked = compile(&project, &text, Planning::CheckOnly, 4, Path::new(""));
            assert_eq!(checked.has_errors(), text != project.text);
            assert!(checked.views.iter().any(|view| view.status.is_valid()));
        }
    }
}
