//! `union all`: `(A_old ⊎ ΔA) ∪ (B_old ⊎ ΔB) = (A_old ∪ B_old) ⊎ (ΔA ∪ ΔB)`: the change is
//! the union of the changed inputs' changes; an unchanged input contributes no rows and is
//! left out. `union` with `distinct: true` is a `distinct` over this union (`distinct.rs`).
//!
//! A union matches its inputs' columns by position and names them as its schema does, so
//! each change is first projected to the union's columns — its names, and its types where
//! the union coerced them. The change of one input is then the union's change by itself,
//! and an optimizer rule that drops a union input producing no rows never has to rename
//! (DataFusion 55's `propagate_empty_relation` keeps the union's names over the remaining
//! input's, which fails when they differ).

use std::sync::Arc;

use datafusion::common::DFSchemaRef;
use datafusion::logical_expr::{Expr, LogicalPlan, Projection, Union, cast};

use crate::incremental::reason::NotIncremental;
use crate::incremental::subtree::SubtreeChange;

pub fn derive(union: &Union, children: Vec<SubtreeChange>) -> Result<SubtreeChange, NotIncremental> {
    let mut changes = Vec::new();
    for change in children {
        if let SubtreeChange::Appended(delta) = change {
            changes.push(Arc::new(as_union_columns(delta, &union.schema)?));
        }
    }
    if changes.len() == 1 {
        let only = changes.pop().expect("one change");
        return Ok(SubtreeChange::Appended(Arc::unwrap_or_clone(only)));
    }
    Ok(SubtreeChange::Appended(LogicalPlan::Union(Union { inputs: changes, schema: Arc::clone(&union.schema) })))
}

/// `input`'s columns by position under `schema`'s qualified names, cast to its types where
/// they differ.
fn as_union_columns(input: LogicalPlan, schema: &DFSchemaRef) -> Result<LogicalPlan, NotIncremental> {
    let columns: Vec<Expr> = input
        .schema()
        .columns()
        .into_iter()
        .zip(input.schema().fields().iter())
        .zip(schema.iter())
        .map(|((column, field), (qualifier, union_field))| {
            let value = Expr::Column(column);
            let value = if field.data_type() == union_field.data_type() { value } else { cast(value, union_field.data_type().clone()) };
            value.alias_qualified(qualifier.cloned(), union_field.name())
        })
        .collect();
    Ok(LogicalPlan::Projection(Projection::try_new(columns, Arc::new(input))?))
}
