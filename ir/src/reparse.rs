//! Re-parsing only the entries an edit touched.
//!
//! A leaf edit of a large spec changes a few bytes of one view, yet parsing the whole file
//! (span index and serde) costs more than re-planning that view. [`reparse_edited_entry`]
//! re-parses just the lines of the entries the edit touched, on their own, and splices the
//! result into the previous parse; adding or removing an entry (lines added or removed)
//! re-parses that entry (and the one it borders) and moves the positions after it by the
//! number of lines, without re-parsing them.
//!
//! ## Invariants
//! - Equivalence: when it succeeds, the result equals `parse_spec(new_text)` field for field
//!   (checked by property tests over random edits within entries and random additions and
//!   removals of entries). It succeeds only when that is certain: YAML; a previous parse
//!   without diagnostics, duplicate keys or anchors/aliases; an edit whose changed lines lie
//!   within whole entries of one of `sources`, `views` or `outputs` (an entry runs from its
//!   key line up to the next key of depth one or two; an insertion at the start of a line
//!   belongs to the line before); replacement lines that start with an entry key at the
//!   entries' indentation and stay indented under it; and replacement lines that parse on
//!   their own to a mapping of entries, with no diagnostics, duplicates or anchors, no name
//!   another entry of the section outside the edit has, and no value positioned past the
//!   last line (an empty value at the end takes the position of what follows).
//! - Positions stay absolute (1-based line and column); a change of line count moves every
//!   position after the edit in one pass over the positions (no text is re-read).
//! - On failure `previous` is untouched and the caller parses the whole text.

use std::collections::HashSet;

use indexmap::IndexMap;
use serde_json::Value;

use crate::diagnostic::Section;
use crate::parse::{MAX_SPEC_BYTES, MAX_SPEC_ENTRIES, ParsedSpec, read_document, read_section_entry};
use crate::spans::SpanIndex;
use crate::spec_format::SpecFormat;

/// The entries of one section a re-parse replaced: everything else of the parse is as it
/// was (no diagnostics before or after), so a host sets only these entries' inputs (and the
/// section's list of names when `before` and `after` differ).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditedEntries {
    pub section: Section,
    /// The replaced entries' names, in order, before the edit.
    pub before: Vec<String>,
    /// The names in their place after it, in order.
    pub after: Vec<String>,
}

/// Applies the edit from `old_text` (which `previous` was parsed from) to `new_text` by
/// re-parsing the entries it touched. Returns them; on `None` nothing changed.
pub fn reparse_edited_entry(previous: &mut ParsedSpec, old_text: &str, new_text: &str) -> Option<EditedEntries> {
    let edit = EntryEdit::find(previous, old_text, new_text)?;
    let (spans, entries) = edit.parse_alone()?;
    // Read the entries against their own spans first: any diagnostic means the full parse decides.
    let mut scratch = ParsedSpec { spans: std::sync::Arc::new(spans.clone()), ..ParsedSpec::default() };
    let after: Vec<String> = entries.keys().cloned().collect();
    for (name, value) in entries {
        read_section_entry(edit.section, name, value, &mut scratch);
    }
    if !scratch.diagnostics.is_empty() {
        return None;
    }
    let entry_count = previous.sources.len() + previous.views.len() + previous.outputs.len();
    if entry_count - edit.names.len() + after.len() > MAX_SPEC_ENTRIES {
        return None;
    }
    let EntryEdit { section, section_key, names, first_line, last_line, lines } = edit;
    let replaced = match section {
        Section::Sources => replace_entries(&mut previous.sources, &names, scratch.sources),
        Section::Views => replace_entries(&mut previous.views, &names, scratch.views),
        _ => replace_entries(&mut previous.outputs, &names, scratch.outputs),
    };
    if !replaced {
        return None;
    }
    let replaced_names: HashSet<&str> = names.iter().map(String::as_str).collect();
    std::sync::Arc::make_mut(&mut previous.spans).splice(section_key, &replaced_names, spans, (first_line, last_line), lines);
    Some(EditedEntries { section, before: names, after })
}

