//! One file per transform kind, each lowering its spec struct to a `LogicalPlan` over the
//! view's planned inputs. Each destructures its struct field by field, so a new spec
//! field breaks the build until it is lowered.
//!
//! This module only dispatches ([`lower_transform`]); what the transforms share (the
//! [`context::LowerContext`], `collect_all`, `empty_like`) is the leaf [`context`], so no
//! transform imports its dispatcher.

#![allow(clippy::result_large_err, reason = "an error is its diagnostic, returned by value like a success")]

use viewdag_ir::{FieldPath, Transform};
use viewdag_validate::checks::duplicate_column;

use crate::transforms::context::{LowerContext, TransformResult};

pub mod aggregate;
pub mod context;
pub mod distinct;
pub mod filter;
pub mod join;
pub mod limit;
pub mod predicate_subquery;
pub mod project;
pub mod sort;
pub mod sql;
pub mod union;
pub mod warnings;

/// Lowers a view's transform, then checks that its output names its columns uniquely
/// (`V0222 duplicate-column`; transforms that can name columns check it themselves first,
/// with more precise locations).
pub fn lower_transform(context: &LowerContext, transform: &Transform) -> TransformResult {
    let plan = lower_transform_unchecked(context, transform)?;
    let duplicates = duplicate_column::check_schema(context.view, plan.schema(), &context.location(FieldPath::default()));
    if duplicates.is_empty() { Ok(plan) } else { Err(duplicates) }
}

fn lower_transform_unchecked(context: &LowerContext, transform: &Transform) -> TransformResult {
    match transform {
        Transform::Filter(view) => filter::lower(context, view),
        Transform::Project(view) => project::lower(context, view),
        Transform::Join(view) => join::lower(context, view),
        Transform::Aggregate(view) => aggregate::lower(context, view),
        Transform::Union(view) => union::lower(context, view),
        Transform::Sort(view) => sort::lower(context, view),
        Transform::Limit(view) => limit::lower(context, view),
        Transform::Distinct(view) => distinct::lower(context, view),
        Transform::Sql(view) => sql::lower(context, view),
    }
}
