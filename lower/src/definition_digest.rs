//! Merkle digests of view definitions.
//!
//! A view's definition digest hashes its name, its own canonical definition (the spec's
//! JSON form, map order kept) and, per relation it reads, that relation's digest: a
//! source's provider identity (which includes a Delta table's version and a file list's
//! sizes), a view's definition digest. Computing it is O(size of the view) given its
//! inputs' digests. The task digest (`viewdag_optimize::task_digest`) adds the planning
//! surface's manifest hash and the optimizer pipeline: it decides whether a task is up to
//! date without planning anything.
//!
//! ## Invariants
//! - Under one planning surface, equal digests mean equal P0 plans (lowering is a pure
//!   function of what is hashed and of the surface).
//! - Nothing depends on positions in the file, on time, or on a run's bound tables.

use viewdag_ir::{ProjectInput, SourceResolution, ViewDefinition, ViewInput};
use viewdag_validate::{Relation, resolve_relation, view_is_broken, view_reads};

use crate::{Db, LowerResult, ViewFailure};

/// BLAKE3 over the view's definition and its inputs' digests. Fails for a broken view and
/// for a view that reads one (or an unknown name).
#[salsa::tracked(returns(ref))]
pub fn view_definition_digest(db: &dyn Db, view: ViewInput) -> LowerResult<String> {
    if view_is_broken(db, view) {
        return Err(ViewFailure::Invalid);
    }
    let Some(definition) = view.definition(db) else {
        return Err(ViewFailure::Invalid);
    };
    let mut hasher = definition_hasher(b"viewdag view definition v1\0", view.name(db), definition);
    for read in &view_reads(db, view).reads {
        hasher.update(b"\0read ");
        hasher.update(read.name.as_bytes());
        hasher.update(b"=");
        match resolve_relation(db, ProjectInput::get(db), read.name.clone()) {
            Some(Relation::Source(source)) => match source.resolution(db) {
                SourceResolution::Resolved { identity, .. } => hasher.update(identity.canonical().as_bytes()),
                SourceResolution::Failed(_) => return Err(ViewFailure::Blocked { upstream: read.name.clone() }),
            },
            Some(Relation::View(input)) => {
                let digest = view_definition_digest(db, input).as_ref().map_err(|failure| failure.as_seen_from_reader(&read.name))?;
                hasher.update(digest.as_bytes())
            }
            None => return Err(ViewFailure::Invalid),
        };
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// A hasher over `domain`, a view's name and its canonical definition: the start of the
/// definition digest and of P0's equality key (`crate::inputs::finish`).
pub(crate) fn definition_hasher(domain: &[u8], name: &str, definition: &ViewDefinition) -> blake3::Hasher {
    let mut hasher = blake3::Hasher::new();
    hasher.update(domain);
    hasher.update(name.as_bytes());
    hasher.update(b"\0");
    // A definition is plain data (strings, numbers, ordered maps): it always serializes.
    let json = serde_json::to_string(definition).unwrap_or_default();
    hasher.update(json.as_bytes());
    hasher
}
