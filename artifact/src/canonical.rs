//! Canonical JSON: the one byte form every artifact file and digest uses.
//!
//! ## Invariants
//! - Object keys are sorted (byte order) at every depth, whatever order the value was
//!   built in. The workspace enables `serde_json`'s `preserve_order`, so this is done
//!   explicitly here rather than relied on.
//! - The file form is two-space pretty JSON with a trailing newline; the digest form is
//!   compact. Both are pure functions of the value.
//! - Maps whose order is meaning (a project's columns, a CSV schema) must never reach this
//!   module as JSON objects: they are kept as order-preserving JSON *strings* (see
//!   [`order_preserving_json`]) or as arrays.

use serde::Serialize;
use serde_json::{Map, Value};

/// `value` with every object's keys sorted, recursively.
pub fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut entries: Vec<(String, Value)> = object.into_iter().collect();
            entries.sort_by(|(left, _), (right, _)| left.cmp(right));
            let mut sorted = Map::new();
            for (key, child) in entries {
                sorted.insert(key, sort_keys(child));
            }
            Value::Object(sorted)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

/// The canonical value of anything serializable.
pub fn canonical_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, serde_json::Error> {
    serde_json::to_value(value).map(sort_keys)
}

/// Canonical pretty JSON with a trailing newline: the bytes written to artifact files.
pub fn canonical_pretty<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(&canonical_value(value)?)?;
    text.push('\n');
    Ok(text)
}

/// Canonical compact JSON: the bytes digests are taken over.
pub fn canonical_compact<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    serde_json::to_string(&canonical_value(value)?)
}

/// Compact JSON in the value's own order (struct field order, `IndexMap` insertion order):
/// for values whose map order is meaning, such as view definitions.
pub fn order_preserving_json<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    serde_json::to_string(value)
}

/// BLAKE3 of bytes, as lowercase hex.
pub fn digest_bytes(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sorts_keys_at_every_depth_regardless_of_insertion_order() {
        let mut inner = Map::new();
        inner.insert("zeta".into(), json!(1));
        inner.insert("alpha".into(), json!([{"b": 1, "a": 2}]));
        let mut outer = Map::new();
        outer.insert("z".into(), Value::Object(inner));
        outer.insert("a".into(), json!(null));
        let text = canonical_compact(&Value::Object(outer)).unwrap();
        assert_eq!(text, r#"{"a":null,"z":{"alpha":[{"a":2,"b":1}],"zeta":1}}"#);
    }

    #[test]
    fn pretty_form_ends_with_a_newline() {
        assert_eq!(canonical_pretty(&json!({"b": 1, "a": 2})).unwrap(), "{\n  \"a\": 2,\n  \"b\": 1\n}\n");
    }
}
