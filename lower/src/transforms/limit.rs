//! `limit`: at most `count` rows of the input after skipping `offset`
//! (`invalid_limit` checks both).

use std::sync::Arc;

use datafusion::logical_expr::LogicalPlanBuilder;
use viewdag_ir::{Diagnostic, LimitView};
use viewdag_validate::checks::invalid_limit;

use super::context::{LowerContext, TransformResult};

/// Checks a count or offset of this view's transform: not negative, not absurd.
pub fn checked_count(context: &LowerContext, value: i64, field: &str) -> Result<usize, Diagnostic> {
    invalid_limit::check(value, field, context.view, context.location([field]))
}

pub fn lower(context: &LowerContext, view: &LimitView) -> TransformResult {
    let LimitView { input: _, count, offset } = view;
    let fetch = checked_count(context, *count, "count");
    let skip = checked_count(context, offset.unwrap_or(0), "offset");
    let (fetch, skip) = match (fetch, skip) {
        (Ok(fetch), Ok(skip)) => (fetch, skip),
        (fetch, skip) => return Err(fetch.err().into_iter().chain(skip.err()).collect()),
    };
    if fetch == 0 {
        return Ok(super::context::empty_like(&context.input(0).plan));
    }
    LogicalPlanBuilder::new_from_arc(Arc::clone(&context.input(0).plan))
        .limit(skip, Some(fetch))
        .and_then(LogicalPlanBuilder::build)
        .map_err(|error| context.error(&error, "", ["count"]))
}
