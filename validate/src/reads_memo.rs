//! What a `sql` view reads, kept across processes: a new process looks each SQL view's
//! [`ViewReads`] up by a key over what it is a function of instead of parsing the SQL
//! again (the structure of a project is computed from every view's reads, so a new process
//! would otherwise parse every SQL view before checking anything).
//!
//! ## Invariants
//! - The reads of a `sql` view are a pure function of what the key hashes: the build
//!   ([`MemoTable::build`]: viewdag's version and the driver's build identity, which fixes
//!   the SQL dialect and parser), the view's name, its SQL text and the table functions
//!   `profile.surface.table_functions` allows (`crate::relations::view_reads` reads nothing
//!   else for a `sql` view). So the table is an untracked side table a tracked query may
//!   read: a hit returns what parsing would have returned.
//! - A value round-trips exactly or is not recorded: each read's location must be the one
//!   decoding rebuilds (the view's `sql` field, with or without a range); a value that does
//!   not decode is a miss.

use viewdag_ir::persistent_memo::{MemoKey, MemoTable, Reader, put, put_number};
use viewdag_ir::{Diagnostic, SpecLocation};

use crate::reads::{Read, ViewReads};

/// The reads of the `sql` view `view` (SQL text `query`, table functions allowed
/// `table_functions`): from `table` when it holds them, else `compute`d and recorded.
pub fn memoized_sql_reads(
    table: &MemoTable,
    view: &str,
    query: &str,
    table_functions: &[String],
    compute: impl FnOnce() -> ViewReads,
) -> ViewReads {
    let key = reads_key(table.build(), view, query, table_functions);
    if let Some(reads) = table.lookup(view, &key).and_then(|bytes| decode_reads(view, &bytes)) {
        table.count_hit();
        return reads;
    }
    let reads = compute();
    table.record(view, key, encode_reads(view, &reads));
    reads
}

/// BLAKE3 over a domain tag and the length-prefixed fields the reads are a function of.
pub fn reads_key(build: &str, view: &str, query: &str, table_functions: &[String]) -> MemoKey {
    let mut bytes = Vec::with_capacity(64 + build.len() + view.len() + query.len());
    put(&mut bytes, b"viewdag sql view reads 1");
    put(&mut bytes, build.as_bytes());
    put(&mut bytes, view.as_bytes());
    put(&mut bytes, query.as_bytes());
    put_number(&mut bytes, table_functions.len());
    for function in table_functions {
        put(&mut bytes, function.as_bytes());
    }
    *blake3::hash(&bytes).as_bytes()
}

/// Where decoding places a read of `view` whose range (if any) is `range`.
fn read_location(view: &str, range: Option<(u32, u32)>) -> SpecLocation {
    Read::sql_location(view, range.map(|(start, end)| (start as usize, end as usize)))
}

/// The reads' bytes: their count, each name and range (a flag, then start and end), the
/// diagnostics (JSON); `None` for reads that would not decode to themselves.
pub fn encode_reads(view: &str, reads: &ViewReads) -> Option<Vec<u8>> {
    if reads.unparsed {
        return None;
    }
    let mut bytes = Vec::new();
    put_number(&mut bytes, reads.reads.len());
    for read in &reads.reads {
        let range = read.location.range_in_value;
        if read.location != read_location(view, range) {
            return None;
        }
        put(&mut bytes, read.name.as_bytes());
        let (start, end) = range.unwrap_or_default();
        bytes.push(u8::from(range.is_some()));
        put_number(&mut bytes, start as usize);
        put_number(&mut bytes, end as usize);
    }
    put(&mut bytes, &serde_json::to_vec(&reads.diagnostics).ok()?);
    Some(bytes)
}

/// The reads `bytes` encode for `view`, if they decode completely.
pub fn decode_reads(view: &str, bytes: &[u8]) -> Option<ViewReads> {
    let mut reader = Reader { bytes };
    let count = reader.number()?;
    let mut reads = Vec::with_capacity(count.min(bytes.len() / 25));
    for _ in 0..count {
        let name = std::str::from_utf8(reader.part()?).ok()?.to_string();
        let has_range = match reader.byte()? {
            0 => false,
            1 => true,
            _ => return None,
        };
        let start = u32::try_from(reader.number()?).ok()?;
        let end = u32::try_from(reader.number()?).ok()?;
        reads.push(Read { name, location: read_location(view, has_range.then_some((start, end))) });
    }
    let diagnostics: Vec<Diagnostic> = serde_json::from_slice(reader.part()?).ok()?;
    reader.bytes.is_empty().then_some(ViewReads { reads, diagnostics, unparsed: false })
}
