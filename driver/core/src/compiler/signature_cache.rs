//! The cache across processes: `.viewdag/cache/signatures.bin` next to the spec holds the
//! per-view signature memo (`viewdag_lower::signature_memo`) of the last compile, so a new
//! process (`check`, `compile`, `run`, an editor's start) on an unchanged project reads each
//! view's schema, warnings or errors instead of planning it again; `.viewdag/cache/reads.bin`
//! holds what each `sql` view reads (`viewdag_validate::reads_memo`), so it does not parse
//! every view's SQL again to find the project's structure. (The spec's pieces are kept next
//! to them, one file per piece: `super::piece_cache`, loaded and saved with these.)
//!
//! The compiler loads the files before its first parse of a project's spec ([`load`]) and
//! writes each back at the end of a compile that recorded something new in it ([`save`]).
//!
//! ## Invariants
//! - Never trusted blindly: a file has a magic, a format, viewdag's version and a BLAKE3
//!   checksum; a file failing any of them is ignored (the compile's results are a fresh
//!   compile's) and rewritten at the end of that compile — with ONE `V0920` warning naming
//!   it when it is damaged, silently when it is whole and of another format or version (an
//!   upgrade). Each entry is
//!   found only by a key over everything its value depends on, the build included
//!   ([`build_identity`]), so an entry of another build or of other inputs is never used.
//! - Written atomically: a temporary file of this process, then renamed over the old one; a
//!   reader sees the old file or the new one, never half of one.
//! - Bounded: what is written is at most one entry per view of the project (the key its
//!   value was last looked up with); entries of removed views and old definitions are dropped.
//!   Each distinct value is written once (`encode_file`): views that keep their inputs'
//!   schema share it, so the file is mostly keys.
//! - A cache that cannot be written (a read-only checkout, a full disk) changes nothing but
//!   the next process's speed: it is not reported.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use viewdag_ir::{Code, Diagnostic, SpecLocation};
use viewdag_lower::signature_memo::{MemoCounts, MemoEntry, MemoTable, SignatureMemo, VIEWDAG_VERSION, decode_file, encode_file};

use super::{CompileResponse, Compiler, sort_by_position};

/// Where the signature cache lives, relative to the spec's directory.
pub const SIGNATURE_CACHE_FILE: &str = ".viewdag/cache/signatures.bin";

/// Where the `sql` views' reads are kept, relative to the spec's directory
/// (`viewdag_validate::reads_memo`).
pub const READS_CACHE_FILE: &str = ".viewdag/cache/reads.bin";

/// What made the values: viewdag's version and the running executable's size and
/// modification time, so a rebuilt binary (a development build keeps its version) never
/// reads the entries of the one before. Part of every key, never of an artifact.
pub fn build_identity() -> &'static str {
    static IDENTITY: OnceLock<String> = OnceLock::new();
    IDENTITY.get_or_init(|| {
        let executable = std::env::current_exe().and_then(std::fs::metadata).ok();
        let stamp = executable
            .map(|metadata| {
                let modified = metadata.modified().ok().and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok());
                format!("{} {}", metadata.len(), modified.map(|time| time.as_nanos()).unwrap_or_default())
            })
            .unwrap_or_default();
        format!("viewdag {VIEWDAG_VERSION} ({stamp})")
    })
}

/// The entries the project at `root` saved in `file` (one of the cache files), none when
/// there are none; with the `V0920` warning when a file exists that cannot be used.
pub fn load(root: &Path, file: &str) -> (Vec<MemoEntry>, Option<Diagnostic>) {
    let bytes = match std::fs::read(root.join(file)) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return (Vec::new(), None),
        Err(error) => return (Vec::new(), Some(unreadable(file, &error.to_string()))),
    };
    match decode_file(&bytes) {
        Ok(entries) => (entries, None),
        // Another build's cache (an upgrade): replaced at the end of the compile, silently.
        Err(error) if error.is_another_build() => (Vec::new(), None),
        Err(error) => (Vec::new(), Some(unreadable(file, &error.to_string()))),
    }
}

/// The one warning of a cache file that cannot be used.
pub(super) fn unreadable(file: &str, reason: &str) -> Diagnostic {
    Diagnostic::new(
        Code::CacheUnreadable,
        SpecLocation::root(),
        format!("the cache file `{file}` could not be read ({reason}); it was ignored and is rebuilt"),
    )
    .with_note("every view was validated as if there were no cache; `rm -rf .viewdag/cache` or `--no-cache` silences this")
}

