//! How deeply a spec's text nests, found by one linear scan before any parser recurses.
//!
//! YAML and JSON parsers recurse per nesting level, and a hostile file of 100,000 `[` made
//! them (and the span index) take minutes. [`too_deep`] counts flow collections (`[`, `{`
//! outside quoted strings and comments) and, for YAML, block levels (indentation steps and
//! compact `- - x` sequences), and reports the first place where the depth exceeds
//! [`MAX_SPEC_NESTING`].
//!
//! Invariants: O(length of the text), no recursion, no allocation per character; an
//! over-approximation only inside block scalars' unbalanced brackets (which a spec would
//! need more than a hundred of).

use crate::spans::Position;
use crate::spec_format::SpecFormat;

/// The deepest nesting a spec may have (a valid spec nests fewer than 10 levels).
pub const MAX_SPEC_NESTING: usize = 128;

/// Where the nesting first exceeds [`MAX_SPEC_NESTING`], if it does.
pub fn too_deep(text: &str, format: SpecFormat) -> Option<Position> {
    let yaml = format == SpecFormat::Yaml;
    let mut flow_depth: usize = 0;
    // Block levels: the indentation column of each open level.
    let mut block_levels: Vec<usize> = Vec::new();
    // Inside a block scalar (`|`, `>`): lines indented more than this are its content.
    let mut block_scalar_indent: Option<usize> = None;
    for (line_index, line) in text.split('\n').enumerate() {
        let position = |column: usize| Position {
            line: u32::try_from(line_index + 1).unwrap_or(u32::MAX),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        };
        let content = line.trim_start_matches([' ', '\t']);
        let indent = line.len() - content.len();
        if let Some(scalar_indent) = block_scalar_indent {
            if content.trim().is_empty() || indent > scalar_indent {
                continue;
            }
            block_scalar_indent = None;
        }
        if yaml && flow_depth == 0 && !content.is_empty() && !content.starts_with('#') {
            while block_levels.last().is_some_and(|&open| open >= indent) {
                block_levels.pop();
            }
            block_levels.push(indent);
            // Compact nested sequences: `- - - x` opens one level per dash.
            let mut rest = content;
            let mut column = indent;
            while let Some(after) = rest.strip_prefix("- ") {
                column += 2;
                rest = after.trim_start_matches(' ');
                column += after.len() - rest.len();
                block_levels.push(column);
            }
            if block_levels.len() > MAX_SPEC_NESTING {
                return Some(position(indent));
            }
        }
        let mut quote: Option<u8> = None;
        let bytes = line.as_bytes();
        let mut index = 0;
        while index < bytes.len() {
            let byte = bytes[index];
            match quote {
                Some(b'"') if byte == b'\\' => index += 1,
                Some(open) if byte == open => quote = None,
                Some(_) => {}
                None => match byte {
                    b'"' => quote = Some(b'"'),
                    b'\'' if yaml => quote = Some(b'\''),
                    b'#' if yaml && (index == 0 || matches!(bytes[index - 1], b' ' | b'\t')) => break,
                    b'[' | b'{' => {
                        flow_depth += 1;
                        if flow_depth + block_levels.len() > MAX_SPEC_NESTING {
                            return Some(position(index));
                        }
                    }
                    b']' | b'}' => flow_depth = flow_depth.saturating_sub(1),
                    _ => {}
                },
            }
            index += 1;
        }
        // A quoted string left open continues on the next line in YAML; it is rare in specs,
        // and closing it here only makes the count more cautious.
        if yaml && flow_depth == 0 {
            let trimmed = line.trim_end();
            let indicator = trimmed.rsplit(' ').next().unwrap_or("");
            let is_block_scalar = indicator.starts_with(['|', '>'])
                && indicator[1..].chars().all(|character| matches!(character, '-' | '+') || character.is_ascii_digit());
            if is_block_scalar {
                block_scalar_indent = Some(indent);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{MAX_SPEC_NESTING, too_deep};
    use crate::spec_format::SpecFormat;

    #[test]
    fn deep_flow_and_block_nesting_are_found_and_shallow_specs_pass() {
        let shop = include_str!("../../examples/shop/spec.yaml");
        assert_eq!(too_deep(shop, SpecFormat::Yaml), None);
        let flow = format!("views: {}", "[".repeat(MAX_SPEC_NESTING + 1));
        let position = too_deep(&flow, SpecFormat::Yaml).expect("too deep");
        assert_eq!((position.line, position.column), (1, 8 + MAX_SPEC_NESTING as u32 - 1));
        assert_eq!(too_deep(&format!("{}{}", "[".repeat(100), "]".repeat(100)), SpecFormat::Json), None);
        assert!(too_deep(&"[".repeat(100_000), SpecFormat::Json).is_some());
        let block: String = (0..=MAX_SPEC_NESTING).map(|depth| format!("{}k{depth}:\n", " ".repeat(depth))).collect();
        assert!(too_deep(&block, SpecFormat::Yaml).is_some());
        let dashes = format!("x:\n  {}1\n", "- ".repeat(MAX_SPEC_NESTING + 1));
        assert!(too_deep(&dashes, SpecFormat::Yaml).is_some());
        // Brackets inside strings, comments and block scalars do not count.
        let quoted = format!("a: \"{}\"\nb: '{}' # {}\nc: |\n  {}\n", "[".repeat(500), "{".repeat(500), "[".repeat(500), "[".repeat(500));
        assert_eq!(too_deep(&quoted, SpecFormat::Yaml), None);
    }
}
