//! Re-parsing only the entry an edit touched.
//!
//! A leaf edit of a large spec changes a few bytes of one view, yet parsing the whole file
//! (span index and serde) costs more than re-planning that view. [`reparse_edited_entry`]
//! re-parses just the lines of the edited entry, on their own, and splices the result into
//! the previous parse.
//!
//! ## Invariants
//! - Equivalence: when it succeeds, the result equals `parse_spec(new_text)` field for field
//!   (checked by a property test over random edits). It succeeds only when that is certain:
//!   YAML; a previous parse without diagnostics, duplicate keys or anchors/aliases; an edit
//!   that keeps the line count and lies within the lines of one entry of `sources`, `views`
//!   or `outputs` (from its key line up to the next key of depth one or two); edited lines
//!   that stay indented under the entry; and entry lines that parse on their own to exactly
//!   that one key, with no diagnostics, duplicates or anchors, and no value positioned past
//!   the entry's last line (an empty value at its end takes the position of what follows).
//! - On failure `previous` is untouched and the caller parses the whole text.

use serde_json::Value;

use crate::diagnostic::Section;
use crate::parse::{MAX_SPEC_BYTES, ParsedSpec, read_document, read_section_entry};
use crate::spans::SpanIndex;
use crate::spec_format::SpecFormat;

/// Applies the edit from `old_text` (which `previous` was parsed from) to `new_text` by
/// re-parsing one entry. Returns whether it did; on `false` nothing changed.
pub fn reparse_edited_entry(previous: &mut ParsedSpec, old_text: &str, new_text: &str) -> bool {
    let Some(edit) = EntryEdit::find(previous, old_text, new_text) else {
        return false;
    };
    let Some((spans, value)) = edit.parse_alone() else {
        return false;
    };
    // Read the entry against its own spans first: any diagnostic means the full parse decides.
    let mut scratch = ParsedSpec { spans: std::sync::Arc::new(spans.clone()), ..ParsedSpec::default() };
    read_section_entry(edit.section, edit.name.clone(), value.clone(), &mut scratch);
    if !scratch.diagnostics.is_empty() {
        return false;
    }
    read_section_entry(edit.section, edit.name.clone(), value, previous);
    let prefix = [edit.section_key.to_string(), edit.name];
    std::sync::Arc::make_mut(&mut previous.spans).splice(&prefix, spans, edit.first_line, edit.lines);
    true
}

/// An edit confined to the lines of one entry.
struct EntryEdit {
    section: Section,
    section_key: &'static str,
    name: String,
    /// 1-based line of the entry's key.
    first_line: u32,
    /// The entry's lines in the new text (as many as in the old one).
    lines: Vec<String>,
}

