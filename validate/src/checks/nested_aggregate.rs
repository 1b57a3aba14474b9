//! `V0216 nested-aggregate`: an aggregate function over the result of another one
//! (`sum(count(*))`). An aggregate sees the rows of one group; the inner aggregate has
//! already reduced them to one value. Aggregate in a second view instead.

use datafusion::logical_expr::Expr;
use datafusion::logical_expr::utils::find_aggregate_exprs;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

use crate::expression::{at_range, find_identifier_nth};

fn function_name(expression: &Expr) -> String {
    match expression {
        Expr::AggregateFunction(call) => call.func.name().to_string(),
        other => other.schema_name().to_string(),
    }
}

pub fn check(measure_name: &str, measure: &Expr, text: &str, location: &SpecLocation) -> Option<Diagnostic> {
    for outer in find_aggregate_exprs(std::iter::once(measure)) {
        let Expr::AggregateFunction(call) = &outer else { continue };
        let inner = find_aggregate_exprs(call.params.args.iter());
        let Some(inner) = inner.first() else { continue };
        let (outer_name, inner_name) = (function_name(&outer), function_name(inner));
        let lowered = text.to_ascii_lowercase();
        let occurrence = usize::from(outer_name == inner_name);
        let at = match find_identifier_nth(&lowered, &inner_name, occurrence) {
            Some(offset) => at_range(location, offset, offset + inner_name.len()),
            None => location.clone(),
        };
        return Some(
            Diagnostic::new(
                Code::NestedAggregate,
                at,
                format!("measure `{measure_name}` applies `{outer_name}` to the aggregate `{inner_name}`"),
            )
            .with_note("aggregates cannot be nested within one aggregate view")
            .with_suggestion(format!("compute `{inner_name}` in one aggregate view and `{outer_name}` over it in another")),
        );
    }
    None
}
