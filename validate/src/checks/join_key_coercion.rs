//! `V0213 join-key-coercion` (a note): a join key pair with different types that DataFusion
//! can compare after casting one side (`int32` against `int64`). The join compiles; the
//! note says which common type the comparison uses, because a cast key can defeat
//! pushdown and pruning.

use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
use viewdag_ir::types::type_name;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

use super::join_key_type_mismatch::KeySide;

pub fn check(left: KeySide, right: KeySide, location: SpecLocation) -> Option<Diagnostic> {
    if left.data_type == right.data_type {
        return None;
    }
    let common = comparison_coercion(left.data_type, right.data_type)?;
    Some(Diagnostic::new(
        Code::JoinKeyCoercion,
        location,
        format!(
            "join keys `{}.{}` (`{}`) and `{}.{}` (`{}`) are compared as `{}`",
            left.relation,
            left.column,
            type_name(left.data_type),
            right.relation,
            right.column,
            type_name(right.data_type),
            type_name(&common)
        ),
    ))
}
