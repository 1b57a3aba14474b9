//! A lexer for Rust source good enough to read its paths: identifiers, `::` and single
//! punctuation characters, each with its line, and nothing from comments, string, byte-string,
//! raw-string or character literals (so `crate::x` in a doc comment or a string is not a
//! path). Lifetimes (`'a`) are dropped too.
//!
//! Invariant: every identifier the compiler would see outside literals and comments is a token
//! here, in order; literal contents never are. Numbers become one `Number` token.

/// One token of Rust source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// An identifier or keyword (`crate`, `use`, `r#type` as `type`).
    Ident(String),
    /// `::`.
    PathSeparator,
    /// Any other punctuation character (`{`, `}`, `;`, `*`, `,`, `#`, …).
    Punct(char),
    /// A literal (number, string, character), its content dropped.
    Literal,
}

/// A token and the 1-based line it starts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub line: usize,
}

impl Token {
    /// The identifier, if this token is one.
    pub fn ident(&self) -> Option<&str> {
        match &self.kind {
            TokenKind::Ident(name) => Some(name),
            _ => None,
        }
    }

    /// Whether this token is the punctuation character `c`.
    pub fn is_punct(&self, c: char) -> bool {
        self.kind == TokenKind::Punct(c)
    }
}

/// The tokens of `source`.
pub fn tokenize(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        let next = chars.get(index + 1).copied();
        if c == '\n' {
            line += 1;
            index += 1;
        } else if c.is_whitespace() {
            index += 1;
        } else if c == '/' && next == Some('/') {
            while index < chars.len() && chars[index] != '\n' {
                index += 1;
            }
        } else if c == '/' && next == Some('*') {
            index = skip_block_comment(&chars, index, &mut line);
        } else if let Some(end) = raw_string_end(&chars, index, &mut line) {
            tokens.push(Token { kind: TokenKind::Literal, line });
            index = end;
        } else if c == '"' || (c == 'b' && next == Some('"')) {
            let start_line = line;
            index = skip_quoted(&chars, index + usize::from(c == 'b') + 1, '"', &mut line);
            tokens.push(Token { kind: TokenKind::Literal, line: start_line });
        } else if c == '\'' || (c == 'b' && next == Some('\'')) {
            let after_quote = index + usize::from(c == 'b') + 1;
            // A character literal closes within a few characters; a lifetime does not.
            let is_char = chars.get(after_quote) == Some(&'\\') || chars.get(after_quote + 1) == Some(&'\'');
            if is_char {
                index = skip_quoted(&chars, after_quote, '\'', &mut line);
                tokens.push(Token { kind: TokenKind::Literal, line });
            } else {
                index = after_quote;
                while index < chars.len() && is_ident_continue(chars[index]) {
                    index += 1;
                }
            }
        } else if c.is_ascii_digit() {
            while index < chars.len()
                && (is_ident_continue(chars[index]) || chars[index] == '.' && chars.get(index + 1).is_some_and(char::is_ascii_digit))
            {
                index += 1;
            }
            tokens.push(Token { kind: TokenKind::Literal, line });
        } else if is_ident_start(c) {
            let start = index;
            while index < chars.len() && is_ident_continue(chars[index]) {
                index += 1;
            }
            let mut name: String = chars[start..index].iter().collect();
            if name == "r" && chars.get(index) == Some(&'#') && chars.get(index + 1).is_some_and(|c| is_ident_start(*c)) {
                let raw_start = index + 1;
                index = raw_start;
                while index < chars.len() && is_ident_continue(chars[index]) {
                    index += 1;
                }
                name = chars[raw_start..index].iter().collect();
            }
            tokens.push(Token { kind: TokenKind::Ident(name), line });
        } else if c == ':' && next == Some(':') {
            tokens.push(Token { kind: TokenKind::PathSeparator, line });
            index += 2;
        } else {
            tokens.push(Token { kind: TokenKind::Punct(c), line });
            index += 1;
        }
    }
    tokens
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Skips a (nested) block comment starting at `index`; returns the index after it.
fn skip_block_comment(chars: &[char], mut index: usize, line: &mut usize) -> usize {
    let mut depth = 0;
    while index < chars.len() {
        match (chars[index], chars.get(index + 1)) {
            ('/', Some('*')) => {
                depth += 1;
                index += 2;
            }
            ('*', Some('/')) => {
                depth -= 1;
                index += 2;
                if depth == 0 {
                    return index;
                }
            }
            (c, _) => {
                if c == '\n' {
                    *line += 1;
                }
                index += 1;
            }
        }
    }
    index
}

/// Skips a quoted literal's content from `index` (just after the opening quote) through the
/// closing `quote`, honoring backslash escapes; returns the index after the closing quote.
fn skip_quoted(chars: &[char], mut index: usize, quote: char, line: &mut usize) -> usize {
    while index < chars.len() {
        match chars[index] {
            '\\' => {
                if chars.get(index + 1) == Some(&'\n') {
                    *line += 1;
                }
                index += 2;
            }
            '\n' => {
                *line += 1;
                index += 1;
            }
            c if c == quote => return index + 1,
            _ => index += 1,
        }
    }
    index
}

/// If a raw string (`r"…"`, `r#"…"#`, `br#"…"#`) starts at `index`, the index after it.
fn raw_string_end(chars: &[char], index: usize, line: &mut usize) -> Option<usize> {
    let mut cursor = index;
    if chars.get(cursor) == Some(&'b') {
        cursor += 1;
    }
    if chars.get(cursor) != Some(&'r') {
        return None;
    }
    // `r` must start the token: not the end of an identifier such as `bar"`.
    if index > 0 && is_ident_continue(chars[index - 1]) {
        return None;
    }
    cursor += 1;
    let mut hashes = 0;
    while chars.get(cursor) == Some(&'#') {
        hashes += 1;
        cursor += 1;
    }
    if chars.get(cursor) != Some(&'"') {
        return None;
    }
    cursor += 1;
    while cursor < chars.len() {
        if chars[cursor] == '\n' {
            *line += 1;
        }
        if chars[cursor] == '"' && (1..=hashes).all(|offset| chars.get(cursor + offset) == Some(&'#')) {
            return Some(cursor + 1 + hashes);
        }
        cursor += 1;
    }
    Some(cursor)
}

#[cfg(test)]
mod tests {
    use super::{TokenKind, tokenize};

    fn idents(source: &str) -> Vec<String> {
        tokenize(source).into_iter().filter_map(|token| token.ident().map(str::to_string)).collect()
    }

    #[test]
    fn comments_strings_and_lifetimes_hide_nothing_else() {
        let source = "// crate::a\n/* crate::b /* nested */ */ fn f<'a>(x: &'a str) -> char { let s = r#\"crate::c\"#; let t = \"crate::d\\\"\"; 'x' }";
        assert_eq!(idents(source), ["fn", "f", "x", "str", "char", "let", "s", "let", "t"]);
    }

    #[test]
    fn lines_count_through_literals() {
        let tokens = tokenize("\"a\nb\"\nuse");
        assert_eq!(tokens.last().map(|token| (token.kind.clone(), token.line)), Some((TokenKind::Ident("use".to_string()), 3)));
    }
}
