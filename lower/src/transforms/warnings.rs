//! Warnings and notes about views that validate: `V0221 union-name-mismatch` and
//! `V0213 join-key-coercion`. Computed with the view's signature, over the same inputs.

use viewdag_ir::{Diagnostic, FieldPath, Transform};
use viewdag_validate::checks::join_key_coercion;
use viewdag_validate::checks::join_key_type_mismatch::KeySide;
use viewdag_validate::checks::union_name_mismatch;

use super::context::LowerContext;
use super::union::union_inputs;

/// The warnings and notes of a transform that lowered over `context`'s inputs.
pub fn transform_warnings(context: &LowerContext, transform: &Transform) -> Vec<Diagnostic> {
    match transform {
        Transform::Union(_) => union_name_mismatch::check(&union_inputs(context)),
        Transform::Join(join) => {
            let (Some(left), Some(right)) = (context.inputs.first(), context.inputs.get(1)) else { return Vec::new() };
            join.on
                .iter()
                .enumerate()
                .filter_map(|(index, [left_key, right_key])| {
                    let left_field = left.plan.schema().field_with_unqualified_name(left_key).ok()?;
                    let right_field = right.plan.schema().field_with_unqualified_name(right_key).ok()?;
                    join_key_coercion::check(
                        KeySide { relation: &join.left, column: left_key, data_type: left_field.data_type() },
                        KeySide { relation: &join.right, column: right_key, data_type: right_field.data_type() },
                        context.location(FieldPath(vec!["on".to_string(), index.to_string()])),
                    )
                })
                .collect()
        }
        _ => Vec::new(),
    }
}