/// Replaces the consecutive entries `names` of `map` by `entries`, in place. `false` (and
/// `map` untouched) when `names` are not consecutive there or a new name is also outside
/// them (a duplicate the full parse reports).
fn replace_entries<V>(map: &mut IndexMap<String, V>, names: &[String], entries: IndexMap<String, V>) -> bool {
    let Some(at) = names.first().and_then(|first| map.get_index_of(first)) else { return false };
    let consecutive = names.iter().enumerate().all(|(offset, name)| map.get_index(at + offset).is_some_and(|(key, _)| key == name));
    let replaced: HashSet<&str> = names.iter().map(String::as_str).collect();
    if !consecutive || entries.keys().any(|name| !replaced.contains(name.as_str()) && map.contains_key(name)) {
        return false;
    }
    map.splice(at..at + names.len(), entries).for_each(drop);
    true
}

/// An edit confined to the lines of whole entries of one section.
struct EntryEdit {
    section: Section,
    section_key: &'static str,
    /// The entries the edit touched, in order (as the old text had them).
    names: Vec<String>,
    /// 1-based first line of the entries (the first one's key line, the same in both texts)
    /// and last line in the old text.
    first_line: u32,
    last_line: u32,
    /// The lines in their place in the new text.
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
        let change = ChangedLines::between(old_text, new_text)?;
        // Every key of depth one or two bounds an entry; find the entries holding the change
        // (the keys are sorted by position: binary searches, not a pass over the spec).
        let keys = spans.shallow_keys();
        let up_to = |line: u32| keys.partition_point(|(at, _)| at.line <= line);
        let (key_at, path) =
            keys[..up_to(change.first)].iter().rev().find(|(_, path)| path.len() == 2).map(|(at, path)| (*at, path.as_slice()))?;
        let alone_on_its_line =
            |path: &[std::sync::Arc<str>], line: u32| keys[up_to(line - 1)..up_to(line)].iter().all(|(_, other)| other.as_slice() == path);
        // The keys after it up to the last changed line: entries of the same section, each
        // alone on its line.
        let inside = &keys[up_to(key_at.line)..up_to(change.last).max(up_to(key_at.line))];
        if !alone_on_its_line(path, key_at.line)
            || inside.iter().any(|(at, other)| other.len() != 2 || other[0] != path[0] || !alone_on_its_line(other, at.line))
        {
            return None;
        }
        let mut names = vec![path[1].to_string()];
        names.extend(inside.iter().map(|(_, other)| other[1].to_string()));
        // The entries run up to the line before the next key of depth one or two.
        let last_line = match keys.get(up_to(change.last)) {
            Some((next, _)) => next.line - 1,
            None => spans.line_count(),
        };
        let (section, section_key) = match &*path[0] {
            "sources" => (Section::Sources, "sources"),
            "views" => (Section::Views, "views"),
            "outputs" => (Section::Outputs, "outputs"),
            _ => return None,
        };
        // The new text's lines in place of the old `key_at.line..=last_line`.
        let new_last = i64::from(last_line) + change.line_delta;
        let new_last = u32::try_from(new_last).ok().filter(|new_last| *new_last >= key_at.line)?;
        // Where the first entry's key line starts: before the first change, so the same byte
        // in both texts, found by walking back from the change.
        let start = line_start(new_text.as_bytes(), change.start, change.first, key_at.line);
        let lines: Vec<String> = new_text[start..].lines().take((new_last - key_at.line + 1) as usize).map(str::to_string).collect();
        // The key starts its line, and every other line is blank, a comment, or indented at
        // least as deep (no `---`, no dedented key).
        let indent = key_at.column.checked_sub(1)? as usize;
        let old_key_line = spans.line(key_at.line)?;
        if indent == 0 || old_key_line.get(..indent)?.trim() != "" {
            return None;
        }
        // The first line is still an entry's key at that indentation: a key moved deeper or
        // shallower is no longer a sibling of the other entries (the whole document decides).
        let new_key_line = lines.first()?;
        let content = new_key_line.trim_start();
        if new_key_line.len() - content.len() != indent || content.is_empty() || content.starts_with('#') {
            return None;
        }
        if lines.iter().any(|line| outside_entry(line, indent)) {
            return None;
        }
        Some(EntryEdit { section, section_key, names, first_line: key_at.line, last_line, lines })
    }

    /// The new lines parsed on their own: their span index and the entries, in order.
    fn parse_alone(&self) -> Option<(SpanIndex, IndexMap<String, Value>)> {
        let mut text = self.lines.join("\n");
        text.push('\n');
        let (spans, error, scanned) = SpanIndex::build_with_document(&text);
        if error.is_some() || !spans.duplicates.is_empty() || spans.uses_anchors {
            return None;
        }
        // An empty value at the end (`expect:` followed by nothing but comments) is
        // positioned at the next token of the document, which the lines alone do not have.
        if spans.last_value_line() > u32::try_from(self.lines.len()).ok()? {
            return None;
        }
        let document = match scanned {
            Some(document) => document,
            None => read_document(&text, SpecFormat::Yaml).ok()?,
        };
        let Value::Object(entries) = document else {
            return None;
        };
        if entries.is_empty() {
            return None;
        }
        Some((spans, entries.into_iter().collect()))
    }
}

