//! Every place a relation name occurs in a spec: where each source and view is declared,
//! and where it is read (`input:`, `left:`, `right:`, `inputs:`, an output's `view:`, and
//! identifiers inside `sql` strings).
//!
//! Positions come from the parse's span index (`SpanIndex::resolve`, the same resolution
//! rendered diagnostics use), never from re-reading the text. Names inside SQL are found
//! by scanning the query's identifiers outside string literals and comparing them with the
//! declared names. The list is in document order (line, then column), so answers built
//! from it are deterministic.

use std::collections::BTreeSet;

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

/// The occurrences of every declared name in `parsed`.
pub fn occurrences(parsed: &ParsedSpec) -> Vec<Occurrence> {
    let spans = &parsed.spans;
    let declared: BTreeSet<&str> = parsed.sources.keys().chain(parsed.views.keys()).map(String::as_str).collect();
    let mut found = Vec::new();
    let mut push = |name: &str, kind, location: &SpecLocation, section, entry: &str| {
        if let Some((start, end)) = spans.resolve(location) {
            found.push(Occurrence { name: name.to_string(), kind, start, end, section, entry: entry.to_string() });
        }
    };
    for name in parsed.sources.keys() {
        push(name, OccurrenceKind::Declaration, &SpecLocation::source(name), Section::Sources, name);
    }
    for (view, definition) in &parsed.views {
        push(view, OccurrenceKind::Declaration, &SpecLocation::view(view), Section::Views, view);
        let Some(definition) = definition else { continue };
        let key = definition.transform.key();
        match &definition.transform {
            Transform::Sql(sql) => {
                for (start, end) in identifiers_outside_strings(&sql.query) {
                    let name = &sql.query[start..end];
                    if declared.contains(name) {
                        let location = SpecLocation::view(view).with_field(FieldPath::from(["sql"])).with_range(start, end);
                        push(name, OccurrenceKind::Reference, &location, Section::Views, view);
                    }
                }
            }
            transform => {
                for (input, field) in transform.named_inputs() {
                    let location = SpecLocation::view(view).with_field(FieldPath::from([key]).join(&field));
                    // Only a field that was written (`resolve` falls back to the enclosing key).
                    if spans.value_position(&location.key_path()).is_some() {
                        push(input, OccurrenceKind::Reference, &location.with_range(0, input.len()), Section::Views, view);
                    }
                }
            }
        }
    }
    for (output, spec) in &parsed.outputs {
        let Some(spec) = spec else { continue };
        let location = SpecLocation::output(output).with_field(FieldPath::from(["view"]));
        if spans.value_position(&location.key_path()).is_some() {
            push(&spec.view, OccurrenceKind::Reference, &location.with_range(0, spec.view.len()), Section::Outputs, output);
        }
    }
    found.sort_by_key(|occurrence| (occurrence.start, occurrence.end));
    found
}

/// Byte ranges of the identifiers of a SQL text, skipping string literals (`'…'`), quoted
/// identifiers' quotes (the name inside `"…"` counts) and `--` comments.
pub fn identifiers_outside_strings(query: &str) -> Vec<(usize, usize)> {
    let bytes = query.as_bytes();
    let mut ranges = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'\'' {
            index += 1;
            while index < bytes.len() && bytes[index] != b'\'' {
                index += 1;
            }
            index += 1;
        } else if byte == b'-' && bytes.get(index + 1) == Some(&b'-') {
            while index < bytes.len() && bytes[index] != b'\n' {
                index += 1;
            }
        } else if byte.is_ascii_alphabetic() || byte == b'_' {
            let start = index;
            while index < bytes.len() && (bytes[index].is_ascii_alphanumeric() || bytes[index] == b'_') {
                index += 1;
            }
            ranges.push((start, index));
        } else if byte.is_ascii_digit() {
            while index < bytes.len() && (bytes[index].is_ascii_alphanumeric() || bytes[index] == b'_' || bytes[index] == b'.') {
                index += 1;
            }
        } else {
            index += 1;
        }
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_identifiers_skip_literals_and_comments() {
        let query = "SELECT a FROM orders WHERE s = 'orders' -- orders\n AND x1 > 2.5";
        let names: Vec<&str> = identifiers_outside_strings(query).into_iter().map(|(start, end)| &query[start..end]).collect();
        assert_eq!(names, ["SELECT", "a", "FROM", "orders", "WHERE", "s", "AND", "x1"]);
    }
}
