//! The project's views in chunks, so that whole-project results are collected chunk by
//! chunk: an edit re-collects the one chunk holding the edited view, and every other
//! chunk's result is reused (and verified) as one value.
//!
//! Chunk boundaries are content-defined: a chunk ends after a view whose name hashes to a
//! multiple of [`CHUNK_BOUNDARY`] (about that many views per chunk). Adding or removing a
//! view therefore changes only the chunk it sits in (or merges two neighbours when it ends
//! one); the chunks after it keep their members, unlike fixed-size chunks, which would all
//! shift. A chunk is named by its first view.
//!
//! Two orders are chunked: declaration order (what the results list) and dependency order
//! (what the project's check warms first, so that no per-view query recurses more than one
//! level deep, whatever the declaration order).
//!
//! ## Invariants
//! - Every view is in exactly one chunk of each order; chunks keep the order's order.
//! - [`chunk_members`] is a narrow projection of [`view_chunks`]: a per-chunk query that reads
//!   it is reused unless its own chunk's members changed.
//! - Deterministic: the hash is FNV-1a over the name's bytes.

use std::collections::HashMap;
use std::sync::Arc;

use viewdag_ir::{ProjectInput, ViewInput};
use viewdag_validate::{relation_index, spec_structure};

use crate::Db;

/// A chunk ends after a view whose name's hash is a multiple of this (so chunks hold about
/// this many views).
pub const CHUNK_BOUNDARY: u64 = 64;

/// Which order of the views a chunking follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChunkOrder {
    /// Declaration order (results are listed this way).
    Declaration,
    /// Dependency order: every view after the views it reads (a view in a cycle, which is
    /// broken, is left out).
    Dependency,
}

/// The chunks of one order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ViewChunks {
    /// Each chunk's first view, in order.
    pub firsts: Arc<[ViewInput]>,
    /// Each chunk's views, by its first view. Only looked up, never iterated.
    members: HashMap<ViewInput, Arc<[ViewInput]>>,
}

/// Whether a chunk ends after the view `name`.
fn ends_chunk(name: &str) -> bool {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash.is_multiple_of(CHUNK_BOUNDARY)
}

/// Cuts `views` into chunks.
fn chunked(db: &dyn Db, views: impl IntoIterator<Item = ViewInput>) -> ViewChunks {
    let mut firsts = Vec::new();
    let mut members = HashMap::new();
    let mut current: Vec<ViewInput> = Vec::new();
    for view in views {
        current.push(view);
        if ends_chunk(view.name(db)) {
            firsts.push(current[0]);
            members.insert(current[0], Arc::from(std::mem::take(&mut current)));
        }
    }
    if let Some(first) = current.first().copied() {
        firsts.push(first);
        members.insert(first, Arc::from(current));
    }
    ViewChunks { firsts: firsts.into(), members }
}

/// The project's views in chunks of `order`.
#[salsa::tracked(returns(ref))]
pub fn view_chunks(db: &dyn Db, project: ProjectInput, order: ChunkOrder) -> ViewChunks {
    match order {
        ChunkOrder::Declaration => chunked(db, project.views(db).iter().copied()),
        ChunkOrder::Dependency => {
            let index = relation_index(db);
            let structure = spec_structure(db);
            chunked(db, structure.dag.topological_order().iter().filter_map(|name| index.views.get(name).copied()))
        }
    }
}

/// The views of the chunk of `order` that starts with `first` (empty if no chunk does).
#[salsa::tracked(returns(clone))]
pub fn chunk_members(db: &dyn Db, project: ProjectInput, first: ViewInput, order: ChunkOrder) -> Arc<[ViewInput]> {
    view_chunks(db, project, order).members.get(&first).cloned().unwrap_or_else(|| Arc::from(Vec::new()))
}
