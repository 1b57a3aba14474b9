//! `viewdag replay DIR --spec SPEC`: rebuild each bundle's plan from each serialized form
//! (datafusion-proto, SQL, and Substrait in a build with that feature) against the spec's
//! current providers, compare its P0/P1/P2 digests with the bundle's, execute it and
//! compare rows with the compiled plan. Exit 0 when every view replayed (the proto form
//! exactly) with matching rows.

use std::path::PathBuf;

use viewdag_driver::Compiler;
use viewdag_driver::replay::describe_outcome;

use crate::error::CliError;

/// `replay`'s arguments.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// A `compile --out` directory.
    dir: PathBuf,
    /// The spec the bundles were compiled from (its directory resolves provider paths).
    #[arg(long)]
    spec: PathBuf,
}

pub fn execute(args: ReplayArgs) -> Result<i32, CliError> {
    let ReplayArgs { dir, spec } = args;
    let mut compiler = Compiler::new()?;
    let replayed = compiler.replay(&dir, &spec)?;
    let mut all_match = true;
    for view in &replayed {
        all_match &= view.succeeded();
        if let Some(reason) = &view.skipped {
            println!("{:<28} skipped: {reason}", view.view);
        }
        for (index, form) in view.forms.iter().enumerate() {
            let name = if index == 0 { view.view.as_str() } else { "" };
            println!("{name:<28} {:<10} {}", form.form.name(), describe_outcome(&form.outcome));
        }
        for problem in &view.incompatibilities {
            println!("{:<28}   not replay-compatible: {problem}", "");
        }
    }
    Ok(if all_match { 0 } else { 1 })
}
