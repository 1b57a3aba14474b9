//! Go to definition and find references for source and view names (declarations and every
//! read: `input:`, `left:`, `right:`, `inputs:`, outputs' `view:` and names inside SQL).
//! The name under the cursor and its declaration are found in the entry at the cursor and
//! the declaring entry (O(log entries)); references read the whole occurrence index.

use lsp_types::{Location, Position as LspPosition, Range};

use super::documents::Document;
use super::occurrences::{Occurrence, OccurrenceKind, declaration_of, occurrence_at};
use super::spec_project::SpecProject;

fn location(document: &Document, occurrence: &Occurrence) -> Location {
    Location {
        uri: document.uri.clone(),
        range: Range::new(
            document.lines.lsp_position_of(&document.text, occurrence.start),
            document.lines.lsp_position_of(&document.text, occurrence.end),
        ),
    }
}

/// The name under the cursor, if it is a source or view name.
fn name_at(project: &SpecProject, document: &Document, position: LspPosition) -> Option<String> {
    let at = document.lines.spec_position_of(&document.text, position);
    occurrence_at(project.compiler.parsed_spec()?, at).map(|occurrence| occurrence.name)
}

/// Where the name under the cursor is declared.
pub fn definition(project: &SpecProject, document: &Document, position: LspPosition) -> Option<Location> {
    let name = name_at(project, document, position)?;
    declaration_of(project.compiler.parsed_spec()?, &name).map(|occurrence| location(document, &occurrence))
}

/// Every read of the name under the cursor (and its declaration, if asked), in document order.
pub fn references(project: &SpecProject, document: &Document, position: LspPosition, include_declaration: bool) -> Vec<Location> {
    let Some(name) = name_at(project, document, position) else { return Vec::new() };
    project
        .occurrences()
        .iter()
        .filter(|occurrence| occurrence.name == name && (include_declaration || occurrence.kind == OccurrenceKind::Reference))
        .map(|occurrence| location(document, occurrence))
        .collect()
}
