//! What every rule shares, and the one thing a rule may ask of the walk: the change of an
//! input subtree ([`Subtrees::subtree`]) or that subtree as last read
//! ([`Subtrees::previous`]). A leaf module: the rules and the walk (`derive.rs`) both build
//! on it, and neither names the other's file.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchemaRef};
use datafusion::logical_expr::{EmptyRelation, Expr, LogicalPlan, Projection, Union};

use super::reason::{NotIncremental, Reason};

/// How a subtree's rows changed.
#[derive(Debug, Clone)]
pub enum SubtreeChange {
    /// Its rows are the same as at the last refresh.
    Unchanged,
    /// Its new rows are its old rows plus exactly the rows of this plan (which has the
    /// subtree's schema).
    Appended(LogicalPlan),
}

impl SubtreeChange {
    pub fn is_unchanged(&self) -> bool {
        matches!(self, SubtreeChange::Unchanged)
    }
}

/// The walk, as the rules see it.
pub trait Subtrees {
    /// The change of `plan`'s rows.
    fn subtree(&self, plan: &LogicalPlan) -> Result<SubtreeChange, NotIncremental>;

    /// `plan` as it was at the last refresh: every appended relation's scan reads its
    /// previous version.
    fn previous(&self, plan: &LogicalPlan) -> Result<LogicalPlan, NotIncremental>;
}

/// `plan`'s operator over `inputs` (in order) instead of its own inputs, every other part
/// of the node (expressions, output schema) kept. The inputs must have the schemas of the
/// ones they replace.
pub fn with_inputs(plan: &LogicalPlan, inputs: Vec<LogicalPlan>) -> Result<LogicalPlan, NotIncremental> {
    let expected = plan.inputs().len();
    if inputs.len() != expected {
        return Err(Reason::Planning { message: format!("{} inputs for an operator with {expected}", inputs.len()) }.into());
    }
    let mut replacements = inputs.into_iter();
    let rebuilt = plan.clone().map_children(|original| Ok(Transformed::yes(replacements.next().unwrap_or(original))))?;
    Ok(rebuilt.data)
}

/// The union (all rows) of `inputs`, which all have the (qualified) `schema`, with that
/// schema. A join's schema may name a column twice under two qualifiers, which a union
/// cannot carry, so each input is projected to unique names first and the union's rows
/// are projected back to `schema`'s qualified names.
pub fn union_all(inputs: Vec<LogicalPlan>, schema: &DFSchemaRef) -> Result<LogicalPlan, NotIncremental> {
    let unique_name = |position: usize| format!("__viewdag_column_{position}");
    let mut renamed = Vec::new();
    for input in inputs {
        let columns =
            input.schema().columns().into_iter().enumerate().map(|(position, column)| Expr::Column(column).alias(unique_name(position)));
        renamed.push(Arc::new(LogicalPlan::Projection(Projection::try_new(columns.collect(), Arc::new(input))?)));
    }
    let union = LogicalPlan::Union(Union::try_new(renamed)?);
    let restored = schema
        .iter()
        .enumerate()
        .map(|(position, (qualifier, field))| {
            Expr::Column(Column::from_name(unique_name(position))).alias_qualified(qualifier.cloned(), field.name())
        })
        .collect();
    Ok(LogicalPlan::Projection(Projection::try_new(restored, Arc::new(union))?))
}

/// No rows, with `plan`'s schema: an unchanged input's part of a change.
pub fn no_rows_like(plan: &LogicalPlan) -> LogicalPlan {
    LogicalPlan::EmptyRelation(EmptyRelation { produce_one_row: false, schema: Arc::clone(plan.schema()) })
}

/// The one input's change of a unary operator.
pub fn only_child(children: Vec<SubtreeChange>) -> Result<SubtreeChange, NotIncremental> {
    let count = children.len();
    let mut children = children.into_iter();
    match (children.next(), children.next()) {
        (Some(child), None) => Ok(child),
        _ => Err(Reason::Planning { message: format!("a unary operator with {count} inputs") }.into()),
    }
}
