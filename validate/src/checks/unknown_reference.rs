//! `V0101 unknown-reference`: a view reads a name that no source or view declares.

use viewdag_ir::suggestion::closest;
use viewdag_ir::{Code, Diagnostic};

use super::CheckContext;

pub fn check(context: &CheckContext) -> Vec<Diagnostic> {
    // Every name, for suggestions: listed only once a reference is unknown.
    let mut names = None;
    let mut diagnostics = Vec::new();
    for (view, reads) in context.view_reads {
        for read in reads.iter() {
            if context.index.contains(&read.name) {
                continue;
            }
            let mut diagnostic = Diagnostic::new(
                Code::UnknownReference,
                read.location.clone(),
                format!("view `{view}` reads `{}`, which is not a declared source or view", read.name),
            );
            // `public.orders`, `db.schema.orders`: relations are named alone.
            let unqualified = read.name.rsplit_once('.').map(|(_, table)| table).filter(|table| context.index.contains(table));
            if let Some(table) = unqualified {
                diagnostic = diagnostic
                    .with_note("a spec's sources and views have no catalog or schema: a query names them alone")
                    .with_suggestion(format!("did you mean `{table}`?"));
            } else if let Some(suggestion) = closest(&read.name, names.get_or_insert_with(|| context.all_names())) {
                diagnostic = diagnostic.with_suggestion(format!("did you mean `{suggestion}`?"));
            }
            diagnostics.push(diagnostic);
        }
    }
    diagnostics
}
