//! The open documents: each one's text as the editor has it (unsaved edits included), its
//! version and its line index, with incremental edits applied in the order they arrive.
//!
//! Invariants: a document's text is exactly the client's after every change it sent (LSP
//! ranges are UTF-16, converted by the [`LineIndex`]); the line index always matches the
//! text (an incremental change updates it in place); documents are kept in URI order so anything iterated over them is deterministic.

use std::collections::BTreeMap;
use std::path::PathBuf;

use lsp_types::{TextDocumentContentChangeEvent, Uri};

use super::line_index::LineIndex;

/// One open spec file.
#[derive(Debug, Clone)]
pub struct Document {
    pub uri: Uri,
    /// Where relative paths in the spec resolve from (the file's path; for a non-file URI,
    /// its path component).
    pub path: PathBuf,
    pub version: i32,
    pub text: String,
    pub lines: LineIndex,
}

impl Document {
    pub fn new(uri: Uri, version: i32, text: String) -> Document {
        let path = path_of_uri(&uri);
        let lines = LineIndex::new(&text);
        Document { uri, path, version, text, lines }
    }

    /// Applies the changes of one `didChange`, in order.
    pub fn apply_changes(&mut self, version: i32, changes: Vec<TextDocumentContentChangeEvent>) {
        for change in changes {
            match change.range {
                Some(range) => {
                    let start = self.lines.offset(&self.text, range.start);
                    let end = self.lines.offset(&self.text, range.end).max(start);
                    self.text.replace_range(start..end, &change.text);
                    self.lines.edit(&self.text, start, end, change.text.len());
                }
                None => {
                    self.text = change.text;
                    self.lines = LineIndex::new(&self.text);
                }
            }
        }
        self.version = version;
    }
}

/// The path a URI names: `file:` URIs are decoded; anything else (`untitled:`) keeps its
/// path component, so relative source paths resolve against the working directory.
pub fn path_of_uri(uri: &Uri) -> PathBuf {
    url::Url::parse(uri.as_str())
        .ok()
        .filter(|url| url.scheme() == "file")
        .and_then(|url| url.to_file_path().ok())
        .unwrap_or_else(|| PathBuf::from(uri.path().as_str()))
}

/// Every open document, by URI.
#[derive(Debug, Default)]
pub struct DocumentStore {
    documents: BTreeMap<String, Document>,
}

impl DocumentStore {
    pub fn open(&mut self, document: Document) {
        self.documents.insert(document.uri.as_str().to_string(), document);
    }

    pub fn close(&mut self, uri: &Uri) -> Option<Document> {
        self.documents.remove(uri.as_str())
    }

    pub fn get(&self, uri: &Uri) -> Option<&Document> {
        self.documents.get(uri.as_str())
    }

    /// The document whose URI is spelled `uri`.
    pub fn get_by_text(&self, uri: &str) -> Option<&Document> {
        self.documents.get(uri)
    }

    pub fn get_mut(&mut self, uri: &Uri) -> Option<&mut Document> {
        self.documents.get_mut(uri.as_str())
    }
}

#[cfg(test)]
mod tests {
    use lsp_types::{Position, Range};

    use super::*;

    fn change(start: (u32, u32), end: (u32, u32), text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(start.0, start.1), Position::new(end.0, end.1))),
            range_length: None,
            text: text.to_string(),
        }
    }

    #[test]
    fn incremental_changes_apply_in_order() {
        let uri: Uri = "file:///tmp/spec.yaml".parse().unwrap();
        let mut document = Document::new(uri, 1, "views:\n  a: 1\n".to_string());
        document.apply_changes(2, vec![change((1, 2), (1, 3), "abc"), change((1, 7), (1, 8), "22"), change((2, 0), (2, 0), "x\n")]);
        assert_eq!(document.text, "views:\n  abc: 22\nx\n");
        assert_eq!(document.version, 2);
        assert_eq!(document.lines, LineIndex::new(&document.text));
        assert_eq!(document.path, PathBuf::from("/tmp/spec.yaml"));
    }

    /// The line index an edit updates in place equals the new text's index built from
    /// scratch, for edits that add, remove and join lines anywhere (a seeded sequence).
    #[test]
    fn the_line_index_updated_per_change_equals_a_fresh_one() {
        let uri: Uri = "file:///tmp/spec.yaml".parse().unwrap();
        let start =
            "version: 1\nviews:\n  a:\n    filter: { input: s, predicate: \"x > 1\" }\r\n # note\n  b:\n\n    project: { input: a }\n";
        let mut document = Document::new(uri, 1, start.to_string());
        let pieces = ["", "x", "\n", " ", "\n\n  c:\n", "outputs:\n", "# c\n", "\r\n", "é😀"];
        let mut state: u64 = 7;
        let mut next = |bound: u32| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 33) % u64::from(bound.max(1))) as u32
        };
        for version in 2..400 {
            let lines = document.lines.line_count();
            let (from_line, to_line) = {
                let first = next(lines + 1);
                (first, first + next(3))
            };
            let (from, to) = (next(40), next(40));
            let text = pieces[next(pieces.len() as u32) as usize];
            document.apply_changes(version, vec![change((from_line, from), (to_line, to), text)]);
            assert_eq!(document.lines, LineIndex::new(&document.text), "after edit {version}: {:?}", document.text);
        }
    }
}
