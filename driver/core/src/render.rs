//! Rendering diagnostics: rustc-style for terminals (codespan-reporting) and JSON.

use codespan_reporting::diagnostic::{Diagnostic as Report, Label as ReportLabel, Severity as ReportSeverity};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config};
use std::path::Path;

use serde::Serialize;
use viewdag_ir::{Diagnostic, Position, Section, Severity, SpanIndex, SpecLocation};

use crate::compiler::{CompileResponse, ViewStatus};
use crate::snapshot::SpecSource;

fn byte_offset(text: &str, position: Position) -> usize {
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        if index + 1 == position.line as usize {
            let in_line: usize = line.chars().take((position.column as usize).saturating_sub(1)).map(char::len_utf8).sum();
            return (offset + in_line).min(text.len());
        }
        offset += line.len();
    }
    text.len()
}

fn range(source: &SpecSource, location: &SpecLocation) -> std::ops::Range<usize> {
    match source.spans.resolve(location) {
        Some((start, end)) => {
            let start = byte_offset(&source.text, start);
            let end = byte_offset(&source.text, end).max(start);
            start..end
        }
        None => 0..0,
    }
}

/// Renders diagnostics like rustc, with the offending part of the spec underlined.
pub fn render_human(source: &SpecSource, diagnostics: &[Diagnostic], color: bool) -> String {
    let mut files = SimpleFiles::new();
    let file = files.add(source.path.display().to_string(), source.text.clone());
    let mut buffer = Vec::new();
    let config = Config::default();
    for diagnostic in diagnostics {
        let severity = match diagnostic.severity {
            Severity::Error => ReportSeverity::Error,
            Severity::Warning => ReportSeverity::Warning,
            Severity::Note => ReportSeverity::Note,
        };
        let mut labels = vec![ReportLabel::primary(file, range(source, &diagnostic.location))];
        for label in &diagnostic.labels {
            labels.push(ReportLabel::secondary(file, range(source, &label.location)).with_message(label.message.clone()));
        }
        let mut notes: Vec<String> = diagnostic.notes.iter().map(|note| format!("note: {note}")).collect();
        if let Some(suggestion) = &diagnostic.suggestion {
            notes.push(format!("help: {suggestion}"));
        }
        let report = Report::new(severity)
            .with_code(format!("{}[{}]", diagnostic.code.id(), diagnostic.code.name()))
            .with_message(diagnostic.message.clone())
            .with_labels(labels)
            .with_notes(notes);
        if color {
            let mut writer = term::termcolor::Ansi::new(&mut buffer);
            let _ = term::emit_to_write_style(&mut writer, &config, &files, &report);
        } else {
            let mut writer = term::termcolor::NoColor::new(&mut buffer);
            let _ = term::emit_to_write_style(&mut writer, &config, &files, &report);
        }
    }
    String::from_utf8_lossy(&buffer).into_owned()
}

/// A range in the spec file (1-based lines and columns).
#[derive(Debug, Serialize)]
pub struct JsonPosition {
    /// The spec file.
    pub file: String,
    /// First line.
    pub line: u32,
    /// First column.
    pub column: u32,
    /// Last line.
    pub end_line: u32,
    /// Column after the last character.
    pub end_column: u32,
}

/// A secondary location of a diagnostic.
#[derive(Debug, Serialize)]
pub struct JsonLabel {
    /// What is there.
    pub message: String,
    /// Where, when it resolves in the file.
    pub location: Option<JsonPosition>,
}

/// A diagnostic as `check --format json` prints it.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic {
    /// The stable code (`V0201`).
    pub code: String,
    /// The code's name (`unknown-input`).
    pub name: String,
    /// `error`, `warning` or `note`.
    pub severity: &'static str,
    /// The message.
    pub message: String,
    /// The view the diagnostic is about (also set for sources and outputs, with `section`).
    pub view: Option<String>,
    /// The spec section (`sources`, `views`, `outputs`, `profile`, …).
    pub section: &'static str,
    /// The entry in that section.
    pub entry: Option<String>,
    /// The field path inside the entry.
    pub field: Vec<String>,
    /// Where in the file, when the location resolves.
    pub location: Option<JsonPosition>,
    /// Secondary locations.
    pub labels: Vec<JsonLabel>,
    /// Notes.
    pub notes: Vec<String>,
    /// A replacement that would fix it, when one is known.
    pub suggestion: Option<String>,
}

fn position(file: &str, spans: &SpanIndex, location: &SpecLocation) -> Option<JsonPosition> {
    spans.resolve(location).map(|(start, end)| JsonPosition {
        file: file.to_string(),
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
    })
}

