//! `V0103 cycle`: views that read each other. Reported once per cycle, naming it.

use std::collections::BTreeSet;

use viewdag_ir::{Code, Diagnostic, SpecLocation};

use super::CheckContext;

pub fn check(context: &CheckContext) -> Vec<Diagnostic> {
    context
        .dag
        .cycles()
        .iter()
        .map(|members| {
            let path = cycle_path(context, members);
            let first = &members[0];
            let mut diagnostic =
                Diagnostic::new(Code::Cycle, SpecLocation::view(first), format!("views read each other in a cycle: {}", path.join(" → ")))
                    .with_note("a view can only read relations that do not depend on it");
            for member in members.iter().skip(1) {
                diagnostic = diagnostic.with_label(SpecLocation::view(member), format!("`{member}` is on the cycle"));
            }
            // Every member is broken; repeat the error on each so each view reports it.
            diagnostic
        })
        .flat_map(|diagnostic| {
            let members: Vec<SpecLocation> =
                std::iter::once(diagnostic.location.clone()).chain(diagnostic.labels.iter().map(|label| label.location.clone())).collect();
            members.into_iter().map(move |location| Diagnostic { location, ..diagnostic.clone() })
        })
        .collect()
}

/// Walks the cycle from its first member along read edges: `a → b → c → a` where `b` reads `a`.
fn cycle_path(context: &CheckContext, members: &[String]) -> Vec<String> {
    let set: BTreeSet<&String> = members.iter().collect();
    let mut path = vec![members[0].clone()];
    let mut visited = BTreeSet::from([members[0].clone()]);
    loop {
        let current = path.last().expect("path is never empty").clone();
        let next = context
            .dag
            .readers(&current)
            .into_iter()
            .find(|reader| set.contains(reader) && (!visited.contains(reader) || *reader == members[0]));
        match next {
            Some(next) if next == members[0] => {
                path.push(next);
                return path;
            }
            Some(next) => {
                visited.insert(next.clone());
                path.push(next);
            }
            None => return path,
        }
    }
}
