//! Parsing a large spec on several threads.
//!
//! A spec's size is its `views` section: thousands of entries, one after another, each
//! independent of the others until validation. [`parse_spec_on`] cuts that section at entry
//! boundaries into pieces, parses each piece on its own on a worker thread (the span index,
//! the YAML document and serde's reading of its entries, exactly what
//! [`crate::reparse`] does for the entries an edit touched), parses the rest of the text —
//! every other section and the first piece — as a spec, and inserts the pieces' entries in
//! order. Each piece's document is read and dropped on its worker, so the whole spec's
//! document never exists at once.
//!
//! ## Invariants
//! - Equivalence: the result equals `parse_spec(text)` field for field (checked by property
//!   tests over random edits of a spec cut into many pieces). The split is taken only when
//!   that is certain, by the re-parse's own rules applied to each piece: a YAML text without
//!   `\r` or a byte order mark, with a block `views:` key at column 0; every piece starts with
//!   an entry key at the entries' indentation and its other lines are blank, comments or
//!   indented at least as deep, without tabs; each piece parses on its own to a non-empty
//!   mapping of entries with no syntax error, diagnostic, repeated key or anchor, and no value
//!   positioned past its last line; the rest parses with no diagnostic, repeated key or
//!   anchor, its `views` key where the text has it, no value of the section past the first
//!   piece and the next top-level key right after it; and no name is declared twice.
//!   Anything else — and every spec with a problem to report — is parsed whole, so the
//!   diagnostics are the whole parse's.
//! - Deterministic: the pieces are inserted in text order whatever thread parsed them, and
//!   where the section is cut depends on the text around each cut only (not on offsets),
//!   so an edit changes the pieces around it and no other.
//! - With a table of pieces ([`parse_spec_with`]), a piece found there by its text is read,
//!   not parsed: it is that text's parse (`crate::piece_memo`'s invariants), so the result
//!   is the same with and without the table.
//! - One thread, or a spec under [`SPLIT_MIN_BYTES`], is parsed whole on the caller.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::Value;

use crate::diagnostic::Section;
use crate::parse::{MAX_SPEC_BYTES, MAX_SPEC_ENTRIES, ParsedSpec, parse_spec, read_document, read_section_entry};
use crate::persistent_memo::MemoTable;
use crate::piece_memo::{PieceViews, decode_piece, piece_key, record_piece};
use crate::reparse::outside_entry;
use crate::spans::{Position, SpanIndex};
use crate::spec_format::SpecFormat;

/// Specs smaller than this are parsed whole: a thread costs more than it saves.
pub const SPLIT_MIN_BYTES: usize = 256 * 1024;
/// A piece's size in bytes, on average: small enough to share the work among the threads
/// and for an edit to re-parse little when the pieces are kept across processes, large
/// enough that a piece costs nothing to claim, key and insert.
const PIECE_BYTES: usize = 64 * 1024;
/// The stack of a worker: parsers and serde recurse once per nesting level (at most
/// `MAX_SPEC_NESTING`), with a debug build's large frames.
const WORKER_STACK_BYTES: usize = 64 << 20;

/// Parses spec text on up to `threads` threads; equal to [`parse_spec`]`(text, format)`.
pub fn parse_spec_on(text: &str, format: SpecFormat, threads: usize) -> ParsedSpec {
    parse_spec_with(text, format, threads, None)
}

/// [`parse_spec_on`], reading the pieces `pieces` holds instead of parsing them and
/// recording there the pieces it parses (`crate::piece_memo`): after an edit, only the
/// pieces the edit changed are parsed. The table's current entries are then this parse's
/// pieces ([`MemoTable::current_keys`]). Equal to [`parse_spec`]`(text, format)`.
pub fn parse_spec_with(text: &str, format: SpecFormat, threads: usize, pieces: Option<&MemoTable>) -> ParsedSpec {
    if (threads > 1 || pieces.is_some()) && format == SpecFormat::Yaml && text.len() >= SPLIT_MIN_BYTES {
        if let Some(memo) = pieces {
            memo.clear_current();
        }
        if let Some(parsed) = split_parse(text, threads, PIECE_BYTES, pieces) {
            return parsed;
        }
    }
    parse_spec(text, format)
}

