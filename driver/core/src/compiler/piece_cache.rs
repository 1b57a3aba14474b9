//! The spec's pieces across processes: `.viewdag/cache/pieces/`, one file per piece of a
//! large spec's `views` section as the split parse parsed it (`viewdag_ir::split_parse`,
//! `viewdag_ir::piece_memo`), named by the piece's key, so a new process after an edit parses
//! the YAML around the edit only and writes the pieces it parsed only.
//!
//! ## Invariants
//! - A piece file is the memo file framing with one entry (magic, format, viewdag's version,
//!   BLAKE3 checksum), named by that entry's key: a file that is damaged or holds another
//!   key is a miss with one `V0920` warning naming it (a file of another build: silently),
//!   and is written again when the piece is parsed.
//! - Read lazily, on the parse's threads, when the parse reaches the piece; written at the
//!   end of a compile that parsed a piece (atomically, as the other cache files), after which
//!   the files of the pieces the last parse did not use are removed.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use viewdag_ir::Diagnostic;
use viewdag_lower::signature_memo::{MemoCounts, MemoEntry, MemoKey, MemoTable, encode_file};

use super::Compiler;
use super::signature_cache::{build_identity, load, unreadable, write_atomically};

/// Where the spec's pieces are kept, one file per piece named by its key, relative to the
/// spec's directory (`viewdag_ir::split_parse`; only a spec large enough to be parsed in
/// pieces has any).
pub const PIECES_CACHE_DIR: &str = ".viewdag/cache/pieces";

/// The file of the piece whose key is `key`, in [`PIECES_CACHE_DIR`].
fn piece_file_name(key: &MemoKey) -> String {
    format!("{}.bin", blake3::Hash::from_bytes(*key).to_hex())
}

/// A table of the spec's pieces that reads each piece's file as the parse looks it up; a
/// file that exists and cannot be used is a miss, and the first such one is noted in
/// `damage` (its warning).
fn piece_table(root: &Path, damage: Arc<Mutex<Option<Diagnostic>>>) -> MemoTable {
    let root = root.to_path_buf();
    MemoTable::reading(build_identity(), move |key| {
        let file = format!("{PIECES_CACHE_DIR}/{}", piece_file_name(key));
        let (entries, warning) = load(&root, &file);
        let warning = match (entries.as_slice(), warning) {
            ([(found, value)], None) if found == key => return Some(Arc::clone(value)),
            // No file, or another build's.
            ([], None) => return None,
            (_, Some(warning)) => warning,
            _ => unreadable(&file, "it holds another piece"),
        };
        damage.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get_or_insert(warning);
        None
    })
}

/// Writes each of `fresh` (pieces this process parsed) to its file, then removes the piece
/// files that are not of `current` (the last parse's pieces).
fn save_pieces(root: &Path, fresh: &[MemoEntry], current: &[MemoKey]) {
    let directory = root.join(PIECES_CACHE_DIR);
    for entry in fresh {
        let _ = write_atomically(&directory.join(piece_file_name(&entry.0)), &encode_file(std::slice::from_ref(entry)));
    }
    let kept: HashSet<String> = current.iter().map(piece_file_name).collect();
    let Ok(listing) = std::fs::read_dir(&directory) else { return };
    for file in listing.flatten() {
        // Only pieces: another process's temporary files (`….bin.PID.tmp`) are left alone.
        let name = file.file_name();
        if name.to_str().is_some_and(|name| name.ends_with(".bin") && !kept.contains(name)) {
            let _ = std::fs::remove_file(file.path());
        }
    }
}

impl Compiler {
    /// How many pieces of the spec the persistent cache answered and how many the parses
    /// recorded since it was loaded (`None` while it is off; pieces are kept for a spec
    /// parsed in pieces only).
    pub fn pieces_cache_counts(&self) -> Option<MemoCounts> {
        self.spec_pieces.as_ref().map(|memo| memo.counts())
    }

    /// Makes the table of the pieces of the project at `self.root` (its files are read as
    /// the parse reaches each piece).
    pub(super) fn load_piece_cache(&mut self) {
        self.spec_pieces = Some(Arc::new(piece_table(&self.root, Arc::clone(&self.pieces_damage))));
    }

    /// The warning of the first piece file found damaged since the last call, if any.
    pub(super) fn take_piece_cache_warning(&self) -> Option<Diagnostic> {
        self.pieces_damage.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()
    }

    /// Writes the pieces this process parsed since the last save, if any (see [`save_pieces`]).
    pub(super) fn save_piece_cache(&self, root: &Path) {
        if let Some(pieces) = &self.spec_pieces {
            let fresh = pieces.take_fresh_entries();
            if !fresh.is_empty() {
                save_pieces(root, &fresh, &pieces.current_keys());
            }
        }
    }
}
