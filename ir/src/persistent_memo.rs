//! A table of encoded values kept across processes, keyed by what they are a function of:
//! the storage under each persistent memo (a spec's pieces in [`crate::piece_memo`], a
//! `sql` view's reads in `viewdag-validate`, a view's signature in `viewdag-lower`), and the
//! file framing the driver saves tables in.
//!
//! ## Invariants
//! - A value is a pure function of its key (the memo that computes the key guarantees it),
//!   so a table may be read by a tracked query as an untracked side table: a hit returns
//!   what computing would have returned, in any process.
//! - Each distinct value is held once: a recorded value equal to one already held is stored
//!   as that one, and the file writes it once ([`encode_file`]).
//! - What is written back is, per owner (a view, or a piece of a spec), the entry of the key
//!   it was last looked up with ([`MemoTable::entries_for`], [`MemoTable::current_keys`]),
//!   so a saved table holds at most one entry per owner. A table may also read its values
//!   one by one as they are looked up ([`MemoTable::reading`]) and write back only what it
//!   recorded ([`MemoTable::take_fresh_entries`]).
//! - A file that is not whole, not of this format or viewdag version, or fails its checksum
//!   is refused as a whole ([`decode_file`]); nothing in it is used.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use rustc_hash::FxHashMap;

/// A memo key: BLAKE3 of what a value is a function of (with a domain tag per memo, so
/// the keys of different memos never meet).
pub type MemoKey = [u8; 32];

/// A saved entry: a key and its encoded value.
pub type MemoEntry = (MemoKey, Arc<[u8]>);

/// How many lookups a table answered (`hits`) and how many values it recorded (`misses`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoCounts {
    pub hits: usize,
    pub misses: usize,
}

/// Reads the value of one key from where a table's values are kept (the driver's files),
/// for a table that reads each value as it is looked up ([`MemoTable::reading`]).
pub struct ValueSource(Box<ReadValue>);

/// What a [`ValueSource`] calls: the value saved for a key, if any.
type ReadValue = dyn Fn(&MemoKey) -> Option<Arc<[u8]>> + Send + Sync;

impl std::fmt::Debug for ValueSource {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ValueSource")
    }
}

/// Encoded values by key, loaded from the previous process and recorded by this one.
///
/// Looked up from several threads at once (a compile's workers), so a lookup of a loaded
/// value takes no lock on the values (they never change once loaded) and one lock of a
/// shard of the owners' current keys; the counts are atomics.
#[derive(Debug, Default)]
pub struct MemoTable {
    /// Who built the values: hashed into every key.
    build: String,
    /// The values a previous process saved, as loaded. Keys are BLAKE3 hashes and view names
    /// are the project's own: hashed with Fx (never iterated into anything saved but through
    /// [`MemoTable::entries_for`], [`MemoTable::take_fresh_entries`] and
    /// [`MemoTable::current_keys`], which sort).
    loaded: FxHashMap<MemoKey, Arc<[u8]>>,
    /// The values recorded by this process, and those read from the source since.
    added: RwLock<FxHashMap<MemoKey, Arc<[u8]>>>,
    /// Whether a loaded key was recorded again (its loaded value did not decode): from then
    /// on the added values are looked at first.
    overridden: AtomicBool,
    /// Every distinct value held, once.
    distinct: Mutex<HashSet<Arc<[u8]>>>,
    /// Per owner's name: the key its value was last looked up with, in shards by the name's
    /// hash (workers looking up different views rarely wait for each other).
    current: [Mutex<FxHashMap<String, MemoKey>>; CURRENT_SHARDS],
    /// Whether a value was recorded since the last [`MemoTable::take_recorded`].
    recorded: AtomicBool,
    /// Lookups answered and values recorded, since the table was made.
    hits: AtomicUsize,
    misses: AtomicUsize,
    /// Where a value not held yet is read from, for a table made by [`MemoTable::reading`].
    source: Option<ValueSource>,
    /// The keys recorded with a value since the last [`MemoTable::take_fresh_entries`].
    fresh: Mutex<Vec<MemoKey>>,
}

