//! Replaying the check of an unchanged project: `.viewdag/cache/check.bin` next to the spec
//! keeps what the last `check` printed together with what it read, so a new process on an
//! unchanged project prints the same thing again without parsing the spec, loading a source
//! or checking a view (cargo replays a fresh unit's compiler output the same way).
//!
//! The command line asks [`replay`] before it compiles; on a miss it notes the file system's
//! clock ([`start`]), checks, and calls [`record`].
//!
//! ## Invariants
//! - A record is replayed only for the same build ([`build_identity`]), the same spec bytes,
//!   the same spec path as given and directory (canonical), the same output format and
//!   colour, and only while every file the check read is as it was: the record lists them
//!   ([`Probe`]: each source's files or Delta log, the Delta log of each output that keeps
//!   its rows, the canonical form of every source, output and tables path, so a symlink
//!   swapped in is seen) with what was observed (names, sizes, modification times, the
//!   fingerprint the compiler itself reloads sources by), and a replay observes each again.
//!   A record is written only if every file it lists, and every directory they are in, was
//!   last modified before the check started (in an earlier tick of the file system's
//!   clock), so what was observed after the check is what the check read — a file added,
//!   rewritten, removed or renamed meanwhile keeps the check from being recorded. (A
//!   symlink swapped while the check runs is not seen this way: it is seen by the next
//!   check only if it changed what a canonical path resolves to.)
//!   The list is a function of the spec's bytes and directory, both in the key, so it is the
//!   list the check would read now.
//! - What cannot be observed that way is never recorded: a spec with an object-store path or
//!   `profile.storage` settings, a path that exists but cannot be listed. A check narrowed
//!   by a selection, or that reported a cache warning, is not recorded by the command line.
//! - The file has the signature cache's framing (magic, format, viewdag's version, BLAKE3
//!   checksum): a file failing it is ignored with one `V0920` warning and rewritten; it is
//!   written atomically (a temporary file renamed over the old one) and holds at most
//!   [`MAX_RECORDS`] records, the newest first.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use viewdag_ir::{Code, Diagnostic, ParsedSpec, SpecLocation, StorageUrl, WriteMode};
use viewdag_lower::signature_memo::{MemoEntry, MemoKey, decode_file, encode_file};

use crate::compiler::signature_cache::{CacheSaveError, build_identity, write_atomically};
use crate::sources::{observe_files, source_files};

/// Where the last check's record lives, relative to the spec's directory.
pub const CHECK_REPLAY_FILE: &str = ".viewdag/cache/check.bin";

/// The most records the file keeps (one per output format and colour is the usual need).
pub const MAX_RECORDS: usize = 4;

/// What a check printed, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOutput {
    /// Everything written on stdout.
    pub stdout: String,
    /// Everything written on stderr.
    pub stderr: String,
    /// The process's exit code.
    pub exit_code: i32,
}

/// Which check a record answers: everything but the files read.
#[derive(Debug, Clone, Copy)]
pub struct CheckKey<'a> {
    /// The spec's path as the user gave it (it is printed).
    pub spec_path: &'a Path,
    /// The spec's bytes.
    pub spec_text: &'a str,
    /// The output format's name (`human`, `json`).
    pub format: &'a str,
    /// Whether diagnostics are coloured.
    pub color: bool,
}

impl CheckKey<'_> {
    fn digest(&self) -> MemoKey {
        let root = crate::compiler::spec_root(self.spec_path);
        let mut hasher = blake3::Hasher::new();
        for part in [
            "viewdag check record 1",
            build_identity(),
            &self.spec_path.to_string_lossy(),
            &root.to_string_lossy(),
            self.format,
            if self.color { "color" } else { "plain" },
        ] {
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        hasher.update(&(self.spec_text.len() as u64).to_le_bytes());
        hasher.update(self.spec_text.as_bytes());
        *hasher.finalize().as_bytes()
    }
}

/// One thing on disk a check read, observed again before a replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Probe {
    /// The files below a path whose names end with `extension` (a file: itself): names,
    /// sizes, modification times and, for a symlink, where it leads; `absent` when the path
    /// does not exist.
    Files {
        /// A file or directory.
        path: PathBuf,
        /// The end of the names listed (`.parquet`; empty: every file).
        extension: String,
    },
    /// The path with every symlink resolved; `absent` when it does not exist.
    Canonical {
        /// A file or directory.
        path: PathBuf,
    },
}

impl Probe {
    /// What is there now, with the newest modification time among the files observed;
    /// `None` when it exists but cannot be read (never recorded).
    fn observe(&self) -> Option<(String, Option<SystemTime>)> {
        match self {
            Probe::Files { path, .. } | Probe::Canonical { path } if !path.exists() => Some(("absent".to_string(), None)),
            Probe::Files { path, extension } => observe_files(path, extension, true),
            Probe::Canonical { path } => std::fs::canonicalize(path).ok().map(|path| (path.to_string_lossy().into_owned(), None)),
        }
    }
}

/// A record: what was read (with what it was) and what was printed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    reads: Vec<(Probe, String)>,
    output: CheckOutput,
}

/// What [`replay`] found.
#[derive(Debug)]
pub enum Replay {
    /// The unchanged project's output, to print as it is.
    Hit(CheckOutput),
    /// No record for this check, or something it read changed: check.
    Miss,
    /// The file could not be used: check, and report this warning (not part of the output).
    Unreadable(Diagnostic),
}

