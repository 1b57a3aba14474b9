//! The span index: where each key and value of a spec file sits, as 1-based line and column.
//!
//! Built from the YAML event stream (JSON is read by the same parser), independently of
//! serde, so that a diagnostic's logical [`SpecLocation`] can be turned into a position when
//! it is rendered. Also reports keys that appear twice in one mapping, which serde's map
//! types would silently overwrite.

use std::collections::{HashMap, HashSet};

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diagnostic::SpecLocation;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

/// How a scalar value was written; decides how offsets inside it map to columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueStyle {
    Plain,
    Quoted,
    Block,
    Collection,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    key: Option<Position>,
    value: Position,
    style: ValueStyle,
}

/// A key that appears twice in the same mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    pub path: Vec<String>,
    pub first: Position,
    pub second: Position,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanIndex {
    entries: HashMap<Vec<String>, Entry>,
    lines: Vec<String>,
    /// Keys repeated within one mapping, in document order.
    pub duplicates: Vec<DuplicateKey>,
    /// Whether the document uses an anchor (`&name`) or an alias (`*name`) anywhere: an
    /// entry that may share content with another cannot be re-parsed on its own.
    pub uses_anchors: bool,
}

enum Frame {
    Mapping { path: Vec<String>, key: Option<(String, Position)>, seen: HashMap<String, Position> },
    Sequence { path: Vec<String>, index: usize },
}

struct Builder {
    index: SpanIndex,
    stack: Vec<Frame>,
    complex_keys: HashSet<usize>,
}

fn position(mark: Marker) -> Position {
    Position { line: mark.line() as u32, column: mark.col() as u32 + 1 }
}

impl Builder {
    /// Where the next value goes: its path and its key's position. `None` while a mapping
    /// waits for a key.
    fn next_value_path(&mut self) -> Option<(Vec<String>, Option<Position>)> {
        match self.stack.last_mut() {
            None => Some((Vec::new(), None)),
            Some(Frame::Mapping { path, key, .. }) => {
                let (name, key_position) = key.take()?;
                let mut child = path.clone();
                child.push(name);
                Some((child, Some(key_position)))
            }
            Some(Frame::Sequence { path, index }) => {
                let mut child = path.clone();
                child.push(index.to_string());
                *index += 1;
                Some((child, None))
            }
        }
    }

    fn record(&mut self, path: Vec<String>, key: Option<Position>, value: Position, style: ValueStyle) {
        self.index.entries.entry(path).or_insert(Entry { key, value, style });
    }