/// The lines of the text: where each starts, and where it ends without its `\n`.
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        let mut starts = vec![0];
        starts.extend(text.bytes().enumerate().filter(|(_, byte)| *byte == b'\n').map(|(at, _)| at + 1));
        if starts.last() == Some(&text.len()) {
            starts.pop();
        }
        Lines { text, starts }
    }

    fn count(&self) -> usize {
        self.starts.len()
    }

    /// Where line `index` (0-based) starts; the text's length past the last line.
    fn start(&self, index: usize) -> usize {
        self.starts.get(index).copied().unwrap_or(self.text.len())
    }

    fn line(&self, index: usize) -> &'a str {
        let line = &self.text[self.start(index)..self.start(index + 1)];
        line.strip_suffix('\n').unwrap_or(line)
    }
}

/// A line's indentation in spaces, and whether it has content (not blank, not a comment).
fn indentation(line: &str) -> (usize, bool) {
    let content = line.trim_start_matches(' ');
    (line.len() - content.len(), !content.trim().is_empty() && !content.starts_with('#'))
}

/// The `views` section's pieces, as 0-based line ranges: the first stays with the rest of
/// the text, the others are parsed alone. `None` when the section cannot be cut.
struct Cut {
    /// The `views:` line.
    views_line: usize,
    /// The entries' indentation.
    indent: usize,
    /// `[start, end)` of each piece but the first; they follow each other.
    pieces: Vec<(usize, usize)>,
}

impl Cut {
    fn find(lines: &Lines<'_>, piece_bytes: usize) -> Option<Cut> {
        let views_line = (0..lines.count()).find(|index| {
            lines.line(*index).strip_prefix("views:").is_some_and(|rest| {
                let rest = rest.trim_start_matches(' ');
                rest.is_empty() || rest.starts_with('#')
            })
        })?;
        // The section runs up to the next line with content at column 0.
        let end = (views_line + 1..lines.count())
            .find(|index| {
                let line = lines.line(*index);
                !line.is_empty() && !line.starts_with(' ') && !line.starts_with('#')
            })
            .unwrap_or(lines.count());
        let indent = (views_line + 1..end).map(|index| indentation(lines.line(index))).find(|(_, content)| *content)?.0;
        if indent == 0 {
            return None;
        }
        // Cut before entry keys: content at exactly the entries' indentation.
        let is_entry_key = |index: usize| {
            let line = lines.line(index);
            let (at, content) = indentation(line);
            at == indent && content && !line[at..].starts_with(['-', '?', '{', '[', '&', '*', '!', '|', '>'])
        };
        // Where to cut is decided by the text around each entry, not by its offset in the
        // section, so that an edit moves the cuts near it only and every other piece keeps
        // its text (and its key, when pieces are kept across processes): after at least
        // half a piece, an entry starts a new piece with a probability proportional to the
        // bytes of the entry before it (a hash of its key line below that many bytes out of
        // half a piece), which makes pieces of `piece_bytes` on average, whatever the
        // entries' size; past four times that, the next entry starts one.
        let (least, spread, most) = (piece_bytes / 2, (piece_bytes / 2).max(1) as u64, piece_bytes.saturating_mul(4));
        let mut cuts = Vec::new();
        let mut piece_start = lines.start(views_line + 1);
        let mut entry_start = piece_start;
        for index in views_line + 2..end {
            if !is_entry_key(index) {
                continue;
            }
            let at = lines.start(index);
            let entry_bytes = (at - entry_start) as u64;
            entry_start = at;
            let since = at - piece_start;
            if since >= least && (line_hash(lines.line(index)) % spread < entry_bytes || since >= most) {
                cuts.push(index);
                piece_start = at;
            }
        }
        if cuts.is_empty() {
            return None;
        }
        let pieces = cuts.iter().enumerate().map(|(at, start)| (*start, cuts.get(at + 1).copied().unwrap_or(end))).collect();
        Some(Cut { views_line, indent, pieces })
    }

    /// The first line of the second piece: where the rest of the text is cut.
    fn first_cut(&self) -> usize {
        self.pieces[0].0
    }

    /// The line after the last piece (the next section's key, or the end).
    fn end(&self) -> usize {
        self.pieces.last().map_or(0, |(_, end)| *end)
    }
}

