//! `limit`: at most `count` rows of the input after skipping `offset`.

use std::sync::Arc;

use datafusion::logical_expr::LogicalPlanBuilder;
use viewdag_ir::{Code, Diagnostic, LimitView};

use super::{LowerContext, TransformResult};

/// Larger limits are almost certainly a mistake (and do not fit some engines' counters).
pub const MAX_LIMIT: i64 = 1 << 48;

/// Checks a count or offset: not negative, not absurd.
pub fn checked_count(context: &LowerContext, value: i64, field: &str) -> Result<usize, Diagnostic> {
    if !(0..=MAX_LIMIT).contains(&value) {
        return Err(Diagnostic::new(
            Code::InvalidLimit,
            context.location([field]),
            format!("`{field}` of view `{}` is {value}; it must be between 0 and {MAX_LIMIT}", context.view),
        ));
    }
    Ok(value as usize)
}

pub fn lower(context: &LowerContext, view: &LimitView) -> TransformResult {
    let LimitView { input: _, count, offset } = view;
    let fetch = checked_count(context, *count, "count");
    let skip = checked_count(context, offset.unwrap_or(0), "offset");
    let (fetch, skip) = match (fetch, skip) {
        (Ok(fetch), Ok(skip)) => (fetch, skip),
        (fetch, skip) => return Err(fetch.err().into_iter().chain(skip.err()).collect()),
    };
    LogicalPlanBuilder::new_from_arc(Arc::clone(&context.input(0).plan))
        .limit(skip, Some(fetch))
        .and_then(LogicalPlanBuilder::build)
        .map_err(|error| context.error(&error, "", ["count"]))
}
