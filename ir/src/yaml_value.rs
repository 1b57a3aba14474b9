//! The spec's YAML document as a `serde_json::Value`, built from the yaml-rust2 event stream
//! the span index reads (one scan of the text instead of a second parse by serde_yaml_ng).
//!
//! ## Invariants
//! - Equivalence: when [`DocumentBuilder::finish`] returns a value, it equals
//!   `serde_yaml_ng::from_str::<serde_json::Value>(text)` for the same text (tested over every
//!   spec in the repository, generated specs and generated documents). Scalars resolve as
//!   serde_yaml_ng 0.10 resolves untagged scalars (`de.rs`, `visit_untagged_scalar`): plain
//!   `""`, `~`, `null`/`Null`/`NULL` are null; `true`/`True`/`TRUE` and the `false`s are
//!   booleans; then integers (sign, `0x`, `0o`, `0b`; leading zeros make a string), then
//!   finite floats and `.inf`/`.nan` (which a JSON number cannot hold: null); everything
//!   else, and every quoted or block scalar, is a string. Keys are their text. A key written
//!   twice keeps its first place and its last value (`serde_json::Map::insert`).
//! - Anything whose reading is not mirrored here makes `finish` return `None`, and the caller
//!   reads the text with serde_yaml_ng as before: a syntax error (its message is
//!   serde_yaml_ng's), anchors and aliases, tags, collections as keys, a key written `~` or
//!   left empty (yaml-rust2 reports them as `~` or "", libyaml sometimes refuses them), integers beyond 64 bits, nesting deeper
//!   than [`MAX_DEPTH`], no document or more than one, `%` directives, plain scalars that
//!   libyaml (YAML 1.1) would not start where yaml-rust2 (1.2) does (`|x` or `:x` inside a
//!   flow collection), a `:` right before a flow indicator (`[a:]`), block scalars without
//!   content or keeping their final line breaks (`|+`), and a document that is not a mapping
//!   (no spec: it is an error either way).

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::Event;
use yaml_rust2::scanner::TScalarStyle;

/// Collections nested deeper than this are left to serde_yaml_ng (whose recursion limit,
/// 128, decides whether they are an error).
pub(crate) const MAX_DEPTH: usize = 100;

/// A collection being read.
enum Open {
    Mapping { entries: Map<String, Value>, key: Option<String> },
    Sequence(Vec<Value>),
}

/// Builds the document from parser events (fed in order by the span index's receiver).
#[derive(Default)]
pub(crate) struct DocumentBuilder {
    stack: Vec<Open>,
    root: Option<Value>,
    documents: usize,
    unsupported: bool,
}

impl DocumentBuilder {
    /// Takes the next event of the first document.
    pub(crate) fn on_event(&mut self, event: Event) {
        if self.unsupported {
            return;
        }
        match event {
            Event::DocumentStart => {
                self.documents += 1;
                self.unsupported |= self.documents > 1;
            }
            Event::Alias(_) => self.unsupported = true,
            Event::Scalar(text, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    self.unsupported = true;
                    return;
                }
                // libyaml refuses a plain scalar starting with an indicator where yaml-rust2
                // may take one (`[a, |b]`): serde_yaml_ng reports the error.
                let starts_with_indicator = text
                    .starts_with(['|', '>', '@', '`', '%', '!', '&', '*', '#', '\'', '"', '[', ']', '{', '}', ',', '?', ':'])
                    || text == "-"
                    || text.starts_with("- ");
                if style == TScalarStyle::Plain && starts_with_indicator {
                    self.unsupported = true;
                    return;
                }
                if let Some(Open::Mapping { key: key @ None, .. }) = self.stack.last_mut() {
                    // An empty key (`? ` or a line starting `: `): yaml-rust2 reads it as `~` or
                    // "", libyaml as "" or an error; `~` written out is left alike.
                    self.unsupported |= text == "~" || (text.is_empty() && style == TScalarStyle::Plain);
                    *key = Some(text);
                    return;
                }
                // An empty block scalar: yaml-rust2 keeps a line break libyaml drops.
                let block = matches!(style, TScalarStyle::Literal | TScalarStyle::Folded);
                if block && text.bytes().all(|byte| byte == b'\n') {
                    self.unsupported = true;
                    return;
                }
                let value = match style {
                    TScalarStyle::Plain => match resolve_plain(text) {
                        Some(value) => value,
                        None => {
                            self.unsupported = true;
                            return;
                        }
                    },
                    _ => Value::String(text),
                };
                self.complete(value);
            }
            Event::MappingStart(anchor, ref tag) | Event::SequenceStart(anchor, ref tag) => {
                let waits_for_key = matches!(self.stack.last(), Some(Open::Mapping { key: None, .. }));
                if anchor != 0 || tag.is_some() || waits_for_key || self.stack.len() >= MAX_DEPTH {
                    self.unsupported = true;
                    return;
                }
                self.stack.push(if matches!(event, Event::MappingStart(..)) {
                    Open::Mapping { entries: Map::new(), key: None }
                } else {
                    Open::Sequence(Vec::new())
                });
            }
            Event::MappingEnd | Event::SequenceEnd => match self.stack.pop() {
                Some(Open::Mapping { entries, .. }) => self.complete(Value::Object(entries)),
                Some(Open::Sequence(items)) => self.complete(Value::Array(items)),
                None => self.unsupported = true,
            },
            _ => {}
        }
    }

    fn complete(&mut self, value: Value) {
        match self.stack.last_mut() {
            None if self.root.is_none() => self.root = Some(value),
            None => self.unsupported = true,
            Some(Open::Mapping { entries, key }) => match key.take() {
                Some(key) => {
                    entries.insert(key, value);
                }
                None => self.unsupported = true,
            },
            Some(Open::Sequence(items)) => items.push(value),
        }
    }

    /// The document, when exactly one was read completely and nothing in it needs
    /// serde_yaml_ng. `text` is the text the events came from.
    pub(crate) fn finish(self, text: &str) -> Option<Value> {
        let directive = text.starts_with('%') || text.contains("\n%");
        if self.unsupported || self.documents != 1 || !self.stack.is_empty() || directive || colon_before_flow_indicator(text) {
            return None;
        }
        // A spec is a mapping: any other document (a top-level scalar at column 0 reads
        // differently) is serde_yaml_ng's, as is a block scalar keeping its final breaks.
        if !matches!(self.root, Some(Value::Object(_))) || keeps_final_breaks(text) {
            return None;
        }
        self.root
    }
}