/// A line's hash, the same in every process (FNV-1a, then mixed so its low bits vary).
fn line_hash(line: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in line.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^ (hash >> 33)
}

/// A piece parsed on its own: its span index, its lines and its entries.
struct Piece {
    spans: SpanIndex,
    lines: Vec<String>,
    views: PieceViews,
}

/// Parses lines `[start, end)` of the views section alone — or reads them from `memo` when
/// it holds this very piece — and records a piece it parses there; `None` when the
/// re-parse's rules do not hold (see the module's invariants).
fn parse_piece(lines: &Lines<'_>, (start, end): (usize, usize), indent: usize, memo: Option<&MemoTable>) -> Option<Piece> {
    // The piece's own bytes: every line with its `\n` (the last one's only if the text has it).
    let text = &lines.text[lines.start(start)..lines.start(end)];
    let piece_lines = || (start..end).map(|index| lines.line(index).to_string()).collect();
    // The piece's first line (its first entry's key) names it in the table.
    let owner = lines.line(start);
    let keyed = memo.map(|memo| (memo, piece_key(memo.build(), indent, text)));
    if let Some((memo, key)) = keyed
        && let Some((spans, views)) = memo.lookup(owner, &key).as_deref().and_then(decode_piece)
    {
        memo.count_hit();
        return Some(Piece { spans, lines: piece_lines(), views });
    }
    if (start..end).any(|index| outside_entry(lines.line(index), indent)) {
        return None;
    }
    let line_count = u32::try_from(end - start).ok()?;
    let (spans, error, scanned) = SpanIndex::build_with_document(text);
    if error.is_some() || !spans.duplicates.is_empty() || spans.uses_anchors || spans.last_value_line() > line_count {
        return None;
    }
    // The piece's first line holds its first entry's key.
    let first_column = u32::try_from(indent + 1).ok()?;
    if spans.shallow_keys().first().is_none_or(|(at, path)| *at != Position { line: 1, column: first_column } || path.len() != 1) {
        return None;
    }
    let document = match scanned {
        Some(document) => document,
        None => read_document(text, SpecFormat::Yaml).ok()?,
    };
    let Value::Object(entries) = document else { return None };
    if entries.is_empty() {
        return None;
    }
    // What the table keeps of the entries: their document, before serde consumes it.
    let entries_json = keyed.and_then(|_| serde_json::to_vec(&entries).ok());
    let mut scratch = ParsedSpec { spans: std::sync::Arc::new(spans), ..ParsedSpec::default() };
    for (name, value) in entries {
        read_section_entry(Section::Views, name, value, &mut scratch);
    }
    if !scratch.diagnostics.is_empty() {
        return None;
    }
    let ParsedSpec { spans, views, .. } = scratch;
    let spans = std::sync::Arc::try_unwrap(spans).ok()?.into_piece();
    if let Some((memo, key)) = keyed {
        match &entries_json {
            Some(json) => record_piece(memo, owner, key, &spans, json, &views),
            None => memo.record(owner, key, None),
        }
    }
    Some(Piece { spans, lines: piece_lines(), views })
}

