//! The selection flags every selecting command takes, converted to the library's
//! [`viewdag_driver::select::Selection`].

use std::path::PathBuf;

use viewdag_driver::select::Selection;

/// `--select` / `--exclude` / `--state`.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct SelectionArgs {
    /// Views to select (dbt's grammar: `name`, `+name`, `name+`, `2+name`, `tag:X`,
    /// `path:P`, `state:modified`; space = union, comma = intersection). Repeatable.
    #[arg(long = "select", short = 's', value_name = "SELECTOR")]
    pub select: Vec<String>,
    /// Views to leave out of the selection (same grammar). Repeatable.
    #[arg(long = "exclude", value_name = "SELECTOR")]
    pub exclude: Vec<String>,
    /// A previous `compile --out` directory, for `state:modified`.
    #[arg(long = "state", value_name = "DIR")]
    pub state: Option<PathBuf>,
}

impl From<SelectionArgs> for Selection {
    fn from(args: SelectionArgs) -> Selection {
        let SelectionArgs { select, exclude, state } = args;
        Selection { select, exclude, state }
    }
}