/// The record of the check `key` describes, if one is stored and nothing it read changed.
pub fn replay(key: &CheckKey<'_>) -> Replay {
    let path = replay_path(key.spec_path);
    let entries = match read_entries(&path) {
        Ok(entries) => entries,
        Err(Some(warning)) => return Replay::Unreadable(warning),
        Err(None) => return Replay::Miss,
    };
    let digest = key.digest();
    let Some((_, value)) = entries.iter().find(|(key, _)| *key == digest) else { return Replay::Miss };
    let Ok(record) = serde_json::from_slice::<Record>(value) else { return Replay::Miss };
    let unchanged = record.reads.iter().all(|(probe, observed)| probe.observe().is_some_and(|(now, _)| now == *observed));
    if unchanged { Replay::Hit(record.output) } else { Replay::Miss }
}

/// The file system's clock when a check started, taken before it reads anything: what
/// [`record`] compares the files' modification times with.
#[derive(Debug, Clone, Copy)]
pub struct CheckStart {
    clock: Option<SystemTime>,
}

/// Notes the file system's time (the modification time of a file written and removed in the
/// cache directory) before a check that may be recorded; call it before compiling.
pub fn start(key: &CheckKey<'_>) -> CheckStart {
    let path = replay_path(key.spec_path).with_extension(format!("clock.{}.tmp", std::process::id()));
    let clock = path.parent().and_then(|directory| std::fs::create_dir_all(directory).ok()).and_then(|()| {
        let clock = std::fs::write(&path, b"").and_then(|()| std::fs::metadata(&path)?.modified()).ok();
        let _ = std::fs::remove_file(&path);
        clock
    });
    CheckStart { clock }
}

/// Records `output` as the check `key` describes, started at `started`, over `parsed` (its
/// spec's parse). Returns whether it was recorded: a spec whose reads cannot be observed
/// ([`probes`]) is not, nor one that read a file modified since the check started or in the
/// clock tick it started in (git's "racily clean" rule: the record must not outlive a change
/// the check may not have seen, and a change in that tick may leave the time as it was).
pub fn record(key: &CheckKey<'_>, started: CheckStart, parsed: &ParsedSpec, output: &CheckOutput) -> Result<bool, CacheSaveError> {
    let Some(started) = started.clock else { return Ok(false) };
    let root = crate::compiler::spec_root(key.spec_path);
    let Some(probes) = probes(&root, parsed) else { return Ok(false) };
    let mut reads = Vec::with_capacity(probes.len());
    for probe in probes {
        let Some((observed, newest)) = probe.observe() else { return Ok(false) };
        if newest.is_some_and(|newest| newest >= started) {
            return Ok(false);
        }
        reads.push((probe, observed));
    }
    let value = serde_json::to_vec(&Record { reads, output: output.clone() }).expect("a record serializes");
    let path = replay_path(key.spec_path);
    let digest = key.digest();
    let kept = read_entries(&path).unwrap_or_default().into_iter().filter(|(key, _)| *key != digest);
    let entries: Vec<MemoEntry> = std::iter::once((digest, Arc::from(value))).chain(kept).take(MAX_RECORDS).collect();
    write_atomically(&path, &encode_file(&entries))?;
    Ok(true)
}

/// The outputs the record file of the spec at `spec_path` holds, newest first (empty when
/// there is none or it cannot be used), whatever build or spec bytes they were recorded for:
/// for tools and tests that look inside the cache.
pub fn recorded_outputs(spec_path: &Path) -> Vec<CheckOutput> {
    let entries = read_entries(&replay_path(spec_path)).unwrap_or_default();
    entries.iter().filter_map(|(_, value)| serde_json::from_slice::<Record>(value).ok()).map(|record| record.output).collect()
}

/// What a check of `parsed` in `root` reads from disk; `None` when some of it is not a
/// local path (an object store, or `profile.storage` that settings would be read for).
pub fn probes(root: &Path, parsed: &ParsedSpec) -> Option<Vec<Probe>> {
    if !parsed.profile.storage.is_empty() {
        return None;
    }
    let local = |path: &str| match StorageUrl::looks_like_url(path) {
        true => None,
        false => Some(root.join(path)),
    };
    let mut probes = vec![Probe::Canonical { path: local(parsed.profile.tables_location())? }];
    for spec in parsed.sources.values().flatten() {
        let path = local(&spec.path)?;
        let (files, extension) = source_files(&path, spec.format);
        probes.push(Probe::Canonical { path });
        probes.push(Probe::Files { path: files, extension: extension.to_string() });
    }
    for spec in parsed.outputs.values().flatten() {
        let path = local(&spec.path)?;
        if spec.mode != WriteMode::Overwrite {
            probes.push(Probe::Files { path: path.join("_delta_log"), extension: String::new() });
        }
        probes.push(Probe::Canonical { path });
    }
    Some(probes)
}

/// The record file of the spec at `spec_path`.
pub fn replay_path(spec_path: &Path) -> PathBuf {
    crate::compiler::spec_root(spec_path).join(CHECK_REPLAY_FILE)
}

/// The file's entries; `Err(None)` when there is no file, `Err(Some(warning))` when it
/// cannot be used.
fn read_entries(path: &Path) -> Result<Vec<MemoEntry>, Option<Diagnostic>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(None),
        Err(error) => return Err(Some(unreadable(&error.to_string()))),
    };
    decode_file(&bytes).map_err(|error| Some(unreadable(&error.to_string())))
}

/// The one warning of a record file that cannot be used.
fn unreadable(reason: &str) -> Diagnostic {
    Diagnostic::new(
        Code::CacheUnreadable,
        SpecLocation::root(),
        format!("the check record `{CHECK_REPLAY_FILE}` could not be read ({reason}); it was ignored and is rebuilt"),
    )
    .with_note("the project was checked as if there were no record; `rm -rf .viewdag/cache` or `--no-cache` silences this")
}
