//! Parsing expression strings against an input schema, and turning DataFusion errors into
//! positioned diagnostics.

use datafusion::common::{DFSchema, DataFusionError, SchemaError};
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::Expr;
use viewdag_ir::parse::closest;
use viewdag_ir::{Code, Diagnostic, SpecLocation};
use viewdag_validate::sql::error_offset;

/// Parses `text` as a SQL expression over `schema`. `location` points at the string in the
/// spec; a diagnostic's range is narrowed to the offending part of the text when known.
pub fn parse_expression(state: &SessionState, text: &str, schema: &DFSchema, location: &SpecLocation) -> Result<Expr, Diagnostic> {
    if text.trim().is_empty() {
        return Err(Diagnostic::new(Code::ExpressionSyntax, location.clone(), "the expression is empty"));
    }
    state.create_logical_expr(text, schema).map_err(|error| error_diagnostic(&error, text, location))
}

/// Maps a DataFusion error met while planning `text` (an expression or a query) to a
/// diagnostic placed inside `text` when the error says where.
pub fn error_diagnostic(error: &DataFusionError, text: &str, location: &SpecLocation) -> Diagnostic {
    let root = error.find_root();
    match root {
        DataFusionError::SchemaError(schema_error, _) => {
            if let SchemaError::FieldNotFound { field, valid_fields } = schema_error.as_ref() {
                let name = field.name.as_str();
                let mut at = location.clone();
                if let Some(offset) = find_identifier(text, name) {
                    at = at.with_range(offset, offset + name.len());
                }
                let valid: Vec<String> = valid_fields.iter().map(|column| column.name.clone()).collect();
                let valid_names: Vec<&str> = valid.iter().map(String::as_str).collect();
                let mut diagnostic = Diagnostic::new(Code::UnknownColumn, at, format!("column `{}` not found", field.flat_name()));
                if let Some(suggestion) = closest(name, &valid_names) {
                    diagnostic = diagnostic.with_suggestion(format!("did you mean `{suggestion}`?"));
                }
                if !valid.is_empty() {
                    let mut listed = valid.clone();
                    listed.dedup();
                    diagnostic = diagnostic.with_note(format!("available columns: {}", listed.join(", ")));
                }
                return diagnostic;
            }
            Diagnostic::new(Code::PlanError, location.clone(), root.strip_backtrace())
        }
        DataFusionError::SQL(parser_error, _) => {
            let message = parser_error.to_string();
            let mut at = location.clone();
            if let Some(offset) = error_offset(text, &message) {
                at = at.with_range(offset, (offset + 1).min(text.len().max(offset + 1)));
            }
            Diagnostic::new(Code::ExpressionSyntax, at, format!("`{text}` does not parse: {message}"))
        }
        other => Diagnostic::new(Code::PlanError, location.clone(), other.strip_backtrace()),
    }
}

/// Byte offset of `name` in `text` as a whole identifier (not inside a longer word).
pub fn find_identifier(text: &str, name: &str) -> Option<usize> {
    if name.is_empty() {
        return None;
    }
    let is_word = |character: char| character.is_alphanumeric() || character == '_';
    let mut start = 0;
    while let Some(found) = text[start..].find(name) {
        let offset = start + found;
        let before = text[..offset].chars().next_back();
        let after = text[offset + name.len()..].chars().next();
        if !before.is_some_and(is_word) && !after.is_some_and(is_word) {
            return Some(offset);
        }
        start = offset + name.len();
    }
    None
}

/// Splits `"expr AS name"` into the expression and its alias (case-insensitive `AS`, the
/// last one wins so `cast(x AS int) AS y` works).
pub fn split_alias(text: &str) -> (&str, Option<&str>) {
    let lowered = text.to_ascii_lowercase();
    if let Some(position) = lowered.rfind(" as ") {
        let alias = text[position + 4..].trim();
        let is_identifier = !alias.is_empty() && alias.chars().all(|character| character.is_alphanumeric() || character == '_');
        if is_identifier {
            return (text[..position].trim(), Some(alias));
        }
    }
    (text.trim(), None)
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