/// How many shards the owners' current keys are kept in.
const CURRENT_SHARDS: usize = 8;

impl MemoTable {
    /// A table for values computed by `build` (viewdag's version and a build identity), with
    /// `entries` as a previous process saved them.
    pub fn new(build: impl Into<String>, entries: impl IntoIterator<Item = MemoEntry>) -> Self {
        let mut distinct = HashSet::new();
        // Entries decoded from a file already share equal values: each shared value is
        // hashed once and found by address after that (`originals` keeps every address seen
        // alive, so none is reused meanwhile).
        let mut by_address: HashMap<usize, Arc<[u8]>> = HashMap::new();
        let mut originals: Vec<Arc<[u8]>> = Vec::new();
        let loaded: FxHashMap<MemoKey, Arc<[u8]>> = entries
            .into_iter()
            .map(|(key, value)| {
                let held = by_address.entry(value.as_ptr() as usize).or_insert_with(|| {
                    originals.push(Arc::clone(&value));
                    shared(&mut distinct, value)
                });
                (key, Arc::clone(held))
            })
            .collect();
        // A new process looks up about one key per saved entry: room for them at once.
        let per_shard = loaded.len() / CURRENT_SHARDS + 1;
        let current = std::array::from_fn(|_| Mutex::new(FxHashMap::with_capacity_and_hasher(per_shard, Default::default())));
        MemoTable { build: build.into(), loaded, distinct: Mutex::new(distinct), current, ..MemoTable::default() }
    }

    /// A table for values computed by `build` that reads each value from `source` the first
    /// time its key is looked up (values kept one per file: a process reads the ones it
    /// needs, and writes back only the ones it recorded, [`MemoTable::take_fresh_entries`]).
    /// `source` is the host's I/O: such a table is for work outside salsa (the spec's
    /// parse), never for a tracked query.
    pub fn reading(build: impl Into<String>, source: impl Fn(&MemoKey) -> Option<Arc<[u8]>> + Send + Sync + 'static) -> Self {
        MemoTable { build: build.into(), source: Some(ValueSource(Box::new(source))), ..MemoTable::default() }
    }

    /// Who the values are computed by.
    pub fn build(&self) -> &str {
        &self.build
    }

