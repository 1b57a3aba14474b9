//! `viewdag explain SPEC VIEW`: a view's P0 (unoptimized), P1 (optimized) and P2 (physical)
//! plans; with `--passes` the optimizer trace instead; with `--select` every selected
//! view's P1; with `--refresh` what the next `run` would do with the view's tables — the
//! derived increment's P1, or why it is refreshed fully (`viewdag plan`'s decision).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use viewdag_driver::render::short_digest;
use viewdag_driver::{CompileRequest, CompileResponse, Compiler, RunOptions};

use crate::error::CliError;
use crate::output::{Format, print_diagnostics};
use crate::pass_report::explain_passes;
use crate::selection::SelectionArgs;

/// `explain`'s arguments.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    spec: PathBuf,
    /// The view (or give `--select` to explain every selected view).
    view: Option<String>,
    #[command(flatten)]
    selection: SelectionArgs,
    /// Print the optimizer trace (a table, and a plan diff per changing pass) instead.
    #[arg(long)]
    passes: bool,
    /// Print what the next `run` would do with the view's tables (as `viewdag plan`): the
    /// optimized plan (P1) of the increment it derives, or why it refreshes fully.
    #[arg(long, conflicts_with = "passes")]
    refresh: bool,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

pub fn execute(args: ExplainArgs) -> Result<i32, CliError> {
    let ExplainArgs { spec, view, selection, passes, refresh, format } = args;
    if let (true, Some(view)) = (refresh, view.as_deref()) {
        return explain_refresh(&spec, view);
    }
    let Some(view) = view else {
        if refresh {
            return Err(CliError::Usage("explain --refresh needs a VIEW".to_string()));
        }
        let mut compiler = Compiler::new()?;
        let response = compiler.compile(&CompileRequest::new(&spec))?;
        let Some(selected) = compiler.snapshot().select_views(&response, &selection.into())? else {
            return Err(CliError::Usage("explain needs a VIEW or `--select`".to_string()));
        };
        return Ok(explain_selected(&compiler, &selected));
    };
    let (compiler, response) = if passes {
        match explain_passes(&spec, &view, format.is_json())? {
            (code, None, _) => return Ok(code),
            (_, Some(response), compiler) => (compiler, response),
        }
    } else {
        let mut compiler = Compiler::new()?;
        let response = compiler.compile(&CompileRequest::new(&spec))?;
        (compiler, response)
    };
    let Some(plans) = compiler.snapshot().view_plans(&view) else {
        eprintln!("error: view `{view}` is not declared in {}", spec.display());
        return Ok(2);
    };
    match plans {
        Ok(plans) => {
            println!("== P0: unoptimized logical plan ({}) ==\n{}\n", short_digest(&plans.p0_digest), plans.p0_text.trim_end());
            println!("== P1: optimized logical plan ({}) ==\n{}\n", short_digest(&plans.optimized.digest), plans.optimized.text.trim_end());
            println!("== P2: physical plan ({}) ==\n{}", short_digest(&plans.physical.digest), plans.physical.text.trim_end());
            Ok(0)
        }
        Err(_) => {
            let relevant: Vec<_> =
                response.diagnostics.iter().filter(|diagnostic| diagnostic.entry() == Some(view.as_str())).cloned().collect();
            let filtered = CompileResponse { diagnostics: relevant, ..response };
            print_diagnostics(&compiler, &filtered);
            eprintln!("view `{view}` did not compile");
            Ok(1)
        }
    }
}

/// `explain --select`: every selected view's P0, P1 and P2 digests and P1 text, in
/// declaration order. Exit 1 when one of them does not plan.
fn explain_selected(compiler: &Compiler, selected: &BTreeSet<String>) -> i32 {
    let mut code = 0;
    let snapshot = compiler.snapshot();
    for view in snapshot.view_names().into_iter().filter(|view| selected.contains(view)) {
        match snapshot.view_plans(&view) {
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
    code
}

/// `explain VIEW --refresh`: for each task writing `view`'s rows (its materialization, its
/// outputs), what the next run would do and, for an incremental refresh, the increment's
/// P1. Exit 2 when the view is not declared or writes no table.
fn explain_refresh(spec: &Path, view: &str) -> Result<i32, CliError> {
    let mut compiler = Compiler::new()?;
    let (response, plan) = compiler.plan_refresh(&CompileRequest::new(spec), &RunOptions::default())?;
    let tasks: Vec<_> = plan.tasks.iter().filter(|task| task.view == view).collect();
    if tasks.is_empty() {
        if compiler.snapshot().view_names().iter().any(|name| name == view) {
            eprintln!("error: view `{view}` writes no table (neither `materialize: table` nor an output's view): nothing to refresh");
        } else {
            eprintln!("error: view `{view}` is not declared in {}", spec.display());
        }
        return Ok(2);
    }
    if response.has_errors() {
        print_diagnostics(&compiler, &response);
    }
    for task in tasks {
        println!("== {}: {} ==", task.id, task.action);
        if let Some(increment) = &task.increment_plan {
            println!("{}\n", increment.trim_end());
        }
    }
    Ok(if response.has_errors() { 1 } else { 0 })
}
