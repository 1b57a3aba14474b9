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
//! When the edit kept the project's shape (`BackgroundCheck::keeps_shape`: every view kept
//! its name, what it reads and whether it is materialized), what the structure and the
//! parse said of the edited views still stands and is kept; only their chunks' diagnostics
//! (their checks') are replaced, and the structure is not read (verifying it visits every
//! view: O(project) per keystroke).
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
    // The edited views' diagnostics the new ones replace: with the shape kept their chunks'
    // (each once: the same diagnostic may stand twice), else (or when a chunk is not found)
    // all of them.
    let mut replaced: Option<Vec<&Diagnostic>> = match check.keeps_shape() {
        true => edited
            .iter()
            .map(|name| project.chunk_diagnostics_of(name))
            .collect::<Option<Vec<_>>>()
            .map(|chunks| chunks.into_iter().flatten().collect()),
        false => None,
    };
    let mut diagnostics: Vec<Diagnostic> = previous
        .diagnostics
        .iter()
        .filter(|diagnostic| still_applies(diagnostic, edited, parsed, replaced.as_mut()))
        .cloned()
        .chain(own)
        .collect();
    sort_by_position(&mut diagnostics, &parsed.spans);
    let mut response = previous.clone();
    response.diagnostics = diagnostics;
    Some(to_lsp_diagnostics(document, &parsed.spans, &response))
}

/// Whether an earlier diagnostic still stands until the whole check says otherwise: not
/// about an entry the text no longer declares, nor about an edited view — unless
/// `replaced` lists which of the edited views' diagnostics are replaced and it is not
/// among them (each one listed replaces one equal diagnostic).
fn still_applies(diagnostic: &Diagnostic, edited: &[String], parsed: &ParsedSpec, replaced: Option<&mut Vec<&Diagnostic>>) -> bool {
    let Some(entry) = diagnostic.entry() else { return true };
    let kept_though_edited = |replaced: Option<&mut Vec<&Diagnostic>>| match replaced {
        Some(replaced) => match replaced.iter().position(|other| *other == diagnostic) {
            Some(at) => {
                replaced.swap_remove(at);
                false
            }
            None => true,
        },
        None => false,
    };
    match diagnostic.location.section {
        Section::Views => parsed.views.contains_key(entry) && (!edited.iter().any(|name| name == entry) || kept_though_edited(replaced)),
        Section::Sources => parsed.sources.contains_key(entry),
        Section::Outputs => parsed.outputs.contains_key(entry),
        Section::Root | Section::Profile => true,
    }
}