    /// The shard of `owner`'s current key.
    fn current_of(&self, owner: &str) -> std::sync::MutexGuard<'_, FxHashMap<String, MemoKey>> {
        let shard = (rustc_hash::FxBuildHasher.hash_one(owner) as usize) % CURRENT_SHARDS;
        self.current[shard].lock().expect("memo lock")
    }

    /// The value held for `key` (the last recorded, else the loaded one), if any.
    fn held(&self, key: &MemoKey) -> Option<Arc<[u8]>> {
        if self.overridden.load(Ordering::Acquire)
            && let Some(value) = self.added.read().expect("memo lock").get(key)
        {
            return Some(Arc::clone(value));
        }
        match self.loaded.get(key) {
            Some(value) => Some(Arc::clone(value)),
            None => self.added.read().expect("memo lock").get(key).cloned(),
        }
    }

    /// The bytes held for `key`, noting it as `view`'s current key. Not counted: the caller
    /// counts a hit ([`MemoTable::count_hit`]) once the bytes decode.
    pub fn lookup(&self, view: &str, key: &MemoKey) -> Option<Arc<[u8]>> {
        self.current_of(view).insert(view.to_string(), *key);
        if let Some(value) = self.held(key) {
            return Some(value);
        }
        let value = (self.source.as_ref()?.0)(key)?;
        self.added.write().expect("memo lock").insert(*key, Arc::clone(&value));
        Some(value)
    }

    /// Counts a lookup answered.
    pub fn count_hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    /// Records `bytes` as the value of `key` (`view`'s current key); `None`, a value that
    /// could not be encoded, is counted and not recorded.
    pub fn record(&self, view: &str, key: MemoKey, bytes: Option<Vec<u8>>) {
        self.current_of(view).insert(view.to_string(), key);
        self.misses.fetch_add(1, Ordering::Relaxed);
        let Some(bytes) = bytes else { return };
        let bytes = shared(&mut self.distinct.lock().expect("memo lock"), Arc::from(bytes));
        self.added.write().expect("memo lock").insert(key, bytes);
        if self.loaded.contains_key(&key) {
            self.overridden.store(true, Ordering::Release);
        }
        self.fresh.lock().expect("memo lock").push(key);
        self.recorded.store(true, Ordering::Relaxed);
    }

    /// The entries recorded since the last call, ordered by key (what a table kept one value
    /// per file writes); clears [`MemoTable::take_recorded`]'s flag too.
    pub fn take_fresh_entries(&self) -> Vec<MemoEntry> {
        self.recorded.store(false, Ordering::Relaxed);
        let fresh = std::mem::take(&mut *self.fresh.lock().expect("memo lock"));
        let kept: BTreeMap<MemoKey, Arc<[u8]>> = fresh.into_iter().filter_map(|key| Some((key, self.held(&key)?))).collect();
        kept.into_iter().collect()
    }

    /// Whether a value was recorded since the last call (so a saved table would differ).
    pub fn take_recorded(&self) -> bool {
        self.recorded.swap(false, Ordering::Relaxed)
    }

    /// How many lookups were answered and how many values recorded so far.
    pub fn counts(&self) -> MemoCounts {
        MemoCounts { hits: self.hits.load(Ordering::Relaxed), misses: self.misses.load(Ordering::Relaxed) }
    }

    /// Forgets which key each owner was last looked up with: for a memo whose owners a
    /// use derives again from scratch (a spec's pieces, each parse), so that
    /// [`MemoTable::current_keys`] are that use's keys only.
    pub fn clear_current(&self) {
        for shard in &self.current {
            shard.lock().expect("memo lock").clear();
        }
    }

    /// Every owner's last key, ordered (what a table kept one value per file keeps).
    pub fn current_keys(&self) -> Vec<MemoKey> {
        let mut keys = std::collections::BTreeSet::new();
        for shard in &self.current {
            keys.extend(shard.lock().expect("memo lock").values().copied());
        }
        keys.into_iter().collect()
    }

    /// How many entries the table holds (loaded and added).
    pub fn len(&self) -> usize {
        let added = self.added.read().expect("memo lock");
        self.loaded.len() + added.keys().filter(|key| !self.loaded.contains_key(*key)).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What to save: for each of `views` that was looked up, the entry of its last key,
    /// ordered by key (so equal tables save equal bytes).
    pub fn entries_for<'a>(&self, views: impl IntoIterator<Item = &'a str>) -> Vec<MemoEntry> {
        let kept: BTreeMap<MemoKey, Arc<[u8]>> = views
            .into_iter()
            .filter_map(|view| self.current_of(view).get(view).copied())
            .filter_map(|key| Some((key, self.held(&key)?)))
            .collect();
        kept.into_iter().collect()
    }
}

/// `value`, or the equal value `distinct` already holds (which it then shares).
fn shared(distinct: &mut HashSet<Arc<[u8]>>, value: Arc<[u8]>) -> Arc<[u8]> {
    match distinct.get(&value) {
        Some(held) => Arc::clone(held),
        None => {
            distinct.insert(Arc::clone(&value));
            value
        }
    }
}

/// Appends `number` (a little-endian `u64`).
pub fn put_number(bytes: &mut Vec<u8>, number: usize) {
    bytes.extend_from_slice(&(number as u64).to_le_bytes());
}

/// Appends `part`, prefixed by its length.
pub fn put(bytes: &mut Vec<u8>, part: &[u8]) {
    put_number(bytes, part.len());
    bytes.extend_from_slice(part);
}

/// Appends `number` in as few bytes as it needs (LEB128: seven bits a byte, lowest first).
pub fn put_varint(bytes: &mut Vec<u8>, number: usize) {
    let mut rest = number as u64;
    while rest >= 0x80 {
        bytes.push((rest as u8 & 0x7f) | 0x80);
        rest >>= 7;
    }
    bytes.push(rest as u8);
}

