//! `V0208 type-mismatch`: an operator or function is applied to values of types it does
//! not accept (`amount + 'x'`, `upper(amount)`, `status AND true`).
//!
//! Found by [`crate::typing::expression_type`], which applies DataFusion's own type
//! coercion and finds the innermost failing piece, and by [`crate::planning_error`] for type
//! errors met while planning SQL; this file recognizes DataFusion's type errors and words
//! the diagnostic. Arity errors are reported as `V0210 wrong-arity` (see
//! [`super::wrong_arity`]).

use datafusion::arrow::datatypes::DataType;
use viewdag_ir::types::type_name;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

use super::wrong_arity;
use crate::expression::{abbreviate, candidate_signatures, clean_message};

/// Whether a DataFusion message is about types (used for errors met while planning SQL).
pub fn is_type_error(message: &str) -> bool {
    ["Cannot coerce", "Cannot infer common", "No function matches", "does not support zero arguments", "arguments but received", "requires"]
        .iter()
        .any(|pattern| message.contains(pattern))
}

/// A type diagnostic from DataFusion's message, with its candidate signatures as a note.
pub fn diagnostic_from_message(message: &str, location: SpecLocation) -> Diagnostic {
    if let Some(diagnostic) = wrong_arity::classify(message, location.clone()) {
        return diagnostic;
    }
    let mut diagnostic = Diagnostic::new(Code::TypeMismatch, location, format!("type mismatch: {}", clean_message(message)));
    let candidates = candidate_signatures(message);
    if !candidates.is_empty() {
        diagnostic = diagnostic.with_note(format!("accepted signatures: {}", candidates.join(", ")));
    }
    diagnostic
}

/// An operator applied to operands of types it does not accept: `piece_text` is the
/// operation, `message` DataFusion's error about it.
pub fn operator_diagnostic(
    operator: &str,
    left: &DataType,
    right: &DataType,
    piece_text: &str,
    message: &str,
    location: SpecLocation,
) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        location,
        format!("cannot apply `{operator}` to `{}` and `{}` in `{}`", type_name(left), type_name(right), abbreviate(piece_text)),
    )
    .with_note(clean_message(message))
    .with_suggestion("cast one side explicitly, e.g. `CAST(x AS DOUBLE)`")
}