/// Whether `line` may end an entry whose key is indented `indent` columns: content (not blank,
/// not a comment) indented less, or a tab anywhere on a line with content (YAML forbids tabs
/// in indentation). The lines of entries parsed alone must have none.
pub(crate) fn outside_entry(line: &str, indent: usize) -> bool {
    let content = line.trim_start();
    let leading = line.len() - content.len();
    !content.is_empty() && !content.starts_with('#') && (leading < indent || line.contains('\t'))
}

/// Where 1-based `line` starts in `text`, given that byte `at` lies on line `at_line`
/// (`line <= at_line`): walks back from `at`.
fn line_start(text: &[u8], at: usize, at_line: u32, line: u32) -> usize {
    let mut newlines_to_cross = at_line.saturating_sub(line);
    let mut index = at.min(text.len());
    while index > 0 {
        if text[index - 1] == b'\n' {
            if newlines_to_cross == 0 {
                return index;
            }
            newlines_to_cross -= 1;
        }
        index -= 1;
    }
    0
}

/// Which old lines an edit changed, and by how many lines it changed the text's length.
struct ChangedLines {
    /// A byte on line `first`, before which both texts are equal.
    start: usize,
    /// 1-based first and last changed line of the old text. Whole lines inserted at the start
    /// of a line belong to the line before (they may append to that line's entry).
    first: u32,
    last: u32,
    line_delta: i64,
}

impl ChangedLines {
    /// From the common byte prefix and suffix: no line of either text is split or copied (a
    /// keystroke in a large spec compares bytes, a block at a time).
    fn between(old_text: &str, new_text: &str) -> Option<ChangedLines> {
        let (old, new) = (old_text.as_bytes(), new_text.as_bytes());
        let prefix = common_prefix(old, new);
        if prefix == old.len() && prefix == new.len() {
            return None;
        }
        let longest_suffix = old.len().min(new.len()) - prefix;
        let suffix = common_suffix(&old[prefix..], &new[prefix..], longest_suffix);
        let newlines = |bytes: &[u8]| bytes.iter().filter(|byte| **byte == b'\n').count();
        let (old_end, new_end) = (old.len() - suffix, new.len() - suffix);
        let line_delta = i64::try_from(newlines(&new[prefix..new_end])).ok()? - i64::try_from(newlines(&old[prefix..old_end])).ok()?;
        // The line of the first changed byte, or of the byte before an insertion of whole lines
        // at a line start (lines appended to the line before).
        let whole_lines_inserted = old_end == prefix && new_end > prefix && new[new_end - 1] == b'\n';
        let start = if prefix > 0 && old[prefix - 1] == b'\n' && whole_lines_inserted { prefix - 1 } else { prefix };
        let first = newlines(&old[..start]) + 1;
        // The line of the last removed byte (an insertion removes none: its first line).
        let last = if old_end > prefix { newlines(&old[..old_end - 1]) + 1 } else { first };
        Some(ChangedLines { start, first: u32::try_from(first).ok()?, last: u32::try_from(last.max(first)).ok()?, line_delta })
    }
}

/// How many bytes compared at once: a slice comparison is one `memcmp`, many times faster
/// than comparing byte by byte over a large text.
const COMPARED_BLOCK: usize = 4096;

/// The length of the longest common prefix of `old` and `new`.
fn common_prefix(old: &[u8], new: &[u8]) -> usize {
    let longest = old.len().min(new.len());
    let mut equal = 0;
    while equal + COMPARED_BLOCK <= longest && old[equal..equal + COMPARED_BLOCK] == new[equal..equal + COMPARED_BLOCK] {
        equal += COMPARED_BLOCK;
    }
    equal + old[equal..longest].iter().zip(&new[equal..longest]).take_while(|(old, new)| old == new).count()
}

