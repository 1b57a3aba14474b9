//! `viewdag test SPEC` and `viewdag explain --select`: reports printed from library results.

use std::collections::BTreeSet;
use std::path::Path;

use crate::compiler::{CompileRequest, Compiler};
use crate::error::DriverError;
use crate::render::{render_human, short_digest};

/// The `viewdag test` command: exit 0 when every checked expectation passed (or only warned
/// or dropped), 1 otherwise or when the spec has errors.
pub fn test_command(spec: &Path, json: bool) -> Result<i32, DriverError> {
    let mut compiler = Compiler::new()?;
    let response = compiler.compile(&CompileRequest::check(spec))?;
    if response.has_errors() {
        let source = compiler.spec_source().expect("a compiled spec has a source");
        eprint!("{}", render_human(source, &response.diagnostics, false));
        return Ok(1);
    }
    let tested = compiler.test_expectations();
    if json {
        let tasks: Vec<serde_json::Value> = tested
            .iter()
            .map(|task| match &task.results {
                Ok(results) => {
                    serde_json::json!({ "task": task.id, "target": task.target, "passed": task.passed(), "expectations": results })
                }
                Err(problem) => serde_json::json!({ "task": task.id, "target": task.target, "passed": false, "error": problem }),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "tasks": tasks })).expect("JSON serializes"));
    } else {
        for task in &tested {
            match &task.results {
                Ok(results) => {
                    for result in results {
                        println!("{} {:<24} {}", result.marker(), task.id, result.describe());
                    }
                }
                Err(problem) => println!("FAIL {:<24} {problem}", task.id),
            }
        }
    }
    let failed = tested.iter().filter(|task| !task.passed()).count();
    eprintln!("{} task(s) tested, {failed} failed", tested.len());
    Ok(if failed == 0 { 0 } else { 1 })
}

/// `explain --select`: every selected view's P0, P1 and P2 digests and P1 text, in
/// declaration order. Exit 1 when one of them does not plan.
pub fn explain_selected(compiler: &Compiler, selected: &BTreeSet<String>) -> Result<i32, DriverError> {
    let mut code = 0;
    for view in compiler.view_names().into_iter().filter(|view| selected.contains(view)) {
        match compiler.view_plans(&view) {
            Some(Ok(plans)) => {
                println!(
                    "== {view}: P1 (optimized logical plan {}) ==\n{}\n",
                    short_digest(&plans.optimized.digest),
                    plans.optimized.text.trim_end()
                );
            }
            _ => {
                eprintln!("view `{view}` did not compile");
                code = 1;
            }
        }
    }
    Ok(code)
}
