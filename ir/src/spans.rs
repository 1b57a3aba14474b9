//! The span index: where each key and value of a spec file sits, as 1-based line and column.
//!
//! Built from the YAML event stream (JSON is read by the same parser), independently of
//! serde, so that a diagnostic's logical [`SpecLocation`] can be turned into a position when
//! it is rendered. Also reports keys that appear twice in one mapping, which serde's map
//! types would silently overwrite. The same scan reads the YAML document
//! ([`SpanIndex::build_with_document`], `crate::yaml_value`): a spec's text is scanned once.
//!
//! The index is an arena: one node per value, in document order, each knowing its parent
//! and its key (an interned name), with a hash map from (parent, key) to the child. A path is
//! looked up one segment at a time; nothing is allocated per key while scanning except the
//! node itself, and a spec's thousands of repeated keys (`filter`, `input`, …) are stored
//! once.
//!
//! ## Invariants
//! - A path exists only if every prefix of it exists (a value is recorded before anything
//!   inside it); the first value at a path keeps its place (a repeated key is reported in
//!   [`SpanIndex::duplicates`] and does not move it).
//! - The nodes of an entry of a section (a path of two keys) and everything inside it are
//!   contiguous, `[id, end)`: they are appended in document order, by a scan or, for the
//!   entries a [`SpanIndex::splice`] brings in, by that splice. (A section's own `end` is not
//!   kept up to date by a splice, and nothing reads it.)
//! - Nodes replaced by a splice are marked dead and unlinked; once they outnumber the live
//!   ones the arena is compacted, so repeated edits do not grow it without bound.
//! - Equality is logical: the same paths at the same positions, whatever the arena's order.
//! - The paths of one and two keys are also kept sorted by position, equal whether built by
//!   a scan or updated by a splice.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diagnostic::SpecLocation;
use crate::yaml_value::DocumentBuilder;

mod piece_codec;

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

type NodeId = u32;
type KeyId = u32;

/// The root's parent, and the key of the root (which has none).
const NONE: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Node {
    parent: NodeId,
    key: KeyId,
    /// How many keys its path has (the root: 0).
    depth: u32,
    /// One past the last node of its subtree (see the invariants).
    end: NodeId,
    live: bool,
    entry: Entry,
}

/// Key names, each stored once.
#[derive(Debug, Clone, Default)]
struct KeyNames {
    ids: FxHashMap<Arc<str>, KeyId>,
    names: Vec<Arc<str>>,
}

impl KeyNames {
    fn intern(&mut self, name: &str) -> KeyId {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = KeyId::try_from(self.names.len()).expect("fewer than 2^32 distinct keys");
        let name: Arc<str> = Arc::from(name);
        self.names.push(Arc::clone(&name));
        self.ids.insert(name, id);
        id
    }

    /// [`KeyNames::intern`] of a name already shared: stored without a copy.
    fn intern_shared(&mut self, name: &Arc<str>) -> KeyId {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = KeyId::try_from(self.names.len()).expect("fewer than 2^32 distinct keys");
        self.names.push(Arc::clone(name));
        self.ids.insert(Arc::clone(name), id);
        id
    }

    fn get(&self, name: &str) -> Option<KeyId> {
        self.ids.get(name).copied()
    }

    fn name(&self, id: KeyId) -> &Arc<str> {
        &self.names[id as usize]
    }
}

