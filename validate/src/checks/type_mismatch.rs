//! `V0208 type-mismatch`: an operator or function is applied to values of types it does
//! not accept (`amount + 'x'`, `upper(amount)`, `status AND true`).
//!
//! The check applies DataFusion's own type coercion to the expression and asks for its
//! type, so it accepts exactly what the analyzer will accept later. When it fails, the
//! innermost failing sub-expression is found by re-planning the pieces of the string, and
//! the diagnostic underlines that piece. Arity errors are reported as `V0210 wrong-arity`
//! (see [`super::wrong_arity`]).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::TreeNode;
use datafusion::common::{DFSchema, DataFusionError};
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::{Expr, ExprSchemable};
use datafusion::optimizer::analyzer::type_coercion::TypeCoercionRewriter;
use viewdag_ir::types::type_name;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

use super::wrong_arity;
use crate::expression::{abbreviate, at_range, clean_message, innermost_subexpression, planning_error, whole};

/// The type of `expression` over `schema` after DataFusion's type coercion.
pub fn coerced_type(expression: &Expr, schema: &DFSchema) -> Result<DataType, DataFusionError> {
    let coerced = expression.clone().rewrite(&mut TypeCoercionRewriter::new(schema))?.data;
    coerced.get_type(schema)
}

/// Checks that `expression` (parsed from `text`) is well typed; returns its type.
pub fn check(
    state: &SessionState,
    expression: &Expr,
    schema: &DFSchema,
    text: &str,
    location: &SpecLocation,
) -> Result<DataType, Diagnostic> {
    let error = match coerced_type(expression, schema) {
        Ok(data_type) => return Ok(data_type),
        Err(error) => error,
    };
    if matches!(error.find_root(), DataFusionError::SchemaError(..)) {
        // An ambiguous or missing column found while typing: not a type error.
        return Err(planning_error(state, &error, text, schema, location));
    }
    let message = error.strip_backtrace();
    let Some(((start, end), piece)) = innermost_subexpression(state, text, schema, |piece| coerced_type(piece, schema).is_err()) else {
        return Err(wrong_arity::classify(&message, whole(location, text))
            .unwrap_or_else(|| diagnostic_from_message(&message, whole(location, text))));
    };
    let at = at_range(location, start, end);
    let piece_text = &text[start..end];
    let piece_message = coerced_type(&piece, schema).err().map(|error| error.strip_backtrace()).unwrap_or(message);
    if let Some(diagnostic) = wrong_arity::classify(&piece_message, at.clone()) {
        return Err(diagnostic);
    }
    if let Expr::BinaryExpr(binary) = &piece
        && let (Ok(left), Ok(right)) = (coerced_type(&binary.left, schema), coerced_type(&binary.right, schema))
    {
        return Err(Diagnostic::new(
            Code::TypeMismatch,
            at,
            format!("cannot apply `{}` to `{}` and `{}` in `{}`", binary.op, type_name(&left), type_name(&right), abbreviate(piece_text)),
        )
        .with_note(clean_message(&piece_message))
        .with_suggestion("cast one side explicitly, e.g. `CAST(x AS DOUBLE)`"));
    }
    Err(diagnostic_from_message(&piece_message, at))
}

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

/// The `Candidate functions:` lines of a DataFusion signature error.
pub fn candidate_signatures(message: &str) -> Vec<String> {
    message
        .split("Candidate functions:")
        .nth(1)
        .map(|rest| rest.lines().map(str::trim).filter(|line| !line.is_empty()).map(str::to_string).collect())
        .unwrap_or_default()
}