/// Why the cache was not written (for tests and embedders; commands do not report it).
#[derive(Debug, thiserror::Error)]
#[error("the signature cache `{path}` was not written: {source}")]
pub struct CacheSaveError {
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

/// Writes the entries of `views` (the project's views) in `table` to `file` of the project
/// at `root`: a temporary file of this process, renamed over the old file.
pub fn save<'a>(root: &Path, file: &str, table: &MemoTable, views: impl IntoIterator<Item = &'a str>) -> Result<(), CacheSaveError> {
    write_atomically(&root.join(file), &encode_file(&table.entries_for(views)))
}

/// Writes `bytes` to `path` (creating its directory): a temporary file of this process,
/// renamed over the old file, so a reader sees the old file or the new one, never half.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CacheSaveError> {
    let temporary = path.with_extension(format!("bin.{}.tmp", std::process::id()));
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CacheSaveError { path, source }
    };
    if let Some(directory) = path.parent() {
        std::fs::create_dir_all(directory).map_err(failed(directory))?;
    }
    let written = std::fs::write(&temporary, bytes)
        .map_err(failed(&temporary))
        .and_then(|()| std::fs::rename(&temporary, path).map_err(failed(path)));
    if written.is_err() {
        // Never leave a temporary file behind.
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

impl Compiler {
    /// Keeps each view's signature across processes in `.viewdag/cache/` next to the spec
    /// (off by default; the command line turns it on unless `--no-cache`): the next
    /// compile loads what the last process saved, and every compile that validated
    /// something new saves. Results are the same with and without it.
    pub fn set_persistent_cache(&mut self, enabled: bool) {
        self.persistent_cache = enabled;
        if !enabled {
            self.db.set_persistent_memos(None);
            self.spec_pieces = None;
            self.cache_root = None;
        }
    }

    /// The same compiler with the persistent cache on or off (see
    /// [`Compiler::set_persistent_cache`]).
    pub fn with_persistent_cache(mut self, enabled: bool) -> Self {
        self.set_persistent_cache(enabled);
        self
    }

    /// How many view signatures the persistent cache answered and how many it recorded
    /// since it was loaded (`None` while it is off).
    pub fn signature_cache_counts(&self) -> Option<MemoCounts> {
        self.db.signature_memo_handle().map(|memo| memo.counts())
    }

    /// How many `sql` views' reads the persistent cache answered and how many it recorded
    /// since it was loaded (`None` while it is off).
    pub fn reads_cache_counts(&self) -> Option<MemoCounts> {
        self.db.reads_memo_handle().map(|memo| memo.counts())
    }

    /// Loads the project's cache before the first compile of the project at `self.root`
    /// (a compiler keeps what it loaded; salsa memoizes the rest).
    pub(super) fn load_signature_cache(&mut self) {
        if !self.persistent_cache || self.cache_root.as_ref() == Some(&self.root) {
            return;
        }
        let (signatures, signatures_warning) = load(&self.root, SIGNATURE_CACHE_FILE);
        let (reads, reads_warning) = load(&self.root, READS_CACHE_FILE);
        let memos = (Arc::new(SignatureMemo::new(build_identity(), signatures)), Arc::new(MemoTable::new(build_identity(), reads)));
        self.db.set_persistent_memos(Some(memos));
        self.load_piece_cache();
        self.cache_root = Some(self.root.clone());
        self.cache_warnings = [signatures_warning, reads_warning].into_iter().flatten().collect();
    }

    /// After a compile: reports a cache file that could not be read (once) and saves each
    /// cache file when this compile recorded something new in it, or every file when one was
    /// bad.
    pub(super) fn save_signature_cache(&mut self, response: &mut CompileResponse) {
        let (Some(signatures), Some(reads)) = (self.db.signature_memo_handle(), self.db.reads_memo_handle()) else { return };
        let Some(root) = self.cache_root.clone() else { return };
        if let Some(warning) = self.take_piece_cache_warning() {
            self.cache_warnings.push(warning);
        }
        let rewrite = !self.cache_warnings.is_empty();
        if rewrite {
            response.diagnostics.append(&mut self.cache_warnings);
            if let Some(spec) = &self.spec {
                sort_by_position(&mut response.diagnostics, &spec.spans);
            }
        }
        let Some(parsed) = self.last_parsed.as_deref() else { return };
        let views = || parsed.views.keys().map(String::as_str);
        // Not reported: a cache that is not written only makes the next process slower.
        if signatures.table().take_recorded() || rewrite {
            let _ = save(&root, SIGNATURE_CACHE_FILE, signatures.table(), views());
        }
        if reads.take_recorded() || rewrite {
            let _ = save(&root, READS_CACHE_FILE, &reads, views());
        }
        self.save_piece_cache(&root);
    }
}
