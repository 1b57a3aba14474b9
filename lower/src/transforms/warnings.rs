//! Warnings and notes about views that compile: `V0221 union-name-mismatch` and
//! `V0213 join-key-coercion`. A tracked function per view, so the driver can report them
//! next to the errors of failed views; it reads only the inputs' memoized plans.

use viewdag_ir::{Diagnostic, FieldPath, SurfaceInput, Transform, ViewInput};
use viewdag_surface::planning_session;
use viewdag_validate::checks::join_key_coercion;
use viewdag_validate::checks::join_key_type_mismatch::KeySide;
use viewdag_validate::checks::union_name_mismatch;
use viewdag_validate::view_reads;

use super::LowerContext;
use super::union::union_inputs;
use crate::inputs::{PlannedInput, plan_input};
use crate::{Db, view_plan};

/// The warnings and notes of a view that compiles (empty for a view that does not).
#[salsa::tracked(returns(ref))]
pub fn view_warnings(db: &dyn Db, view: ViewInput) -> Vec<Diagnostic> {
    let Some(definition) = view.definition(db) else { return Vec::new() };
    if !matches!(definition.transform, Transform::Union(_) | Transform::Join(_)) || view_plan(db, view).is_err() {
        return Vec::new();
    }
    let mut inputs: Vec<PlannedInput> = Vec::new();
    for read in &view_reads(db, view).reads {
        match plan_input(db, &read.name) {
            Ok(input) => inputs.push(input),
            Err(_) => return Vec::new(),
        }
    }
    let session = planning_session(db, SurfaceInput::get(db));
    let context = LowerContext { state: &session.state, view: view.name(db), transform_key: definition.transform.key(), inputs: &inputs };
    match &definition.transform {
        Transform::Union(_) => union_name_mismatch::check(&union_inputs(&context)),
        Transform::Join(join) => {
            let (Some(left), Some(right)) = (inputs.first(), inputs.get(1)) else { return Vec::new() };
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
