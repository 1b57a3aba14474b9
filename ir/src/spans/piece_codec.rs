//! A piece's span index as bytes: what [`crate::piece_memo`] keeps of the index of one piece
//! of a spec's `views` section, so a new process does not scan the piece's YAML again.
//!
//! ## Invariants
//! - Only an index in piece form is encoded ([`SpanIndex::into_piece`] of a fresh scan: every
//!   node live, its root first, each node one deeper than its parent, no repeated key, no
//!   anchor), and decoding gives that piece form back: the
//!   same nodes, key names, root and entry keys, which is all
//!   [`SpanIndex::insert_entries`] reads of a piece.
//! - Decoding checks every index it reads (the root first and alone without a parent, a
//!   parent before its child, a key among the names, a subtree's end inside the arena):
//!   bytes that do not describe an index give `None`, never a panic later.

use std::sync::Arc;

use crate::persistent_memo::{Reader, put_varint};

use super::{Entry, KeyNames, NONE, Node, NodeId, Position, SpanIndex, ValueStyle};

impl SpanIndex {
    /// Appends this piece's index; `None` when it is not in piece form (see the invariants).
    /// Small numbers, as varints: a node's parent and subtree end relative to the node, its
    /// depth not at all (its parent's plus one), its lines relative to the line before.
    pub(crate) fn encode_piece(&self, bytes: &mut Vec<u8>) -> Option<()> {
        if self.dead != 0 || !self.duplicates.is_empty() || self.uses_anchors || self.root.is_some_and(|root| root != 0) {
            return None;
        }
        put_varint(bytes, self.keys.names.len());
        for name in &self.keys.names {
            put_varint(bytes, name.len());
            bytes.extend_from_slice(name.as_bytes());
        }
        put_varint(bytes, self.nodes.len());
        let mut line = 0;
        for (index, node) in self.nodes.iter().enumerate() {
            let index = index as u32;
            let depth = if node.parent == NONE { 0 } else { self.nodes.get(node.parent as usize)?.depth + 1 };
            if !node.live || depth != node.depth || (node.parent == NONE) != (index == 0) || node.end <= index {
                return None;
            }
            put_varint(bytes, if node.parent == NONE { 0 } else { (index - node.parent) as usize });
            put_varint(bytes, node.key.wrapping_add(1) as usize);
            put_varint(bytes, (node.end - index) as usize);
            let style = match node.entry.style {
                ValueStyle::Plain => 0,
                ValueStyle::Quoted => 1,
                ValueStyle::Block => 2,
                ValueStyle::Collection => 3,
            };
            bytes.push(style | if node.entry.key.is_some() { 4 } else { 0 });
            for at in node.entry.key.iter().chain([&node.entry.value]) {
                put_varint(bytes, zigzag(i64::from(at.line) - i64::from(line)));
                put_varint(bytes, at.column as usize);
                line = at.line;
            }
        }
        put_varint(bytes, usize::from(self.root.is_some()));
        Some(())
    }

    /// Reads what [`SpanIndex::encode_piece`] wrote, in piece form.
    pub(crate) fn decode_piece(reader: &mut Reader<'_>) -> Option<SpanIndex> {
        let name_count = reader.varint()?;
        // Every name and node takes at least one byte: a count past the bytes left is damage.
        if name_count > reader.bytes.len() {
            return None;
        }
        let mut names = Vec::with_capacity(name_count);
        for _ in 0..name_count {
            let length = reader.varint()?;
            names.push(Arc::<str>::from(std::str::from_utf8(reader.take(length)?).ok()?));
        }
        let node_count = reader.varint()?;
        if node_count > reader.bytes.len() || u32::try_from(node_count).is_err() {
            return None;
        }
        let number = |reader: &mut Reader<'_>| reader.varint().and_then(|number| u32::try_from(number).ok());
        let mut line: u32 = 0;
        let mut position = |reader: &mut Reader<'_>| {
            line = u32::try_from(i64::from(line) + unzigzag(reader.varint()?)).ok()?;
            Some(Position { line, column: number(reader)? })
        };
        let mut nodes: Vec<Node> = Vec::with_capacity(node_count);
        let mut shallow_keys = Vec::new();
        for index in 0..node_count as u32 {
            // The first node is the root, the only one without a parent; a parent comes
            // before its children.
            let parent = match number(reader)? {
                0 if index == 0 => NONE,
                back if back > 0 && back <= index => index - back,
                _ => return None,
            };
            let key = match number(reader)? {
                0 if index == 0 => NONE,
                written if written > 0 && (written as usize) <= name_count && index > 0 => written - 1,
                _ => return None,
            };
            let end = index.checked_add(number(reader)?).filter(|end| *end > index && *end as usize <= node_count)?;
            let depth = if parent == NONE { 0 } else { nodes[parent as usize].depth + 1 };
            let flags = reader.byte()?;
            let style = match flags & 3 {
                0 => ValueStyle::Plain,
                1 => ValueStyle::Quoted,
                2 => ValueStyle::Block,
                _ => ValueStyle::Collection,
            };
            let key_position = if flags & 4 != 0 { Some(position(reader)?) } else { None };
            let entry = Entry { key: key_position, value: position(reader)?, style };
            if depth == 1 {
                shallow_keys.push((entry.key.unwrap_or(entry.value), vec![Arc::clone(&names[key as usize])]));
            }
            nodes.push(Node { parent, key, depth, end, live: true, entry });
        }
        // A fresh scan's root is its first node.
        let root = match reader.varint()? {
            0 if node_count == 0 => None,
            1 if node_count > 0 => Some(0 as NodeId),
            _ => return None,
        };
        shallow_keys.sort_unstable();
        let keys = KeyNames { ids: Default::default(), names };
        Some(SpanIndex { nodes, root, keys, shallow_keys, ..SpanIndex::default() })
    }
}

