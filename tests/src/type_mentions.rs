//! What the `hygiene` tests look for in Rust source, read through `rust_tokens` (so nothing
//! in a comment or a string counts): the `impl` blocks of a type, and the places that name
//! `Result<…, String>` (an error that is only text).
//!
//! Invariant: a mention is reported with the 1-based line it starts on; a mention the
//! compiler would not see (in a comment, a string or a doc) is never reported.

use crate::rust_tokens::{Token, TokenKind, tokenize};

/// The lines of every `impl` block of `type_name` in `source` (inherent or of a trait, with
/// or without generics): `impl Compiler {`, `impl Default for Compiler {`.
pub fn impl_blocks_of(source: &str, type_name: &str) -> Vec<usize> {
    let tokens = tokenize(source);
    let mut lines = Vec::new();
    for (index, token) in tokens.iter().enumerate() {
        if token.ident() != Some("impl") {
            continue;
        }
        // The implemented type is the last identifier of the header (before `{` or `where`),
        // at the header's top level (not inside `<…>`).
        let mut depth = 0usize;
        let mut last_ident = None;
        for next in &tokens[index + 1..] {
            match &next.kind {
                TokenKind::Punct('<') => depth += 1,
                TokenKind::Punct('>') => depth = depth.saturating_sub(1),
                TokenKind::Punct('{' | ';') => break,
                TokenKind::Ident(name) if name == "where" && depth == 0 => break,
                TokenKind::Ident(name) if depth == 0 => last_ident = Some(name.as_str()),
                _ => {}
            }
        }
        if last_ident == Some(type_name) {
            lines.push(token.line);
        }
    }
    lines
}

/// The lines where `source` names a `Result` whose error type is `String`
/// (`Result<T, String>`, `std::result::Result<Vec<T>, String>`, `Result<(), std::string::String>`).
pub fn string_error_results(source: &str) -> Vec<usize> {
    let tokens = tokenize(source);
    let mut lines = Vec::new();
    for (index, token) in tokens.iter().enumerate() {
        if token.ident() == Some("Result")
            && tokens.get(index + 1).is_some_and(|next| next.is_punct('<'))
            && error_type(&tokens[index + 2..]).is_some_and(|error| error.last().and_then(Token::ident) == Some("String") && is_path(error))
        {
            lines.push(token.line);
        }
    }
    lines
}

/// The tokens of the second top-level argument of the generic list `tokens` starts inside of
/// (just after its `<`), when there are exactly two.
fn error_type(tokens: &[Token]) -> Option<&[Token]> {
    let mut depth = 0usize;
    let mut arguments = vec![0usize];
    for (index, token) in tokens.iter().enumerate() {
        match &token.kind {
            TokenKind::Punct('<' | '(' | '[') => depth += 1,
            TokenKind::Punct(')' | ']') => depth = depth.saturating_sub(1),
            // `->` inside a `Fn(…) -> T` argument is not a closing bracket.
            TokenKind::Punct('>') if index > 0 && tokens[index - 1].is_punct('-') => {}
            TokenKind::Punct('>') if depth == 0 => {
                return (arguments.len() == 2).then(|| &tokens[arguments[1]..index]);
            }
            TokenKind::Punct('>') => depth -= 1,
            TokenKind::Punct(',') if depth == 0 => arguments.push(index + 1),
            _ => {}
        }
    }
    None
}

/// Whether `tokens` are a plain path (`String`, `std::string::String`).
fn is_path(tokens: &[Token]) -> bool {
    !tokens.is_empty() && tokens.iter().all(|token| matches!(token.kind, TokenKind::Ident(_) | TokenKind::PathSeparator))
}

#[cfg(test)]
mod tests {
    use super::{impl_blocks_of, string_error_results};

    #[test]
    fn impl_blocks_are_found_by_their_type_whatever_the_header() {
        let source = "impl Compiler {\n}\nimpl Default for Compiler {}\nimpl<'a> Snapshot<'a> {}\nimpl From<Compiler> for Host {}\n// impl Compiler {}\nimpl<T: Into<Compiler>> Wrapper<T> where T: Clone {}\n";
        assert_eq!(impl_blocks_of(source, "Compiler"), vec![1, 3]);
        assert_eq!(impl_blocks_of(source, "Snapshot"), vec![4]);
        assert_eq!(impl_blocks_of(source, "Wrapper"), vec![7]);
    }

    #[test]
    fn string_errors_are_found_in_any_spelling_and_nowhere_else() {
        let source = "fn a() -> Result<u8, String> {}\n\
                      fn b() -> std::result::Result<Vec<u8>, std::string::String> {}\n\
                      fn c() -> Result<String, Error> {}\n\
                      fn d() -> Result<Box<dyn Fn(u8) -> u8>, String> {}\n\
                      fn e() -> Result<(), (String, u8)> {}\n\
                      // Result<u8, String>\n\
                      fn f() -> Result<u8> { \"Result<u8, String>\" }\n\
                      fn g() -> Result<HashMap<String, u8>, String> {}\n";
        assert_eq!(string_error_results(source), vec![1, 2, 4, 8]);
    }
}
