//! Stage 3, expressions: turning what DataFusion says about an expression string (or a SQL
//! query) into a diagnostic positioned *inside* that string.
//!
//! The checks themselves live one per file in [`crate::checks`]; this module holds what they
//! share: converting DataFusion and sqlparser spans (1-based line and character column) to
//! byte ranges, finding the innermost sub-expression of a string that has some property,
//! and reading DataFusion's messages (prefixes, candidate signatures). It is a leaf: it
//! names no check, so every check can use it ([`crate::planning_error`] dispatches a
//! DataFusion error to the check that explains it, [`crate::typing`] types an expression).
//!
//! ## Invariants
//! - Pure: no I/O, no global state; the same inputs give the same diagnostics.
//! - Never panics on any text: every offset is clamped to the text and to char boundaries.
//! - A range is always relative to the string value the location names (`range_in_value`).

use std::ops::ControlFlow;

use datafusion::common::{DFSchema, DataFusionError};
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::Expr;
use datafusion::sql::sqlparser::ast::{Spanned, Visit, Visitor};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use viewdag_ir::SpecLocation;

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

/// The `Candidate functions:` lines of a DataFusion signature error.
pub fn candidate_signatures(message: &str) -> Vec<String> {
    message
        .split("Candidate functions:")
        .nth(1)
        .map(|rest| rest.lines().map(str::trim).filter(|line| !line.is_empty()).map(str::to_string).collect())
        .unwrap_or_default()
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
