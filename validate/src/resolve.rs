//! What a name denotes: the structure's relations by name, and the narrow per-name lookup
//! the per-view queries read.

use viewdag_ir::{ProjectInput, SourceInput, ViewInput};

use crate::Db;
use crate::relations::RelationIndex;
use crate::structure::spec_structure;

/// The project's relations by name: part of its structure (a salsa input the host keeps
/// up to date), so it depends on the names of sources and views alone.
pub fn relation_index(db: &dyn Db) -> &RelationIndex {
    &spec_structure(db).relations
}

/// What a name denotes, for the per-view queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    Source(SourceInput),
    View(ViewInput),
}

/// The relation `name` denotes, or `None` for an unknown name (reported by the structural
/// checks). A narrow projection of [`relation_index`]: a change of the structure re-runs
/// this lookup for every name asked, but a per-view query that read it is reused unless the
/// answer for *its* names changed.
#[salsa::tracked(returns(copy))]
pub fn resolve_relation(db: &dyn Db, _project: ProjectInput, name: String) -> Option<Relation> {
    let index = relation_index(db);
    if let Some(source) = index.sources.get(&name) {
        return Some(Relation::Source(*source));
    }
    index.views.get(&name).map(|view| Relation::View(*view))
}
