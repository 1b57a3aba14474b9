//! The signature memo's key (`crate::signature_memo`): BLAKE3 over everything a view's
//! signature is a function of — the build, the planning surface's spec, the view's name and
//! canonical definition, and per relation it reads (in order) its name, kind and schema as
//! readers see it (qualifiers, types, nullability, field and schema metadata sorted,
//! functional dependencies), as the BLAKE3 digest of those bytes (computed once per schema
//! object a process holds: [`SignatureMemo::schema_digest`]). Each field is length-prefixed
//! after a domain tag (a column goes through arrow's `Hash`, whose strings are terminated),
//! so no two different inputs share an encoding.
//!
//! Every read here is tracked (the surface input, the view's definition, the inputs the
//! caller resolved), so a value found by this key is a pure function of tracked reads.

use std::collections::BTreeMap;
use std::hash::Hash;
use std::sync::Arc;

use datafusion::common::{DFSchema, DFSchemaRef};
use viewdag_ir::persistent_memo::put as field;
use viewdag_ir::{SurfaceInput, ViewInput};

use crate::signature::ViewSignature;
use crate::signature_memo::{MemoKey, MemoValue, SignatureMemo};
use crate::{Db, LowerResult, ViewFailure};

/// The planning surface's part of every key: the canonical JSON of the surface input.
#[salsa::tracked(returns(ref))]
fn surface_key(db: &dyn Db, surface: SurfaceInput) -> Vec<u8> {
    let mut bytes = Vec::new();
    // A surface spec is plain data: it always serializes.
    field(&mut bytes, serde_json::to_string(surface.spec(db)).unwrap_or_default().as_bytes());
    field(&mut bytes, surface.root(db).as_bytes());
    blake3::hash(&bytes).as_bytes().to_vec()
}

/// The key of `view`'s signature computed by `memo`'s build over `inputs`: per relation it reads,
/// in order, its name, its kind (source, view, materialized view) and the schema a reader
/// sees through signatures (its placeholder is a function of the name and that schema).
/// `None` for a view without a definition (it has no signature to memoize).
pub fn memo_key(db: &dyn Db, memo: &SignatureMemo, view: ViewInput, inputs: &[(&str, (&'static [u8], DFSchemaRef))]) -> Option<MemoKey> {
    let definition = view.definition(db).as_ref()?;
    let mut hasher = crate::definition_digest::definition_hasher(b"viewdag signature memo v2\0", view.name(db), definition);
    let mut bytes = Vec::with_capacity(256);
    field(&mut bytes, memo.build().as_bytes());
    field(&mut bytes, surface_key(db, SurfaceInput::get(db)));
    field(&mut bytes, &(inputs.len() as u64).to_le_bytes());
    for (name, (kind, schema)) in inputs {
        field(&mut bytes, name.as_bytes());
        field(&mut bytes, kind);
        field(&mut bytes, &memo.schema_digest(schema, schema_digest));
    }
    hasher.update(&bytes);
    Some(*hasher.finalize().as_bytes())
}

/// BLAKE3 of a schema as readers see it ([`hash_schema`]'s bytes): gathered first and hashed
/// in one update (a schema is thousands of small writes, and the hash of a byte stream does
/// not depend on how it is fed).
fn schema_digest(schema: &DFSchema) -> [u8; 32] {
    let mut bytes = Vec::with_capacity(1024);
    hash_schema(&mut bytes, schema);
    *blake3::hash(&bytes).as_bytes()
}

/// A schema as readers see it: every column's qualifier and field (name, type,
/// nullability, metadata: arrow's `Hash`, which visits metadata in sorted key order, nested
/// fields included), the schema's metadata (sorted) and its functional dependencies.
fn hash_schema(bytes: &mut Vec<u8>, schema: &DFSchema) {
    field(bytes, &(schema.fields().len() as u64).to_le_bytes());
    for (qualifier, column) in schema.iter() {
        field(bytes, qualifier.map(|qualifier| qualifier.to_string()).unwrap_or_default().as_bytes());
        column.hash(&mut KeyHasher(bytes));
    }
    let metadata: BTreeMap<&String, &String> = schema.metadata().iter().collect();
    field(bytes, &(metadata.len() as u64).to_le_bytes());
    for (key, value) in metadata {
        field(bytes, key.as_bytes());
        field(bytes, value.as_bytes());
    }
    field(bytes, format!("{:?}", schema.functional_dependencies()).as_bytes());
}

/// `std::hash::Hash` into the key's bytes. What `Hash` writes (native-endian integers,
/// `0xff`-terminated strings) is fixed for a build, and the build is part of every key.
struct KeyHasher<'a>(&'a mut Vec<u8>);

impl std::hash::Hasher for KeyHasher<'_> {
    fn write(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    fn finish(&self) -> u64 {
        // Never asked: the key is the BLAKE3 hash of the bytes.
        0
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
