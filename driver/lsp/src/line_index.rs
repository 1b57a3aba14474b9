//! Where lines start in a document, and conversions between its three ways of naming a
//! place: byte offsets (what edits splice), LSP positions (0-based line, column in UTF-16
//! code units: the protocol's default encoding) and the span index's positions (1-based
//! line, 1-based column in characters: what diagnostics resolve to).
//!
//! Invariants: lines end at `\n` (a `\r` before it belongs to the line, as in the span
//! index, which reads `str::lines`); every conversion clamps to the document, so a position
//! a client sends past the end of a line or of the text never panics. An edit updates the
//! index in place ([`LineIndex::edit`]: the edited lines are re-read, the lines after them
//! move) and the result equals the index of the new text built from scratch.
//!
//! Besides line starts the index keeps the *shallow* lines: those with content (not blank,
//! not a comment) indented by fewer than two spaces — section keys and, in a spec indented
//! by one space, entry keys. A reader walking up from a line for a parent of indentation
//! below two jumps between them instead of reading every line of the section above
//! (`cursor.rs`).

use lsp_types::Position as LspPosition;
use viewdag_ir::Position as SpecPosition;

/// Byte offsets of line starts in one text, and its shallow lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    line_starts: Vec<usize>,
    /// 0-based lines with content indented by fewer than [`SHALLOW_INDENT`] spaces, ascending.
    shallow_lines: Vec<u32>,
}

/// Lines indented by fewer spaces than this are shallow (see the module docs).
pub const SHALLOW_INDENT: usize = 2;

/// Whether a line (without its line end) has content indented by fewer than
/// [`SHALLOW_INDENT`] spaces: not blank, not a comment.
fn is_shallow(line: &str) -> bool {
    let content = line.trim();
    !content.is_empty() && !content.starts_with('#') && line.bytes().take_while(|byte| *byte == b' ').count() < SHALLOW_INDENT
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(offset, _)| offset + 1));
        let mut index = LineIndex { line_starts, shallow_lines: Vec::new() };
        index.shallow_lines = (0..index.line_count()).filter(|line| is_shallow(index.line_text(text, *line))).collect();
        index
    }

    /// Updates the index after the bytes `start..end` of the old text were replaced by
    /// `inserted` bytes, giving `text`: O(edited lines) to re-read them, plus one pass
    /// moving the line starts after them (no text outside the edit is read).
    pub fn edit(&mut self, text: &str, start: usize, end: usize, inserted: usize) {
        let first = self.line_of(start);
        let last = self.line_of(end).max(first);
        let new_starts: Vec<usize> =
            text.get(start..start + inserted).unwrap_or("").match_indices('\n').map(|(offset, _)| start + offset + 1).collect();
        let added_lines = new_starts.len();
        let removed_lines = last - first;
        let shift = |offset: usize| (offset + inserted).saturating_sub(end - start);
        let mut after: Vec<usize> = self.line_starts.split_off(last + 1);
        after.iter_mut().for_each(|offset| *offset = shift(*offset));
        self.line_starts.truncate(first + 1);
        self.line_starts.extend(new_starts);
        self.line_starts.extend(after);
        // Shallow lines: those of the edited lines re-read, those after them moved.
        let (first_line, last_line) = (first as u32, last as u32);
        let moved = |line: u32| (line as usize + added_lines).saturating_sub(removed_lines) as u32;
        let before_edit = self.shallow_lines.partition_point(|line| *line < first_line);
        let after_edit = self.shallow_lines.partition_point(|line| *line <= last_line);
        let edited: Vec<u32> =
            (first_line..=first_line + added_lines as u32).filter(|line| is_shallow(self.line_text(text, *line))).collect();
        let later: Vec<u32> = self.shallow_lines[after_edit..].iter().map(|line| moved(*line)).collect();
        self.shallow_lines.truncate(before_edit);
        self.shallow_lines.extend(edited);
        self.shallow_lines.extend(later);
    }

    /// The 0-based line holding byte `offset` (the last line for an offset past the end).
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|start| *start <= offset).saturating_sub(1)
    }

    /// How many lines the text has (one more than it has `\n`s).
    pub fn line_count(&self) -> u32 {
        u32::try_from(self.line_starts.len()).unwrap_or(u32::MAX)
    }

    /// The last shallow line before 0-based `line`.
    pub fn shallow_line_before(&self, line: u32) -> Option<u32> {
        let before = self.shallow_lines.partition_point(|shallow| *shallow < line);
        before.checked_sub(1).map(|index| self.shallow_lines[index])
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
