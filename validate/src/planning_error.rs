//! Stage 3, planning errors: a DataFusion error met while planning an expression string or
//! a SQL query becomes the diagnostic of the check that explains it (unknown or ambiguous
//! column, unknown function, syntax, nesting, duplicate output name, types), placed inside
//! the string when the error or the text says where; anything else is `V0201 plan-error`.
//!
//! Invariants: pure and total (every error gives one diagnostic, never a panic); the checks
//! it dispatches to never call back into it.

use datafusion::common::{DFSchema, DataFusionError, SchemaError};
use datafusion::execution::session_state::SessionState;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

use crate::checks::{ambiguous_column, type_mismatch, unknown_column, unknown_function};
use crate::expression::{abbreviate, at_range, clean_message, error_range, find_identifier, whole};
use crate::sql::error_offset;

/// Maps a DataFusion error met while planning `text` (an expression or a query) over
/// `schema` to a diagnostic placed inside `text` when the error (or the text) says where.
pub fn planning_error(state: &SessionState, error: &DataFusionError, text: &str, schema: &DFSchema, location: &SpecLocation) -> Diagnostic {
    let range = error_range(error, text);
    let root = error.find_root();
    match root {
        DataFusionError::SchemaError(schema_error, _) => match schema_error.as_ref() {
            SchemaError::FieldNotFound { field, valid_fields } => {
                let range = find_identifier(text, &field.name).map(|offset| (offset, offset + field.name.len())).or(range);
                let at = match range {
                    Some((start, end)) => at_range(location, start, end),
                    None => location.clone(),
                };
                unknown_column::diagnostic(&field.name, field.relation.as_ref().map(ToString::to_string).as_deref(), valid_fields, at)
            }
            SchemaError::AmbiguousReference { field } => {
                let range = find_identifier(text, &field.name).map(|offset| (offset, offset + field.name.len())).or(range);
                let at = match range {
                    Some((start, end)) => at_range(location, start, end),
                    None => location.clone(),
                };
                ambiguous_column::diagnostic(&field.name, schema, at)
            }
            _ => Diagnostic::new(Code::PlanError, location.clone(), root.strip_backtrace()),
        },
        DataFusionError::SQL(parser_error, _) => {
            let message = parser_error.to_string();
            if message.contains("recursion limit") {
                return Diagnostic::new(
                    Code::ExpressionTooComplex,
                    whole(location, text),
                    format!("`{}` is nested too deeply to parse", abbreviate(text)),
                );
            }
            let mut at = location.clone();
            if let Some(offset) = error_offset(text, &message) {
                at = at_range(location, offset, offset + 1);
            }
            Diagnostic::new(Code::ExpressionSyntax, at, format!("`{}` does not parse: {message}", abbreviate(text)))
        }
        _ => {
            let message = root.strip_backtrace();
            if let Some(name) = unknown_function::function_name_from_error(&message) {
                let range = find_identifier(text, &name).map(|offset| (offset, offset + name.len())).or(range);
                let at = match range {
                    Some((start, end)) => at_range(location, start, end),
                    None => location.clone(),
                };
                return unknown_function::diagnostic(state, &name, at);
            }
            if message.contains("Projections require unique expression names") {
                return Diagnostic::new(Code::DuplicateColumn, location.clone(), "the query outputs two columns with the same name")
                    .with_note(clean_message(&message))
                    .with_suggestion("give each column a distinct name with `AS`");
            }
            if type_mismatch::is_type_error(&message) {
                let at = match range {
                    Some((start, end)) => at_range(location, start, end),
                    None => whole(location, text),
                };
                return type_mismatch::diagnostic_from_message(&message, at);
            }
            let at = match range {
                Some((start, end)) => at_range(location, start, end),
                None => location.clone(),
            };
            Diagnostic::new(Code::PlanError, at, clean_message(&message))
        }
    }
}
