//! The syntax of an expression string that is nothing but a column reference: a bare or
//! double-quoted identifier, optionally qualified by one more (`amount`, `"Order Id"`,
//! `orders.amount`). Such a string is resolved against a [`crate::column_index::ColumnIndex`]
//! in O(1), instead of being planned by DataFusion's SQL expression planner, which scans the
//! input schema for every column it names (N columns × N fields for a wide projection).
//!
//! ## Invariants
//! - Recognizes only what the SQL parser (generic dialect, identifiers not normalized: the
//!   session's settings) reads as the same identifiers: a bare identifier is ASCII
//!   `[A-Za-z_][A-Za-z0-9_]*` and no SQL keyword (`true`, `null`, `current_date` parse as
//!   something else); a quoted one is non-empty, with `""` standing for `"`. Anything else
//!   (`@variables`, backticks, three parts, functions, operators) is `None`, and the caller
//!   plans the text as SQL: this is a shortcut, never a second grammar.
//! - Pure and linear in the text's length.

use std::borrow::Cow;

use datafusion::sql::sqlparser::keywords::ALL_KEYWORDS;

/// A column named by a plain reference; `qualifier` is the relation's name when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnReference<'text> {
    pub qualifier: Option<Cow<'text, str>>,
    pub name: Cow<'text, str>,
}

/// The whitespace the SQL tokenizer skips around a token.
const SQL_WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// `text` as a plain column reference, or `None` when it is anything else.
pub fn plain_column_reference(text: &str) -> Option<ColumnReference<'_>> {
    let mut rest = text.trim_matches(SQL_WHITESPACE.as_slice());
    let mut parts = Vec::with_capacity(2);
    loop {
        let (part, after) = identifier(rest)?;
        parts.push(part);
        match after.strip_prefix('.') {
            Some(next) if parts.len() < 2 => rest = next,
            Some(_) => return None,
            None if after.is_empty() => break,
            None => return None,
        }
    }
    let name = parts.pop()?;
    Some(ColumnReference { qualifier: parts.pop(), name })
}

/// One identifier at the start of `text` and what follows it.
fn identifier(text: &str) -> Option<(Cow<'_, str>, &str)> {
    if let Some(quoted) = text.strip_prefix('"') {
        return quoted_identifier(quoted);
    }
    let end = text.find(|character: char| !(character.is_ascii_alphanumeric() || character == '_')).unwrap_or(text.len());
    let word = &text[..end];
    let starts_well = word.chars().next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_');
    let is_keyword = ALL_KEYWORDS.binary_search(&word.to_ascii_uppercase().as_str()).is_ok();
    (starts_well && !is_keyword).then_some((Cow::Borrowed(word), &text[end..]))
}

/// The rest of a double-quoted identifier whose opening quote is consumed.
fn quoted_identifier(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let mut value: Option<String> = None;
    let mut start = 0;
    loop {
        let close = start + text[start..].find('"')?;
        if text[close + 1..].starts_with('"') {
            value.get_or_insert_with(String::new).push_str(&text[start..=close]);
            start = close + 2;
            continue;
        }
        let value = match value {
            Some(mut escaped) => {
                escaped.push_str(&text[start..close]);
                Cow::Owned(escaped)
            }
            None => Cow::Borrowed(&text[..close]),
        };
        return (!value.is_empty()).then_some((value, &text[close + 1..]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(text: &str) -> Option<(Option<String>, String)> {
        plain_column_reference(text).map(|found| (found.qualifier.map(Cow::into_owned), found.name.into_owned()))
    }

    #[test]
    fn reads_bare_quoted_and_qualified_columns() {
        assert_eq!(reference("amount"), Some((None, "amount".into())));
        assert_eq!(reference("  _Amount_2\n"), Some((None, "_Amount_2".into())));
        assert_eq!(reference("orders.amount"), Some((Some("orders".into()), "amount".into())));
        assert_eq!(reference(r#""Order Id""#), Some((None, "Order Id".into())));
        assert_eq!(reference(r#""say ""hi""""#), Some((None, r#"say "hi""#.into())));
        assert_eq!(reference(r#""my orders"."a.b""#), Some((Some("my orders".into()), "a.b".into())));
    }

    #[test]
    fn leaves_everything_else_to_the_sql_planner() {
        for text in [
            "",
            "true",
            "NULL",
            "current_date",
            "select",
            "a + 1",
            "f(a)",
            "a AS b",
            "1a",
            "@x",
            "`a`",
            r#""""#,
            r#""a"#,
            "a.b.c",
            "a.",
            ".a",
            "a .b",
            "é",
            "a--",
            "CAST(a AS int)",
        ] {
            assert_eq!(reference(text), None, "{text}");
        }
    }
}