/// The split parse, or `None` when it is not certain to equal the whole parse.
fn split_parse(text: &str, threads: usize, piece_bytes: usize, memo: Option<&MemoTable>) -> Option<ParsedSpec> {
    if text.len() > MAX_SPEC_BYTES
        || text.starts_with('\u{feff}')
        || text.contains('\r')
        || crate::nesting::too_deep(text, SpecFormat::Yaml).is_some()
    {
        return None;
    }
    let lines = Lines::new(text);
    let cut = Cut::find(&lines, piece_bytes)?;
    let (first_cut, end) = (cut.first_cut(), cut.end());
    let rest_text = format!("{}{}", &text[..lines.start(first_cut)], &text[lines.start(end)..]);
    let next_piece = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let parsed_pieces: Mutex<Vec<(usize, Piece)>> = Mutex::new(Vec::with_capacity(cut.pieces.len()));
    let claim_pieces = || {
        loop {
            let index = next_piece.fetch_add(1, Ordering::Relaxed);
            if index >= cut.pieces.len() || failed.load(Ordering::Relaxed) {
                return;
            }
            match parse_piece(&lines, cut.pieces[index], cut.indent, memo) {
                Some(piece) => parsed_pieces.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((index, piece)),
                None => failed.store(true, Ordering::Relaxed),
            }
        }
    };
    let rest = std::thread::scope(|scope| {
        let workers: Vec<_> = (1..threads.min(cut.pieces.len() + 1))
            .filter_map(|_| std::thread::Builder::new().stack_size(WORKER_STACK_BYTES).spawn_scoped(scope, claim_pieces).ok())
            .collect();
        let rest = parse_spec(&rest_text, SpecFormat::Yaml);
        claim_pieces();
        // A worker that panicked leaves its piece unparsed: the whole parse decides.
        for worker in workers {
            if worker.join().is_err() {
                failed.store(true, Ordering::Relaxed);
            }
        }
        rest
    });
    let mut pieces = parsed_pieces.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    if failed.load(Ordering::Relaxed) || pieces.len() != cut.pieces.len() {
        return None;
    }
    pieces.sort_unstable_by_key(|(index, _)| *index);
    merge(rest, &cut, pieces.into_iter().map(|(_, piece)| piece).collect())
}

