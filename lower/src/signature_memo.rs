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
//!   up with ([`SignatureMemo::entries_for`]), so the memo holds at most one entry per view.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::ipc::convert::{IpcSchemaEncoder, fb_to_schema};
use datafusion::arrow::ipc::root_as_schema;
use datafusion::common::{DFSchema, Dependency, FunctionalDependence, FunctionalDependencies};
use viewdag_ir::Diagnostic;

use crate::signature::ViewSignature;

/// A memo key: BLAKE3 of what a signature is a function of.
pub type MemoKey = [u8; 32];

/// A saved entry: a key and its encoded value.
pub type MemoEntry = (MemoKey, Arc<[u8]>);

/// The outcome lowering gives for one key: a signature, or the view's own errors.
pub type MemoValue = Result<ViewSignature, Arc<Vec<Diagnostic>>>;

/// Signatures by key, loaded from the previous process and recorded by this one.
#[derive(Debug, Default)]
pub struct SignatureMemo {
    /// Who built the values: hashed into every key.
    build: String,
    entries: RwLock<HashMap<MemoKey, Arc<[u8]>>>,
    /// Every distinct value held, once: a recorded value equal to one already held is
    /// stored as that one, so equal outcomes share their bytes (in memory and in the file).
    distinct: Mutex<HashSet<Arc<[u8]>>>,
    /// Values decoded so far, by the address of their shared bytes (the `Arc` is held here,
    /// so the address is never reused while it names a value): views with equal outcomes (a
    /// filter keeps its input's schema) decode one value and share it, and a lookup hashes
    /// an address, not the bytes.
    decoded: Mutex<HashMap<usize, (Arc<[u8]>, MemoValue)>>,
    /// Per view name: the key its signature was last looked up with.
    current: Mutex<HashMap<String, MemoKey>>,
    /// Whether a value was recorded that the loaded entries did not have.
    recorded: Mutex<bool>,
    /// Lookups answered and not answered, since the memo was made.
    counts: Mutex<MemoCounts>,
}

/// How many lookups the memo answered (`hits`) and how many outcomes it recorded (`misses`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoCounts {
    pub hits: usize,
    pub misses: usize,
}

impl SignatureMemo {
    /// A memo for values computed by `build` (viewdag's version and a build identity), with
    /// `entries` as a previous process saved them.
    pub fn new(build: impl Into<String>, entries: impl IntoIterator<Item = MemoEntry>) -> Self {
        let mut distinct = HashSet::new();
        let entries = entries
            .into_iter()
            .map(|(key, value)| {
                let value = match distinct.get(&value) {
                    Some(held) => Arc::clone(held),
                    None => {
                        distinct.insert(Arc::clone(&value));
                        value
                    }
                };
                (key, value)
            })
            .collect();
        SignatureMemo { build: build.into(), entries: RwLock::new(entries), distinct: Mutex::new(distinct), ..SignatureMemo::default() }
    }

    /// Who the values are computed by.
    pub fn build(&self) -> &str {
        &self.build
    }

    /// The memoized outcome for `view` under `key`, if there is one that decodes.
    pub fn lookup(&self, view: &str, key: &MemoKey) -> Option<MemoValue> {
        self.current.lock().expect("memo lock").insert(view.to_string(), *key);
        let bytes = self.entries.read().expect("memo lock").get(key).cloned()?;
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
        self.counts.lock().expect("memo lock").hits += 1;
        Some(value)
    }

    /// Records the outcome lowering gave for `key`.
    pub fn record(&self, view: &str, key: MemoKey, value: &MemoValue) {
        self.current.lock().expect("memo lock").insert(view.to_string(), key);
        self.counts.lock().expect("memo lock").misses += 1;
        let Some(bytes) = encode_value(value) else { return };
        let bytes = {
            let mut distinct = self.distinct.lock().expect("memo lock");
            match distinct.get(bytes.as_slice()) {
                Some(held) => Arc::clone(held),
                None => {
                    let bytes: Arc<[u8]> = Arc::from(bytes);
                    distinct.insert(Arc::clone(&bytes));
                    bytes
                }
            }
        };
        self.entries.write().expect("memo lock").insert(key, bytes);
        *self.recorded.lock().expect("memo lock") = true;
    }

