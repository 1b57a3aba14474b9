//! `viewdag explain SPEC VIEW`: a view's P0 (unoptimized), P1 (optimized) and P2 (physical)
//! plans; with `--passes` the optimizer trace instead; with `--select` every selected
//! view's P1.

use std::collections::BTreeSet;
use std::path::PathBuf;

use viewdag_driver::render::short_digest;
use viewdag_driver::{CompileRequest, CompileResponse, Compiler};

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
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

pub fn execute(args: ExplainArgs) -> Result<i32, CliError> {
    let ExplainArgs { spec, view, selection, passes, format } = args;
    let Some(view) = view else {
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