#[derive(Debug, Clone, Default)]
pub struct SpanIndex {
    nodes: Vec<Node>,
    /// (parent, key) → the live child at that key.
    children: FxHashMap<(NodeId, KeyId), NodeId>,
    root: Option<NodeId>,
    keys: KeyNames,
    dead: usize,
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

impl PartialEq for SpanIndex {
    fn eq(&self, other: &Self) -> bool {
        self.shallow_keys == other.shallow_keys
            && self.lines == other.lines
            && self.duplicates == other.duplicates
            && self.uses_anchors == other.uses_anchors
            && self.entries() == other.entries()
    }
}

impl Eq for SpanIndex {}

/// A collection being read: its node (`NONE` when it has no place, see `index_event`).
enum Frame {
    /// `serial` tells this mapping's keys apart from another's (for duplicates).
    Mapping {
        node: NodeId,
        depth: u32,
        serial: u32,
        created: bool,
        key: Option<(KeyId, Position)>,
    },
    Sequence {
        node: NodeId,
        depth: u32,
        created: bool,
        index: usize,
    },
}

/// Where the next value goes.
struct Slot {
    parent: NodeId,
    key: KeyId,
    depth: u32,
    key_position: Option<Position>,
}

struct Builder {
    index: SpanIndex,
    /// `"0"`, `"1"`, …: the sequence indexes' keys, interned once.
    item_keys: Vec<KeyId>,
    stack: Vec<Frame>,
    /// The keys each mapping (by serial) has had, with where they were first written.
    seen: FxHashMap<(u32, KeyId), Position>,
    mappings: u32,
    /// The document read from the same events, when asked for.
    document: Option<DocumentBuilder>,
}

fn position(mark: Marker) -> Position {
    Position { line: mark.line() as u32, column: mark.col() as u32 + 1 }
}

impl Builder {
    /// Where the next value goes. `None` while a mapping waits for a key.
    fn next_slot(&mut self) -> Option<Slot> {
        match self.stack.last_mut() {
            None => Some(Slot { parent: NONE, key: NONE, depth: 0, key_position: None }),
            Some(Frame::Mapping { node, depth, key, .. }) => {
                let (name, key_position) = key.take()?;
                (*node != NONE).then_some(Slot { parent: *node, key: name, depth: *depth + 1, key_position: Some(key_position) })
            }
            Some(Frame::Sequence { node, depth, index, .. }) => {
                while self.item_keys.len() <= *index {
                    let item = self.item_keys.len().to_string();
                    self.item_keys.push(self.index.keys.intern(&item));
                }
                let key = self.item_keys[*index];
                *index += 1;
                (*node != NONE).then_some(Slot { parent: *node, key, depth: *depth + 1, key_position: None })
            }
        }
    }

    /// Records the first value at `slot` (a repeated key keeps its first place): its node,
    /// and whether this value created it.
    fn record(&mut self, slot: Slot, value: Position, style: ValueStyle) -> (NodeId, bool) {
        let entry = Entry { key: slot.key_position, value, style };
        let id = NodeId::try_from(self.index.nodes.len()).expect("fewer than 2^32 values");
        let node = Node { parent: slot.parent, key: slot.key, depth: slot.depth, end: id + 1, live: true, entry };
        if slot.parent == NONE {
            if let Some(root) = self.index.root {
                return (root, false);
            }
            self.index.root = Some(id);
        } else {
            match self.index.children.entry((slot.parent, slot.key)) {
                std::collections::hash_map::Entry::Occupied(existing) => return (*existing.get(), false),
                std::collections::hash_map::Entry::Vacant(vacant) => {
                    vacant.insert(id);
                }
            }
        }
        if (1..=2).contains(&node.depth) {
            let at = node.entry.key.unwrap_or(node.entry.value);
            let path = self.index.key_path_of(&node);
            self.index.shallow_keys.push((at, path));
        }
        self.index.nodes.push(node);
        (id, true)
    }

