//! Where lines start in a document, and conversions between its three ways of naming a
//! place: byte offsets (what edits splice), LSP positions (0-based line, column in UTF-16
//! code units: the protocol's default encoding) and the span index's positions (1-based
//! line, 1-based column in characters: what diagnostics resolve to).
//!
//! Invariants: lines end at `\n` (a `\r` before it belongs to the line, as in the span
//! index, which reads `str::lines`); every conversion clamps to the document, so a position
//! a client sends past the end of a line or of the text never panics.

use lsp_types::Position as LspPosition;
use viewdag_ir::Position as SpecPosition;

/// Byte offsets of line starts in one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(offset, _)| offset + 1));
        LineIndex { line_starts }
    }

    /// The text of 0-based `line`, without its `\n` (and without a `\r` before it).
    pub fn line_text<'text>(&self, text: &'text str, line: u32) -> &'text str {
        let Some(&start) = self.line_starts.get(line as usize) else { return "" };
        let end = self.line_starts.get(line as usize + 1).map(|next| next - 1).unwrap_or(text.len());
        let line_text = text.get(start..end.max(start)).unwrap_or("");
        line_text.strip_suffix('\r').unwrap_or(line_text)
    }

    /// The byte offset of an LSP position (clamped to its line and to the text).
    pub fn offset(&self, text: &str, position: LspPosition) -> usize {
        let Some(&start) = self.line_starts.get(position.line as usize) else { return text.len() };
        let line = self.line_text(text, position.line);
        let mut units = 0u32;
        for (index, character) in line.char_indices() {
            if units >= position.character {
                return start + index;
            }
            units += character.len_utf16() as u32;
        }
        start + line.len()
    }

    /// The LSP position of a span-index position (1-based line, 1-based character column).
    pub fn lsp_position_of(&self, text: &str, position: SpecPosition) -> LspPosition {
        let line = position.line.saturating_sub(1);
        let characters = position.column.saturating_sub(1) as usize;
        let units = self.line_text(text, line).chars().take(characters).map(|character| character.len_utf16() as u32).sum();
        LspPosition { line, character: units }
    }

    /// The span-index position (1-based line, 1-based character column) of an LSP position.
    pub fn spec_position_of(&self, text: &str, position: LspPosition) -> SpecPosition {
        let line = self.line_text(text, position.line);
        let mut units = 0u32;
        let mut characters = 0u32;
        for character in line.chars() {
            if units >= position.character {
                break;
            }
            units += character.len_utf16() as u32;
            characters += 1;
        }
        SpecPosition { line: position.line + 1, column: characters + 1 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns_count_surrogate_pairs_twice() {
        let text = "a: \"é😀x\"\nb: 1\n";
        let index = LineIndex::new(text);
        // `x` is after `a: "` (4), `é` (1 unit) and `😀` (2 units).
        let x = text.find('x').unwrap();
        assert_eq!(index.offset(text, LspPosition { line: 0, character: 7 }), x);
        assert_eq!(index.lsp_position_of(text, SpecPosition { line: 1, column: 7 }), LspPosition { line: 0, character: 7 });
        assert_eq!(index.spec_position_of(text, LspPosition { line: 0, character: 7 }), SpecPosition { line: 1, column: 7 });
        assert_eq!(index.offset(text, LspPosition { line: 1, character: 99 }), text.len() - 1);
        assert_eq!(index.offset(text, LspPosition { line: 9, character: 0 }), text.len());
    }
}
