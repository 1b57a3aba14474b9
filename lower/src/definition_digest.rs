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
//! A view's *shape digest* is the same Merkle digest with every source's data version left
//! out: a source contributes its shape (location and how it is read, see
//! `ProviderIdentity::shape`) and its schema, never its Delta version or file list. Two
//! runs with one shape digest plan the same query over (possibly) more data: what
//! incremental refresh needs to tell "new rows" from "a new definition".
//!
//! ## Invariants
//! - Under one planning surface, equal digests mean equal P0 plans (lowering is a pure
//!   function of what is hashed and of the surface); equal shape digests mean equal P0
//!   plans up to the data each scan reads.
//! - Nothing depends on positions in the file, on time, or on a run's bound tables.

use datafusion::arrow::datatypes::SchemaRef;
use viewdag_ir::{ProjectInput, ProviderIdentity, SourceResolution, ViewDefinition, ViewInput};
use viewdag_validate::{Relation, resolve_relation, view_is_broken, view_reads};

use crate::{Db, LowerResult, ViewFailure};

/// BLAKE3 over the view's definition and its inputs' digests. Fails for a broken view and
/// for a view that reads one (or an unknown name).
#[salsa::tracked(returns(ref))]
pub fn view_definition_digest(db: &dyn Db, view: ViewInput) -> LowerResult<String> {
    merkle_digest(
        db,
        view,
        b"viewdag view definition v1\0",
        |identity, _| identity.canonical(),
        |db, input| view_definition_digest(db, input),
    )
}

/// BLAKE3 over the view's definition and its inputs' shape digests: a source contributes
/// its shape and schema, not its data version. Fails like [`view_definition_digest`].
#[salsa::tracked(returns(ref))]
pub fn view_shape_digest(db: &dyn Db, view: ViewInput) -> LowerResult<String> {
    merkle_digest(db, view, b"viewdag view shape v1\0", source_shape, |db, input| view_shape_digest(db, input))
}

/// A source's part of a shape digest: its shape and its schema's fields (name, type,
/// nullability), in order.
fn source_shape(identity: &ProviderIdentity, schema: &SchemaRef) -> String {
    let mut text = identity.shape();
    for field in schema.fields() {
        text.push_str(&format!("\0{}:{}:{}", field.name(), field.data_type(), field.is_nullable()));
    }
    text
}

/// The Merkle digest of `view` under `domain`: its definition, then per relation it reads
/// a source's `source_part` or an input view's `view_digest`.
fn merkle_digest(
    db: &dyn Db,
    view: ViewInput,
    domain: &[u8],
    source_part: fn(&ProviderIdentity, &SchemaRef) -> String,
    view_digest: fn(&dyn Db, ViewInput) -> &LowerResult<String>,
) -> LowerResult<String> {
    if view_is_broken(db, view) {
        return Err(ViewFailure::Invalid);
    }
    let Some(definition) = view.definition(db) else {
        return Err(ViewFailure::Invalid);
    };
    let mut hasher = definition_hasher(domain, view.name(db), definition);
    for read in &view_reads(db, view).reads {
        hasher.update(b"\0read ");
        hasher.update(read.name.as_bytes());
        hasher.update(b"=");
        match resolve_relation(db, ProjectInput::get(db), read.name.clone()) {
            Some(Relation::Source(source)) => match source.resolution(db) {
                SourceResolution::Resolved { identity, schema } => hasher.update(source_part(identity, schema).as_bytes()),
                SourceResolution::Failed(_) => return Err(ViewFailure::Blocked { upstream: read.name.clone() }),
            },
            Some(Relation::View(input)) => {
                let digest = view_digest(db, input).as_ref().map_err(|failure| failure.as_seen_from_reader(&read.name))?;
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