impl EntryEdit {
    fn find(previous: &ParsedSpec, old_text: &str, new_text: &str) -> Option<EntryEdit> {
        let spans = &previous.spans;
        if !previous.diagnostics.is_empty()
            || !spans.duplicates.is_empty()
            || spans.uses_anchors
            || old_text == new_text
            || new_text.len() > MAX_SPEC_BYTES
        {
            return None;
        }
        let (first_changed, last_changed) = changed_lines(old_text, new_text)?;
        // Every key of depth one or two bounds an entry; find the entry holding the change.
        let keys = spans.keys_up_to_depth(2);
        let (path, key_at) = keys
            .iter()
            .filter(|(path, at)| path.len() == 2 && at.line <= first_changed)
            .max_by_key(|(_, at)| (at.line, at.column))
            .copied()?;
        let next_line = keys.iter().map(|(_, at)| at.line).filter(|line| *line > key_at.line).min();
        let last_line = match next_line {
            Some(next) => next - 1,
            None => u32::try_from(new_text.lines().count()).ok()?,
        };
        if last_changed > last_line || keys.iter().any(|(other, at)| at.line == key_at.line && *other != path) {
            return None;
        }
        let (section, section_key) = match path[0].as_str() {
            "sources" => (Section::Sources, "sources"),
            "views" => (Section::Views, "views"),
            "outputs" => (Section::Outputs, "outputs"),
            _ => return None,
        };
        // The key starts its line, and every other line of the entry is blank, a comment, or
        // indented at least as deep (no `---`, no dedented key).
        let indent = key_at.column.checked_sub(1)? as usize;
        let lines: Vec<String> =
            new_text.lines().skip(key_at.line as usize - 1).take((last_line - key_at.line + 1) as usize).map(str::to_string).collect();
        let old_key_line = spans.line(key_at.line)?;
        if indent == 0 || old_key_line.get(..indent)?.trim() != "" {
            return None;
        }
        // The key keeps its indentation: a key moved deeper or shallower is no longer a sibling
        // of the other entries (the whole document decides what it is).
        let new_key_line = lines.first()?;
        if new_key_line.len() - new_key_line.trim_start().len() != indent {
            return None;
        }
        let misplaced = lines.iter().any(|line| {
            let content = line.trim_start();
            let leading = line.len() - content.len();
            !content.is_empty() && !content.starts_with('#') && (leading < indent || line.contains('\t'))
        });
        if misplaced {
            return None;
        }
        Some(EntryEdit { section, section_key, name: path[1].clone(), first_line: key_at.line, lines })
    }

    /// The entry's lines parsed on their own: their span index and the entry's value.
    fn parse_alone(&self) -> Option<(SpanIndex, Value)> {
        let mut text = self.lines.join("\n");
        text.push('\n');
        let (spans, error) = SpanIndex::build(&text);
        if error.is_some() || !spans.duplicates.is_empty() || spans.uses_anchors {
            return None;
        }
        // An empty value at the entry's end (`expect:` followed by nothing but comments) is
        // positioned at the next token of the document, which the entry alone does not have.
        if spans.last_value_line() > u32::try_from(self.lines.len()).ok()? {
            return None;
        }
        let Value::Object(mut entries) = read_document(&text, SpecFormat::Yaml).ok()? else {
            return None;
        };
        if entries.len() != 1 {
            return None;
        }
        let value = entries.remove(&self.name)?;
        Some((spans, value))
    }
}

