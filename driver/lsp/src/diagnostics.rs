//! viewdag diagnostics as LSP diagnostics: the range the span index resolves (inside YAML,
//! JSON, expression and SQL strings alike), the stable code, the message with its notes
//! and help as the terminal renders them, and related information — each label, and for a
//! view blocked by a broken input, where that input is and its first error.
//!
//! Invariant: the conversion is a pure function of the response and the text it was
//! computed from, so the server publishes exactly what `viewdag check` reports for the
//! same text.

use lsp_types::{DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Position as LspPosition, Range, Uri};
use viewdag_ir::{Code, Diagnostic, Severity, SpanIndex, SpecLocation};

use viewdag_driver::{CompileResponse, ViewStatus};

use super::documents::Document;

/// The LSP range a logical location resolves to (the document start when it resolves to
/// nothing, like a diagnostic about the whole spec).
pub fn range_of(document: &Document, spans: &SpanIndex, location: &SpecLocation) -> Range {
    match spans.resolve(location) {
        Some((start, end)) => {
            let start = document.lines.lsp_position_of(&document.text, start);
            let end = document.lines.lsp_position_of(&document.text, end);
            Range::new(start, if end < start { start } else { end })
        }
        None => Range::new(LspPosition::new(0, 0), LspPosition::new(0, 0)),
    }
}

fn severity(severity: Severity) -> DiagnosticSeverity {
    match severity {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Note => DiagnosticSeverity::INFORMATION,
    }
}

/// The message as the terminal shows it: the headline, then `note:` and `help:` lines (the
/// code travels in the diagnostic's `code`).
fn message(diagnostic: &Diagnostic) -> String {
    let mut text = diagnostic.message.clone();
    for note in &diagnostic.notes {
        text.push_str(&format!("\nnote: {note}"));
    }
    if let Some(suggestion) = &diagnostic.suggestion {
        text.push_str(&format!("\nhelp: {suggestion}"));
    }
    text
}

/// Every diagnostic of `response`, converted, in the response's order (by position).
pub fn to_lsp_diagnostics(document: &Document, spans: &SpanIndex, response: &CompileResponse) -> Vec<lsp_types::Diagnostic> {
    response.diagnostics.iter().map(|diagnostic| to_lsp_diagnostic(document, spans, response, diagnostic)).collect()
}

pub fn to_lsp_diagnostic(
    document: &Document,
    spans: &SpanIndex,
    response: &CompileResponse,
    diagnostic: &Diagnostic,
) -> lsp_types::Diagnostic {
    let location = |range| Location { uri: document.uri.clone(), range };
    let mut related: Vec<DiagnosticRelatedInformation> = diagnostic
        .labels
        .iter()
        .map(|label| DiagnosticRelatedInformation {
            location: location(range_of(document, spans, &label.location)),
            message: label.message.clone(),
        })
        .collect();
    if diagnostic.code == Code::Blocked {
        related.extend(blocked_by(document, spans, response, diagnostic, &document.uri));
    }
    lsp_types::Diagnostic {
        range: range_of(document, spans, &diagnostic.location),
        severity: Some(severity(diagnostic.severity)),
        code: Some(NumberOrString::String(diagnostic.code.id().to_string())),
        code_description: None,
        source: Some("viewdag".to_string()),
        message: message(diagnostic),
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

/// For a blocked view: where the broken upstream view is declared, and its first error.
fn blocked_by(
    document: &Document,
    spans: &SpanIndex,
    response: &CompileResponse,
    diagnostic: &Diagnostic,
    uri: &Uri,
) -> Vec<DiagnosticRelatedInformation> {
    let Some(ViewStatus::Blocked { upstream }) = diagnostic.entry().and_then(|view| response.view(view)).map(|view| &view.status) else {
        return Vec::new();
    };
    let mut related = vec![DiagnosticRelatedInformation {
        location: Location { uri: uri.clone(), range: range_of(document, spans, &SpecLocation::view(upstream)) },
        message: format!("`{upstream}` has errors"),
    }];
    if let Some(error) = response.diagnostics.iter().find(|other| other.is_error() && other.entry() == Some(upstream.as_str())) {
        related.push(DiagnosticRelatedInformation {
            location: Location { uri: uri.clone(), range: range_of(document, spans, &error.location) },
            message: format!("{}: {}", error.code.id(), error.message),
        });
    }
    related
}
