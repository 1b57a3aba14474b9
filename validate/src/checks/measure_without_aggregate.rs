//! `V0217 measure-without-aggregate`: a measure uses no aggregate function and no column
//! (`m: "1"`, or only group keys). A measure summarizes its group; a per-group constant
//! or a group key belongs in `group_by` or in a `project` view downstream.

use datafusion::logical_expr::Expr;
use datafusion::logical_expr::utils::find_aggregate_exprs;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

use crate::expression::whole;

pub fn check(measure_name: &str, measure: &Expr, text: &str, location: &SpecLocation) -> Option<Diagnostic> {
    if !find_aggregate_exprs(std::iter::once(measure)).is_empty() {
        return None;
    }
    Some(
        Diagnostic::new(
            Code::MeasureWithoutAggregate,
            whole(location, text),
            format!("measure `{measure_name}` = `{text}` aggregates nothing"),
        )
        .with_note("a measure must use an aggregate function such as sum, count, min, max or avg"),
    )
}
