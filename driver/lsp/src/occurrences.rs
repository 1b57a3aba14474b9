//! Every place a relation name occurs in a spec: where each source and view is declared,
//! and where it is read (`input:`, `left:`, `right:`, `inputs:`, an output's `view:`, and
//! identifiers inside `sql` strings).
//!
//! Positions come from the parse's span index (`SpanIndex::resolve`, the same resolution
//! rendered diagnostics use), never from re-reading the text. Names inside SQL are found
//! by scanning the query's identifiers outside string literals and comparing them with the
//! declared names. The list is in document order (line, then column), so answers built
//! from it are deterministic.

use viewdag_ir::sql_text::identifiers_outside_strings;
use viewdag_ir::{FieldPath, ParsedSpec, Position, Section, SpecLocation, Transform};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OccurrenceKind {
    /// The key declaring a source or a view.
    Declaration,
    /// A view or output reading the relation.
    Reference,
}

/// One occurrence of a relation name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub name: String,
    pub kind: OccurrenceKind,
    /// 1-based start and end (exclusive) positions, as the span index resolves them.
    pub start: Position,
    pub end: Position,
    /// The section and entry the occurrence sits in (the reading view or output).
    pub section: Section,
    pub entry: String,
}

impl Occurrence {
    /// Whether the 1-based `position` lies on this occurrence (its end included, so a
    /// cursor just after a name is on it).
    pub fn contains(&self, position: Position) -> bool {
        self.start <= position && position <= self.end
    }
}

/// The occurrences of every declared name in `parsed`, in document order.
pub fn occurrences(parsed: &ParsedSpec) -> Vec<Occurrence> {
    let mut found = Vec::new();
    for name in parsed.sources.keys() {
        found.extend(entry_occurrences(parsed, Section::Sources, name));
    }
    for view in parsed.views.keys() {
        found.extend(entry_occurrences(parsed, Section::Views, view));
    }
    for output in parsed.outputs.keys() {
        found.extend(entry_occurrences(parsed, Section::Outputs, output));
    }
    found.sort_by_key(|occurrence| (occurrence.start, occurrence.end));
    found
}

/// The occurrence lying on `position`, found in O(log entries + the entry's size): every
/// occurrence lies between its entry's key and the next entry's key, so only the entry
/// whose key is the last at or before `position` can hold it. That entry is found by a
/// binary search of each section's entries (declaration order is document order).
pub fn occurrence_at(parsed: &ParsedSpec, position: Position) -> Option<Occurrence> {
    let candidates = [
        last_key_at_or_before(parsed, Section::Sources, parsed.sources.len(), |index| parsed.sources.get_index(index), position),
        last_key_at_or_before(parsed, Section::Views, parsed.views.len(), |index| parsed.views.get_index(index), position),
        last_key_at_or_before(parsed, Section::Outputs, parsed.outputs.len(), |index| parsed.outputs.get_index(index), position),
    ];
    let (section, entry, _) = candidates.into_iter().flatten().max_by_key(|(_, _, key)| *key)?;
    entry_occurrences(parsed, section, entry).into_iter().find(|occurrence| occurrence.contains(position))
}

/// Where `name` is declared (as a source or a view; the first in the document when both).
pub fn declaration_of(parsed: &ParsedSpec, name: &str) -> Option<Occurrence> {
    let sources = parsed.sources.get_key_value(name).map(|(name, _)| (Section::Sources, name));
    let views = parsed.views.get_key_value(name).map(|(name, _)| (Section::Views, name));
    [sources, views]
        .into_iter()
        .flatten()
        .filter_map(|(section, name)| declaration(parsed, section, name))
        .min_by_key(|occurrence| (occurrence.start, occurrence.end))
}