    /// Whether a value was recorded since the last call (so a saved memo would differ).
    pub fn take_recorded(&self) -> bool {
        std::mem::take(&mut *self.recorded.lock().expect("memo lock"))
    }

    /// How many lookups were answered and how many outcomes recorded so far.
    pub fn counts(&self) -> MemoCounts {
        *self.counts.lock().expect("memo lock")
    }

    /// How many entries the memo holds (loaded and recorded).
    pub fn len(&self) -> usize {
        self.entries.read().expect("memo lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What to save: for each of `views` that was looked up, the entry of its last key,
    /// ordered by key (so equal memos save equal bytes).
    pub fn entries_for<'a>(&self, views: impl IntoIterator<Item = &'a str>) -> Vec<MemoEntry> {
        let current = self.current.lock().expect("memo lock");
        let entries = self.entries.read().expect("memo lock");
        let kept: BTreeMap<MemoKey, Arc<[u8]>> =
            views.into_iter().filter_map(|view| current.get(view)).filter_map(|key| Some((*key, Arc::clone(entries.get(key)?)))).collect();
        kept.into_iter().collect()
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

fn put_number(bytes: &mut Vec<u8>, number: usize) {
    bytes.extend_from_slice(&(number as u64).to_le_bytes());
}

fn put(bytes: &mut Vec<u8>, part: &[u8]) {
    put_number(bytes, part.len());
    bytes.extend_from_slice(part);
}

fn put_indices(bytes: &mut Vec<u8>, indices: &[usize]) {
    put_number(bytes, indices.len());
    for index in indices {
        put_number(bytes, *index);
    }
}

/// Reads what the `put` functions wrote; `None` past the end.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        if self.bytes.len() < count {
            return None;
        }
        let (taken, rest) = self.bytes.split_at(count);
        self.bytes = rest;
        Some(taken)
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn number(&mut self) -> Option<usize> {
        usize::try_from(u64::from_le_bytes(self.take(8)?.try_into().ok()?)).ok()
    }

    fn part(&mut self) -> Option<&'a [u8]> {
        let length = self.number()?;
        self.take(length)
    }

    fn indices(&mut self) -> Option<Vec<usize>> {
        let count = self.number()?;
        if count > self.bytes.len() / 8 {
            return None;
        }
        (0..count).map(|_| self.number()).collect()
    }
}

/// The memo file's first bytes.
const FILE_MAGIC: &[u8] = b"viewdag signature memo\0";
/// The memo file's layout version (bumped with any change of the layout or of the values).
pub const FILE_FORMAT: u32 = 3;
/// The version of viewdag that writes memo files.
pub const VIEWDAG_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The bytes before the body: the magic, the format (`u32`) and the file's length (`u64`).
pub const HEADER_LENGTH: usize = FILE_MAGIC.len() + 4 + 8;
/// The BLAKE3 checksum closing the file.
const CHECKSUM_LENGTH: usize = 32;

/// Why a memo file is not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemoFileError {
    #[error("it is not a viewdag signature cache")]
    NotAMemo,
    #[error("it is truncated")]
    Truncated,
    #[error("its checksum does not match its contents")]
    Corrupted,
    #[error("it has format {found}, this build reads format {FILE_FORMAT}")]
    Format { found: u32 },
    #[error("it was written by viewdag {found}, this is viewdag {VIEWDAG_VERSION}")]
    Version { found: String },
}