    /// If the top frame is a mapping waiting for a key, takes `text` as that key.
    fn take_key(&mut self, text: &str, at: Position) -> bool {
        if let Some(Frame::Mapping { path, key, seen }) = self.stack.last_mut()
            && key.is_none()
        {
            if let Some(first) = seen.get(text) {
                let mut duplicate_path = path.clone();
                duplicate_path.push(text.to_string());
                self.index.duplicates.push(DuplicateKey { path: duplicate_path, first: *first, second: at });
            } else {
                seen.insert(text.to_string(), at);
            }
            *key = Some((text.to_string(), at));
            return true;
        }
        false
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let at = position(mark);
        match event {
            Event::Scalar(text, style, anchor, _) => {
                self.index.uses_anchors |= anchor != 0;
                if self.take_key(&text, at) {
                    return;
                }
                let style = match style {
                    TScalarStyle::Plain => ValueStyle::Plain,
                    TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => ValueStyle::Quoted,
                    TScalarStyle::Literal | TScalarStyle::Folded => ValueStyle::Block,
                };
                if let Some((path, key)) = self.next_value_path() {
                    self.record(path, key, at, style);
                }
            }
            Event::Alias(_) => {
                self.index.uses_anchors = true;
                if self.take_key("*alias", at) {
                    return;
                }
                if let Some((path, key)) = self.next_value_path() {
                    self.record(path, key, at, ValueStyle::Plain);
                }
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                self.index.uses_anchors |= anchor != 0;
                let is_mapping = matches!(event, Event::MappingStart(..));
                // A collection used as a mapping key: give it a placeholder key name.
                if matches!(self.stack.last(), Some(Frame::Mapping { key: None, .. })) {
                    self.take_key("?complex", at);
                    self.complex_keys.insert(self.stack.len());
                }
                let path = match self.next_value_path() {
                    Some((path, key)) => {
                        self.record(path.clone(), key, at, ValueStyle::Collection);
                        path
                    }
                    None => Vec::new(),
                };
                self.stack.push(if is_mapping {
                    Frame::Mapping { path, key: None, seen: HashMap::new() }
                } else {
                    Frame::Sequence { path, index: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

/// A YAML syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub position: Position,
}

impl SpanIndex {
    /// Indexes `text`. A syntax error returns what could be indexed up to it, plus the error.
    pub fn build(text: &str) -> (SpanIndex, Option<SyntaxError>) {
        let mut builder = Builder {
            index: SpanIndex { lines: text.lines().map(str::to_string).collect(), ..SpanIndex::default() },
            stack: Vec::new(),
            complex_keys: HashSet::new(),
        };
        let mut parser = Parser::new_from_str(text);
        let error = parser
            .load(&mut builder, false)
            .err()
            .map(|error| SyntaxError { message: error.info().to_string(), position: position(*error.marker()) });
        (builder.index, error)
    }

    /// The position of the key at `path` (or of its value when it has no key, e.g. a
    /// sequence item).
    pub fn key_position(&self, path: &[String]) -> Option<Position> {
        let entry = self.entries.get(path)?;
        Some(entry.key.unwrap_or(entry.value))
    }

    /// The position of the value at `path`.
    pub fn value_position(&self, path: &[String]) -> Option<Position> {
        self.entries.get(path).map(|entry| entry.value)
    }

    /// Resolves a logical location to a start and end position. Falls back to the nearest
    /// enclosing key that exists (a field that was never written resolves to its view).
    pub fn resolve(&self, location: &SpecLocation) -> Option<(Position, Position)> {
        if let Some((line, column)) = location.absolute {
            let at = Position { line, column };
            return Some((at, at));
        }
        let mut path = location.key_path();
        while !path.is_empty() {
            if let Some(entry) = self.entries.get(&path) {
                if let Some((start, end)) = location.range_in_value
                    && let Some(span) = self.range_in_scalar(entry, start as usize, end as usize)
                {
                    return Some(span);
                }
                let start = entry.key.unwrap_or(entry.value);
                let end = self.end_of_token(start);
                return Some((start, end));
            }
            path.pop();
        }
        None
    }

    fn line_text(&self, line: u32) -> &str {
        self.lines.get((line as usize).saturating_sub(1)).map(String::as_str).unwrap_or("")
    }

    /// The end of the word starting at `start` (up to `:` or whitespace), for underlining keys.
    fn end_of_token(&self, start: Position) -> Position {
        let text = self.line_text(start.line);
        let begin = (start.column as usize).saturating_sub(1);
        let rest: String = text.chars().skip(begin).collect();
        let length =
            rest.chars().take_while(|character| !matches!(character, ':' | ',' | '}' | ']') && !character.is_whitespace()).count().max(1);
        Position { line: start.line, column: start.column + length as u32 }
    }

    /// Maps a byte range inside a scalar's value to positions. Exact for plain and quoted
    /// single-line scalars without escapes and for literal blocks; otherwise best effort.
    fn range_in_scalar(&self, entry: &Entry, start: usize, end: usize) -> Option<(Position, Position)> {
        match entry.style {
            ValueStyle::Plain | ValueStyle::Quoted => {
                let shift = u32::from(entry.style == ValueStyle::Quoted);
                let column = |offset: usize| entry.value.column + shift + offset as u32;
                Some((
                    Position { line: entry.value.line, column: column(start) },
                    Position { line: entry.value.line, column: column(end.max(start + 1)) },
                ))
            }
            ValueStyle::Block => {
                // The parser marks a block scalar at its content, which starts on the line
                // after the `|` or `>` indicator; be robust to a mark on the indicator too.
                let marked = self.line_text(entry.value.line).chars().nth((entry.value.column as usize).saturating_sub(1));
                let first_line = if matches!(marked, Some('|' | '>')) { entry.value.line + 1 } else { entry.value.line };
                let indent = self.line_text(first_line).chars().take_while(|character| *character == ' ').count() as u32;
                let locate = |offset: usize| -> Position {
                    let mut line = first_line;
                    let mut line_start = 0usize;
                    for (index, character) in self.block_text(first_line, indent).char_indices() {
                        if index >= offset {
                            break;
                        }
                        if character == '\n' {
                            line += 1;
                            line_start = index + 1;
                        }
                    }
                    Position { line, column: indent + 1 + (offset - line_start) as u32 }
                };
                Some((locate(start), locate(end.max(start + 1))))
            }
            ValueStyle::Collection => None,
        }
    }

    /// The text of a block scalar as the parser delivers it (indentation removed).
    fn block_text(&self, first_line: u32, indent: u32) -> String {
        let mut text = String::new();
        for line in self.lines.iter().skip((first_line as usize).saturating_sub(1)) {
            let leading = line.chars().take_while(|character| *character == ' ').count() as u32;
            if !line.trim().is_empty() && leading < indent {
                break;
            }
            text.push_str(line.get(indent as usize..).unwrap_or(""));
            text.push('\n');
        }
        text
    }
}

impl SpanIndex {
    /// The key positions of every path of at most `depth` keys, with the path.
    pub(crate) fn keys_up_to_depth(&self, depth: usize) -> Vec<(&[String], Position)> {
        self.entries
            .iter()
            .filter(|(path, _)| !path.is_empty() && path.len() <= depth)
            .map(|(path, entry)| (path.as_slice(), entry.key.unwrap_or(entry.value)))
            .collect()
    }

    /// The text of 1-based line `line`.
    /// The last line any value starts on (1-based; 0 for an empty index).
    pub(crate) fn last_value_line(&self) -> u32 {
        self.entries.values().map(|entry| entry.value.line).max().unwrap_or(0)
    }

    /// How many lines the indexed text has.
    pub(crate) fn line_count(&self) -> u32 {
        u32::try_from(self.lines.len()).unwrap_or(u32::MAX)
    }

    pub(crate) fn line(&self, line: u32) -> Option<&str> {
        self.lines.get((line as usize).checked_sub(1)?).map(String::as_str)
    }

    /// Replaces the entries `names` of section `section_key` (old lines `first_line..=last_line`)
    /// by `replacement`'s entries, which were indexed from the new lines `lines` on their own
    /// (a mapping of section entries): their paths get `section_key` prepended and their lines
    /// are moved to `first_line`. Every position after the old lines moves by the difference
    /// in line count, in one pass over the positions: nothing after the edit is re-parsed.
    pub(crate) fn splice(
        &mut self,
        section_key: &str,
        names: &std::collections::HashSet<&str>,
        replacement: SpanIndex,
        (first_line, last_line): (u32, u32),
        lines: Vec<String>,
    ) {
        let old_count = last_line + 1 - first_line;
        let new_count = u32::try_from(lines.len()).unwrap_or(u32::MAX);
        let moved_after = |at: &mut Position| {
            if at.line > last_line {
                at.line = at.line + new_count - old_count;
            }
        };
        let replaced = |path: &[String]| path.len() >= 2 && names.iter().any(|name| path[1] == *name) && path[0] == section_key;
        match (new_count == old_count, self.entry_paths(section_key, names, (first_line, last_line))) {
            // Nothing moves: drop the replaced entries' paths alone (O(entry), not O(spec)).
            (true, Some(paths)) => {
                for path in paths {
                    self.entries.remove(&path);
                }
            }
            (true, None) => self.entries.retain(|path, _| !replaced(path)),
            (false, _) => self.entries.retain(|path, entry| {
                if replaced(path) {
                    return false;
                }
                entry.key.iter_mut().for_each(moved_after);
                moved_after(&mut entry.value);
                true
            }),
        }
        let shift = first_line - 1;
        let moved = |at: Position| Position { line: at.line + shift, column: at.column };
        // The replacement's root (its mapping of entries) is not an entry of this document,
        // but when the section's mapping starts at its first line it is positioned as that
        // mapping is (the parser marks a mapping after its first key).
        let root = replacement.entries.get(&Vec::new()).map(|root| moved(root.value));
        if let (Some(root), Some(section)) = (root, self.entries.get_mut(&vec![section_key.to_string()]))
            && section.value.line == first_line
        {
            section.value = root;
        }
        for (path, entry) in replacement.entries.into_iter().filter(|(path, _)| !path.is_empty()) {
            let mut full = vec![section_key.to_string()];
            full.extend(path);
            self.entries.insert(full, Entry { key: entry.key.map(moved), value: moved(entry.value), style: entry.style });
        }
        let start = (shift as usize).min(self.lines.len());
        let end = (last_line as usize).min(self.lines.len());
        self.lines.splice(start..end, lines);
    }

    /// Every path this index holds for the entries `names` of section `section_key`, which
    /// span lines `first_line..=last_line`: found by indexing those lines on their own (as
    /// the re-parse indexed them, or as the full parse did: the re-parse is taken only when
    /// both agree), and checked against the index — `None` when any path is missing, so the
    /// caller falls back to a pass over every entry.
    fn entry_paths(&self, section_key: &str, names: &HashSet<&str>, (first_line, last_line): (u32, u32)) -> Option<Vec<Vec<String>>> {
        let start = (first_line as usize).checked_sub(1)?;
        let lines = self.lines.get(start..last_line as usize)?;
        let mut text = lines.join("\n");
        text.push('\n');
        let (alone, error) = SpanIndex::build(&text);
        if error.is_some() || alone.uses_anchors || !alone.duplicates.is_empty() {
            return None;
        }
        let mut paths = Vec::with_capacity(alone.entries.len());
        for path in alone.entries.into_keys().filter(|path| !path.is_empty()) {
            if !names.contains(path[0].as_str()) {
                return None;
            }
            let mut full = Vec::with_capacity(path.len() + 1);
            full.push(section_key.to_string());
            full.extend(path);
            if !self.entries.contains_key(&full) {
                return None;
            }
            paths.push(full);
        }
        // Every name's own key must be among them (an entry indexed differently is not).
        names.iter().all(|name| paths.iter().any(|path| path.len() == 2 && path[1] == *name)).then_some(paths)
    }

    /// What differs from `other`, one line per difference (for test failures).
    #[cfg(test)]
    pub(crate) fn differences(&self, other: &SpanIndex) -> Vec<String> {
        let mut differences: Vec<String> = self
            .entries
            .iter()
            .filter(|(path, entry)| other.entries.get(*path) != Some(entry))
            .map(|(path, entry)| format!("{path:?}: {entry:?} vs {:?}", other.entries.get(path)))
            .chain(other.entries.keys().filter(|path| !self.entries.contains_key(*path)).map(|path| format!("{path:?} missing")))
            .collect();
        if self.lines != other.lines {
            differences.push(format!("lines differ: {} vs {}", self.lines.len(), other.lines.len()));
        }
        differences.sort();
        differences
    }

    /// The shortest key path below `prefix` whose last key is `key` (document order breaks
    /// ties), e.g. to place an "unknown field" error on the offending key.
    pub fn find_key_below(&self, prefix: &[String], key: &str) -> Option<Vec<String>> {
        self.entries
            .iter()
            .filter(|(path, _)| path.len() > prefix.len() && path.starts_with(prefix) && path.last().map(String::as_str) == Some(key))
            .min_by_key(|(path, entry)| (path.len(), entry.key.unwrap_or(entry.value)))
            .map(|(path, _)| path.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::SpanIndex;

    #[test]
    fn an_entrys_paths_are_found_from_its_own_lines() {
        let text = "views:\n  a:\n    filter: { input: s, predicate: \"x > 1\" }\n  b:\n    project: { input: a, columns: [x] }\n";
        let (index, error) = SpanIndex::build(text);
        assert!(error.is_none());
        let paths = index.entry_paths("views", &HashSet::from(["b"]), (4, 5)).expect("b's paths");
        let expected: Vec<Vec<String>> =
            index.entries.keys().filter(|path| path.len() >= 2 && path[0] == "views" && path[1] == "b").cloned().collect();
        assert_eq!(paths.iter().cloned().collect::<HashSet<_>>(), expected.into_iter().collect::<HashSet<_>>());
        assert!(paths.len() >= 4, "{paths:?}");
        // Lines that are not the entry's: no answer (the caller scans every entry).
        assert_eq!(index.entry_paths("views", &HashSet::from(["b"]), (2, 3)), None);
    }
}
