//! A spec's pieces kept across processes: what parsing one piece of the `views` section
//! gives ([`crate::split_parse`]: the piece's span index and its entries), keyed by the
//! piece's text, so a new process after an edit scans only the pieces the edit changed.
//!
//! ## Invariants
//! - A piece's value is a function of its key: the build that parsed it, the entries'
//!   indentation and the piece's exact text (BLAKE3 under this memo's domain tag).
//! - Only a piece the split parse took is recorded (no diagnostic, repeated key or anchor),
//!   and only when its bytes decode to exactly the entries that were parsed (checked as it
//!   is recorded): a hit gives what parsing the piece gives.
//! - The value is the piece's span index in piece form (`crate::spans`' piece codec) and its
//!   entries' document as JSON text, which serde reads into the same view definitions as it
//!   reads the YAML document: JSON parses several times faster than the YAML it came from.

use std::sync::Arc;

use indexmap::IndexMap;

use crate::persistent_memo::{MemoKey, MemoTable, Reader, put};
use crate::spans::SpanIndex;
use crate::spec::{RawViewSpec, ViewDefinition};

/// A piece's entries: each view's definition by name, in the piece's order.
pub(crate) type PieceViews = IndexMap<String, Option<Arc<ViewDefinition>>>;

/// The layout of a piece's value (changed with any change of what it holds).
const PIECE_LAYOUT: u8 = 1;

/// The key of the piece `text` of a `views` section whose entries are indented `indent`
/// spaces, parsed by `build`.
pub(crate) fn piece_key(build: &str, indent: usize, text: &str) -> MemoKey {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"viewdag spec piece 1\0");
    for field in [build.as_bytes(), &(indent as u64).to_le_bytes(), text.as_bytes()] {
        hasher.update(&(field.len() as u64).to_le_bytes());
        hasher.update(field);
    }
    *hasher.finalize().as_bytes()
}

/// The piece's value as `decode_piece` reads it; `None` when the index is not in piece form.
fn encode_piece(spans: &SpanIndex, entries_json: &[u8]) -> Option<Vec<u8>> {
    let mut bytes = Vec::with_capacity(entries_json.len() + entries_json.len() / 2 + 16);
    bytes.push(PIECE_LAYOUT);
    spans.encode_piece(&mut bytes)?;
    put(&mut bytes, entries_json);
    Some(bytes)
}

/// A piece's span index and entries from its value; `None` for bytes that do not hold one.
pub(crate) fn decode_piece(bytes: &[u8]) -> Option<(SpanIndex, PieceViews)> {
    let mut reader = Reader { bytes };
    if reader.byte()? != PIECE_LAYOUT {
        return None;
    }
    let spans = SpanIndex::decode_piece(&mut reader)?;
    let entries_json = reader.part()?;
    if !reader.bytes.is_empty() {
        return None;
    }
    let entries: IndexMap<String, RawViewSpec> = serde_json::from_slice(entries_json).ok()?;
    let mut views = IndexMap::with_capacity(entries.len());
    for (name, raw) in entries {
        views.insert(name, Some(Arc::new(raw.into_definition().ok()?)));
    }
    Some((spans, views))
}

/// Records a parsed piece as the value of `key` (`owner`'s), when its value reads back as
/// the same entries (see the invariants); counted as a miss either way.
pub(crate) fn record_piece(memo: &MemoTable, owner: &str, key: MemoKey, spans: &SpanIndex, entries_json: &[u8], views: &PieceViews) {
    let bytes = encode_piece(spans, entries_json).filter(|bytes| decode_piece(bytes).is_some_and(|(_, decoded)| decoded == *views));
    memo.record(owner, key, bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::read_document;
    use crate::spec_format::SpecFormat;

    #[test]
    fn keys_change_with_the_build_the_indentation_and_the_text() {
        let key = piece_key("build a", 2, "  a: { sql: SELECT 1 }\n");
        assert_eq!(key, piece_key("build a", 2, "  a: { sql: SELECT 1 }\n"));
        assert_ne!(key, piece_key("build b", 2, "  a: { sql: SELECT 1 }\n"));
        assert_ne!(key, piece_key("build a", 4, "  a: { sql: SELECT 1 }\n"));
        assert_ne!(key, piece_key("build a", 2, "  a: { sql: SELECT 2 }\n"));
    }

    #[test]
    fn a_recorded_piece_reads_back_as_its_entries_and_a_damaged_one_as_nothing() {
        let text = "  a:\n    filter: { input: s, predicate: \"x > 1.5\" }\n  b:\n    limit: { input: a, count: 10 }\n    tags: [t]\n";
        let spans = SpanIndex::build(text).0.into_piece();
        let serde_json::Value::Object(entries) = read_document(text, SpecFormat::Yaml).expect("YAML") else { panic!("a mapping") };
        let json = serde_json::to_vec(&entries).expect("JSON");
        let views: PieceViews = entries
            .into_iter()
            .map(|(name, value)| {
                (name, serde_json::from_value::<RawViewSpec>(value).ok().and_then(|raw| raw.into_definition().ok()).map(Arc::new))
            })
            .collect();
        assert!(views.values().all(Option::is_some));
        let memo = MemoTable::new("build", []);
        let key = piece_key("build", 2, text);
        record_piece(&memo, "  a:", key, &spans, &json, &views);
        let bytes = memo.lookup("  a:", &key).expect("recorded");
        let (decoded_spans, decoded_views) = decode_piece(&bytes).expect("decodes");
        assert_eq!(decoded_views, views);
        assert_eq!(format!("{decoded_spans:?}"), format!("{spans:?}"));
        assert!(decode_piece(&bytes[..bytes.len() - 1]).is_none());
        let mut other_layout = bytes.to_vec();
        other_layout[0] = PIECE_LAYOUT + 1;
        assert!(decode_piece(&other_layout).is_none());
    }

    #[test]
    fn a_piece_whose_entries_would_not_read_back_the_same_is_not_recorded() {
        let text = "  a: { sql: SELECT 1 }\n";
        let spans = SpanIndex::build(text).0.into_piece();
        let memo = MemoTable::new("build", []);
        let key = piece_key("build", 2, text);
        // Entries that say something else than the definitions parsed.
        let json = br#"{"a":{"sql":"SELECT 2"}}"#;
        let views: PieceViews = [("a".to_string(), None)].into_iter().collect();
        record_piece(&memo, "  a:", key, &spans, json, &views);
        assert!(memo.lookup("  a:", &key).is_none());
        assert_eq!(memo.counts().misses, 1);
    }
}
