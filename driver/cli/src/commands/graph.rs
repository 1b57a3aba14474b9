//! `viewdag graph SPEC --format dot|mermaid`: the view DAG (narrowed by `--select`).

use std::path::PathBuf;

use clap::ValueEnum;
use viewdag_driver::graph::{to_dot, to_mermaid};
use viewdag_driver::select::selected_subgraph;
use viewdag_driver::{CompileRequest, Compiler};

use crate::error::CliError;
use crate::output::{exit_code, print_diagnostics};
use crate::selection::SelectionArgs;

/// A graph's text format.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum GraphFormat {
    /// Graphviz.
    Dot,
    /// Mermaid.
    Mermaid,
}

/// `graph`'s arguments.
#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    spec: PathBuf,
    #[arg(long, value_enum, default_value = "dot")]
    format: GraphFormat,
    #[command(flatten)]
    selection: SelectionArgs,
}

pub fn execute(args: GraphArgs) -> Result<i32, CliError> {
    let GraphArgs { spec, format, selection } = args;
    let mut compiler = Compiler::new()?;
    let response = compiler.compile(&CompileRequest::new(&spec))?;
    let snapshot = compiler.snapshot();
    let selected = snapshot.select_views(&response, &selection.into())?;
    let materialized = |name: &str| snapshot.is_materialized(name);
    let full = &snapshot.structure().dag;
    let narrowed = selected.as_ref().map(|selected| selected_subgraph(full, selected));
    let outputs: Vec<(String, String)> = snapshot
        .outputs()
        .iter()
        .map(|(name, spec)| (name.clone(), spec.view.clone()))
        .filter(|(_, view)| selected.as_ref().is_none_or(|selected| selected.contains(view)))
        .collect();
    let dag = narrowed.as_ref().unwrap_or(full);
    let text = match format {
        GraphFormat::Dot => to_dot(dag, &materialized, &outputs),
        GraphFormat::Mermaid => to_mermaid(dag, &materialized, &outputs),
    };
    print!("{text}");
    print_diagnostics(&compiler, &response);
    Ok(exit_code(&response))
}