/// The [`COMPARED_BLOCK`] bytes ending `skipped` bytes before the end of `bytes`.
fn block_before_end(bytes: &[u8], skipped: usize) -> &[u8] {
    &bytes[bytes.len() - skipped - COMPARED_BLOCK..bytes.len() - skipped]
}

/// The length of the longest common suffix of `old` and `new`, at most `longest` bytes.
fn common_suffix(old: &[u8], new: &[u8], longest: usize) -> usize {
    let longest = longest.min(old.len()).min(new.len());
    let mut equal = 0;
    while equal + COMPARED_BLOCK <= longest && block_before_end(old, equal) == block_before_end(new, equal) {
        equal += COMPARED_BLOCK;
    }
    let (old_rest, new_rest) = (&old[..old.len() - equal], &new[..new.len() - equal]);
    equal + old_rest.iter().rev().zip(new_rest.iter().rev()).take(longest - equal).take_while(|(old, new)| old == new).count()
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
            if reparse_edited_entry(&mut candidate, &text, &new_text).is_some() {
                fast += 1;
                assert!(
                    candidate == full,
                    "the fast path differs from a full parse after editing line {}: {:?}\n{:#?}",
                    line_index + 1,
                    new_lines[line_index],
                    candidate.spans.differences(&full.spans)
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

    /// Common prefixes and suffixes compared a block at a time equal those compared byte by
    /// byte, around a change anywhere (in, at and across block boundaries) of texts longer
    /// than several blocks.
    #[test]
    fn blockwise_prefixes_and_suffixes_equal_bytewise_ones() {
        let bytewise_prefix = |old: &[u8], new: &[u8]| old.iter().zip(new).take_while(|(old, new)| old == new).count();
        let bytewise_suffix = |old: &[u8], new: &[u8], longest: usize| {
            old.iter().rev().zip(new.iter().rev()).take(longest).take_while(|(old, new)| old == new).count()
        };
        let base: Vec<u8> = (0..3 * COMPARED_BLOCK + 17).map(|index| b'a' + (index % 23) as u8).collect();
        for at in [0, 1, COMPARED_BLOCK - 1, COMPARED_BLOCK, COMPARED_BLOCK + 1, 2 * COMPARED_BLOCK + 5, base.len() - 1, base.len()] {
            for (removed, inserted) in [(0, "x"), (1, ""), (1, "yy"), (COMPARED_BLOCK + 3, "z"), (0, "")] {
                let end = (at + removed).min(base.len());
                let mut changed = base[..at].to_vec();
                changed.extend_from_slice(inserted.as_bytes());
                changed.extend_from_slice(&base[end..]);
                let prefix = common_prefix(&base, &changed);
                assert_eq!(prefix, bytewise_prefix(&base, &changed), "at {at}, {removed} removed, {inserted:?}");
                let longest = base.len().min(changed.len()) - prefix;
                assert_eq!(
                    common_suffix(&base[prefix..], &changed[prefix..], longest),
                    bytewise_suffix(&base, &changed, longest),
                    "at {at}, {removed} removed, {inserted:?}"
                );
            }
        }
    }

    #[test]
    fn a_predicate_edit_takes_the_fast_path() {
        let edited = SHOP.replacen("amount > 0", "amount > 10", 1);
        assert_ne!(edited, SHOP);
        let mut parsed = parse_spec(SHOP, SpecFormat::Yaml);
        let entries = reparse_edited_entry(&mut parsed, SHOP, &edited).expect("the fast path");
        let paid_orders = vec!["paid_orders".to_string()];
        assert_eq!(entries, EditedEntries { section: Section::Views, before: paid_orders.clone(), after: paid_orders });
        let full = parse_spec(&edited, SpecFormat::Yaml);
        assert_eq!(parsed, full);
        // Touching the top level takes the full parse.
        let mut parsed = parse_spec(SHOP, SpecFormat::Yaml);
        assert!(reparse_edited_entry(&mut parsed, SHOP, &SHOP.replacen("version: 1", "version: 2", 1)).is_none());
        assert_eq!(parsed, parse_spec(SHOP, SpecFormat::Yaml));
    }

    /// The SHOP spec's lines and the line indexes where each view entry starts (and where
    /// `outputs:` starts, ending the last one).
    fn view_entries() -> (Vec<&'static str>, Vec<usize>) {
        let lines: Vec<&str> = SHOP.split('\n').collect();
        let views = lines.iter().position(|line| *line == "views:").unwrap();
        let outputs = lines.iter().position(|line| *line == "outputs:").unwrap();
        let mut starts: Vec<usize> =
            (views + 1..outputs).filter(|index| lines[*index].starts_with("  ") && !lines[*index].starts_with("   ")).collect();
        starts.push(outputs);
        (lines, starts)
    }

    /// Parses `texts` one after another, each from the last through the fast path when it is
    /// taken, comparing with a full parse every time. Returns how many took the fast path.
    fn check_texts(texts: &[String]) -> usize {
        let mut text = SHOP.to_string();
        let mut parsed = parse_spec(&text, SpecFormat::Yaml);
        let mut fast = 0;
        for new_text in texts {
            let full = parse_spec(new_text, SpecFormat::Yaml);
            let mut candidate = parsed.clone();
            if let Some(entries) = reparse_edited_entry(&mut candidate, &text, new_text) {
                fast += 1;
                assert!(
                    candidate == full,
                    "the fast path ({entries:?}) differs from a full parse: {:?} {:?}\n{:#?}\nof:\n{new_text}",
                    candidate.views.keys().collect::<Vec<_>>(),
                    full.views.keys().collect::<Vec<_>>(),
                    candidate.spans.differences(&full.spans)
                );
                parsed = candidate;
            } else {
                assert_eq!(candidate, parsed, "a refused fast path changed the parse");
                parsed = full;
            }
            text = new_text.clone();
        }
        fast
    }

    #[test]
    fn adding_removing_and_growing_entries_take_the_fast_path() {
        let (lines, starts) = view_entries();
        let entry = |index: usize| lines[starts[index]..starts[index + 1]].join("\n");
        let third = entry(3);
        // A copy of the third view under a new name, inserted before the fifth.
        let copy = third.replacen("  revenue_by_region:", "  revenue_copy:", 1);
        let added = SHOP.replacen(&entry(4), &format!("{copy}\n{}", entry(4)), 1);
        // The third view removed.
        let removed = added.replacen(&format!("{third}\n"), "", 1);
        // A line added inside an entry (a multi-line string), then a comment line.
        let grown = removed.replacen("amount > 0", "amount > 0\n      AND amount < 100", 1);
        let commented = grown.replacen("  revenue_copy:\n", "  revenue_copy:\n    # a comment\n", 1);
        let texts = [added, removed, grown, commented];
        assert_eq!(check_texts(&texts), texts.len());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn fast_path_parses_equal_full_parses_for_entries_added_and_removed(
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), 0usize..4, "[a-z_]{1,8}"), 1..8)
        ) {
            // Each edit copies a view entry (renamed, or not: a duplicate) before another one,
            // removes one, moves one, or adds a blank line after one; in the views section.
            let mut texts = Vec::new();
            let mut text = SHOP.to_string();
            for (pick, place, kind, name) in edits {
                let lines: Vec<&str> = text.split('\n').collect();
                let (Some(views), Some(outputs)) = (lines.iter().position(|line| *line == "views:"), lines.iter().position(|line| *line == "outputs:")) else { break };
                let starts: Vec<usize> = (views + 1..outputs).filter(|index| lines[*index].starts_with("  ") && !lines[*index].starts_with("   ")).collect();
                if starts.is_empty() { break; }
                let bounds = |index: usize| (starts[index], starts.get(index + 1).copied().unwrap_or(outputs));
                let (from, to) = bounds(pick.index(starts.len()));
                let entry: Vec<String> = lines[from..to].iter().map(|line| line.to_string()).collect();
                let target = starts[place.index(starts.len())];
                let mut new_lines: Vec<String> = lines.iter().map(|line| line.to_string()).collect();
                match kind {
                    0 => {
                        let mut copy = entry.clone();
                        let key_end = copy[0].find(':').unwrap();
                        copy[0] = format!("  {name}{}", &copy[0][key_end..]);
                        new_lines.splice(target..target, copy);
                    }
                    1 => { new_lines.drain(from..to); }
                    2 => {
                        new_lines.drain(from..to);
                        let target = target.min(new_lines.len());
                        new_lines.splice(target..target, entry);
                    }
                    _ => new_lines.insert(to, String::new()),
                }
                text = new_lines.join("\n");
                texts.push(text.clone());
            }
            check_texts(&texts);
        }
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
