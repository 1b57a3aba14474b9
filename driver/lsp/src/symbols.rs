//! Document symbols: the spec's sources, views and outputs, one group each, in declaration
//! order, each at its key.

use lsp_types::{DocumentSymbol, Range, SymbolKind};
use viewdag_ir::{Section, SpecLocation};

use super::diagnostics::range_of;
use super::documents::Document;
use super::spec_project::SpecProject;

#[allow(deprecated, reason = "`DocumentSymbol::deprecated` must be spelled out; `tags` replaces it")]
fn symbol(name: String, detail: Option<String>, kind: SymbolKind, range: Range, children: Option<Vec<DocumentSymbol>>) -> DocumentSymbol {
    DocumentSymbol { name, detail, kind, tags: None, deprecated: None, range, selection_range: range, children }
}

pub fn document_symbols(project: &SpecProject, document: &Document) -> Vec<DocumentSymbol> {
    let Some(parsed) = project.compiler.parsed_spec() else { return Vec::new() };
    let spans = &parsed.spans;
    let mut groups = Vec::new();
    let sources: Vec<DocumentSymbol> = parsed
        .sources
        .iter()
        .map(|(name, spec)| {
            let detail = spec.as_ref().map(|spec| format!("{} {}", spec.format.as_str(), spec.path));
            symbol(name.clone(), detail, SymbolKind::CLASS, range_of(document, spans, &SpecLocation::source(name)), None)
        })
        .collect();
    let views: Vec<DocumentSymbol> = parsed
        .views
        .iter()
        .map(|(name, definition)| {
            let detail = definition.as_ref().map(|definition| {
                let materialized = if definition.is_materialized() { ", table" } else { "" };
                format!("{}{materialized}", definition.transform.key())
            });
            symbol(name.clone(), detail, SymbolKind::FUNCTION, range_of(document, spans, &SpecLocation::view(name)), None)
        })
        .collect();
    let outputs: Vec<DocumentSymbol> = parsed
        .outputs
        .iter()
        .map(|(name, spec)| {
            let detail = spec.as_ref().map(|spec| format!("{} → {}", spec.view, spec.path));
            symbol(name.clone(), detail, SymbolKind::EVENT, range_of(document, spans, &SpecLocation::output(name)), None)
        })
        .collect();
    for (section, children) in [(Section::Sources, sources), (Section::Views, views), (Section::Outputs, outputs)] {
        let Some(key) = section.key() else { continue };
        if children.is_empty() {
            continue;
        }
        let start = spans.key_position(&[key.to_string()]);
        let Some(start) = start else { continue };
        let at = document.lines.lsp_position_of(&document.text, start);
        let end = lsp_types::Position::new(at.line, at.character + key.len() as u32);
        groups.push(symbol(key.to_string(), None, SymbolKind::NAMESPACE, Range::new(at, end), Some(children)));
    }
    groups
}
