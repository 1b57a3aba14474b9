//! `V0224 expression-too-complex`: limits against hostile input. An expression string or a
//! SQL query that is too long, nested too deeply or made of too many tokens is rejected
//! *before* it is parsed, so planning never overflows the stack or exhausts memory.
//!
//! The limits are generous for hand-written specs; each is a constant here.

use viewdag_ir::{Code, Diagnostic, SpecLocation};

/// Longest expression string, in bytes.
pub const MAX_EXPRESSION_BYTES: usize = 8 * 1024;
/// Longest SQL view, in bytes.
pub const MAX_SQL_BYTES: usize = 64 * 1024;
/// Deepest parenthesis nesting in an expression or query.
pub const MAX_NESTING: usize = 48;
/// Most operator and word tokens in one expression (bounds the depth of operator chains).
pub const MAX_EXPRESSION_TOKENS: usize = 1024;
/// Most tokens in one SQL view.
pub const MAX_SQL_TOKENS: usize = 8 * 1024;

/// What the scan of a text found: its deepest nesting and its token count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextShape {
    pub nesting: usize,
    pub tokens: usize,
}

/// Scans `text` outside quotes: parenthesis and bracket nesting, and tokens (words and
/// operator runs).
pub fn shape(text: &str) -> TextShape {
    let mut nesting = 0usize;
    let mut deepest = 0usize;
    let mut tokens = 0usize;
    let mut quote: Option<char> = None;
    // The class of the previous character: 0 separator, 1 word, 2 operator.
    let mut previous_class = 0u8;
    for character in text.chars() {
        if let Some(open) = quote {
            if character == open {
                quote = None;
            }
            continue;
        }
        match character {
            '\'' | '"' | '`' => {
                quote = Some(character);
                tokens += 1;
                previous_class = 0;
            }
            '(' | '[' => {
                nesting += 1;
                deepest = deepest.max(nesting);
                previous_class = 0;
            }
            ')' | ']' => {
                nesting = nesting.saturating_sub(1);
                previous_class = 0;
            }
            _ if character.is_whitespace() || character == ',' => previous_class = 0,
            _ => {
                let class = if character.is_alphanumeric() || character == '_' || character == '.' { 1 } else { 2 };
                if class != previous_class {
                    tokens += 1;
                }
                previous_class = class;
            }
        }
    }
    TextShape { nesting: deepest, tokens }
}

/// What makes `text` too complex, if anything.
fn problem(text: &str, what: &str, max_bytes: usize, max_tokens: usize) -> Option<String> {
    if text.len() > max_bytes {
        return Some(format!("{what} is {} bytes long; the limit is {max_bytes}", text.len()));
    }
    let TextShape { nesting, tokens } = shape(text);
    if nesting > MAX_NESTING {
        Some(format!("{what} nests parentheses {nesting} deep; the limit is {MAX_NESTING}"))
    } else if tokens > max_tokens {
        Some(format!("{what} has {tokens} tokens; the limit is {max_tokens}"))
    } else {
        None
    }
}

fn check_text(text: &str, what: &str, max_bytes: usize, max_tokens: usize, location: &SpecLocation) -> Option<Diagnostic> {
    let problem = problem(text, what, max_bytes, max_tokens)?;
    Some(Diagnostic::new(Code::ExpressionTooComplex, location.clone(), problem).with_suggestion("split it into several views"))
}

/// Whether an expression string is within the limits ([`check_expression`] finds nothing),
/// without building the diagnostic's location.
pub fn expression_within_limits(text: &str) -> bool {
    text.len() <= MAX_EXPRESSION_BYTES && {
        let TextShape { nesting, tokens } = shape(text);
        nesting <= MAX_NESTING && tokens <= MAX_EXPRESSION_TOKENS
    }
}

/// Checks an expression string before it is parsed.
pub fn check_expression(text: &str, location: &SpecLocation) -> Option<Diagnostic> {
    check_text(text, "the expression", MAX_EXPRESSION_BYTES, MAX_EXPRESSION_TOKENS, location)
}

/// Checks a SQL view's text before it is parsed.
pub fn check_sql(text: &str, location: &SpecLocation) -> Option<Diagnostic> {
    check_text(text, "the SQL query", MAX_SQL_BYTES, MAX_SQL_TOKENS, location)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_nesting_and_tokens() {
        assert_eq!(shape("abs((a + 'x(('))"), TextShape { nesting: 2, tokens: 4 });
        let deep = format!("{}a{}", "(".repeat(100), ")".repeat(100));
        assert!(check_expression(&deep, &SpecLocation::view("v")).is_some());
        let long_chain = vec!["a"; 2000].join("+");
        assert!(check_expression(&long_chain, &SpecLocation::view("v")).is_some());
        assert!(check_expression("status = 'paid' AND amount > 0", &SpecLocation::view("v")).is_none());
    }

    #[test]
    fn within_limits_agrees_with_the_check() {
        let quoted_pairs = format!("\"{}\"", "a\"\"".repeat(1500));
        let deep = format!("{}a{}", "(".repeat(100), ")".repeat(100));
        let long = "x".repeat(9000);
        for text in ["amount", "\"Order Id\"", "orders.amount", "", long.as_str(), quoted_pairs.as_str(), deep.as_str()] {
            assert_eq!(expression_within_limits(text), check_expression(text, &SpecLocation::view("v")).is_none(), "{text:.20}");
        }
    }
}
