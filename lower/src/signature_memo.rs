//! The persistent per-view signature memo: [`view_signature`](crate::view_signature)'s
//! results kept across processes (the driver loads them from and saves them to
//! `.viewdag/cache/`), so a new process on an unchanged project does not plan every view
//! again.
//!
//! A view's signature is what lowering its own transform over its inputs' *signatures*
//! gives, and that is a pure function of exactly what [`crate::memo_key`] hashes:
//! - the build ([`SignatureMemo::build`]: viewdag's version and the driver's build identity,
//!   so another build never reads this one's entries);
//! - the planning surface: the canonical JSON of the `SurfaceInput`'s spec (its
//!   target partitions, batch size and `profile.surface`: formats, allowed table functions,
//!   CSV and Parquet options). Under one build the session state, and so the surface
//!   manifest and its hash, is a function of that spec (`viewdag_surface::planning_session`);
//!   the project root is hashed too (it is part of the same input);
//! - the view's name and canonical definition (its transform, `materialize`, …: the JSON
//!   form the definition digest hashes);
//! - per relation the view reads, in order: its name, its kind (source, ephemeral view,
//!   materialized view) and the schema its readers see, with qualifiers, field metadata,
//!   schema metadata and functional dependencies.
//!
//! Nothing else reaches `lower_view`: the bound on generated rows (`V0205`) is a constant of
//! the build; the materialized-table checks read the definition and the output schema. A
//! view that is broken or reads a failed relation fails before the memo is consulted (that
//! failure is the inputs', not the memo's).
//!
//! ## Invariants
//! - The memo is an untracked side table read by a tracked query, which salsa allows only for
//!   a value that is a pure function of the tracked reads: every value here is a pure
//!   function of its key, and the key is computed from tracked reads only. So a hit returns
//!   what lowering would have returned, in any process (the tests check decoded values
//!   against fresh ones, and whole compiles with and without the memo byte for byte).
//! - A key is BLAKE3 over a domain tag and unambiguous fields (`crate::memo_key`): no two
//!   different inputs share an encoding; map-ordered values (metadata) are hashed sorted.
//! - A value that does not decode is a miss (recomputed and overwritten), never an error.
//! - What is written back: per view of the project, the entry of the key it was last looked
//!   up with ([`MemoTable::entries_for`]), so the memo holds at most one entry per view.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::ipc::convert::{IpcSchemaEncoder, fb_to_schema};
use datafusion::arrow::ipc::root_as_schema;
use datafusion::common::{DFSchema, DFSchemaRef, Dependency, FunctionalDependence, FunctionalDependencies};
use viewdag_ir::Diagnostic;
pub use viewdag_ir::persistent_memo::{
    FILE_FORMAT, HEADER_LENGTH, MemoCounts, MemoEntry, MemoFileError, MemoKey, MemoTable, VIEWDAG_VERSION, decode_file, encode_file,
};
use viewdag_ir::persistent_memo::{Reader, put, put_indices, put_number};

use crate::signature::ViewSignature;

/// The outcome lowering gives for one key: a signature, or the view's own errors.
pub type MemoValue = Result<ViewSignature, Arc<Vec<Diagnostic>>>;

/// Signatures by key, loaded from the previous process and recorded by this one: a
/// [`MemoTable`] of encoded values and the values decoded so far.
#[derive(Debug, Default)]
pub struct SignatureMemo {
    table: MemoTable,
    /// Values decoded so far, by the address of their shared bytes (the `Arc` is held here,
    /// so the address is never reused while it names a value): views with equal outcomes (a
    /// filter keeps its input's schema) decode one value and share it, and a lookup hashes
    /// an address, not the bytes.
    decoded: Mutex<DecodedValues>,
    /// The digests of the input schemas keys were computed over, by the address of the schema
    /// (the `Arc` is held here, so the address names that schema only): readers of one view
    /// or source share its schema object, so each schema is hashed once per process.
    schema_digests: Mutex<SchemaDigests>,
}

/// How many schema digests a memo holds at most (a 100,000-view project's cold compile
/// creates about one schema object per view).
const MAX_SCHEMA_DIGESTS: usize = 1 << 18;

/// Schema digests by the address of the schema, each with the schema it keeps alive.
type SchemaDigests = HashMap<usize, (DFSchemaRef, [u8; 32])>;

/// Decoded values by the address of their bytes, each with the bytes it keeps alive.
type DecodedValues = HashMap<usize, (Arc<[u8]>, MemoValue)>;

impl SignatureMemo {
    /// A memo for values computed by `build` (viewdag's version and a build identity), with
    /// `entries` as a previous process saved them.
    pub fn new(build: impl Into<String>, entries: impl IntoIterator<Item = MemoEntry>) -> Self {
        SignatureMemo { table: MemoTable::new(build, entries), decoded: Mutex::default(), schema_digests: Mutex::default() }
    }

