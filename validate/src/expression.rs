//! Stage 3, expressions: turning what DataFusion says about an expression string (or a SQL
//! query) into a diagnostic positioned *inside* that string.
//!
//! The checks themselves live one per file in [`crate::checks`]; this module holds what they
//! share: converting DataFusion and sqlparser spans (1-based line and character column) to
//! byte ranges, finding the innermost sub-expression of a string that has some property,
//! and dispatching a DataFusion planning error to the check that explains it.
//!
//! ## Invariants
//! - Pure: no I/O, no global state; the same inputs give the same diagnostics.
//! - Never panics on any text: every offset is clamped to the text and to char boundaries.
//! - A range is always relative to the string value the location names (`range_in_value`).

use std::ops::ControlFlow;

use datafusion::common::{DFSchema, DataFusionError, SchemaError};
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::Expr;
use datafusion::sql::sqlparser::ast::{Spanned, Visit, Visitor};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

use crate::checks::{ambiguous_column, type_mismatch, unknown_column, unknown_function};
use crate::sql::error_offset;

/// At most this many sub-expressions are re-planned to position one error.
const MAX_PROBES: usize = 128;

/// The byte offset of a 1-based line and character column in `text`, clamped to the text.
pub fn offset_of(text: &str, line: u64, column: u64) -> usize {
    let line_start: usize = text.split_inclusive('\n').take((line as usize).saturating_sub(1)).map(str::len).sum();
    let line_start = line_start.min(text.len());
    let line_text = text[line_start..].lines().next().unwrap_or("");
    let in_line: usize = line_text.chars().take((column as usize).saturating_sub(1)).map(char::len_utf8).sum();
    (line_start + in_line).min(text.len())
}

/// `location` narrowed to `start..end` inside its string (at least one byte wide).
pub fn at_range(location: &SpecLocation, start: usize, end: usize) -> SpecLocation {
    location.clone().with_range(start, end.max(start + 1))
}

/// `location` covering all of `text` (trailing whitespace excluded).
pub fn whole(location: &SpecLocation, text: &str) -> SpecLocation {
    let start = text.len() - text.trim_start().len();
    at_range(location, start, text.trim_end().len().max(start))
}

/// The byte range of a DataFusion span inside `text`, if the span is set.
pub fn datafusion_span_range(text: &str, span: &datafusion::common::Span) -> Option<(usize, usize)> {
    if span.start.line == 0 {
        return None;
    }
    let start = offset_of(text, span.start.line, span.start.column);
    let end = offset_of(text, span.end.line, span.end.column);
    Some((start, end.max(start)))
}

/// The range DataFusion attached to an error (its `Diagnostic` span), if any.
pub fn error_range(error: &DataFusionError, text: &str) -> Option<(usize, usize)> {
    let span = error.diagnostic()?.span?;
    datafusion_span_range(text, &span)
}

/// The byte offset of `name` in `text` as a whole identifier (not inside a longer word or
/// a string literal), optionally the `nth` such occurrence (0-based).
pub fn find_identifier_nth(text: &str, name: &str, nth: usize) -> Option<usize> {
    if name.is_empty() {
        return None;
    }
    let is_word = |character: char| character.is_alphanumeric() || character == '_';
    let mut seen = 0;
    let mut start = 0;
    while let Some(found) = text.get(start..).and_then(|rest| rest.find(name)) {
        let offset = start + found;
        let before = text[..offset].chars().next_back();
        let after = text[offset + name.len()..].chars().next();
        let quotes_before = text[..offset].matches('\'').count();
        if !before.is_some_and(is_word) && !after.is_some_and(is_word) && quotes_before.is_multiple_of(2) {
            if seen == nth {
                return Some(offset);
            }
            seen += 1;
        }
        start = offset + name.len();
    }
    None
}

/// The first whole-identifier occurrence of `name` in `text`.
pub fn find_identifier(text: &str, name: &str) -> Option<usize> {
    find_identifier_nth(text, name, 0)
}

/// The byte ranges of every sub-expression of `text`, innermost first (post-order), as the
/// SQL parser sees them. Empty when the text does not parse on its own.
pub fn subexpression_ranges(text: &str) -> Vec<(usize, usize)> {
    struct Collector<'a> {
        text: &'a str,
        ranges: Vec<(usize, usize)>,
    }
    impl Visitor for Collector<'_> {
        type Break = ();
        fn post_visit_expr(&mut self, expr: &datafusion::sql::sqlparser::ast::Expr) -> ControlFlow<()> {
            let span = expr.span();
            if span.start.line > 0 {
                let start = offset_of(self.text, span.start.line, span.start.column);
                let mut end = offset_of(self.text, span.end.line, span.end.column);
                // A call's span may stop before its closing parenthesis.
                if self.text[end..].starts_with(')')
                    && self.text[start..end].matches('(').count() > self.text[start..end].matches(')').count()
                {
                    end += 1;
                }
                if end > start && !self.ranges.contains(&(start, end)) {
                    self.ranges.push((start, end));
                }
            }
            ControlFlow::Continue(())
        }
    }
    let parsed = Parser::new(&GenericDialect {}).try_with_sql(text).and_then(|mut parser| parser.parse_expr());
    let Ok(expression) = parsed else { return Vec::new() };
    let mut collector = Collector { text, ranges: Vec::new() };
    let _ = expression.visit(&mut collector);
    collector.ranges
}

/// The innermost sub-expression of `text` that, planned on its own over `schema`, makes
/// `has_property` true: its byte range and its plan. Used to place an error found on the
/// whole expression.
pub fn innermost_subexpression(
    state: &SessionState,
    text: &str,
    schema: &DFSchema,
    has_property: impl Fn(&Expr) -> bool,
) -> Option<((usize, usize), Expr)> {
    subexpression_ranges(text).into_iter().take(MAX_PROBES).find_map(|(start, end)| {
        let expression = state.create_logical_expr(text.get(start..end)?, schema).ok()?;
        has_property(&expression).then_some(((start, end), expression))
    })
}

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

/// DataFusion's message without its `Error during planning: ` style prefixes.
pub fn clean_message(message: &str) -> String {
    let mut text = message.trim();
    for prefix in ["Error during planning: ", "Schema error: ", "Internal error: ", "This feature is not implemented: "] {
        while let Some(rest) = text.strip_prefix(prefix) {
            text = rest.trim();
        }
    }
    let first_line = text.lines().next().unwrap_or("").trim_end_matches('.');
    first_line.to_string()
}

/// `text` shortened for a message: at most 60 characters, on one line.
pub fn abbreviate(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= 60 { one_line } else { format!("{}…", one_line.chars().take(57).collect::<String>()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_identifiers() {
        assert_eq!(offset_of("ab\ncd", 2, 2), 4);
        assert_eq!(offset_of("ab", 9, 9), 2);
        assert_eq!(find_identifier("amount_x + amount", "amount"), Some(11));
        assert_eq!(find_identifier("'amount' + amount", "amount"), Some(11));
        assert_eq!(find_identifier_nth("sum(sum(a))", "sum", 1), Some(4));
    }

    #[test]
    fn subexpressions_are_innermost_first() {
        let ranges = subexpression_ranges("abs(a + 'x') > 1");
        let pieces: Vec<&str> = ranges.iter().map(|(start, end)| &"abs(a + 'x') > 1"[*start..*end]).collect();
        assert!(pieces.iter().position(|piece| *piece == "a + 'x'") < pieces.iter().position(|piece| piece.starts_with("abs(")));
        assert!(subexpression_ranges("((").is_empty());
    }
}