/// Appends `indices`, prefixed by their count.
pub fn put_indices(bytes: &mut Vec<u8>, indices: &[usize]) {
    put_number(bytes, indices.len());
    for index in indices {
        put_number(bytes, *index);
    }
}

/// Reads what the `put` functions wrote; `None` past the end.
#[derive(Debug)]
pub struct Reader<'a> {
    pub bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        if self.bytes.len() < count {
            return None;
        }
        let (taken, rest) = self.bytes.split_at(count);
        self.bytes = rest;
        Some(taken)
    }

    pub fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    pub fn number(&mut self) -> Option<usize> {
        usize::try_from(u64::from_le_bytes(self.take(8)?.try_into().ok()?)).ok()
    }

    /// What [`put_varint`] wrote; `None` for more than ten bytes or a number past `usize`.
    pub fn varint(&mut self) -> Option<usize> {
        let mut number: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            number |= u64::from(byte & 0x7f).checked_shl(shift)?;
            if byte & 0x80 == 0 {
                return usize::try_from(number).ok();
            }
        }
        None
    }

    pub fn part(&mut self) -> Option<&'a [u8]> {
        let length = self.number()?;
        self.take(length)
    }

    pub fn indices(&mut self) -> Option<Vec<usize>> {
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

impl MemoFileError {
    /// Whether the file is whole and of another build (another layout or viewdag version):
    /// a cache to replace, not a damaged one to warn about.
    pub fn is_another_build(&self) -> bool {
        matches!(self, MemoFileError::Format { .. } | MemoFileError::Version { .. })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> MemoKey {
        [byte; 32]
    }

    fn value(text: &str) -> Arc<[u8]> {
        Arc::from(text.as_bytes())
    }

    #[test]
    fn a_value_recorded_again_replaces_the_loaded_one_in_lookups_and_in_what_is_saved() {
        let table = MemoTable::new("build", [(key(1), value("a")), (key(2), value("b"))]);
        assert_eq!(table.lookup("one", &key(1)).as_deref(), Some(&b"a"[..]));
        assert_eq!(table.lookup("two", &key(2)).as_deref(), Some(&b"b"[..]));
        assert!(table.lookup("three", &key(3)).is_none());
        // `two`'s loaded value did not decode: recorded again under the same key.
        table.record("two", key(2), Some(b"b2".to_vec()));
        table.record("three", key(3), Some(b"c".to_vec()));
        table.count_hit();
        assert_eq!(table.counts(), MemoCounts { hits: 1, misses: 2 });
        assert!(table.take_recorded() && !table.take_recorded());
        assert_eq!(table.lookup("two", &key(2)).as_deref(), Some(&b"b2"[..]));
        let saved: Vec<(MemoKey, Vec<u8>)> =
            table.entries_for(["one", "two", "three", "never looked up"]).into_iter().map(|(key, value)| (key, value.to_vec())).collect();
        assert_eq!(saved, vec![(key(1), b"a".to_vec()), (key(2), b"b2".to_vec()), (key(3), b"c".to_vec())]);
        assert_eq!(table.len(), 3);
        let fresh: Vec<MemoKey> = table.take_fresh_entries().into_iter().map(|(key, _)| key).collect();
        assert_eq!(fresh, vec![key(2), key(3)]);
        assert!(table.take_fresh_entries().is_empty());
    }

    #[test]
    fn a_reading_table_reads_each_value_once_and_keeps_the_current_keys_of_its_last_use() {
        let reads = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&reads);
        let table = MemoTable::reading("build", move |key| {
            counted.fetch_add(1, Ordering::Relaxed);
            (key[0] % 2 == 1).then(|| value("odd"))
        });
        assert!(table.lookup("first", &key(1)).is_some());
        assert!(table.lookup("first again", &key(1)).is_some());
        assert!(table.lookup("second", &key(2)).is_none());
        assert_eq!(reads.load(Ordering::Relaxed), 2, "a value read is held");
        assert_eq!(table.current_keys(), vec![key(1), key(2)]);
        table.clear_current();
        assert!(table.lookup("third", &key(3)).is_some());
        assert_eq!(table.current_keys(), vec![key(3)]);
    }
}