/// The entry of `section` (of `count` entries, the `index`th given by `entry`) whose key is
/// the last at or before `position`, with that key's position.
fn last_key_at_or_before<'parsed, V: 'parsed>(
    parsed: &'parsed ParsedSpec,
    section: Section,
    count: usize,
    entry: impl Fn(usize) -> Option<(&'parsed String, V)>,
    position: Position,
) -> Option<(Section, &'parsed str, Position)> {
    let key_of = |index: usize| -> Option<(&'parsed str, Position)> {
        let (name, _) = entry(index)?;
        let path = section_location(section, name).key_path();
        Some((name.as_str(), parsed.spans.key_position(&path)?))
    };
    // The first entry whose key lies after `position` (keys are in document order).
    let (mut low, mut high) = (0, count);
    while low < high {
        let middle = low + (high - low) / 2;
        match key_of(middle) {
            Some((_, key)) if key <= position => low = middle + 1,
            _ => high = middle,
        }
    }
    let (name, key) = key_of(low.checked_sub(1)?)?;
    Some((section, name, key))
}

fn section_location(section: Section, name: &str) -> SpecLocation {
    match section {
        Section::Sources => SpecLocation::source(name),
        Section::Outputs => SpecLocation::output(name),
        _ => SpecLocation::view(name),
    }
}

fn occurrence(
    parsed: &ParsedSpec,
    name: &str,
    kind: OccurrenceKind,
    location: &SpecLocation,
    section: Section,
    entry: &str,
) -> Option<Occurrence> {
    let (start, end) = parsed.spans.resolve(location)?;
    Some(Occurrence { name: name.to_string(), kind, start, end, section, entry: entry.to_string() })
}

fn declaration(parsed: &ParsedSpec, section: Section, name: &str) -> Option<Occurrence> {
    occurrence(parsed, name, OccurrenceKind::Declaration, &section_location(section, name), section, name)
}

/// The occurrences inside one entry of `section`: its declaration (sources and views) and
/// the names it reads, in the order they are found.
fn entry_occurrences(parsed: &ParsedSpec, section: Section, entry: &str) -> Vec<Occurrence> {
    let spans = &parsed.spans;
    let declared = |name: &str| parsed.sources.contains_key(name) || parsed.views.contains_key(name);
    let mut found = Vec::new();
    match section {
        Section::Sources => found.extend(declaration(parsed, section, entry)),
        Section::Views => {
            found.extend(declaration(parsed, section, entry));
            let Some(Some(definition)) = parsed.views.get(entry) else { return found };
            let key = definition.transform.key();
            match &definition.transform {
                Transform::Sql(sql) => {
                    for (start, end) in identifiers_outside_strings(&sql.query) {
                        let name = &sql.query[start..end];
                        if declared(name) {
                            let location = SpecLocation::view(entry).with_field(FieldPath::from(["sql"])).with_range(start, end);
                            found.extend(occurrence(parsed, name, OccurrenceKind::Reference, &location, section, entry));
                        }
                    }
                }
                transform => {
                    for (input, field) in transform.named_inputs() {
                        let location = SpecLocation::view(entry).with_field(FieldPath::from([key]).join(&field));
                        // Only a field that was written (`resolve` falls back to the enclosing key).
                        if spans.value_position(&location.key_path()).is_some() {
                            let location = location.with_range(0, input.len());
                            found.extend(occurrence(parsed, input, OccurrenceKind::Reference, &location, section, entry));
                        }
                    }
                }
            }
        }
        Section::Outputs => {
            let Some(Some(spec)) = parsed.outputs.get(entry) else { return found };
            let location = SpecLocation::output(entry).with_field(FieldPath::from(["view"]));
            if spans.value_position(&location.key_path()).is_some() {
                let location = location.with_range(0, spec.view.len());
                found.extend(occurrence(parsed, &spec.view, OccurrenceKind::Reference, &location, section, entry));
            }
        }
        Section::Root | Section::Profile => {}
    }
    found
}

#[cfg(test)]
mod tests {
    use viewdag_ir::{SpecFormat, parse_spec};

    use super::*;

    const SHOP: &str = include_str!("../../../examples/shop/spec.yaml");

    /// Flow mappings on one line, SQL in quoted and block scalars, an output, comments and
    /// blank lines between entries, a source and a view declared in a different order from
    /// the one they are read in.
    const MIXED: &str = "version: 1\nsources:\n  s: { format: csv, path: s.csv }\n  t:\n    format: csv\n    path: t.csv\nviews:\n  a: { filter: { input: s, predicate: \"x > 1\" } }\n  # a comment\n\n  b:\n    sql: \"SELECT * FROM a JOIN t USING (x) WHERE 'a' = 'a'\"\n  c:\n    sql: |\n      SELECT x\n      FROM b -- not a\n  d:\n    union: { inputs: [a, c] }\noutputs:\n  o: { view: d, path: out }\n  p:\n    view: b\n    path: out2\n";

    /// A view map in flow style entirely on one line.
    const ONE_LINE: &str = "version: 1\nsources: { s: { format: csv, path: s.csv } }\nviews: { a: { filter: { input: s, predicate: \"x > 1\" } }, b: { filter: { input: a, predicate: \"x > 2\" } } }\n";

    /// The occurrence at every position of each spec (every line and column, and past each
    /// line's end) is the one the whole index holds there, and every name's declaration is
    /// the whole index's first declaration of it.
    #[test]
    fn the_entry_at_the_cursor_answers_as_the_whole_index_does() {
        for text in [SHOP, MIXED, ONE_LINE] {
            let parsed = parse_spec(text, SpecFormat::Yaml);
            let index = occurrences(&parsed);
            assert!(index.iter().any(|occurrence| occurrence.kind == OccurrenceKind::Reference), "{text}");
            let mut found = 0;
            for (line_index, line) in text.lines().enumerate() {
                for column in 1..=line.chars().count() as u32 + 2 {
                    let at = Position { line: line_index as u32 + 1, column };
                    let expected = index.iter().find(|occurrence| occurrence.contains(at)).cloned();
                    found += usize::from(expected.is_some());
                    assert_eq!(occurrence_at(&parsed, at), expected, "at {at:?} of {text}");
                }
            }
            assert!(found > 0);
            for name in parsed.sources.keys().chain(parsed.views.keys()) {
                let expected = index.iter().find(|occurrence| occurrence.kind == OccurrenceKind::Declaration && occurrence.name == *name);
                assert_eq!(declaration_of(&parsed, name).as_ref(), expected, "{name}");
            }
        }
    }
}
