//! The span index: where each key and value of a spec file sits, as 1-based line and column.
//!
//! Built from the YAML event stream (JSON is read by the same parser), independently of
//! serde, so that a diagnostic's logical [`SpecLocation`] can be turned into a position when
//! it is rendered. Also reports keys that appear twice in one mapping, which serde's map
//! types would silently overwrite. The same scan reads the YAML document
//! ([`SpanIndex::build_with_document`], `crate::yaml_value`): a spec's text is scanned once.
//!
//! Invariants: key paths share their segments (`Arc<str>`: a child's path costs reference
//! counts, not string copies); the paths of one and two keys are also kept sorted by
//! position, equal whether built by a scan or updated by [`SpanIndex::splice`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diagnostic::SpecLocation;
use crate::yaml_value::DocumentBuilder;

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

/// A key path: shared segments, so a child's path copies its parent's by reference counts,
/// not by copying its strings.
type KeyPath = Vec<Arc<str>>;

/// `path` as the index keys it.
fn key_path(path: &[String]) -> KeyPath {
    path.iter().map(|key| Arc::from(key.as_str())).collect()
}

fn owned_path(path: &[Arc<str>]) -> Vec<String> {
    path.iter().map(|key| key.to_string()).collect()
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanIndex {
    entries: HashMap<KeyPath, Entry>,
    /// The paths of one and two keys (sections and their entries) with their key's position
    /// (the value's when there is no key), sorted by position and path: a re-parse finds the
    /// entries an edit touched here by binary search instead of a pass over every entry.
    shallow_keys: Vec<(Position, KeyPath)>,
    lines: Vec<String>,
    /// Keys repeated within one mapping, in document order.
    pub duplicates: Vec<DuplicateKey>,
    /// Whether the document uses an anchor (`&name`) or an alias (`*name`) anywhere: an
    /// entry that may share content with another cannot be re-parsed on its own.
    pub uses_anchors: bool,
}

enum Frame {
    Mapping { path: KeyPath, key: Option<(Arc<str>, Position)>, seen: HashMap<Arc<str>, Position> },
    Sequence { path: KeyPath, index: usize },
}

struct Builder {
    index: SpanIndex,
    /// `"0"`, `"1"`, …: the sequence indexes' key segments, made once.
    item_keys: Vec<Arc<str>>,
    stack: Vec<Frame>,
    complex_keys: HashSet<usize>,
    /// The document read from the same events, when asked for.
    document: Option<DocumentBuilder>,
}

fn position(mark: Marker) -> Position {
    Position { line: mark.line() as u32, column: mark.col() as u32 + 1 }
}

impl Builder {
    /// Where the next value goes: its path and its key's position. `None` while a mapping
    /// waits for a key.
    fn next_value_path(&mut self) -> Option<(KeyPath, Option<Position>)> {
        match self.stack.last_mut() {
            None => Some((Vec::new(), None)),
            Some(Frame::Mapping { path, key, .. }) => {
                let (name, key_position) = key.take()?;
                let mut child = Vec::with_capacity(path.len() + 1);
                child.extend(path.iter().cloned());
                child.push(name);
                Some((child, Some(key_position)))
            }
            Some(Frame::Sequence { path, index }) => {
                while self.item_keys.len() <= *index {
                    self.item_keys.push(Arc::from(self.item_keys.len().to_string()));
                }
                let mut child = Vec::with_capacity(path.len() + 1);
                child.extend(path.iter().cloned());
                child.push(Arc::clone(&self.item_keys[*index]));
                *index += 1;
                Some((child, None))
            }
        }
    }

    /// Records the first value at `path` (a repeated key keeps its first place).
    fn record(&mut self, path: KeyPath, key: Option<Position>, value: Position, style: ValueStyle) {
        if let std::collections::hash_map::Entry::Vacant(vacant) = self.index.entries.entry(path) {
            if (1..=2).contains(&vacant.key().len()) {
                self.index.shallow_keys.push((key.unwrap_or(value), vacant.key().clone()));
            }
            vacant.insert(Entry { key, value, style });
        }
    }

    /// If the top frame is a mapping waiting for a key, takes `text` as that key.
    fn take_key(&mut self, text: &str, at: Position) -> bool {
        if let Some(Frame::Mapping { path, key, seen }) = self.stack.last_mut()
            && key.is_none()
        {
            let name: Arc<str> = Arc::from(text);
            if let Some(first) = seen.get(&name) {
                let mut duplicate_path = owned_path(path);
                duplicate_path.push(text.to_string());
                self.index.duplicates.push(DuplicateKey { path: duplicate_path, first: *first, second: at });
            } else {
                seen.insert(Arc::clone(&name), at);
            }
            *key = Some((name, at));
            return true;
        }
        false
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        self.index_event(&event, mark);
        if let Some(document) = &mut self.document {
            document.on_event(event);
        }
    }
}

impl Builder {
    fn index_event(&mut self, event: &Event, mark: Marker) {
        let at = position(mark);
        match event {
            Event::Scalar(text, style, anchor, _) => {
                self.index.uses_anchors |= *anchor != 0;
                if self.take_key(text, at) {
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
                self.index.uses_anchors |= *anchor != 0;
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
        let (index, error, _) = SpanIndex::scan(text, false);
        (index, error)
    }

    /// Indexes `text` and, from the same scan, reads its YAML document as serde_yaml_ng
    /// would (`None` where only serde_yaml_ng can tell: see [`crate::yaml_value`]).
    pub fn build_with_document(text: &str) -> (SpanIndex, Option<SyntaxError>, Option<serde_json::Value>) {
        SpanIndex::scan(text, true)
    }

    fn scan(text: &str, with_document: bool) -> (SpanIndex, Option<SyntaxError>, Option<serde_json::Value>) {
        let mut builder = Builder {
            index: SpanIndex { lines: text.lines().map(str::to_string).collect(), ..SpanIndex::default() },
            stack: Vec::new(),
            item_keys: Vec::new(),
            complex_keys: HashSet::new(),
            document: with_document.then(DocumentBuilder::default),
        };
        let mut parser = Parser::new_from_str(text);
        let error = parser
            .load(&mut builder, false)
            .err()
            .map(|error| SyntaxError { message: error.info().to_string(), position: position(*error.marker()) });
        // Only the first document is read: anything after it (another document, or an
        // error) is serde_yaml_ng's to report.
        let alone = error.is_none() && matches!(parser.peek(), Ok((Event::StreamEnd, _)));
        let document = builder.document.take().filter(|_| alone).and_then(|document| document.finish(text));
        builder.index.sort_shallow_keys();
        (builder.index, error, document)
    }

    /// The position of the key at `path` (or of its value when it has no key, e.g. a
    /// sequence item).
    pub fn key_position(&self, path: &[String]) -> Option<Position> {
        let entry = self.entries.get(&key_path(path))?;
        Some(entry.key.unwrap_or(entry.value))
    }

    /// The position of the value at `path`.
    pub fn value_position(&self, path: &[String]) -> Option<Position> {
        self.entries.get(&key_path(path)).map(|entry| entry.value)
    }

    /// Resolves a logical location to a start and end position. Falls back to the nearest
    /// enclosing key that exists (a field that was never written resolves to its view).
    pub fn resolve(&self, location: &SpecLocation) -> Option<(Position, Position)> {
        if let Some((line, column)) = location.absolute {
            let at = Position { line, column };
            return Some((at, at));
        }
        let mut path = key_path(&location.key_path());
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
    /// Every path of one or two keys with its key's position (the value's when it has no
    /// key), sorted by position and then path.
    pub(crate) fn shallow_keys(&self) -> &[(Position, Vec<Arc<str>>)] {
        &self.shallow_keys
    }

    fn sort_shallow_keys(&mut self) {
        self.shallow_keys.sort_unstable();
    }

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
        let replaced = |path: &[Arc<str>]| path.len() >= 2 && &*path[0] == section_key && names.contains(&*path[1]);
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
        // The shallow keys: the replaced ones lie on the old lines, the new ones on the new
        // lines, and every one after them moves by the difference; the order stays sorted.
        let start = self.shallow_keys.partition_point(|(at, _)| at.line < first_line);
        let end = self.shallow_keys.partition_point(|(at, _)| at.line <= last_line);
        let section: Arc<str> = Arc::from(section_key);
        let mut region: Vec<(Position, KeyPath)> = self.shallow_keys.drain(start..end).filter(|(_, path)| !replaced(path)).collect();
        region.extend(
            replacement
                .shallow_keys
                .iter()
                .filter(|(_, path)| path.len() == 1)
                .map(|(at, path)| (moved(*at), vec![Arc::clone(&section), Arc::clone(&path[0])])),
        );
        region.sort_unstable();
        if new_count != old_count {
            self.shallow_keys[start..].iter_mut().for_each(|(at, _)| moved_after(at));
        }
        self.shallow_keys.splice(start..start, region);
        // The replacement's root (its mapping of entries) is not an entry of this document,
        // but when the section's mapping starts at its first line it is positioned as that
        // mapping is (the parser marks a mapping after its first key).
        let root = replacement.entries.get(&Vec::new()).map(|root| moved(root.value));
        if let (Some(root), Some(section_entry)) = (root, self.entries.get_mut(&vec![Arc::clone(&section)]))
            && section_entry.value.line == first_line
        {
            section_entry.value = root;
        }
        for (path, entry) in replacement.entries.into_iter().filter(|(path, _)| !path.is_empty()) {
            let mut full = Vec::with_capacity(path.len() + 1);
            full.push(Arc::clone(&section));
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
    fn entry_paths(&self, section_key: &str, names: &HashSet<&str>, (first_line, last_line): (u32, u32)) -> Option<Vec<KeyPath>> {
        let start = (first_line as usize).checked_sub(1)?;
        let lines = self.lines.get(start..last_line as usize)?;
        let mut text = lines.join("\n");
        text.push('\n');
        let (alone, error) = SpanIndex::build(&text);
        if error.is_some() || alone.uses_anchors || !alone.duplicates.is_empty() {
            return None;
        }
        let mut paths = Vec::with_capacity(alone.entries.len());
        let section: Arc<str> = Arc::from(section_key);
        for path in alone.entries.into_keys().filter(|path| !path.is_empty()) {
            if !names.contains(&*path[0]) {
                return None;
            }
            let mut full = Vec::with_capacity(path.len() + 1);
            full.push(Arc::clone(&section));
            full.extend(path);
            if !self.entries.contains_key(&full) {
                return None;
            }
            paths.push(full);
        }
        // Every name's own key must be among them (an entry indexed differently is not).
        names.iter().all(|name| paths.iter().any(|path| path.len() == 2 && &*path[1] == *name)).then_some(paths)
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
        if self.shallow_keys != other.shallow_keys {
            differences.push(format!("shallow keys differ: {:?} vs {:?}", self.shallow_keys, other.shallow_keys));
        }
        if self.lines != other.lines {
            differences.push(format!("lines differ: {} vs {}", self.lines.len(), other.lines.len()));
        }
        differences.sort();
        differences
    }

    /// The shortest key path below `prefix` whose last key is `key` (document order breaks
    /// ties), e.g. to place an "unknown field" error on the offending key.
    pub fn find_key_below(&self, prefix: &[String], key: &str) -> Option<Vec<String>> {
        let below = |path: &[Arc<str>]| {
            path.len() > prefix.len()
                && path.iter().zip(prefix).all(|(segment, wanted)| **segment == **wanted)
                && path.last().is_some_and(|last| &**last == key)
        };
        self.entries
            .iter()
            .filter(|(path, _)| below(path))
            .min_by_key(|(path, entry)| (path.len(), entry.key.unwrap_or(entry.value)))
            .map(|(path, _)| owned_path(path))
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
        let expected: Vec<super::KeyPath> =
            index.entries.keys().filter(|path| path.len() >= 2 && &*path[0] == "views" && &*path[1] == "b").cloned().collect();
        assert_eq!(paths.iter().cloned().collect::<HashSet<_>>(), expected.into_iter().collect::<HashSet<_>>());
        assert!(paths.len() >= 4, "{paths:?}");
        // Lines that are not the entry's: no answer (the caller scans every entry).
        assert_eq!(index.entry_paths("views", &HashSet::from(["b"]), (2, 3)), None);
    }
}

/// The document read in the span index's scan against serde_yaml_ng's reading.
#[cfg(test)]
mod document_tests {
    use proptest::prelude::*;
    use serde_json::Value;

    /// The scan's reading of `text`, or `None` where it defers to serde_yaml_ng.
    fn fast(text: &str) -> Option<Value> {
        super::SpanIndex::build_with_document(text).2
    }

    /// Asserts the fast reading equals serde_yaml_ng's wherever it answers; returns whether it did.
    fn agrees(text: &str) -> bool {
        let Some(value) = fast(text) else { return false };
        let expected = serde_yaml_ng::from_str::<Value>(text);
        assert_eq!(Some(&value), expected.as_ref().ok(), "for {text:?} (serde_yaml_ng: {expected:?})");
        true
    }

    #[test]
    fn scalars_resolve_as_serde_yaml_ng_resolves_them() {
        let plain = [
            "~",
            "null",
            "Null",
            "NULL",
            "nULL",
            "true",
            "True",
            "TRUE",
            "tRUE",
            "false",
            "no",
            "yes",
            "on",
            "0",
            "-0",
            "+0",
            "007",
            "-007",
            "+007",
            "0x1F",
            "-0x1F",
            "+0x1F",
            "0x",
            "0x-1",
            "0o17",
            "-0o17",
            "0o8",
            "0b101",
            "-0b101",
            "0b2",
            "12",
            "-12",
            "+12",
            "1_000",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "1.5",
            "-1.5",
            "+1.5",
            ".5",
            "1.",
            "1e3",
            "1E-3",
            "1e400",
            ".inf",
            "-.inf",
            "+.inf",
            ".Inf",
            ".INF",
            ".nan",
            ".NaN",
            ".NAN",
            "-.nan",
            "inf",
            "nan",
            "infinity",
            "0.0",
            "-0.0",
            "00.5",
            "++1",
            "+-1",
            "1:2",
            "a b",
            "x > 1",
            "a b c",
        ];
        let mut deferred = Vec::new();
        for scalar in plain {
            for text in [format!("k: {scalar}\n"), format!("k:\n- {scalar}\n"), format!("k: ['{scalar}', \"{scalar}\"]\n")] {
                if !agrees(&text) {
                    deferred.push(text);
                }
            }
        }
        // Only integers beyond 64 bits defer.
        assert_eq!(deferred.len(), 4, "{deferred:?}");
        assert!(fast("k: 18446744073709551616\n").is_none());
    }

    #[test]
    fn structures_resolve_and_unusual_ones_defer() {
        for text in [
            "a: 1\nb: [1, 2, {c: d}]\nc:\n  - x\n  - y: z\n",
            "a: 1\na: 2\nb: 3\n",
            "1: one\ntrue: yes\nnull: x\n'q': \"w\"\n",
            "a: |\n  line one\n  line two\nb: >-\n  folded\n  text\n",
            "a: plain\n  continued\n  lines\n",
            "a: \"esc \\t \\u00e9 \\n\"\nb: 'it''s'\n",
            "---\na: 1\n...\n",
            "a:\nb:\n",
            "a: {}\nb: []\n",
            "a: 1 # comment\n# whole line\n",
        ] {
            assert!(agrees(text), "deferred: {text:?}");
        }
        for text in [
            "a: &x 1\nb: *x\n",
            "[1, 2]\n",
            "\"just a string\"\n",
            "a: |+\n  kept\n\n",
            "a: !!str 1\n",
            "a: !custom x\n",
            "? [a, b]\n: c\n",
            "~: c\n",
            "? \n: c\n",
            "a: 1\n: 2\n",
            "a: 1\n---\nb: 2\n",
            "%YAML 1.2\n---\na: 1\n",
            "# only a comment\n",
            "",
            "a: [1, 2\n",
            "a: b: c\n",
        ] {
            assert_eq!(fast(text), None, "answered: {text:?}");
        }
    }

    /// A generated YAML text: nested mappings and sequences, block and flow, with scalars of
    /// every kind and quoting style.
    fn document() -> impl Strategy<Value = String> {
        let scalar = prop_oneof![
            Just("~".to_string()),
            Just("null".to_string()),
            Just("".to_string()),
            "(true|false|True|FALSE|yes|no)",
            "[-+]?(0|[1-9][0-9]{0,20}|0[0-9]{1,3})",
            "[-+]?0(x[0-9a-fA-F]{1,17}|o[0-7]{1,23}|b[01]{1,65})",
            "[-+]?[0-9]{0,3}\\.[0-9]{0,3}([eE][-+]?[0-9]{1,3})?",
            "[-+]?\\.(inf|Inf|INF|nan|NaN|NAN)",
            "[a-z][a-z0-9 _.>=<()]{0,12}",
            "'[a-z0-9 :#\"-]{0,8}'",
            "\"[a-z0-9 :#'-]{0,8}\"",
            // Block scalars: chomping, blank and more-indented lines, trailing blank lines.
            ("[|>][-+]?", prop::collection::vec("( ?[a-z0-9 #:]{0,8})?", 0..4), "\n{0,2}").prop_map(|(header, lines, trailing)| {
                let body: String = lines.iter().map(|line| format!("\n  {line}")).collect();
                format!("{header}{body}{trailing}")
            }),
        ];
        let key = "[a-z][a-z0-9_]{0,6}|'[a-z0-9 ]{0,5}'|[0-9]{1,3}";
        let leaf = scalar.prop_map(|scalar| (scalar, false));
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec((key, inner.clone()), 0..5).prop_map(|entries| (render_mapping(&entries), true)),
                prop::collection::vec(inner.clone(), 0..5).prop_map(|items| (render_sequence(&items), true)),
                prop::collection::vec(inner, 0..4).prop_map(|items| {
                    let flow: Vec<String> =
                        items.iter().map(|(text, nested)| if *nested { "[]".to_string() } else { text.clone() }).collect();
                    (format!("[{}]", flow.join(", ")), false)
                }),
            ]
        })
        .prop_map(|(text, nested)| if nested { text } else { format!("k: {text}\n") })
    }

    fn indent(text: &str) -> String {
        text.lines().map(|line| format!("  {line}\n")).collect()
    }

    fn render_mapping(entries: &[(String, (String, bool))]) -> String {
        if entries.is_empty() {
            return "{}".to_string();
        }
        entries
            .iter()
            .map(|(key, (value, nested))| if *nested { format!("{key}:\n{}", indent(value)) } else { format!("{key}: {value}\n") })
            .collect()
    }

    fn render_sequence(items: &[(String, bool)]) -> String {
        if items.is_empty() {
            return "[]".to_string();
        }
        items.iter().map(|(item, nested)| if *nested { format!("-\n{}", indent(item)) } else { format!("- {item}\n") }).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn generated_documents_read_as_serde_yaml_ng_reads_them(text in document()) {
            agrees(&text);
        }

        #[test]
        fn mutated_documents_read_as_serde_yaml_ng_reads_them(
            text in document(),
            at in any::<prop::sample::Index>(),
            inserted in "[a-z0-9 :{}\\[\\],'\"#&*>|~.-]{0,4}|\n",
        ) {
            // Arbitrary bytes spliced in: invalid YAML defers, valid YAML must agree.
            let mut text = text;
            let mut at = at.index(text.len() + 1);
            while !text.is_char_boundary(at) { at -= 1; }
            text.insert_str(at, &inserted);
            agrees(&text);
        }
    }
}