/// Whether a `:` stands right before a flow indicator anywhere (`[a:]`, `{a:,b}`): yaml-rust2
/// (YAML 1.2) reads a key there, libyaml (1.1) an error. Rare in specs, so any such pair
/// (even inside quotes) defers.
fn colon_before_flow_indicator(text: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices(':').any(|(at, _)| matches!(bytes.get(at + 1), Some(b',' | b'?' | b'[' | b']' | b'{' | b'}')))
}

/// Whether a block scalar header asks to keep final line breaks (`|+`, `>2+`): yaml-rust2 and
/// libyaml count trailing blank lines differently. Any `+` after `|`, `>` or an indentation
/// digit defers.
fn keeps_final_breaks(text: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices('+').any(|(at, _)| {
        let before = |back: usize| at.checked_sub(back).map(|index| bytes[index]);
        matches!(before(1), Some(b'|' | b'>'))
            || (before(1).is_some_and(|byte| byte.is_ascii_digit()) && matches!(before(2), Some(b'|' | b'>')))
    })
}

/// A plain scalar resolved as serde_yaml_ng resolves it into a `serde_json::Value`; `None`
/// for an integer beyond 64 bits (serde_yaml_ng passes it as a 128-bit integer).
fn resolve_plain(text: String) -> Option<Value> {
    if text.is_empty() || matches!(text.as_str(), "null" | "Null" | "NULL" | "~") {
        return Some(Value::Null);
    }
    match text.as_str() {
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    if let Some(int) = parse_unsigned_int(&text, u64::from_str_radix) {
        return Some(Value::Number(int.into()));
    }
    if let Some(int) = parse_negative_int(&text, i64::from_str_radix) {
        return Some(Value::Number(int.into()));
    }
    if parse_unsigned_int(&text, u128::from_str_radix).is_some() || parse_negative_int(&text, i128::from_str_radix).is_some() {
        return None;
    }
    if !digits_but_not_number(&text)
        && let Some(float) = parse_f64(&text)
    {
        return Some(Number::from_f64(float).map_or(Value::Null, Value::Number));
    }
    Some(Value::String(text))
}

// The four functions below are serde_yaml_ng 0.10's (`de.rs`), kept to the letter: they
// decide what a plain scalar means.

fn parse_unsigned_int<T>(scalar: &str, from_str_radix: fn(&str, u32) -> Result<T, std::num::ParseIntError>) -> Option<T> {
    let unpositive = scalar.strip_prefix('+').unwrap_or(scalar);
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = unpositive.strip_prefix(prefix) {
            if rest.starts_with(['+', '-']) {
                return None;
            }
            if let Ok(int) = from_str_radix(rest, radix) {
                return Some(int);
            }
        }
    }
    if unpositive.starts_with(['+', '-']) || digits_but_not_number(scalar) {
        return None;
    }
    from_str_radix(unpositive, 10).ok()
}

fn parse_negative_int<T>(scalar: &str, from_str_radix: fn(&str, u32) -> Result<T, std::num::ParseIntError>) -> Option<T> {
    for (prefix, radix) in [("-0x", 16), ("-0o", 8), ("-0b", 2)] {
        if let Some(rest) = scalar.strip_prefix(prefix)
            && let Ok(int) = from_str_radix(&format!("-{rest}"), radix)
        {
            return Some(int);
        }
    }
    if digits_but_not_number(scalar) {
        return None;
    }
    from_str_radix(scalar, 10).ok()
}

fn parse_f64(scalar: &str) -> Option<f64> {
    let unpositive = if let Some(unpositive) = scalar.strip_prefix('+') {
        if unpositive.starts_with(['+', '-']) {
            return None;
        }
        unpositive
    } else {
        scalar
    };
    if let ".inf" | ".Inf" | ".INF" = unpositive {
        return Some(f64::INFINITY);
    }
    if let "-.inf" | "-.Inf" | "-.INF" = scalar {
        return Some(f64::NEG_INFINITY);
    }
    if let ".nan" | ".NaN" | ".NAN" = scalar {
        return Some(f64::NAN.copysign(1.0));
    }
    unpositive.parse::<f64>().ok().filter(|float| float.is_finite())
}

/// Leading zeros followed by digits: a string in YAML 1.2.
fn digits_but_not_number(scalar: &str) -> bool {
    let scalar = scalar.strip_prefix(['-', '+']).unwrap_or(scalar);
    scalar.len() > 1 && scalar.starts_with('0') && scalar[1..].bytes().all(|byte| byte.is_ascii_digit())
}
