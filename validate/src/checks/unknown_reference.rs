//! `V0101 unknown-reference`: a view reads a name that no source or view declares.

use viewdag_ir::suggestion::closest;
use viewdag_ir::{Code, Diagnostic};

use super::CheckContext;
use crate::relations::{Read, RelationIndex};

pub fn check(context: &CheckContext) -> Vec<Diagnostic> {
    // Every name, for suggestions: listed only once a reference is unknown.
    let mut names = None;
    let mut diagnostics = Vec::new();
    for (view, reads) in context.view_reads {
        diagnostics.extend(check_view(view, reads, context.index, &mut names, || context.all_names()));
    }
    diagnostics
}

/// View `view`'s references to names `index` does not hold. `names` caches `all_names()`, every
/// declared name (for suggestions), listed only once a reference is unknown.
pub fn check_view<'n>(
    view: &str,
    reads: &[Read],
    index: &RelationIndex,
    names: &mut Option<Vec<&'n str>>,
    all_names: impl FnOnce() -> Vec<&'n str>,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut all_names = Some(all_names);
    for read in reads {
        if index.contains(&read.name) {
            continue;
        }
        let mut diagnostic = Diagnostic::new(
            Code::UnknownReference,
            read.location.clone(),
            format!("view `{view}` reads `{}`, which is not a declared source or view", read.name),
        );
        // `public.orders`, `db.schema.orders`: relations are named alone.
        let unqualified = read.name.rsplit_once('.').map(|(_, table)| table).filter(|table| index.contains(table));
        if let Some(table) = unqualified {
            diagnostic = diagnostic
                .with_note("a spec's sources and views have no catalog or schema: a query names them alone")
                .with_suggestion(format!("did you mean `{table}`?"));
        } else {
            let names = names.get_or_insert_with(|| all_names.take().map(|list| list()).unwrap_or_default());
            if let Some(suggestion) = closest(&read.name, names) {
                diagnostic = diagnostic.with_suggestion(format!("did you mean `{suggestion}`?"));
            }
        }
        diagnostics.push(diagnostic);
    }
    diagnostics
}
