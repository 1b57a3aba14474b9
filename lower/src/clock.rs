//! Whether a view's rows depend on when it runs: its definition, or that of an ephemeral
//! view it inlines, may call a function of the clock (`viewdag_surface::clock`). A task
//! whose view does is never up to date: its table is written again by every run, as a
//! sliding window (`order_date > current_date() - INTERVAL '7 days'`) must be.
//!
//! ## Invariants
//! - Conservative and plan-free: a definition is read as text, and any identifier equal to
//!   a name the session resolves to a clock function counts (a column named `today` does
//!   too; such a task is only refreshed more often than needed). Nothing is lowered, so an
//!   unchanged project's run still plans nothing.
//! - A materialized input does not count: its own task decides, and a reader of a table
//!   written again is not up to date anyway.

use std::collections::BTreeSet;

use viewdag_ir::{ProjectInput, SurfaceInput, ViewInput};
use viewdag_surface::clock::clock_function_names;
use viewdag_surface::planning_session;
use viewdag_validate::{Relation, resolve_relation, view_reads};

use crate::Db;
use crate::materialization::is_materialized;

/// The names the planning session resolves to clock functions (lowercase).
#[salsa::tracked(returns(ref))]
pub fn clock_names(db: &dyn Db, surface: SurfaceInput) -> BTreeSet<String> {
    clock_function_names(&planning_session(db, surface).state)
}

/// Whether `view`'s rows may depend on when it runs (see the module documentation).
#[salsa::tracked(returns(copy))]
pub fn reads_the_clock(db: &dyn Db, view: ViewInput) -> bool {
    let Some(definition) = view.definition(db) else { return false };
    let names = clock_names(db, SurfaceInput::get(db));
    // A definition is plain data (strings, numbers, ordered maps): it always serializes.
    let text = serde_json::to_string(definition).unwrap_or_default();
    if identifiers(&text).any(|identifier| names.contains(&identifier.to_ascii_lowercase())) {
        return true;
    }
    view_reads(db, view).reads.iter().any(|read| match resolve_relation(db, ProjectInput::get(db), read.name.clone()) {
        Some(Relation::View(input)) => !is_materialized(db, input) && reads_the_clock(db, input),
        _ => false,
    })
}

/// The identifier-like words of `text` (letters, digits and underscores).
fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|character: char| !(character.is_ascii_alphanumeric() || character == '_')).filter(|word| !word.is_empty())
}

#[cfg(test)]
mod tests {
    use super::identifiers;

    #[test]
    fn identifiers_are_the_words_between_punctuation() {
        let words: Vec<&str> = identifiers(r#"{"filter":{"predicate":"day > CURRENT_DATE - 1 AND now()>x"}}"#).collect();
        assert_eq!(words, ["filter", "predicate", "day", "CURRENT_DATE", "1", "AND", "now", "x"]);
    }
}
