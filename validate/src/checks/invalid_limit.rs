//! `V0205 invalid-limit`: a `limit.count`, `limit.offset` or `sort.limit` that is negative
//! or absurdly large (more than 2^48 rows, which no engine counter should be asked for).

use viewdag_ir::{Code, Diagnostic, SpecLocation};

/// Larger limits are almost certainly a mistake (and do not fit some engines' counters).
pub const MAX_LIMIT: i64 = 1 << 48;

/// Checks a count or offset: not negative, not absurd. Returns it as a row count.
pub fn check(value: i64, field: &str, view: &str, location: SpecLocation) -> Result<usize, Diagnostic> {
    if !(0..=MAX_LIMIT).contains(&value) {
        let why = if value < 0 { "it cannot be negative" } else { "that is more rows than any table holds" };
        return Err(Diagnostic::new(Code::InvalidLimit, location, format!("`{field}` of view `{view}` is {value}; {why}"))
            .with_note(format!("it must be between 0 and {MAX_LIMIT}")));
    }
    Ok(usize::try_from(value).unwrap_or(usize::MAX))
}
