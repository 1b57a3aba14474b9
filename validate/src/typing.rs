//! Stage 3, types: an expression's type after DataFusion's own type coercion, so it accepts
//! exactly what the analyzer will accept later. When typing fails, the innermost failing
//! sub-expression is found by re-planning the pieces of the string, and the diagnostic
//! underlines that piece: `V0210 wrong-arity` ([`crate::checks::wrong_arity`]) or `V0208
//! type-mismatch` ([`crate::checks::type_mismatch`]); a missing or ambiguous column met
//! while typing is reported as planning reports it ([`crate::planning_error`]).
//!
//! Invariants: pure; at most `MAX_PROBES` pieces are re-planned for one error.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::TreeNode;
use datafusion::common::{DFSchema, DataFusionError};
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::{Expr, ExprSchemable};
use datafusion::optimizer::analyzer::type_coercion::TypeCoercionRewriter;
use viewdag_ir::{Diagnostic, SpecLocation};

use crate::checks::{type_mismatch, wrong_arity};
use crate::expression::{at_range, innermost_subexpression, whole};
use crate::planning_error::planning_error;

/// The type of `expression` over `schema` after DataFusion's type coercion.
pub fn coerced_type(expression: &Expr, schema: &DFSchema) -> Result<DataType, DataFusionError> {
    let coerced = expression.clone().rewrite(&mut TypeCoercionRewriter::new(schema))?.data;
    coerced.get_type(schema)
}

/// Checks that `expression` (parsed from `text`) is well typed; returns its type.
pub fn expression_type(
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
        return Err(type_mismatch::diagnostic_from_message(&message, whole(location, text)));
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
        return Err(type_mismatch::operator_diagnostic(&binary.op.to_string(), &left, &right, piece_text, &piece_message, at));
    }
    Err(type_mismatch::diagnostic_from_message(&piece_message, at))
}
