//! What the cursor is on, read from the text around it: the key path from the document root
//! (`["views", "paid_orders", "filter", "predicate"]`), whether the cursor is where a key or a
//! value goes, and the word being typed.
//!
//! This reads the text, not the parse, because completion happens in half-typed YAML that
//! does not parse. It understands block mappings by indentation (a line's parents are the
//! nearest lines above it with less indentation), flow mappings and sequences on the
//! cursor's line (`{ input: orders, predicate: "a > 0" }`), quoted strings and block scalars
//! (`predicate: |`). Sequence items add no key to the path. Anything it cannot read gives a
//! shorter path, never a panic.

/// The cursor's place in the YAML structure.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CursorContext {
    /// Keys from the document root to the value the cursor is in (or to the mapping whose
    /// key it is typing).
    pub path: Vec<String>,
    /// The cursor is where a mapping key goes.
    pub in_key: bool,
    /// The cursor is inside a string value (quoted or a block scalar): an expression or SQL.
    pub in_string: bool,
    /// The identifier characters just before the cursor.
    pub prefix: String,
}

use super::line_index::{LineIndex, SHALLOW_INDENT};

fn indentation(line: &str) -> usize {
    line.chars().take_while(|character| *character == ' ').count()
}

/// The key a block line starts with (`  key: …`, `- key: …`), if any.
fn leading_key(line: &str) -> Option<String> {
    let trimmed = line.trim_start();
    let trimmed = trimmed.strip_prefix("- ").unwrap_or(trimmed);
    let unquoted = |key: &str| key.trim().trim_matches(|character| character == '"' || character == '\'').to_string();
    let mut in_quote = None;
    for (index, character) in trimmed.char_indices() {
        match (in_quote, character) {
            (Some(quote), _) if character == quote => in_quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') if index == 0 => in_quote = Some(character),
            (None, ':') => {
                let rest = &trimmed[index + 1..];
                if rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t') {
                    let key = unquoted(&trimmed[..index]);
                    return (!key.is_empty() && !key.starts_with(['{', '[', '#'])).then_some(key);
                }
            }
            (None, '{' | '[' | '#') if index == 0 => return None,
            _ => {}
        }
    }
    None
}

fn is_block_scalar_header(line: &str) -> bool {
    let value = line.trim_end();
    value.ends_with(": |") || value.ends_with(": >") || value.ends_with(": |-") || value.ends_with(": >-")
}

fn is_identifier(character: char) -> bool {
    character.is_alphanumeric() || character == '_'
}

/// The context at character `column` (0-based, in characters) of 0-based `line` of `text`
/// (`lines` is its line index). Reads the cursor's line and the lines above it up to each
/// parent; past a parent indented by fewer than [`SHALLOW_INDENT`] spaces it jumps between
/// shallow lines, so the answer costs the entry's lines, not the document's.
pub fn cursor_context(text: &str, lines: &LineIndex, line: u32, column: usize) -> CursorContext {
    if line >= lines.line_count() {
        return CursorContext::default();
    }
    let current = lines.line_text(text, line);
    let before: String = current.chars().take(column).collect();
    // The current line's own indentation decides its parents; a blank line being typed on
    // counts the cursor's column.
    let own_indent = if current.trim().is_empty() { before.chars().count() } else { indentation(current) };
    let mut parents = Vec::new();
    let mut threshold = own_indent;
    let mut in_block_scalar = false;
    let mut above_line = line;
    while threshold > 0 {
        // Only a line indented by less than `threshold` can be a parent: below the shallow
        // indentation, only shallow lines can.
        let next = if threshold <= SHALLOW_INDENT { lines.shallow_line_before(above_line) } else { above_line.checked_sub(1) };
        let Some(next) = next else { break };
        above_line = next;
        let above = lines.line_text(text, above_line);
        if above.trim().is_empty() || above.trim_start().starts_with('#') {
            continue;
        }
        let indent = indentation(above);
        if indent < threshold {
            if let Some(key) = leading_key(above) {
                // The nearest parent opens a block scalar: the cursor is in its text.
                if parents.is_empty() && is_block_scalar_header(above) {
                    in_block_scalar = true;
                }
                parents.push(key);
            }
            threshold = indent;
            if indent == 0 {
                break;
            }
        }
    }
    parents.reverse();
    if in_block_scalar {
        let prefix: String = before.chars().rev().take_while(|character| is_identifier(*character)).collect();
        return CursorContext { path: parents, in_key: false, in_string: true, prefix: prefix.chars().rev().collect() };
    }
    let mut context = read_line(before.trim_start());
    parents.append(&mut context.path);
    context.path = parents;
    context
}

#[derive(Debug)]
enum Frame {
    /// A mapping (the block mapping of the line, or a `{…}`): its current key, and whether
    /// the cursor has passed that key's `:`.
    Mapping {
        key: Option<String>,
        in_value: bool,
    },
    Sequence,
}