    /// The encoded values (what the driver saves).
    pub fn table(&self) -> &MemoTable {
        &self.table
    }

    /// Who the values are computed by.
    pub fn build(&self) -> &str {
        self.table.build()
    }

    /// The memoized outcome for `view` under `key`, if there is one that decodes.
    pub fn lookup(&self, view: &str, key: &MemoKey) -> Option<MemoValue> {
        let bytes = self.table.lookup(view, key)?;
        let address = bytes.as_ptr() as usize;
        let known = self.decoded.lock().expect("memo lock").get(&address).map(|(_, value)| value.clone());
        let value = match known {
            Some(value) => value,
            None => {
                let value = decode_value(&bytes)?;
                self.decoded.lock().expect("memo lock").insert(address, (bytes, value.clone()));
                value
            }
        };
        self.table.count_hit();
        Some(value)
    }

    /// `digest(schema)`, computed once per schema object this memo has seen.
    pub fn schema_digest(&self, schema: &DFSchemaRef, digest: impl FnOnce(&DFSchema) -> [u8; 32]) -> [u8; 32] {
        let address = Arc::as_ptr(schema) as usize;
        if let Some((_, known)) = self.schema_digests.lock().expect("memo lock").get(&address) {
            return *known;
        }
        let computed = digest(schema);
        let mut digests = self.schema_digests.lock().expect("memo lock");
        // A long-lived process (an editor's) sees new schema objects with every edit: the
        // digests are forgotten now and then rather than keeping old schemas alive.
        if digests.len() >= MAX_SCHEMA_DIGESTS {
            digests.clear();
        }
        digests.insert(address, (Arc::clone(schema), computed));
        computed
    }

    /// Records the outcome lowering gave for `key`.
    pub fn record(&self, view: &str, key: MemoKey, value: &MemoValue) {
        self.table.record(view, key, encode_value(value));
    }

    /// How many lookups were answered and how many outcomes recorded so far.
    pub fn counts(&self) -> MemoCounts {
        self.table.counts()
    }
}

const VALUE_SIGNATURE: u8 = 0;
const VALUE_ERRORS: u8 = 1;

/// A value's bytes: a tag, then for a signature its unqualified schema as an Arrow IPC
/// schema message (types, nullability and metadata), its functional dependencies and its
/// warnings (JSON); for errors, the diagnostics (JSON). Every part is length-prefixed.
pub fn encode_value(value: &MemoValue) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    match value {
        Ok(signature) => {
            bytes.push(VALUE_SIGNATURE);
            let schema = IpcSchemaEncoder::new().schema_to_fb(signature.schema.as_arrow()).finished_data().to_vec();
            put(&mut bytes, &schema);
            let dependencies = signature.schema.functional_dependencies();
            put_number(&mut bytes, dependencies.len());
            for dependence in dependencies.iter() {
                put_indices(&mut bytes, &dependence.source_indices);
                put_indices(&mut bytes, &dependence.target_indices);
                bytes.push(u8::from(dependence.nullable));
                bytes.push(match dependence.mode {
                    Dependency::Single => 0,
                    Dependency::Multi => 1,
                });
            }
            put(&mut bytes, &serde_json::to_vec(signature.warnings.as_ref()).ok()?);
        }
        Err(errors) => {
            bytes.push(VALUE_ERRORS);
            put(&mut bytes, &serde_json::to_vec(errors.as_ref()).ok()?);
        }
    }
    Some(bytes)
}

/// The value `bytes` encode, if they decode completely.
pub fn decode_value(bytes: &[u8]) -> Option<MemoValue> {
    let mut reader = Reader { bytes };
    let value = match reader.byte()? {
        VALUE_SIGNATURE => {
            // Verified by the flatbuffer reader: bytes that are not a schema are a miss.
            let schema: Schema = fb_to_schema(root_as_schema(reader.part()?).ok()?);
            let count = reader.number()?;
            let mut dependencies = Vec::with_capacity(count.min(1024));
            for _ in 0..count {
                let source = reader.indices()?;
                let target = reader.indices()?;
                let nullable = reader.byte()? == 1;
                let mode = match reader.byte()? {
                    0 => Dependency::Single,
                    1 => Dependency::Multi,
                    _ => return None,
                };
                dependencies.push(FunctionalDependence::new(source, target, nullable).with_mode(mode));
            }
            let warnings: Vec<Diagnostic> = serde_json::from_slice(reader.part()?).ok()?;
            let schema = DFSchema::try_from(schema).ok()?.with_functional_dependencies(FunctionalDependencies::new(dependencies)).ok()?;
            Ok(ViewSignature { schema: Arc::new(schema), warnings: Arc::new(warnings) })
        }
        VALUE_ERRORS => Err(Arc::new(serde_json::from_slice::<Vec<Diagnostic>>(reader.part()?).ok()?)),
        _ => return None,
    };
    reader.bytes.is_empty().then_some(value)
}
