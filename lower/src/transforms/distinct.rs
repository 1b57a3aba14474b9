//! `distinct`: the input's distinct rows.

use std::sync::Arc;

use datafusion::logical_expr::LogicalPlanBuilder;
use viewdag_ir::DistinctView;

use super::context::{LowerContext, TransformResult};

pub fn lower(context: &LowerContext, view: &DistinctView) -> TransformResult {
    let DistinctView { input: _ } = view;
    LogicalPlanBuilder::new_from_arc(Arc::clone(&context.input(0).plan))
        .distinct()
        .and_then(LogicalPlanBuilder::build)
        .map_err(|error| context.error(&error, "", ["input"]))
}