/// Reads the part of a line before the cursor (indentation removed).
fn read_line(before: &str) -> CursorContext {
    let text = before.strip_prefix("- ").unwrap_or(before);
    let mut stack = vec![Frame::Mapping { key: None, in_value: false }];
    let mut token = String::new();
    let mut quote: Option<char> = None;
    let characters: Vec<char> = text.chars().collect();
    for (index, &character) in characters.iter().enumerate() {
        if let Some(open) = quote {
            if character == open {
                quote = None;
            }
            token.push(character);
            continue;
        }
        match character {
            '"' | '\'' if token.trim().is_empty() => {
                quote = Some(character);
                token.clear();
                token.push(character);
            }
            '{' => {
                stack.push(Frame::Mapping { key: None, in_value: false });
                token.clear();
            }
            '[' => {
                stack.push(Frame::Sequence);
                token.clear();
            }
            '}' | ']' => {
                if stack.len() > 1 {
                    stack.pop();
                }
                token.clear();
            }
            ',' => {
                let nested = stack.len() > 1;
                if let Some(Frame::Mapping { key, in_value }) = stack.last_mut()
                    && nested
                {
                    *key = None;
                    *in_value = false;
                }
                token.clear();
            }
            ':' if characters.get(index + 1).is_none_or(|next| next.is_whitespace()) => {
                if let Some(Frame::Mapping { key, in_value }) = stack.last_mut()
                    && !*in_value
                {
                    *key = Some(token.trim().trim_matches(|quote| quote == '"' || quote == '\'').to_string());
                    *in_value = true;
                }
                token.clear();
            }
            '#' if token.is_empty() || token.ends_with(' ') => break,
            _ => token.push(character),
        }
    }
    let mut path = Vec::new();
    for frame in &stack {
        if let Frame::Mapping { key: Some(key), in_value: true } = frame {
            path.push(key.clone());
        }
    }
    let in_key = matches!(stack.last(), Some(Frame::Mapping { in_value: false, .. }));
    let prefix: String = token.chars().rev().take_while(|character| is_identifier(*character)).collect();
    CursorContext { path, in_key, in_string: quote.is_some(), prefix: prefix.chars().rev().collect() }
}

/// The identifier under (or just before) character `column` of `line_text`, with its
/// character range.
pub fn word_at(line_text: &str, column: usize) -> Option<(String, std::ops::Range<usize>)> {
    let characters: Vec<char> = line_text.chars().collect();
    let mut start = column.min(characters.len());
    while start > 0 && is_identifier(characters[start - 1]) {
        start -= 1;
    }
    let mut end = column.min(characters.len());
    while end < characters.len() && is_identifier(characters[end]) {
        end += 1;
    }
    (start < end).then(|| (characters[start..end].iter().collect(), start..end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, marker: &str) -> CursorContext {
        let offset = text.find(marker).expect("marker");
        let line = text[..offset].matches('\n').count() as u32;
        let column = text[..offset].rsplit('\n').next().unwrap().chars().count();
        let text = text.replacen(marker, "", 1);
        cursor_context(&text, &LineIndex::new(&text), line, column)
    }

    #[test]
    fn block_and_flow_mappings() {
        let spec = "views:\n  paid:\n    filter:\n      input: ord@\n";
        let context = at(spec, "@");
        assert_eq!(context.path, ["views", "paid", "filter", "input"]);
        assert!(!context.in_key);
        assert_eq!(context.prefix, "ord");

        let spec = "views:\n  paid:\n    filter: { input: orders, predicate: \"amo@ > 0\" }\n";
        let context = at(spec, "@");
        assert_eq!(context.path, ["views", "paid", "filter", "predicate"]);
        assert!(context.in_string);
        assert_eq!(context.prefix, "amo");

        let spec = "views:\n  paid:\n    fil@\n";
        let context = at(spec, "@");
        assert_eq!(context.path, ["views", "paid"]);
        assert!(context.in_key);

        let spec = "views:\n  j:\n    join: { left: a, right: b, kind: in@ }\n";
        assert_eq!(at(spec, "@").path, ["views", "j", "join", "kind"]);

        let spec = "views:\n  u:\n    union: { inputs: [a, b@] }\n";
        assert_eq!(at(spec, "@").path, ["views", "u", "union", "inputs"]);

        let spec = "views:\n  p:\n    filter:\n      predicate: |\n        a > 0 and b@\n";
        let context = at(spec, "@");
        assert_eq!(context.path, ["views", "p", "filter", "predicate"]);
        assert!(context.in_string);
        assert_eq!(context.prefix, "b");
    }

    /// Parents below the shallow indentation are found by jumping between shallow lines:
    /// the same paths in a spec indented by one space, past comments and blank lines.
    #[test]
    fn parents_in_a_spec_indented_by_one_space() {
        let spec = "views:\n a:\n  filter: { input: s }\n# c\n\n b:\n  filter:\n   input: x@\n";
        assert_eq!(at(spec, "@").path, ["views", "b", "filter", "input"]);
        let spec = "sources:\n s: { format: csv }\nviews:\n  a:\n    filter:\n      predicate: |\n\n        x > 0 and y@\n";
        let context = at(spec, "@");
        assert_eq!(context.path, ["views", "a", "filter", "predicate"]);
        assert!(context.in_string);
        assert_eq!(at("views:\n  a:\n    fil@\n", "@").path, ["views", "a"]);
        assert_eq!(at("views:\n  a: 1\n  \n  @", "@").path, ["views"]);
    }

    #[test]
    fn words() {
        assert_eq!(word_at("  input: orders", 11), Some(("orders".to_string(), 9..15)));
        assert_eq!(word_at("  input: orders", 15), Some(("orders".to_string(), 9..15)));
        assert_eq!(word_at("  ", 1), None);
    }
}
