//! Replaying an unchanged project's `check`, and `run` of a project that is up to date:
//! `.viewdag/cache/replay.bin` next to the spec keeps what the last such command printed
//! together with what it read, so a new process on an unchanged project prints the same
//! thing again without parsing the spec, loading a source or checking a view (cargo replays
//! a fresh unit's compiler output the same way).
//!
//! The command line [`begin`]s: it asks [`replay`] before it compiles; on a miss it notes the
//! file system's clock ([`start`]), runs the command, and calls [`record`]. A `run` is
//! recorded only when every task was up to date and nothing failed: it wrote no table, so
//! running it again on unchanged inputs decides the same (the replay does not bump the run
//! number in the run state, which only names the commits of a run that writes).
//!
//! ## Invariants
//! - A record is replayed only for the same command ([`Replayed`]), the same build
//!   ([`build_identity`]), the same spec bytes, the same spec path as given and directory
//!   (canonical), the same output format and colour, and only while every file the command
//!   read is as it was: the record lists them ([`Probe`]: each source's files or Delta log,
//!   the Delta log of each output that keeps its rows — for `run`, of every task's table —,
//!   the canonical form of every source, output and tables path, so a symlink swapped in is
//!   seen; for `run`, the bytes of the run state and of the last run's report) with what was
//!   observed (names, sizes, modification times, the fingerprint the compiler itself reloads
//!   sources by; a content digest), and a replay observes each again.
//!   A record is written only if every file it lists by time, and every directory they are
//!   in, was last modified before the command started (in an earlier tick of the file
//!   system's clock), so what was observed after the command is what it read — a file added,
//!   rewritten, removed or renamed meanwhile keeps the command from being recorded. (A
//!   symlink swapped while the command runs is not seen this way: it is seen by the next
//!   one only if it changed what a canonical path resolves to.) Files observed by content
//!   (the run state a run itself rewrites) need no clock.
//!   The list is a function of the command, the spec's bytes and directory, all in the key,
//!   so it is the list the command would read now.
//! - What cannot be observed that way is never recorded: a spec with an object-store path or
//!   `profile.storage` settings, a path that exists but cannot be listed. A command narrowed
//!   by a selection or flags, or that reported a cache warning, is not recorded by the
//!   command line.
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
use crate::docs_data::LAST_RUN_FILE;
use crate::run_state::RUN_STATE_FILE;
use crate::sources::{observe_files, source_files};

/// Where the last commands' records live, relative to the spec's directory.
pub const REPLAY_FILE: &str = ".viewdag/cache/replay.bin";

/// The most records the file keeps (one per command, output format and colour is the usual
/// need).
pub const MAX_RECORDS: usize = 8;

/// A command whose output can be replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replayed {
    /// `check`: validation only.
    Check,
    /// `run` of a project whose every task is up to date.
    Run,
}

/// What a command printed, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandOutput {
    /// Everything written on stdout.
    pub stdout: String,
    /// Everything written on stderr.
    pub stderr: String,
    /// The process's exit code.
    pub exit_code: i32,
}

/// Which command a record answers: everything but the files read.
#[derive(Debug, Clone, Copy)]
pub struct ReplayKey<'a> {
    /// The command.
    pub command: Replayed,
    /// The spec's path as the user gave it (it is printed).
    pub spec_path: &'a Path,
    /// The spec's bytes.
    pub spec_text: &'a str,
    /// The output format's name (`human`, `json`).
    pub format: &'a str,
    /// Whether diagnostics are coloured.
    pub color: bool,
}

impl ReplayKey<'_> {
    fn digest(&self) -> MemoKey {
        let root = crate::compiler::spec_root(self.spec_path);
        let mut hasher = blake3::Hasher::new();
        for part in [
            "viewdag command record 1",
            match self.command {
                Replayed::Check => "check",
                Replayed::Run => "run",
            },
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

/// One thing on disk a command read, observed again before a replay.
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
    /// A small file's bytes (their BLAKE3 digest): files the command itself writes, which
    /// the clock cannot vouch for; `absent` when it does not exist.
    Content {
        /// A file.
        path: PathBuf,
    },
}

impl Probe {
    /// What is there now, with the newest modification time among the files observed;
    /// `None` when it exists but cannot be read (never recorded).
    fn observe(&self) -> Option<(String, Option<SystemTime>)> {
        match self {
            Probe::Files { path, .. } | Probe::Canonical { path } | Probe::Content { path } if !path.exists() => {
                Some(("absent".to_string(), None))
            }
            Probe::Files { path, extension } => observe_files(path, extension, true),
            Probe::Canonical { path } => std::fs::canonicalize(path).ok().map(|path| (path.to_string_lossy().into_owned(), None)),
            Probe::Content { path } => std::fs::read(path).ok().map(|bytes| (blake3::hash(&bytes).to_hex().to_string(), None)),
        }
    }
}

/// A record: what was read (with what it was) and what was printed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    reads: Vec<(Probe, String)>,
    output: CommandOutput,
}

/// What [`replay`] found.
#[derive(Debug)]
pub enum Replay {
    /// The unchanged project's output, to print as it is.
    Hit(CommandOutput),
    /// No record for this command, or something it read changed: run it.
    Miss,
    /// The file could not be used: run the command, and report this warning (not part of the output).
    Unreadable(Diagnostic),
}