/// A memo file's bytes: the magic, the format, the file's whole length, viewdag's version,
/// each distinct value once (in the order the entries first name them), then the entries
/// (key, index of its value) in the order given, and a BLAKE3 checksum of everything before
/// it. The length in the header is what tells a cut-off file from a corrupted one: a flipped
/// byte anywhere in the body cannot make the file look shorter than it says it is. Equal
/// values are written once whether or not they share their bytes in memory (those that do
/// are recognised by address first, so a project's thousands of equal schemas are compared
/// once), so the bytes depend on the entries' keys and values only.
pub fn encode_file(entries: &[MemoEntry]) -> Vec<u8> {
    let mut by_address: HashMap<usize, u32> = HashMap::new();
    let mut by_bytes: HashMap<&[u8], u32> = HashMap::new();
    let mut values: Vec<&[u8]> = Vec::new();
    let indices: Vec<u32> = entries
        .iter()
        .map(|(_, value)| {
            *by_address.entry(value.as_ptr() as usize).or_insert_with(|| {
                *by_bytes.entry(&value[..]).or_insert_with(|| {
                    values.push(&value[..]);
                    u32::try_from(values.len() - 1).expect("fewer than 2^32 values")
                })
            })
        })
        .collect();
    let mut bytes = FILE_MAGIC.to_vec();
    bytes.extend_from_slice(&FILE_FORMAT.to_le_bytes());
    let length_at = bytes.len();
    put_number(&mut bytes, 0);
    put(&mut bytes, VIEWDAG_VERSION.as_bytes());
    put_number(&mut bytes, values.len());
    for value in &values {
        put(&mut bytes, value);
    }
    put_number(&mut bytes, entries.len());
    bytes.reserve(entries.len() * (32 + 4) + CHECKSUM_LENGTH);
    for ((key, _), index) in entries.iter().zip(indices) {
        bytes.extend_from_slice(key);
        bytes.extend_from_slice(&index.to_le_bytes());
    }
    let length = (bytes.len() + CHECKSUM_LENGTH) as u64;
    bytes[length_at..length_at + 8].copy_from_slice(&length.to_le_bytes());
    let checksum = blake3::hash(&bytes);
    bytes.extend_from_slice(checksum.as_bytes());
    bytes
}

/// The entries of a memo file, if it is whole, uncorrupted and of this format and version.
pub fn decode_file(bytes: &[u8]) -> Result<Vec<MemoEntry>, MemoFileError> {
    if !bytes.starts_with(FILE_MAGIC) {
        return Err(if FILE_MAGIC.starts_with(bytes) { MemoFileError::Truncated } else { MemoFileError::NotAMemo });
    }
    let mut reader = Reader { bytes: &bytes[FILE_MAGIC.len()..] };
    let format = u32::from_le_bytes(reader.take(4).ok_or(MemoFileError::Truncated)?.try_into().map_err(|_| MemoFileError::Truncated)?);
    let checksum_holds = |bytes: &[u8]| {
        bytes.len() >= CHECKSUM_LENGTH && {
            let (body, checksum) = bytes.split_at(bytes.len() - CHECKSUM_LENGTH);
            blake3::hash(body).as_bytes() == checksum
        }
    };
    if format != FILE_FORMAT {
        // Another layout: trust its format only if its checksum (same place in every format) holds.
        return Err(if checksum_holds(bytes) { MemoFileError::Format { found: format } } else { MemoFileError::Corrupted });
    }
    let declared_length = reader.number().ok_or(MemoFileError::Truncated)?;
    if !checksum_holds(bytes) {
        return Err(if bytes.len() < declared_length { MemoFileError::Truncated } else { MemoFileError::Corrupted });
    }
    if declared_length != bytes.len() || bytes.len() < HEADER_LENGTH + CHECKSUM_LENGTH {
        return Err(MemoFileError::Corrupted);
    }
    reader.bytes = &bytes[HEADER_LENGTH..bytes.len() - CHECKSUM_LENGTH];
    let version = reader.part().ok_or(MemoFileError::Corrupted)?;
    if version != VIEWDAG_VERSION.as_bytes() {
        return Err(MemoFileError::Version { found: String::from_utf8_lossy(version).into_owned() });
    }
    let value_count = reader.number().ok_or(MemoFileError::Corrupted)?;
    let mut values: Vec<Arc<[u8]>> = Vec::with_capacity(value_count.min(reader.bytes.len() / 8));
    for _ in 0..value_count {
        values.push(Arc::from(reader.part().ok_or(MemoFileError::Corrupted)?));
    }
    let count = reader.number().ok_or(MemoFileError::Corrupted)?;
    let mut entries = Vec::with_capacity(count.min(reader.bytes.len() / 36));
    for _ in 0..count {
        let key: MemoKey = reader.take(32).and_then(|key| key.try_into().ok()).ok_or(MemoFileError::Corrupted)?;
        let index = reader.take(4).and_then(|index| Some(u32::from_le_bytes(index.try_into().ok()?))).ok_or(MemoFileError::Corrupted)?;
        let value = values.get(index as usize).ok_or(MemoFileError::Corrupted)?;
        entries.push((key, Arc::clone(value)));
    }
    if !reader.bytes.is_empty() {
        return Err(MemoFileError::Corrupted);
    }
    Ok(entries)
}
