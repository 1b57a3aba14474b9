//! Code actions: each diagnostic whose suggestion names a replacement (`did you mean
//! `amount`?`) becomes a quick fix that writes the replacement over the diagnostic's range.

use std::collections::HashMap;

use lsp_types::{CodeAction, CodeActionKind, Range, TextEdit, WorkspaceEdit};

use super::diagnostics::to_lsp_diagnostic;
use super::documents::Document;
use super::spec_project::SpecProject;

/// The replacement a suggestion names: the text between the backquotes of
/// ``did you mean `X`?``.
pub fn suggested_replacement(suggestion: &str) -> Option<&str> {
    let rest = suggestion.strip_prefix("did you mean `")?;
    let replacement = rest.strip_suffix("`?")?;
    (!replacement.is_empty() && !replacement.contains('`')).then_some(replacement)
}

fn overlaps(a: Range, b: Range) -> bool {
    a.start <= b.end && b.start <= a.end
}

pub fn code_actions(project: &SpecProject, document: &Document, range: Range) -> Vec<CodeAction> {
    let (Some(response), Some(parsed)) = (&project.response, project.compiler.parsed_spec()) else { return Vec::new() };
    let mut actions = Vec::new();
    for diagnostic in &response.diagnostics {
        let Some(replacement) = diagnostic.suggestion.as_deref().and_then(suggested_replacement) else { continue };
        let converted = to_lsp_diagnostic(document, &parsed.spans, response, diagnostic);
        if !overlaps(converted.range, range) || converted.range.start.line != converted.range.end.line {
            continue;
        }
        // Only a range that covers a word: replacing it with the suggested name is the fix.
        let start = document.lines.offset(&document.text, converted.range.start);
        let end = document.lines.offset(&document.text, converted.range.end);
        let covered = &document.text[start..end];
        if covered.is_empty() || !covered.chars().all(|character| character.is_alphanumeric() || character == '_') {
            continue;
        }
        let edit = TextEdit { range: converted.range, new_text: replacement.to_string() };
        actions.push(CodeAction {
            title: format!("replace `{covered}` with `{replacement}`"),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![converted]),
            edit: Some(WorkspaceEdit { changes: Some(HashMap::from([(document.uri.clone(), vec![edit])])), ..WorkspaceEdit::default() }),
            command: None,
            is_preferred: Some(true),
            disabled: None,
            data: None,
        });
    }
    actions
}