/// The record of the command `key` describes, if one is stored and nothing it read changed.
pub fn replay(key: &ReplayKey<'_>) -> Replay {
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

/// How a command that may replay begins: [`begin`]'s answer.
#[derive(Debug)]
pub enum Begin {
    /// The unchanged project's output, to print as it is (the command does nothing else).
    Replay(CommandOutput),
    /// Run the command; `started` is `Some` when it may be recorded ([`record`]), and
    /// `warning`, a record file that could not be used, is reported (not part of the output).
    Run {
        /// The clock before anything was read.
        started: Option<ReplayStart>,
        /// The unusable record file's warning.
        warning: Option<Diagnostic>,
    },
}

/// [`replay`] when the command is `replayable` (the cache on, no flag outside the key), and
/// on a miss [`start`]: the one way a command begins.
pub fn begin(key: &ReplayKey<'_>, replayable: bool) -> Begin {
    if !replayable {
        return Begin::Run { started: None, warning: None };
    }
    let warning = match replay(key) {
        Replay::Hit(output) => return Begin::Replay(output),
        Replay::Miss => None,
        Replay::Unreadable(warning) => Some(warning),
    };
    Begin::Run { started: Some(start(key)), warning }
}

/// The file system's clock when a command started, taken before it reads anything: what
/// [`record`] compares the files' modification times with.
#[derive(Debug, Clone, Copy)]
pub struct ReplayStart {
    clock: Option<SystemTime>,
}

/// Notes the file system's time (the modification time of a file written and removed in the
/// cache directory) before a command that may be recorded; call it before compiling.
pub fn start(key: &ReplayKey<'_>) -> ReplayStart {
    let path = replay_path(key.spec_path).with_extension(format!("clock.{}.tmp", std::process::id()));
    let clock = path.parent().and_then(|directory| std::fs::create_dir_all(directory).ok()).and_then(|()| {
        let clock = std::fs::write(&path, b"").and_then(|()| std::fs::metadata(&path)?.modified()).ok();
        let _ = std::fs::remove_file(&path);
        clock
    });
    ReplayStart { clock }
}

/// Records `output` as the command `key` describes, started at `started`, over `parsed` (its
/// spec's parse). Returns whether it was recorded: a spec whose reads cannot be observed
/// ([`probes`]) is not, nor one that read a file modified since the command started or in
/// the clock tick it started in (git's "racily clean" rule: the record must not outlive a
/// change the command may not have seen, and a change in that tick may leave the time as it
/// was).
pub fn record(
    key: &ReplayKey<'_>,
    started: ReplayStart,
    parsed: &ParsedSpec,
    views_with_tables: &[String],
    output: &CommandOutput,
) -> Result<bool, CacheSaveError> {
    let Some(started) = started.clock else { return Ok(false) };
    let root = crate::compiler::spec_root(key.spec_path);
    let Some(probes) = probes(key.command, &root, parsed, views_with_tables) else { return Ok(false) };
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
pub fn recorded_outputs(spec_path: &Path) -> Vec<CommandOutput> {
    let entries = read_entries(&replay_path(spec_path)).unwrap_or_default();
    entries.iter().filter_map(|(_, value)| serde_json::from_slice::<Record>(value).ok()).map(|record| record.output).collect()
}

/// What `command` on `parsed` in `root` reads from disk, where `views_with_tables` are the
/// views whose tables a run reads (`materialize: table` and checkpoints, as the compile
/// found them); `None` when some of it is not a local path (an object store, or
/// `profile.storage` that settings would be read for).
pub fn probes(command: Replayed, root: &Path, parsed: &ParsedSpec, views_with_tables: &[String]) -> Option<Vec<Probe>> {
    if !parsed.profile.storage.is_empty() {
        return None;
    }
    let local = |path: &str| match StorageUrl::looks_like_url(path) {
        true => None,
        false => Some(root.join(path)),
    };
    let delta_log = |table: &Path| Probe::Files { path: table.join("_delta_log"), extension: String::new() };
    let tables = local(parsed.profile.tables_location())?;
    let mut probes = vec![Probe::Canonical { path: tables.clone() }];
    for spec in parsed.sources.values().flatten() {
        let path = local(&spec.path)?;
        let (files, extension) = source_files(&path, spec.format);
        probes.push(Probe::Canonical { path });
        probes.push(Probe::Files { path: files, extension: extension.to_string() });
    }
    for spec in parsed.outputs.values().flatten() {
        let path = local(&spec.path)?;
        // A check reads the rows an output keeps (their schema); a run, every table's version.
        if spec.mode != WriteMode::Overwrite || command == Replayed::Run {
            probes.push(delta_log(&path));
        }
        probes.push(Probe::Canonical { path });
    }
    if command == Replayed::Run {
        for view in views_with_tables {
            probes.push(delta_log(&tables.join(view)));
        }
        probes.push(Probe::Content { path: root.join(RUN_STATE_FILE) });
        probes.push(Probe::Content { path: root.join(LAST_RUN_FILE) });
    }
    Some(probes)
}

/// The record file of the spec at `spec_path`.
pub fn replay_path(spec_path: &Path) -> PathBuf {
    crate::compiler::spec_root(spec_path).join(REPLAY_FILE)
}

/// The file's entries; `Err(None)` when there is none or it is another build's, `Err(Some(warning))` when it
/// cannot be used.
fn read_entries(path: &Path) -> Result<Vec<MemoEntry>, Option<Diagnostic>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(None),
        Err(error) => return Err(Some(unreadable(&error.to_string()))),
    };
    // Another build's record (an upgrade) is replaced without a warning.
    decode_file(&bytes).map_err(|error| (!error.is_another_build()).then(|| unreadable(&error.to_string())))
}

/// The one warning of a record file that cannot be used.
fn unreadable(reason: &str) -> Diagnostic {
    Diagnostic::new(
        Code::CacheUnreadable,
        SpecLocation::root(),
        format!("the command record `{REPLAY_FILE}` could not be read ({reason}); it was ignored and is rebuilt"),
    )
    .with_note("the command ran as if there were no record; `rm -rf .viewdag/cache` or `--no-cache` silences this")
}
