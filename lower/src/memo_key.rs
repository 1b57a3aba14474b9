//! The signature memo's key (`crate::signature_memo`): BLAKE3 over everything a view's
//! signature is a function of — the build, the planning surface's spec, the view's name and
//! canonical definition, and per relation it reads (in order) its name, kind and schema as
//! readers see it (qualifiers, types, nullability, field and schema metadata sorted,
//! functional dependencies). Each field is length-prefixed after a domain tag, so no two
//! different inputs share an encoding. A nested type's metadata is hashed in its `Debug`
//! form, whose order may vary between processes: that can only make a key miss.
//!
//! Every read here is tracked (the surface input, the view's definition, the inputs the
//! caller resolved), so a value found by this key is a pure function of tracked reads.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use datafusion::arrow::datatypes::Field;
use datafusion::common::DFSchema;
use viewdag_ir::{SurfaceInput, ViewInput};

use crate::inputs::PlannedInput;
use crate::signature::ViewSignature;
use crate::signature_memo::{MemoKey, MemoValue};
use crate::{Db, LowerResult, ViewFailure};

/// The planning surface's part of every key: the canonical JSON of the surface input.
#[salsa::tracked(returns(ref))]
fn surface_key(db: &dyn Db, surface: SurfaceInput) -> Vec<u8> {
    let mut hasher = blake3::Hasher::new();
    // A surface spec is plain data: it always serializes.
    field(&mut hasher, serde_json::to_string(surface.spec(db)).unwrap_or_default().as_bytes());
    field(&mut hasher, surface.root(db).as_bytes());
    hasher.finalize().as_bytes().to_vec()
}

/// The key of `view`'s signature over `inputs` (its inputs' signatures, in the order it
/// reads them) computed by `build`; `kind_of` names each input's kind (source, view,
/// materialized view).
pub fn memo_key(
    db: &dyn Db,
    build: &str,
    view: ViewInput,
    inputs: &[PlannedInput],
    kind_of: impl Fn(&str) -> &'static [u8],
) -> Option<MemoKey> {
    let definition = view.definition(db).as_ref()?;
    let mut hasher = crate::definition_digest::definition_hasher(b"viewdag signature memo v1\0", view.name(db), definition);
    field(&mut hasher, build.as_bytes());
    field(&mut hasher, surface_key(db, SurfaceInput::get(db)));
    field(&mut hasher, &(inputs.len() as u64).to_le_bytes());
    for input in inputs {
        field(&mut hasher, input.name.as_bytes());
        field(&mut hasher, kind_of(&input.name));
        hash_schema(&mut hasher, input.plan.schema());
    }
    Some(*hasher.finalize().as_bytes())
}

/// A length-prefixed field.
fn field(hasher: &mut blake3::Hasher, bytes: &[u8]) {
    hasher.update(&(bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

/// A schema as readers see it: every column's qualifier, name, type, nullability and
/// metadata (sorted), the schema's metadata (sorted) and its functional dependencies.
fn hash_schema(hasher: &mut blake3::Hasher, schema: &DFSchema) {
    field(hasher, &(schema.fields().len() as u64).to_le_bytes());
    for (qualifier, column) in schema.iter() {
        field(hasher, qualifier.map(|qualifier| qualifier.to_string()).unwrap_or_default().as_bytes());
        hash_field(hasher, column);
    }
    hash_metadata(hasher, schema.metadata());
    field(hasher, format!("{:?}", schema.functional_dependencies()).as_bytes());
}

fn hash_field(hasher: &mut blake3::Hasher, column: &Field) {
    field(hasher, column.name().as_bytes());
    field(hasher, format!("{:?}", column.data_type()).as_bytes());
    field(hasher, &[u8::from(column.is_nullable())]);
    hash_metadata(hasher, column.metadata());
}

fn hash_metadata(hasher: &mut blake3::Hasher, metadata: &HashMap<String, String>) {
    let sorted: BTreeMap<&String, &String> = metadata.iter().collect();
    field(hasher, &(sorted.len() as u64).to_le_bytes());
    for (key, value) in sorted {
        field(hasher, key.as_bytes());
        field(hasher, value.as_bytes());
    }
}

/// What lowering gave, as the memo keeps it; `None` for a failure the memo never holds (an
/// input's, which is decided before the memo is consulted).
pub fn memo_value(result: &LowerResult<ViewSignature>) -> Option<MemoValue> {
    match result {
        Ok(signature) => Some(Ok(signature.clone())),
        Err(ViewFailure::Errors(errors)) => Some(Err(Arc::clone(errors))),
        Err(ViewFailure::Invalid | ViewFailure::Blocked { .. }) => None,
    }
}

/// A memoized value as the query's result.
pub fn memo_result(value: MemoValue) -> LowerResult<ViewSignature> {
    value.map_err(ViewFailure::Errors)
}