    /// If the top frame is a mapping waiting for a key, takes `text` as that key.
    fn take_key(&mut self, text: &str, at: Position) -> bool {
        let Some(Frame::Mapping { node, serial, key: None, .. }) = self.stack.last() else {
            return false;
        };
        let (node, serial) = (*node, *serial);
        let name = self.index.keys.intern(text);
        match self.seen.entry((serial, name)) {
            std::collections::hash_map::Entry::Occupied(first) => {
                let mut path = if node == NONE { Vec::new() } else { self.index.owned_path(node) };
                path.push(text.to_string());
                self.index.duplicates.push(DuplicateKey { path, first: *first.get(), second: at });
            }
            std::collections::hash_map::Entry::Vacant(vacant) => {
                vacant.insert(at);
            }
        }
        if let Some(Frame::Mapping { key, .. }) = self.stack.last_mut() {
            *key = Some((name, at));
        }
        true
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
                if let Some(slot) = self.next_slot() {
                    self.record(slot, at, style);
                }
            }
            Event::Alias(_) => {
                self.index.uses_anchors = true;
                if self.take_key("*alias", at) {
                    return;
                }
                if let Some(slot) = self.next_slot() {
                    self.record(slot, at, ValueStyle::Plain);
                }
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                self.index.uses_anchors |= *anchor != 0;
                // A collection used as a mapping key: give it a placeholder key name.
                if matches!(self.stack.last(), Some(Frame::Mapping { key: None, .. })) {
                    self.take_key("?complex", at);
                }
                // A collection without a place (inside one that has none) records nothing.
                let (node, depth, created) = match self.next_slot() {
                    Some(slot) => {
                        let depth = slot.depth;
                        let (node, created) = self.record(slot, at, ValueStyle::Collection);
                        (node, depth, created)
                    }
                    None => (NONE, 0, false),
                };
                self.stack.push(if matches!(event, Event::MappingStart(..)) {
                    self.mappings += 1;
                    Frame::Mapping { node, depth, serial: self.mappings, created, key: None }
                } else {
                    Frame::Sequence { node, depth, created, index: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some(Frame::Mapping { node, created: true, .. } | Frame::Sequence { node, created: true, .. }) = self.stack.pop() {
                    self.index.nodes[node as usize].end = NodeId::try_from(self.index.nodes.len()).unwrap_or(NONE);
                }
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
            seen: FxHashMap::default(),
            mappings: 0,
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
        builder.index.shallow_keys.sort_unstable();
        (builder.index, error, document)
    }

    /// The node at `path`, if the document has one.
    fn find<S: AsRef<str>>(&self, path: &[S]) -> Option<NodeId> {
        let mut node = self.root?;
        for segment in path {
            let key = self.keys.get(segment.as_ref())?;
            node = *self.children.get(&(node, key))?;
        }
        Some(node)
    }

    fn node_at<S: AsRef<str>>(&self, path: &[S]) -> Option<&Node> {
        self.find(path).map(|node| &self.nodes[node as usize])
    }

    /// The deepest node on `path` that exists (the root excluded).
    fn nearest_node<S: AsRef<str>>(&self, path: &[S]) -> Option<&Node> {
        let mut node = self.root?;
        let mut found = None;
        for segment in path {
            let Some(child) = self.keys.get(segment.as_ref()).and_then(|key| self.children.get(&(node, key))) else { break };
            node = *child;
            found = Some(&self.nodes[node as usize]);
        }
        found
    }

    /// The keys of `node`'s path, shared.
    fn key_path_of(&self, node: &Node) -> KeyPath {
        let mut path = Vec::with_capacity(node.depth as usize);
        let (mut parent, mut key) = (node.parent, node.key);
        while parent != NONE {
            path.push(Arc::clone(self.keys.name(key)));
            let above = &self.nodes[parent as usize];
            (parent, key) = (above.parent, above.key);
        }
        path.reverse();
        path
    }

    fn owned_path(&self, node: NodeId) -> Vec<String> {
        self.key_path_of(&self.nodes[node as usize]).iter().map(|key| key.to_string()).collect()
    }

    /// Every live path with its entry (for equality and test failures).
    fn entries(&self) -> BTreeMap<KeyPath, &Entry> {
        self.nodes.iter().filter(|node| node.live).map(|node| (self.key_path_of(node), &node.entry)).collect()
    }

    /// The position of the key at `path` (or of its value when it has no key, e.g. a
    /// sequence item).
    pub fn key_position(&self, path: &[String]) -> Option<Position> {
        let entry = &self.node_at(path)?.entry;
        Some(entry.key.unwrap_or(entry.value))
    }

    /// The position of the value at `path`.
    pub fn value_position(&self, path: &[String]) -> Option<Position> {
        self.node_at(path).map(|node| node.entry.value)
    }

    /// Resolves a logical location to a start and end position. Falls back to the nearest
    /// enclosing key that exists (a field that was never written resolves to its view).
    pub fn resolve(&self, location: &SpecLocation) -> Option<(Position, Position)> {
        if let Some((line, column)) = location.absolute {
            let at = Position { line, column };
            return Some((at, at));
        }
        let path = location.key_path();
        let node = self.nearest_node(&path)?;
        let entry = &node.entry;
        if let Some((start, end)) = location.range_in_value
            && let Some(span) = self.range_in_scalar(entry, start as usize, end as usize)
        {
            return Some(span);
        }
        let start = entry.key.unwrap_or(entry.value);
        let end = self.end_of_token(start);
        Some((start, end))
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

    /// The last line any value starts on (1-based; 0 for an empty index).
    pub(crate) fn last_value_line(&self) -> u32 {
        self.nodes.iter().filter(|node| node.live).map(|node| node.entry.value.line).max().unwrap_or(0)
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
    /// (a mapping of section entries): they become entries of `section_key` and their lines
    /// are moved to `first_line`. Every position after the old lines moves by the difference
    /// in line count, in one pass over the nodes: nothing after the edit is re-parsed. The
    /// replaced entries' nodes are found through the section, not searched for (O(entry)).
    /// Expects an index without repeated keys (what the re-parse requires).
    pub(crate) fn splice(
        &mut self,
        section_key: &str,
        names: &HashSet<&str>,
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
        let shift = first_line - 1;
        let moved = |at: Position| Position { line: at.line + shift, column: at.column };
        let section = self.section_node(section_key);
        for name in names {
            if let Some(entry) = self.keys.get(name).and_then(|key| self.children.get(&(section, key))) {
                self.kill_subtree(*entry);
            }
        }
        if new_count != old_count {
            for node in self.nodes.iter_mut().filter(|node| node.live) {
                node.entry.key.iter_mut().for_each(moved_after);
                moved_after(&mut node.entry.value);
            }
        }
        // The shallow keys: the replaced ones lie on the old lines, the new ones on the new
        // lines, and every one after them moves by the difference; the order stays sorted.
        let replaced = |path: &[Arc<str>]| path.len() >= 2 && &*path[0] == section_key && names.contains(&*path[1]);
        let start = self.shallow_keys.partition_point(|(at, _)| at.line < first_line);
        let end = self.shallow_keys.partition_point(|(at, _)| at.line <= last_line);
        let section_name = Arc::clone(self.keys.name(self.nodes[section as usize].key));
        let mut region: Vec<(Position, KeyPath)> = self.shallow_keys.drain(start..end).filter(|(_, path)| !replaced(path)).collect();
        region.extend(replacement.entry_keys_in(&section_name, moved));
        region.sort_unstable();
        if new_count != old_count {
            self.shallow_keys[start..].iter_mut().for_each(|(at, _)| moved_after(at));
        }
        self.shallow_keys.splice(start..start, region);
        // The replacement's root (its mapping of entries) is not an entry of this document,
        // but when the section's mapping starts at its first line it is positioned as that
        // mapping is (the parser marks a mapping after its first key).
        let section_entry = &mut self.nodes[section as usize].entry;
        if let Some(root) = replacement.root
            && section_entry.value.line == first_line
        {
            section_entry.value = moved(replacement.nodes[root as usize].entry.value);
        }
        self.append_below(section, &replacement, moved);
        let start = (shift as usize).min(self.lines.len());
        let end = (last_line as usize).min(self.lines.len());
        self.lines.splice(start..end, lines);
        if self.dead > self.nodes.len() / 2 {
            self.compact();
        }
    }

    /// Inserts the entries of `pieces` into section `section_key` before line `at_line`
    /// (1-based), in order: each piece was indexed from its lines on their own (a mapping of
    /// section entries) and its lines follow the previous piece's. Every position from
    /// `at_line` on moves down by the pieces' line count, in one pass over the nodes however
    /// many pieces there are (a spec parsed in pieces: `crate::split_parse`). The section's
    /// mapping must start before `at_line`; nothing of the index is replaced. Returns the
    /// pieces' indexes, copied from: the caller frees them where it likes.
    pub(crate) fn insert_entries(&mut self, section_key: &str, at_line: u32, pieces: Vec<(SpanIndex, Vec<String>)>) -> Vec<SpanIndex> {
        let inserted: usize = pieces.iter().map(|(_, lines)| lines.len()).sum();
        let inserted = u32::try_from(inserted).unwrap_or(u32::MAX);
        let moved_after = |at: &mut Position| {
            if at.line >= at_line {
                at.line += inserted;
            }
        };
        for node in self.nodes.iter_mut().filter(|node| node.live) {
            node.entry.key.iter_mut().for_each(moved_after);
            moved_after(&mut node.entry.value);
        }
        let start = self.shallow_keys.partition_point(|(at, _)| at.line < at_line);
        self.shallow_keys[start..].iter_mut().for_each(|(at, _)| moved_after(at));
        let section = self.section_node(section_key);
        let section_name = Arc::clone(self.keys.name(self.nodes[section as usize].key));
        // Room for every node at once: growing the map piece by piece would rehash it each time.
        let added: usize = pieces.iter().map(|(piece, _)| piece.nodes.len()).sum();
        self.nodes.reserve(added);
        self.children.reserve(added);
        let mut region: Vec<(Position, KeyPath)> = Vec::new();
        let mut all_lines = Vec::with_capacity(inserted as usize);
        let mut first_line = at_line;
        let mut copied = Vec::with_capacity(pieces.len());
        for (piece, lines) in pieces {
            let shift = first_line - 1;
            let moved = |at: Position| Position { line: at.line + shift, column: at.column };
            region.extend(piece.entry_keys_in(&section_name, moved));
            self.append_below(section, &piece, moved);
            first_line += u32::try_from(lines.len()).unwrap_or(u32::MAX);
            all_lines.extend(lines);
            copied.push(piece);
        }
        self.shallow_keys.splice(start..start, region);
        let at = (at_line as usize - 1).min(self.lines.len());
        self.lines.splice(at..at, all_lines);
        copied
    }

    /// Drops what [`SpanIndex::insert_entries`] does not read of a piece (its lookup maps, its
    /// lines and the shallow keys of its entries' fields), so that a worker frees them, not
    /// the thread inserting the pieces. Only `insert_entries` and
    /// [`SpanIndex::encode_piece`] may read the result.
    pub(crate) fn into_piece(mut self) -> SpanIndex {
        self.children = FxHashMap::default();
        self.keys.ids = FxHashMap::default();
        self.lines = Vec::new();
        self.shallow_keys.retain(|(_, path)| path.len() == 1);
        self
    }

    /// The last line any value of section `section_key` starts on (0 without the section).
    /// For a fresh scan: a section's nodes are `[section, end)` until a splice.
    pub(crate) fn last_value_line_in(&self, section_key: &str) -> u32 {
        let Some(section) = self.find(&[section_key]) else { return 0 };
        let node = &self.nodes[section as usize];
        self.nodes[section as usize..node.end as usize].iter().filter(|node| node.live).map(|node| node.entry.value.line).max().unwrap_or(0)
    }

    /// Whether the document has the key path `path` with its key at `at`.
    pub(crate) fn has_key_at(&self, path: &[&str], at: Position) -> bool {
        self.node_at(path).and_then(|node| node.entry.key) == Some(at)
    }

    /// The shallow keys this index's entries (its paths of one key, a mapping of section
    /// entries indexed alone) have as entries of the section named `section`, at positions
    /// `moved`.
    fn entry_keys_in<'a>(
        &'a self,
        section: &'a Arc<str>,
        moved: impl Fn(Position) -> Position + 'a,
    ) -> impl Iterator<Item = (Position, KeyPath)> + 'a {
        self.shallow_keys
            .iter()
            .filter(|(_, path)| path.len() == 1)
            .map(move |(at, path)| (moved(*at), vec![Arc::clone(section), Arc::clone(&path[0])]))
    }

    /// The section `key`'s node, made (with the root) when the document has none.
    fn section_node(&mut self, key: &str) -> NodeId {
        let key = self.keys.intern(key);
        let add = |index: &mut SpanIndex, parent: NodeId, key: KeyId, depth: u32| {
            let id = NodeId::try_from(index.nodes.len()).expect("fewer than 2^32 values");
            let at = Position { line: 1, column: 1 };
            let entry = Entry { key: (parent != NONE).then_some(at), value: at, style: ValueStyle::Collection };
            index.nodes.push(Node { parent, key, depth, end: id + 1, live: true, entry });
            id
        };
        let root = match self.root {
            Some(root) => root,
            None => {
                let root = add(self, NONE, NONE, 0);
                self.root = Some(root);
                root
            }
        };
        match self.children.get(&(root, key)) {
            Some(section) => *section,
            None => {
                let section = add(self, root, key, 1);
                self.children.insert((root, key), section);
                section
            }
        }
    }

    /// Marks `[node, end)` dead and unlinks it from its parents.
    fn kill_subtree(&mut self, node: NodeId) {
        let end = self.nodes[node as usize].end;
        for id in node..end {
            let dead = &mut self.nodes[id as usize];
            if dead.live {
                dead.live = false;
                self.dead += 1;
                let link = (dead.parent, dead.key);
                if self.children.get(&link) == Some(&id) {
                    self.children.remove(&link);
                }
            }
        }
    }

    /// Appends every node of `other` (a fresh scan: its root is its first node, none is
    /// dead) but its root, as children of `parent` (the root's children) and below, with
    /// positions `moved`.
    fn append_below(&mut self, parent: NodeId, other: &SpanIndex, moved: impl Fn(Position) -> Position) {
        let depth = self.nodes[parent as usize].depth;
        let base = NodeId::try_from(self.nodes.len()).expect("fewer than 2^32 values");
        // `other`'s node `id` becomes `base + id - 1` (its root, node 0, is not copied).
        let mapped = |id: NodeId| if Some(id) == other.root { parent } else { base + id - 1 };
        // Each of `other`'s key names interned once, not once per node.
        let keys: Vec<KeyId> = other.keys.names.iter().map(|name| self.keys.intern_shared(name)).collect();
        for (id, node) in other.nodes.iter().enumerate().filter(|(_, node)| node.live && node.parent != NONE) {
            let (new_id, key) = (mapped(id as NodeId), keys[node.key as usize]);
            let new_parent = mapped(node.parent);
            self.nodes.push(Node {
                parent: new_parent,
                key,
                depth: node.depth + depth,
                end: base + node.end - 1,
                live: true,
                entry: Entry { key: node.entry.key.map(&moved), value: moved(node.entry.value), style: node.entry.style },
            });
            self.children.insert((new_parent, key), new_id);
        }
    }

    /// Drops the dead nodes, renumbering the live ones in their order (so subtrees stay
    /// contiguous).
    fn compact(&mut self) {
        let mut renumbered = Vec::with_capacity(self.nodes.len() + 1);
        let mut live = 0;
        for node in &self.nodes {
            renumbered.push(live);
            live += NodeId::from(node.live);
        }
        renumbered.push(live);
        let nodes = std::mem::take(&mut self.nodes);
        self.children.clear();
        for node in nodes.into_iter().filter(|node| node.live) {
            let id = NodeId::try_from(self.nodes.len()).unwrap_or(NONE);
            let parent = if node.parent == NONE { NONE } else { renumbered[node.parent as usize] };
            if parent != NONE {
                self.children.insert((parent, node.key), id);
            }
            self.nodes.push(Node { parent, end: renumbered[node.end as usize], ..node });
        }
        self.root = self.root.map(|root| renumbered[root as usize]);
        self.dead = 0;
    }

    /// What differs from `other`, one line per difference (for test failures).
    #[cfg(test)]
    pub(crate) fn differences(&self, other: &SpanIndex) -> Vec<String> {
        let (mine, theirs) = (self.entries(), other.entries());
        let mut differences: Vec<String> = mine
            .iter()
            .filter(|(path, entry)| theirs.get(*path) != Some(entry))
            .map(|(path, entry)| format!("{path:?}: {entry:?} vs {:?}", theirs.get(path)))
            .chain(theirs.keys().filter(|path| !mine.contains_key(*path)).map(|path| format!("{path:?} missing")))
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
        let key = self.keys.get(key)?;
        let above = self.find(prefix)?;
        let depth = prefix.len() as u32;
        let below = |node: &Node| {
            let mut ancestor = node.parent;
            for _ in depth + 1..node.depth {
                ancestor = self.nodes[ancestor as usize].parent;
            }
            ancestor == above
        };
        let found = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, node)| node.live && node.key == key && node.depth > depth && below(node))
            .min_by_key(|(_, node)| (node.depth, node.entry.key.unwrap_or(node.entry.value)))?;
        Some(self.owned_path(found.0 as NodeId))
    }
}
#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::SpanIndex;

