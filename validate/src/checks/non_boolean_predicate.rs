//! `V0207 non-boolean-predicate`: a filter `predicate` or a join `filter` whose type is
//! not boolean (`amount + 1`). A bare NULL is accepted (it filters everything out).

use datafusion::arrow::datatypes::DataType;
use viewdag_ir::types::type_name;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

use crate::expression::{abbreviate, whole};

pub fn check(predicate_type: &DataType, text: &str, location: &SpecLocation) -> Option<Diagnostic> {
    if matches!(predicate_type, DataType::Boolean | DataType::Null) {
        return None;
    }
    Some(
        Diagnostic::new(
            Code::NonBooleanPredicate,
            whole(location, text),
            format!("condition `{}` is `{}`, not a boolean", abbreviate(text), type_name(predicate_type)),
        )
        .with_note("a condition keeps the rows for which it is true")
        .with_suggestion("compare the value, e.g. `… > 0` or `… IS NOT NULL`"),
    )
}
