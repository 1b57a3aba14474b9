//! Parsing expression strings against an input schema, and turning DataFusion errors into
//! positioned diagnostics (the mapping itself is `viewdag_validate::planning_error` and
//! `viewdag_validate::typing`; the checks are `viewdag_validate::checks::*`).
//!
//! ## Invariants
//! - An expression string is checked against the size limits
//!   (`expression_too_complex`) before DataFusion sees it.
//! - [`parse_typed_expression`] accepts exactly the expressions DataFusion's type coercion
//!   accepts, so an accepted view never fails later in the analyzer on an expression type.
//! - [`parse_typed_expression_indexed`] returns exactly what [`parse_typed_expression`]
//!   returns for the same text (a plain column's shortcut included).

#![allow(clippy::result_large_err, reason = "an error is its diagnostic, returned by value like a success")]

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, DataFusionError};
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::Expr;
use viewdag_ir::{Code, Diagnostic, SpecLocation};
use viewdag_validate::checks::expression_too_complex;
use viewdag_validate::planning_error::planning_error;
use viewdag_validate::typing::expression_type;

use crate::column_index::ColumnIndex;

pub use viewdag_validate::expression::find_identifier;

/// Parses `text` as a SQL expression over `schema`. `location` points at the string in the
/// spec; a diagnostic's range is narrowed to the offending part of the text when known.
pub fn parse_expression(state: &SessionState, text: &str, schema: &DFSchema, location: &SpecLocation) -> Result<Expr, Diagnostic> {
    check_expression_text(text, location)?;
    state.create_logical_expr(text, schema).map_err(|error| planning_error(state, &error, text, schema, location))
}

/// What is checked of an expression string before anything plans it: it is not empty and
/// not too large (`expression_too_complex`).
fn check_expression_text(text: &str, location: &SpecLocation) -> Result<(), Diagnostic> {
    if text.trim().is_empty() {
        return Err(Diagnostic::new(Code::ExpressionSyntax, location.clone(), "the expression is empty"));
    }
    match expression_too_complex::check_expression(text, location) {
        Some(diagnostic) => Err(diagnostic),
        None => Ok(()),
    }
}

/// Parses `text` and checks its types; returns the expression and its type.
pub fn parse_typed_expression(
    state: &SessionState,
    text: &str,
    schema: &DFSchema,
    location: &SpecLocation,
) -> Result<(Expr, DataType), Diagnostic> {
    let expression = parse_expression(state, text, schema, location)?;
    let data_type = expression_type(state, &expression, schema, text, location)?;
    Ok((expression, data_type))
}

/// [`parse_typed_expression`] over an indexed schema, for a transform that parses one
/// expression per column: a plain column reference is resolved in O(1) (the same
/// `Expr::Column` and type the SQL planner gives it), anything else is planned as SQL.
pub fn parse_typed_expression_indexed(
    state: &SessionState,
    text: &str,
    columns: &ColumnIndex,
    location: &SpecLocation,
) -> Result<(Expr, DataType), Diagnostic> {
    match indexed_plain_column(text, columns) {
        Some(found) => Ok(found),
        None => parse_typed_expression(state, text, columns.schema(), location),
    }
}

/// `text` as a plain column reference resolved through `columns`, with its type, when it
/// is one and within the expression limits: what [`parse_typed_expression_indexed`] returns
/// for it, without a location (built only for a diagnostic).
pub fn indexed_plain_column(text: &str, columns: &ColumnIndex) -> Option<(Expr, DataType)> {
    if !expression_too_complex::expression_within_limits(text) {
        return None;
    }
    columns.plain_column(text).map(|(expression, field)| (expression, field.data_type().clone()))
}

/// Maps a DataFusion error met while planning `text` (an expression or a query) over
/// `schema` to a diagnostic placed inside `text` when the error says where.
pub fn error_diagnostic(
    state: &SessionState,
    error: &DataFusionError,
    text: &str,
    schema: &DFSchema,
    location: &SpecLocation,
) -> Diagnostic {
    planning_error(state, error, text, schema, location)
}

/// Splits `"expr AS name"` into the expression and its alias (case-insensitive `AS`, the
/// last one wins so `cast(x AS int) AS y` works).
pub fn split_alias(text: &str) -> (&str, Option<&str>) {
    let lowered = text.to_ascii_lowercase();
    if let Some(position) = lowered.rfind(" as ") {
        let alias = text[position + 4..].trim();
        let is_identifier = !alias.is_empty() && alias.chars().all(|character| character.is_alphanumeric() || character == '_');
        if is_identifier {
            return (text[..position].trim_end(), Some(alias));
        }
    }
    (text, None)
}

/// Shifts a diagnostic's range inside its string by `offset` bytes (for a piece of a
/// string parsed on its own, such as the expression part of `"expr AS name"`).
pub fn shift_range(mut diagnostic: Diagnostic, offset: usize) -> Diagnostic {
    if let Some((start, end)) = diagnostic.location.range_in_value.as_mut() {
        *start += offset as u32;
        *end += offset as u32;
    }
    diagnostic
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_aliases_and_finds_identifiers() {
        assert_eq!(split_alias("date_trunc('month', ts) AS month"), ("date_trunc('month', ts)", Some("month")));
        assert_eq!(split_alias("cast(x AS int)"), ("cast(x AS int)", None));
        assert_eq!(split_alias("region"), ("region", None));
        assert_eq!(find_identifier("amount_x + amount", "amount"), Some(11));
    }
}