    fn path(keys: &[&str]) -> Vec<String> {
        keys.iter().map(|key| key.to_string()).collect()
    }

    /// Splices `lines` in place of the entry `name` of `views` (old lines `first..=last`), as
    /// the re-parse does: the lines indexed on their own, as they are written.
    fn splice(index: &mut SpanIndex, name: &str, (first, last): (u32, u32), lines: Vec<String>) {
        let alone = SpanIndex::build(&format!("{}\n", lines.join("\n"))).0;
        index.splice("views", &HashSet::from([name]), alone, (first, last), lines);
    }

    #[test]
    fn splicing_an_entry_equals_indexing_the_new_text() {
        let before = "views:\n  a:\n    filter: { input: s, predicate: \"x > 1\" }\n  b:\n    project: { input: a, columns: [x] }\n  c:\n    project: { input: b, columns: [x] }\n";
        let after = "views:\n  a:\n    filter: { input: s, predicate: \"x > 1\" }\n  b:\n    project:\n      input: a\n      columns: [x, y]\n  c:\n    project: { input: b, columns: [x] }\n";
        let mut index = SpanIndex::build(before).0;
        // Entry b, lines 4-5, becomes lines 4-7; c moves down two lines.
        splice(&mut index, "b", (4, 5), after.lines().skip(3).take(4).map(str::to_string).collect());
        let fresh = SpanIndex::build(after).0;
        assert_eq!(index.differences(&fresh), Vec::<String>::new());
        assert_eq!(index, fresh);
        assert_eq!(index.key_position(&path(&["views", "c", "project", "input"])).map(|at| at.line), Some(9));
        assert_eq!(index.value_position(&path(&["views", "b", "project", "columns", "1"])).map(|at| at.line), Some(7));
        assert_eq!(index.key_position(&path(&["views", "b", "project", "input", "x"])), None);
    }

