//! `union all`: `(A_old ⊎ ΔA) ∪ (B_old ⊎ ΔB) = (A_old ∪ B_old) ⊎ (ΔA ∪ ΔB)`: the change is
//! the union of the inputs' changes, an unchanged input contributing no rows (an empty
//! relation with its schema, so the union's type coercion is the same as the task's).
//! `union` with `distinct: true` is a `distinct` over this union (`distinct.rs`).

use std::sync::Arc;

use datafusion::logical_expr::{LogicalPlan, Union};

use crate::incremental::reason::NotIncremental;
use crate::incremental::subtree::{SubtreeChange, no_rows_like};

pub fn derive(union: &Union, children: Vec<SubtreeChange>) -> Result<SubtreeChange, NotIncremental> {
    let inputs = union
        .inputs
        .iter()
        .zip(children)
        .map(|(input, change)| match change {
            SubtreeChange::Appended(delta) => Arc::new(delta),
            SubtreeChange::Unchanged => Arc::new(no_rows_like(input)),
        })
        .collect();
    Ok(SubtreeChange::Appended(LogicalPlan::Union(Union { inputs, schema: Arc::clone(&union.schema) })))
}
