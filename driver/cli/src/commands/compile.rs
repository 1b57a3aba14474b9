//! `viewdag compile SPEC --out DIR`: validate, plan the tasks (materialized views and
//! outputs; every view with `--all-views`) and write the compile envelope
//! (`manifest.json`), one plan bundle per planned view and its P0, P1 and P2 plan text.

use std::path::PathBuf;

use viewdag_driver::artifacts::write_compile_output;
use viewdag_driver::render::summary;
use viewdag_driver::select::Selection;
use viewdag_driver::{CompileRequest, DriverError, Planning, ViewStatus};

use crate::error::CliError;
use crate::output::{exit_code, print_diagnostics};
use crate::selection::SelectionArgs;

/// `compile`'s arguments.
#[derive(Debug, clap::Args)]
pub struct CompileArgs {
    spec: PathBuf,
    /// Output directory (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Plan and write every view, not only the tasks.
    #[arg(long)]
    all_views: bool,
    /// Print how many queries executed and were reused, per stage.
    #[arg(long)]
    stats: bool,
    #[command(flatten)]
    selection: SelectionArgs,
    #[command(flatten)]
    cache: crate::cache_flag::CacheArgs,
}

pub fn execute(args: CompileArgs) -> Result<i32, CliError> {
    let CompileArgs { spec, out, all_views, stats, selection, cache } = args;
    let selection: Selection = selection.into();
    let mut compiler = cache.compiler()?;
    let progress = compiler.progress_on_terminal();
    let planning = if all_views { Planning::AllViews } else { Planning::Tasks };
    let planning = if selection.is_empty() { planning } else { Planning::CheckOnly };
    let response = compiler.compile(&CompileRequest::new(&spec).with_planning(planning))?;
    drop(progress);
    let snapshot = compiler.snapshot();
    let response = match snapshot.select_views(&response, &selection)? {
        Some(selected) => snapshot.plan_selection(&response, &selected, all_views),
        None => response,
    };
    print_diagnostics(&compiler, &response);
    if stats {
        eprint!("{}", response.stats.render());
    }
    std::fs::create_dir_all(&out).map_err(DriverError::write(&out))?;
    let mut written = 0;
    for outcome in response.views.iter().filter(|outcome| matches!(outcome.status, ViewStatus::Compiled { .. })) {
        let view = &outcome.name;
        let Some(Ok(plans)) = snapshot.view_plans(view) else { continue };
        for (stage, text) in [("p0", &plans.p0_text), ("p1", &plans.optimized.text), ("p2", &plans.physical.text)] {
            let path = out.join(format!("{view}.{stage}.txt"));
            std::fs::write(&path, text).map_err(DriverError::write(&path))?;
        }
        written += 1;
    }
    let artifacts = write_compile_output(snapshot, &response, &out)?;
    eprintln!(
        "wrote plans and {} bundle(s) of {written} view(s) to {}; {}",
        artifacts.bundle_files.len(),
        out.display(),
        summary(&response.diagnostics)
    );
    Ok(exit_code(&response))
}
