//! `V0102 duplicate-name`: one name declared as both a source and a view.

use viewdag_ir::{Code, Diagnostic, SpecLocation};

use super::CheckContext;

pub fn check(context: &CheckContext) -> Vec<Diagnostic> {
    context
        .project_views
        .iter()
        .filter(|view| context.project_sources.contains(view))
        .map(|view| {
            Diagnostic::new(Code::DuplicateName, SpecLocation::view(view), format!("`{view}` is declared both as a source and as a view"))
                .with_label(SpecLocation::source(view), "the source is declared here")
                .with_note("sources and views share one namespace; the source keeps the name")
                .with_suggestion(format!("rename the view, e.g. `{view}_view`"))
        })
        .collect()
}
