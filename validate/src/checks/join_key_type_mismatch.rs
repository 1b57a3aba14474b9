//! `V0212 join-key-type-mismatch`: a join key pair whose types cannot be compared (a
//! string against a number with no common type), decided by DataFusion's comparison
//! coercion, exactly as the join will be planned.

use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
use viewdag_ir::types::type_name;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

/// One side of a key pair: the column and its type.
#[derive(Debug, Clone, Copy)]
pub struct KeySide<'a> {
    pub relation: &'a str,
    pub column: &'a str,
    pub data_type: &'a DataType,
}

pub fn check(left: KeySide, right: KeySide, location: SpecLocation) -> Option<Diagnostic> {
    if comparison_coercion(left.data_type, right.data_type).is_some() {
        return None;
    }
    Some(
        Diagnostic::new(
            Code::JoinKeyTypeMismatch,
            location,
            format!(
                "join keys `{}.{}` (`{}`) and `{}.{}` (`{}`) cannot be compared",
                left.relation,
                left.column,
                type_name(left.data_type),
                right.relation,
                right.column,
                type_name(right.data_type)
            ),
        )
        .with_suggestion(format!("cast one key in a `project` view, e.g. `CAST({} AS …)`", right.column)),
    )
}
