//! `V0215 aggregate-in-group-by`: a group key contains an aggregate function
//! (`group_by: ["sum(amount) AS s"]`). Groups are formed before anything is aggregated.

use datafusion::logical_expr::Expr;
use datafusion::logical_expr::utils::find_aggregate_exprs;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

use crate::expression::{at_range, find_identifier};

pub fn check(group_key: &Expr, text: &str, location: &SpecLocation) -> Option<Diagnostic> {
    let aggregates = find_aggregate_exprs(std::iter::once(group_key));
    let first = aggregates.first()?;
    let function = match first {
        Expr::AggregateFunction(call) => call.func.name().to_string(),
        other => other.schema_name().to_string(),
    };
    let at = match find_identifier(&text.to_ascii_lowercase(), &function) {
        Some(offset) => at_range(location, offset, offset + function.len()),
        None => location.clone(),
    };
    Some(
        Diagnostic::new(Code::AggregateInGroupBy, at, format!("group key `{text}` uses aggregate function `{function}`"))
            .with_note("rows are grouped before they are aggregated, so a group key cannot aggregate")
            .with_suggestion("move it to `measures`"),
    )
}