/// The JSON form of `diagnostic`, positions resolved in `source`.
pub fn to_json(source: &SpecSource, diagnostic: &Diagnostic) -> JsonDiagnostic {
    let file = source.path.display().to_string();
    let section = match diagnostic.location.section {
        Section::Root => "root",
        Section::Sources => "sources",
        Section::Views => "views",
        Section::Outputs => "outputs",
        Section::Profile => "profile",
    };
    JsonDiagnostic {
        code: diagnostic.code.id().to_string(),
        name: diagnostic.code.name().to_string(),
        severity: diagnostic.severity.as_str(),
        message: diagnostic.message.clone(),
        view: if diagnostic.location.section == Section::Views { diagnostic.location.entry.clone() } else { None },
        section,
        entry: diagnostic.location.entry.clone(),
        field: diagnostic.location.field.0.clone(),
        location: position(&file, &source.spans, &diagnostic.location),
        labels: diagnostic
            .labels
            .iter()
            .map(|label| JsonLabel { message: label.message.clone(), location: position(&file, &source.spans, &label.location) })
            .collect(),
        notes: diagnostic.notes.clone(),
        suggestion: diagnostic.suggestion.clone(),
    }
}

/// The summary line: `2 errors, 1 warning`.
pub fn summary(diagnostics: &[Diagnostic]) -> String {
    summary_with_failed_tasks(diagnostics, 0)
}

/// [`summary`], with `failed_tasks` (tasks of a run that failed) counted as errors.
pub fn summary_with_failed_tasks(diagnostics: &[Diagnostic], failed_tasks: usize) -> String {
    let count = |severity| diagnostics.iter().filter(|diagnostic| diagnostic.severity == severity).count();
    let plural = |count: usize, word: &str| if count == 1 { format!("{count} {word}") } else { format!("{count} {word}s") };
    format!("{}, {}", plural(count(Severity::Error) + failed_tasks, "error"), plural(count(Severity::Warning), "warning"))
}

/// `check`'s closing line: `spec.yaml: 11 of 12 views valid; 1 error, 0 warnings`.
pub fn check_summary_line(spec: &Path, response: &CompileResponse) -> String {
    let valid = response.views.iter().filter(|view| view.status.is_valid()).count();
    format!("{}: {valid} of {} views valid; {}", spec.display(), response.views.len(), summary(&response.diagnostics))
}

/// `check --format json`'s document: the spec, every diagnostic, every view's result.
#[derive(Debug, Serialize)]
pub struct JsonCheckReport {
    /// The spec's path as given.
    pub spec: String,
    /// Every diagnostic, in position order.
    pub diagnostics: Vec<JsonDiagnostic>,
    /// Every view, in declaration order.
    pub views: Vec<JsonViewResult>,
}

/// One view's result in a [`JsonCheckReport`].
#[derive(Debug, Serialize)]
pub struct JsonViewResult {
    /// The view's name.
    pub view: String,
    /// What the check found.
    pub result: JsonViewStatus,
}

/// A view's status as JSON: `{"status": "valid"}`, `{"status": "blocked", "upstream": …}`, ….
#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum JsonViewStatus {
    /// Validated and planned.
    Compiled,
    /// Validated, not planned.
    Valid,
    /// Has errors of its own.
    Failed,
    /// Not checked: a relation upstream has errors.
    Blocked {
        /// The first upstream relation that failed itself.
        upstream: String,
    },
}

/// The JSON document of a check of `spec`.
pub fn check_report(spec: &Path, source: &SpecSource, response: &CompileResponse) -> JsonCheckReport {
    let views = response
        .views
        .iter()
        .map(|view| JsonViewResult {
            view: view.name.clone(),
            result: match &view.status {
                ViewStatus::Compiled { .. } => JsonViewStatus::Compiled,
                ViewStatus::Checked { .. } => JsonViewStatus::Valid,
                ViewStatus::Failed => JsonViewStatus::Failed,
                ViewStatus::Blocked { upstream } => JsonViewStatus::Blocked { upstream: upstream.clone() },
            },
        })
        .collect();
    JsonCheckReport {
        spec: spec.display().to_string(),
        diagnostics: response.diagnostics.iter().map(|diagnostic| to_json(source, diagnostic)).collect(),
        views,
    }
}

/// The first 12 hex digits of a digest, as plans and traces are labelled for people.
pub fn short_digest(digest: &str) -> &str {
    &digest[..digest.len().min(12)]
}
