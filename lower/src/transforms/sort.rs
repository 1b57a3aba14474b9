//! `sort`: the input ordered by `by` (`"expr [asc|desc] [nulls first|last]"`), with an
//! optional `limit`. Nulls sort last ascending and first descending unless told otherwise.
//! Every key must name existing columns and be well typed; the limit is checked by
//! `invalid_limit`.

use std::sync::Arc;

use datafusion::logical_expr::{LogicalPlanBuilder, SortExpr};
use viewdag_ir::SortView;
use viewdag_validate::checks::too_few_items;

use super::context::{LowerContext, TransformResult, collect_all};
use super::limit::checked_count;

/// Splits a sort key into its expression, direction and null placement.
pub fn parse_sort_key(text: &str) -> (&str, bool, Option<bool>) {
    let mut rest = text.trim_end();
    let mut nulls_first = None;
    let lowered = rest.to_ascii_lowercase();
    if lowered.ends_with(" nulls first") {
        nulls_first = Some(true);
        rest = rest[..rest.len() - " nulls first".len()].trim_end();
    } else if lowered.ends_with(" nulls last") {
        nulls_first = Some(false);
        rest = rest[..rest.len() - " nulls last".len()].trim_end();
    }
    let lowered = rest.to_ascii_lowercase();
    let mut ascending = true;
    if lowered.ends_with(" desc") {
        ascending = false;
        rest = rest[..rest.len() - " desc".len()].trim_end();
    } else if lowered.ends_with(" asc") {
        rest = rest[..rest.len() - " asc".len()].trim_end();
    }
    (rest, ascending, nulls_first)
}

pub fn lower(context: &LowerContext, view: &SortView) -> TransformResult {
    let SortView { input: _, by, limit } = view;
    let input = context.input(0);
    if let Some(diagnostic) = too_few_items::check(by.len(), 1, "sort keys in `by`", context.view, context.location(["by"])) {
        return Err(vec![diagnostic]);
    }
    let keys = collect_all(by.iter().enumerate().map(|(index, text)| {
        let (expression, ascending, nulls_first) = parse_sort_key(text);
        context
            .parse_typed(expression, input.plan.schema(), ["by".to_string(), index.to_string()].to_vec())
            .map(|(expression, _)| SortExpr::new(expression, ascending, nulls_first.unwrap_or(!ascending)))
    }));
    let fetch = limit.map(|limit| checked_count(context, limit, "limit")).transpose();
    let (keys, fetch) = match (keys, fetch) {
        (Ok(keys), Ok(fetch)) => (keys, fetch),
        (keys, fetch) => return Err(keys.err().unwrap_or_default().into_iter().chain(fetch.err()).collect()),
    };
    if fetch == Some(0) {
        return Ok(super::context::empty_like(&input.plan));
    }
    LogicalPlanBuilder::new_from_arc(Arc::clone(&input.plan))
        .sort_with_limit(keys, fetch)
        .and_then(LogicalPlanBuilder::build)
        .map_err(|error| context.error(&error, "", ["by"]))
}

#[cfg(test)]
mod tests {
    use super::parse_sort_key;

    #[test]
    fn parses_directions() {
        assert_eq!(parse_sort_key("revenue DESC"), ("revenue", false, None));
        assert_eq!(parse_sort_key("a + b asc nulls first"), ("a + b", true, Some(true)));
        assert_eq!(parse_sort_key("region"), ("region", true, None));
    }
}