    #[test]
    fn repeated_splices_compact_the_arena_and_keep_it_equal() {
        let text = "views:\n  a: { filter: { input: s, predicate: p } }\n  b: { filter: { input: a, predicate: q } }\n";
        let mut index = SpanIndex::build(text).0;
        let live = index.nodes.len();
        for round in 0..50 {
            let line = format!("  a: {{ filter: {{ input: s, predicate: p{round} }} }}");
            splice(&mut index, "a", (2, 2), vec![line]);
            let expected = SpanIndex::build(&text.replace("predicate: p }", &format!("predicate: p{round} }}"))).0;
            assert_eq!(index.differences(&expected), Vec::<String>::new(), "round {round}");
        }
        assert!(index.nodes.len() <= 2 * live + 8, "{} nodes for {live} live", index.nodes.len());
        assert_eq!(index.find_key_below(&path(&["views"]), "predicate"), Some(path(&["views", "a", "filter", "predicate"])));
        assert_eq!(index.find_key_below(&path(&["views", "b"]), "predicate"), Some(path(&["views", "b", "filter", "predicate"])));
        assert_eq!(index.find_key_below(&path(&["views", "z"]), "predicate"), None);
    }

    #[test]
    fn repeated_keys_are_reported_once_per_mapping_and_keep_their_first_place() {
        let text = "a:\n  x: 1\n  x: 2\nb:\n  x: 3\na:\n  y: 4\n";
        let index = SpanIndex::build(text).0;
        let repeated: Vec<(Vec<String>, u32, u32)> =
            index.duplicates.iter().map(|duplicate| (duplicate.path.clone(), duplicate.first.line, duplicate.second.line)).collect();
        assert_eq!(repeated, vec![(path(&["a", "x"]), 2, 3), (path(&["a"]), 1, 6)]);
        assert_eq!(index.value_position(&path(&["a", "x"])).map(|at| at.line), Some(2));
        // The repeated mapping's new keys are found under the first one's path.
        assert_eq!(index.value_position(&path(&["a", "y"])).map(|at| at.line), Some(7));
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
