//! `viewdag test SPEC`: evaluate every task's expectations against its table as it is now,
//! writing nothing. Exit 1 when an expectation whose `on_fail` is `fail` fails.

use std::path::PathBuf;

use viewdag_driver::render::render_human;
use viewdag_driver::{CompileRequest, Compiler};

use crate::error::CliError;
use crate::output::Format;

/// `test`'s arguments.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    spec: PathBuf,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

/// Exit 0 when every checked expectation passed (or only warned
/// or dropped), 1 otherwise or when the spec has errors.
pub fn execute(args: TestArgs) -> Result<i32, CliError> {
    let TestArgs { spec, format } = args;
    let mut compiler = Compiler::new()?;
    let response = compiler.compile(&CompileRequest::check(&spec))?;
    if response.has_errors() {
        let source = compiler.spec_source().expect("a compiled spec has a source");
        eprint!("{}", render_human(source, &response.diagnostics, false));
        return Ok(1);
    }
    let tested = compiler.snapshot().test_expectations();
    if format.is_json() {
        let tasks: Vec<serde_json::Value> = tested
            .iter()
            .map(|task| match &task.results {
                Ok(results) => {
                    serde_json::json!({ "task": task.id, "target": task.target, "passed": task.passed(), "expectations": results })
                }
                Err(problem) => {
                    serde_json::json!({ "task": task.id, "target": task.target, "passed": false, "error": problem.to_string() })
                }
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
