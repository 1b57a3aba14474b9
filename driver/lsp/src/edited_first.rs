//! Diagnostics of the edited entries first: published the moment an edit's inputs are set,
//! before its whole-project check completes.
//!
//! The first answer is the last completed check's diagnostics with the edited views' own
//! replaced by their new ones (`BackgroundCheck::edited_views_check`, the per-view queries
//! the whole check then reuses), and those of entries the text no longer declares dropped.
//! It is published without a version (it is provisional: what an edit causes elsewhere,
//! such as a reader now blocked, comes with the whole check, published with the text's
//! version, which replaces it).
//!
//! Only for an edit of a few views (at most [`EDITED_FIRST_LIMIT`]): an edit of many is a
//! paste or a rewrite, whose whole check is the answer.

use lsp_types::Diagnostic as LspDiagnostic;
use viewdag_driver::{BackgroundCheck, sort_by_position};
use viewdag_ir::{Diagnostic, ParsedSpec, Section};

use super::diagnostics::to_lsp_diagnostics;
use super::documents::Document;
use super::spec_project::SpecProject;

/// The most edited views answered first.
pub const EDITED_FIRST_LIMIT: usize = 16;

/// The provisional diagnostics of the applied text, or `None` when there is nothing to
/// answer first (no earlier check, no view edited, too many, or the check was cancelled).
pub fn edited_entries_first(project: &SpecProject, document: &Document, check: &BackgroundCheck) -> Option<Vec<LspDiagnostic>> {
    let previous = project.response.as_ref()?;
    let edited = check.edited_views();
    if edited.is_empty() || edited.len() > EDITED_FIRST_LIMIT {
        return None;
    }
    let parsed = project.compiler.parsed_spec()?;
    let own = check.edited_views_check().ok()?;
    let mut diagnostics: Vec<Diagnostic> =
        previous.diagnostics.iter().filter(|diagnostic| still_applies(diagnostic, edited, parsed)).cloned().chain(own).collect();
    sort_by_position(&mut diagnostics, &parsed.spans);
    let mut response = previous.clone();
    response.diagnostics = diagnostics;
    Some(to_lsp_diagnostics(document, &parsed.spans, &response))
}

/// Whether an earlier diagnostic still stands until the whole check says otherwise: not
/// about an edited view (replaced), nor about an entry the text no longer declares.
fn still_applies(diagnostic: &Diagnostic, edited: &[String], parsed: &ParsedSpec) -> bool {
    let Some(entry) = diagnostic.entry() else { return true };
    match diagnostic.location.section {
        Section::Views => parsed.views.contains_key(entry) && !edited.iter().any(|name| name == entry),
        Section::Sources => parsed.sources.contains_key(entry),
        Section::Outputs => parsed.outputs.contains_key(entry),
        Section::Root | Section::Profile => true,
    }
}