/// The first and last 1-based lines that differ between the texts, when both have the same
/// number of lines (so that no other line moves).
fn changed_lines(old_text: &str, new_text: &str) -> Option<(u32, u32)> {
    let old_lines: Vec<&str> = old_text.split('\n').collect();
    let new_lines: Vec<&str> = new_text.split('\n').collect();
    if old_lines.len() != new_lines.len() {
        return None;
    }
    let first = old_lines.iter().zip(&new_lines).position(|(old, new)| old != new)?;
    let last = old_lines.len() - 1 - old_lines.iter().rev().zip(new_lines.iter().rev()).position(|(old, new)| old != new)?;
    Some((u32::try_from(first + 1).ok()?, u32::try_from(last + 1).ok()?))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::parse::parse_spec;

    const SHOP: &str = include_str!("../../examples/shop/spec.yaml");

    /// Applies `edits` one after another, each through the fast path when it is taken, and
    /// compares with a full parse every time. Returns how many took the fast path.
    fn check_edits(start: &str, edits: &[(usize, usize, usize, String)]) -> usize {
        let mut text = start.to_string();
        let mut parsed = parse_spec(&text, SpecFormat::Yaml);
        let mut fast = 0;
        for (line_pick, from_pick, length, replacement) in edits {
            let lines: Vec<&str> = text.split('\n').collect();
            let line_index = line_pick % lines.len();
            let line = lines[line_index];
            let boundaries: Vec<usize> = line.char_indices().map(|(index, _)| index).chain([line.len()]).collect();
            let from = boundaries[from_pick % boundaries.len()];
            let to = boundaries.iter().copied().filter(|index| *index >= from).nth(*length).unwrap_or(line.len());
            let edited_line = format!("{}{}{}", &line[..from], replacement, &line[to..]);
            let mut new_lines: Vec<String> = lines.iter().map(|line| line.to_string()).collect();
            new_lines[line_index] = edited_line;
            let new_text = new_lines.join("\n");
            let full = parse_spec(&new_text, SpecFormat::Yaml);
            let mut candidate = parsed.clone();
            if reparse_edited_entry(&mut candidate, &text, &new_text) {
                fast += 1;
                assert_eq!(
                    candidate,
                    full,
                    "the fast path differs from a full parse after editing line {}: {:?}",
                    line_index + 1,
                    new_lines[line_index]
                );
                parsed = candidate;
            } else {
                assert_eq!(candidate, parsed, "a refused fast path changed the parse");
                parsed = full;
            }
            text = new_text;
        }
        fast
    }

    #[test]
    fn a_predicate_edit_takes_the_fast_path() {
        let edited = SHOP.replacen("amount > 0", "amount > 10", 1);
        assert_ne!(edited, SHOP);
        let mut parsed = parse_spec(SHOP, SpecFormat::Yaml);
        assert!(reparse_edited_entry(&mut parsed, SHOP, &edited));
        let full = parse_spec(&edited, SpecFormat::Yaml);
        assert_eq!(parsed, full);
        // Adding a line, or touching the top level, takes the full parse.
        let mut parsed = parse_spec(SHOP, SpecFormat::Yaml);
        assert!(!reparse_edited_entry(&mut parsed, SHOP, &SHOP.replacen("amount > 0", "amount > 0\n", 1)));
        assert!(!reparse_edited_entry(&mut parsed, SHOP, &SHOP.replacen("version: 1", "version: 2", 1)));
        assert_eq!(parsed, parse_spec(SHOP, SpecFormat::Yaml));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn fast_path_parses_equal_full_parses(
            edits in prop::collection::vec(
                (any::<usize>(), any::<usize>(), 0usize..6, "[a-z0-9 :{}\\[\\],'\"#&*>=|-]{0,6}"),
                1..12,
            )
        ) {
            check_edits(SHOP, &edits);
        }

        #[test]
        fn fast_path_parses_equal_full_parses_for_edits_inside_values(
            edits in prop::collection::vec((any::<prop::sample::Index>(), "[a-z0-9 :{}\\[\\],'\"#&*>=|-]{0,4}"), 1..12)
        ) {
            // Text inserted right after the first quote of an indented line: usually inside a
            // value (the fast path), sometimes breaking the entry's YAML (the full parse).
            let quoted: Vec<usize> = SHOP
                .split('\n')
                .enumerate()
                .filter(|(_, line)| line.starts_with("    ") && line.contains('"'))
                .map(|(index, _)| index)
                .collect();
            let lines: Vec<&str> = SHOP.split('\n').collect();
            let edits: Vec<(usize, usize, usize, String)> = edits
                .into_iter()
                .map(|(pick, text)| {
                    let line = quoted[pick.index(quoted.len())];
                    (line, lines[line].find('"').unwrap() + 1, 0, text)
                })
                .collect();
            check_edits(SHOP, &edits);
        }
    }

    #[test]
    fn edits_inside_quoted_values_all_take_the_fast_path() {
        // Insert `x` after the first quote of every line with a quoted value (inside an entry).
        let lines: Vec<&str> = SHOP.split('\n').collect();
        let edits: Vec<(usize, usize, usize, String)> = lines
            .iter()
            .enumerate()
            .filter(|(_, line)| line.starts_with("    ") && line.contains('"'))
            .map(|(index, line)| (index, line[..line.find('"').unwrap()].chars().count() + 1, 0, "x".to_string()))
            .collect();
        assert!(edits.len() >= 8, "{}", edits.len());
        assert_eq!(check_edits(SHOP, &edits), edits.len());
    }
}
