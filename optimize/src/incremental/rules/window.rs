//! Window functions: a new row changes the values of the old rows of its partition (a
//! rank, a running sum), so a change of the input is refused, naming the function.

use datafusion::logical_expr::{Expr, Window};

use crate::incremental::reason::{NotIncremental, Reason};
use crate::incremental::subtree::SubtreeChange;

pub fn derive(window: &Window) -> Result<SubtreeChange, NotIncremental> {
    let function = match window.window_expr.first().map(|expression| expression.clone().unalias()) {
        Some(Expr::WindowFunction(function)) => format!("{}()", function.fun.name()),
        Some(other) => other.schema_name().to_string(),
        None => String::new(),
    };
    Err(Reason::Window { function }.into())
}