/// Inserts the pieces into the rest's parse, after checking that the rest ends its `views`
/// section where the first piece starts.
fn merge(mut rest: ParsedSpec, cut: &Cut, pieces: Vec<Piece>) -> Option<ParsedSpec> {
    let spans = &rest.spans;
    let views_at = Position { line: u32::try_from(cut.views_line + 1).ok()?, column: 1 };
    let at_line = u32::try_from(cut.first_cut() + 1).ok()?;
    if !rest.diagnostics.is_empty() || !spans.duplicates.is_empty() || spans.uses_anchors || !spans.has_key_at(&["views"], views_at) {
        return None;
    }
    // No value of the section reaches past the first piece (an empty value at its end would
    // be positioned at the next section's key, which the pieces push down), and the line
    // after it is the next top-level key, or the end.
    if spans.last_value_line_in("views") >= at_line || rest.views.is_empty() {
        return None;
    }
    let next_key = spans.shallow_keys().iter().find(|(at, _)| at.line >= at_line);
    match next_key {
        Some((at, path)) if *at == Position { line: at_line, column: 1 } && path.len() == 1 => {}
        None if spans.line_count() < at_line => {}
        _ => return None,
    }
    let declared = rest.sources.len() + rest.views.len() + rest.outputs.len();
    let added: usize = pieces.iter().map(|piece| piece.views.len()).sum();
    if declared + added > MAX_SPEC_ENTRIES {
        return None;
    }
    rest.views.reserve(added);
    let mut span_pieces = Vec::with_capacity(pieces.len());
    for Piece { spans, lines, views } in pieces {
        for (name, view) in views {
            // A name declared twice: the whole parse reports it.
            if rest.views.contains_key(&name) {
                return None;
            }
            rest.views.insert(name, view);
        }
        span_pieces.push((spans, lines));
    }
    let copied = std::sync::Arc::get_mut(&mut rest.spans)?.insert_entries("views", at_line, span_pieces);
    // Freeing the pieces' indexes (allocated on the workers) costs the allocator a
    // consolidation per piece: done off the caller's path (here, if no thread starts).
    let _freeing = std::thread::Builder::new().name("viewdag-free-pieces".into()).spawn(move || drop(copied));
    Some(rest)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const SHOP: &str = include_str!("../../examples/shop/spec.yaml");

    /// The shop spec with its views repeated `copies` times under new names (`name_1`, …),
    /// so that the section is long enough to cut.
    fn repeated_shop(copies: usize) -> String {
        let lines: Vec<&str> = SHOP.split('\n').collect();
        let views = lines.iter().position(|line| *line == "views:").unwrap();
        let outputs = lines.iter().position(|line| *line == "outputs:").unwrap();
        let section = &lines[views + 1..outputs];
        let mut text: Vec<String> = lines[..outputs].iter().map(|line| line.to_string()).collect();
        for copy in 1..copies {
            for line in section {
                let renamed = match line.strip_prefix("  ") {
                    Some(rest) if !rest.starts_with(' ') && !rest.starts_with('#') && rest.contains(':') => {
                        let key_end = rest.find(':').unwrap();
                        format!("  {}_{copy}{}", &rest[..key_end], &rest[key_end..])
                    }
                    _ => line.to_string(),
                };
                text.push(renamed);
            }
        }
        text.extend(lines[outputs..].iter().map(|line| line.to_string()));
        text.join("\n")
    }

    /// Parses `text` cut into pieces of about `piece_bytes` on three threads; when the cut
    /// is taken, asserts it equals the whole parse, and so do two parses keeping the pieces
    /// in a table (the first records them, the second reads them). Returns the table when
    /// the cut was taken.
    fn check(text: &str, piece_bytes: usize) -> Option<MemoTable> {
        let full = parse_spec(text, SpecFormat::Yaml);
        let split = split_parse(text, 3, piece_bytes, None)?;
        let same = |split: &ParsedSpec| {
            assert!(
                *split == full,
                "the split parse differs from the whole parse: {:?}\n{:#?}\nof:\n{text}",
                split.views.keys().zip(full.views.keys()).find(|(split, full)| split != full),
                split.spans.differences(&full.spans)
            );
        };
        same(&split);
        let memo = MemoTable::new("test build", []);
        for _ in 0..2 {
            same(&split_parse(text, 3, piece_bytes, Some(&memo)).expect("the cut is taken with a table too"));
        }
        Some(memo)
    }

    /// Pieces of `text` parsed (not read from `memo`) by a parse keeping them in `memo`.
    fn parsed_pieces(memo: &MemoTable, text: &str) -> usize {
        let before = memo.counts().misses;
        let parsed = parse_spec_with(text, SpecFormat::Yaml, 2, Some(memo));
        assert_eq!(parsed, parse_spec(text, SpecFormat::Yaml));
        memo.counts().misses - before
    }

    #[test]
    fn a_spec_cut_at_every_entry_parses_as_a_whole() {
        let text = repeated_shop(6);
        for piece_bytes in [1, 200, 1000, 5000] {
            let memo = check(&text, piece_bytes).unwrap_or_else(|| panic!("cut into pieces of {piece_bytes} bytes"));
            // Every piece recorded by the first parse with the table, read by the second.
            let counts = memo.counts();
            assert!(counts.misses > 0 && counts.hits == counts.misses, "{counts:?}");
        }
        // The views section last, with trailing comments and blank lines.
        let outputs = text.find("\noutputs:").unwrap();
        let reordered = format!("{}\n  # the end of the views\n\n", text[outputs + 1..].to_string() + &text[..outputs]);
        assert!(check(&reordered, 1).is_some());
        // The public entry point takes the cut for a large spec and refuses nothing it should not.
        let large = repeated_shop(400);
        assert!(large.len() >= SPLIT_MIN_BYTES, "{}", large.len());
        assert_eq!(parse_spec_on(&large, SpecFormat::Yaml, 2), parse_spec(&large, SpecFormat::Yaml));
        assert!(split_parse(&large, 2, PIECE_BYTES, None).is_some());
    }

    #[test]
    fn an_edit_parses_again_only_the_pieces_around_it() {
        let text = repeated_shop(400);
        let memo = MemoTable::new("test build", []);
        let pieces = parsed_pieces(&memo, &text);
        assert!(pieces >= 4, "{pieces} pieces");
        assert_eq!(parsed_pieces(&memo, &text), 0, "an unchanged spec reads every piece");
        // A value made longer in the middle, a view added, a view removed: the pieces after
        // the edit keep their text although their offsets moved.
        let middle = text.len() / 2;
        let entry = middle + text[middle..].find("\n  paid_orders_").expect("an entry after the middle") + 1;
        let longer = format!("{}{}", &text[..entry], text[entry..].replacen("status = 'paid'", "status = 'paid' AND amount > 0", 1));
        let added = format!("{}  inserted_view:\n    sql: SELECT 1 AS one\n{}", &text[..entry], &text[entry..]);
        let next_entry = entry
            + text[entry..]
                .match_indices("\n  ")
                .map(|(at, _)| at + 1)
                .find(|at| !text[entry + at + 2..].starts_with([' ', '#']))
                .expect("a next entry");
        let removed = format!("{}{}", &text[..entry], &text[next_entry..]);
        for (what, edited) in [("longer", &longer), ("added", &added), ("removed", &removed)] {
            assert_ne!(edited, &text);
            let parsed = parsed_pieces(&memo, edited);
            assert!(parsed <= 2, "{what}: {parsed} of {pieces} pieces parsed again");
            // Back to the original: at most the same pieces again.
            assert!(parsed_pieces(&memo, &text) <= 2);
        }
        // The table's current entries are the last parse's pieces.
        assert_eq!(memo.current_keys().len(), pieces);
    }

    #[test]
    fn what_the_cut_cannot_be_sure_of_is_parsed_whole() {
        let text = repeated_shop(4);
        let cases = [
            // A name declared twice, in two pieces: the whole parse reports it.
            text.replacen("  paid_orders_3:", "  paid_orders:", 1),
            // A double-quoted value continued across a cut.
            text.replacen("  paid_orders_2:", "    x: \"a\n  paid_orders_2: b\"", 1),
            // An empty value at the end of a piece.
            text.replacen("  paid_orders_2:", "    expect:\n  paid_orders_2:", 1),
            // Anchors, tabs, Windows line ends, a byte order mark.
            text.replacen("  paid_orders_2:", "  paid_orders_2: &shared", 1),
            text.replacen("  paid_orders_2:", "  paid_orders_2:\t", 1),
            text.replace('\n', "\r\n"),
            format!("\u{feff}{text}"),
            // A malformed entry: its diagnostic comes from the whole parse.
            text.replacen("  paid_orders_2:", "  paid_orders_2:\n    nonsense: 1\n  unused_2:", 1),
            // The views in flow style.
            text.replacen("views:", "views: {}\nunused:", 1),
        ];
        for (index, case) in cases.iter().enumerate() {
            assert!(split_parse(case, 3, 1, None).is_none(), "case {index} was cut");
            assert_eq!(parse_spec_on(case, SpecFormat::Yaml, 3), parse_spec(case, SpecFormat::Yaml), "case {index}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Random edits anywhere in a spec (keys, values, indentation, quotes, comments,
        /// anchors, block scalars): whenever the cut is taken it equals the whole parse.
        #[test]
        fn split_parses_equal_whole_parses(
            edits in prop::collection::vec(
                (any::<prop::sample::Index>(), any::<prop::sample::Index>(), 0usize..4, "[a-z0-9 :{}\\[\\],'\"#&*>=|\n-]{0,8}"),
                1..6,
            ),
            piece_bytes in 1usize..3000,
        ) {
            let mut text = repeated_shop(4);
            for (line_pick, from_pick, length, replacement) in edits {
                let lines: Vec<&str> = text.split('\n').collect();
                let line_index = line_pick.index(lines.len());
                let line = lines[line_index];
                let boundaries: Vec<usize> = line.char_indices().map(|(index, _)| index).chain([line.len()]).collect();
                let from = boundaries[from_pick.index(boundaries.len())];
                let to = boundaries.iter().copied().filter(|index| *index >= from).nth(length).unwrap_or(line.len());
                let edited = format!("{}{}{}", &line[..from], replacement, &line[to..]);
                let mut new_lines: Vec<String> = lines.iter().map(|line| line.to_string()).collect();
                new_lines[line_index] = edited;
                text = new_lines.join("\n");
                check(&text, piece_bytes);
            }
        }
    }

    #[test]
    fn most_random_edits_inside_values_keep_the_cut() {
        // Text inserted after the first quote of each quoted line: inside a value.
        let text = repeated_shop(4);
        let mut taken = 0;
        let lines: Vec<&str> = text.split('\n').collect();
        let quoted: Vec<usize> =
            (0..lines.len()).filter(|index| lines[*index].starts_with("    ") && lines[*index].contains('"')).collect();
        for (count, index) in quoted.iter().enumerate() {
            let mut edited: Vec<String> = lines.iter().map(|line| line.to_string()).collect();
            let quote = edited[*index].find('"').unwrap();
            edited[*index].insert_str(quote + 1, if count % 2 == 0 { "x" } else { "#" });
            taken += usize::from(check(&edited.join("\n"), 500).is_some());
        }
        assert_eq!(taken, quoted.len());
    }
}