/// A signed number as an unsigned one, small when it is near zero.
fn zigzag(number: i64) -> usize {
    ((number << 1) ^ (number >> 63)) as usize
}

fn unzigzag(number: usize) -> i64 {
    let number = number as u64;
    ((number >> 1) as i64) ^ -((number & 1) as i64)
}

#[cfg(test)]
mod tests {
    use crate::persistent_memo::Reader;
    use crate::spans::SpanIndex;

    /// A piece indexed as the split parse indexes one, in piece form.
    fn piece(text: &str) -> SpanIndex {
        let (index, error) = SpanIndex::build(text);
        assert!(error.is_none());
        index.into_piece()
    }

    #[test]
    fn a_piece_decodes_to_what_was_encoded() {
        let text = "  a:\n    filter: { input: s, predicate: \"x > 1\" }\n  b:\n    sql: |\n      SELECT x\n      FROM a\n  c:\n    project:\n      input: b\n      columns: [x, 'y']\n";
        let index = piece(text);
        let mut bytes = Vec::new();
        index.encode_piece(&mut bytes).expect("a fresh piece encodes");
        let mut reader = Reader { bytes: &bytes };
        let decoded = SpanIndex::decode_piece(&mut reader).expect("its bytes decode");
        assert!(reader.bytes.is_empty(), "every byte read");
        assert_eq!(format!("{decoded:?}"), format!("{index:?}"));
        // What the insertion reads of it: the same document once inserted.
        let whole = |piece: SpanIndex| {
            let mut base = SpanIndex::build("version: 1\nviews:\n  first: { sql: SELECT 1 }\noutputs: {}\n").0;
            let lines = text.lines().map(str::to_string).collect();
            base.insert_entries("views", 4, vec![(piece, lines)]);
            base
        };
        assert_eq!(whole(decoded), whole(index));
    }

    #[test]
    fn damaged_bytes_decode_to_nothing_or_to_an_index_without_panicking() {
        let index = piece("  a: { filter: { input: s, predicate: p } }\n  b: [1, 2, {c: d}]\n");
        let mut bytes = Vec::new();
        index.encode_piece(&mut bytes).expect("a fresh piece encodes");
        for cut in 0..bytes.len() {
            assert!(SpanIndex::decode_piece(&mut Reader { bytes: &bytes[..cut] }).is_none(), "a piece cut at {cut} decoded");
        }
        for at in 0..bytes.len() {
            for flip in [1u8, 0x80, 0xff] {
                let mut damaged = bytes.clone();
                damaged[at] ^= flip;
                let _ = SpanIndex::decode_piece(&mut Reader { bytes: &damaged });
            }
        }
    }

    #[test]
    fn an_index_with_repeated_keys_or_anchors_is_not_encoded() {
        for text in ["  a: 1\n  a: 2\n", "  a: &x { b: 1 }\n  c: *x\n"] {
            assert!(piece(text).encode_piece(&mut Vec::new()).is_none(), "{text:?} encoded");
        }
    }
}
