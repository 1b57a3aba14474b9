//! `V0101 unknown-reference`: a view reads a name that no source or view declares.

use viewdag_ir::suggestion::closest;
use viewdag_ir::{Code, Diagnostic};

use super::CheckContext;

pub fn check(context: &CheckContext) -> Vec<Diagnostic> {
    let names = context.all_names();
    let mut diagnostics = Vec::new();
    for (view, reads) in context.view_reads {
        for read in reads {
            if context.index.contains(&read.name) {
                continue;
            }
            let mut diagnostic = Diagnostic::new(
                Code::UnknownReference,
                read.location.clone(),
                format!("view `{view}` reads `{}`, which is not a declared source or view", read.name),
            );
            if let Some(suggestion) = closest(&read.name, &names) {
                diagnostic = diagnostic.with_suggestion(format!("did you mean `{suggestion}`?"));
            }
            diagnostics.push(diagnostic);
        }
    }
    diagnostics
}
