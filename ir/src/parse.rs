//! Reading a spec file: text → [`ParsedSpec`] plus diagnostics.
//!
//! Parsing is tolerant: a syntax error stops everything (nothing can be trusted), but a
//! malformed source, view or output only loses that entry. Its name stays declared (so
//! views reading it are reported as blocked, not as reading an unknown name) and every other
//! entry still compiles.

use std::sync::Arc;

use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::diagnostic::{Code, Diagnostic, Section, SpecLocation};
use crate::spans::{Position, SpanIndex};
use crate::spec::{FieldPath, OutputSpec, ProfileSpec, RawViewSpec, SPEC_VERSION, SourceSpec, ViewDefinition};
use crate::spec_format::SpecFormat;
use crate::suggestion::closest;

/// A spec as far as it could be read. Entries keep declaration order; an entry that failed
/// to parse is present with `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedSpec {
    pub sources: IndexMap<String, Option<SourceSpec>>,
    pub views: IndexMap<String, Option<Arc<ViewDefinition>>>,
    pub outputs: IndexMap<String, Option<OutputSpec>>,
    pub profile: ProfileSpec,
    /// Shared with the driver's copy of the spec, so an edit can update it in place.
    pub spans: Arc<SpanIndex>,
    pub diagnostics: Vec<Diagnostic>,
}

const TOP_LEVEL_KEYS: [&str; 5] = ["version", "sources", "views", "outputs", "profile"];

/// The largest spec file read, in bytes: beyond it nothing is parsed (`V0007`). A bound
/// against hostile input (`/dev/zero`), far above real projects: a generated 100,000-view
/// spec is 8–11 MiB with short names and SQL, and 20–30 MiB with real ones.
pub const MAX_SPEC_BYTES: usize = 128 * 1024 * 1024;
/// The most sources, views and outputs one spec may declare together (`V0007`).
pub const MAX_SPEC_ENTRIES: usize = 1_000_000;

/// Parses spec text. Never panics; every problem becomes a diagnostic.
pub fn parse_spec(text: &str, format: SpecFormat) -> ParsedSpec {
    // A UTF-8 byte order mark is not content (editors on Windows write one).
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.len() > MAX_SPEC_BYTES {
        let mut parsed = ParsedSpec::default();
        parsed.diagnostics.push(Diagnostic::new(
            Code::SpecTooLarge,
            SpecLocation::at(1, 1),
            format!("the spec is more than {MAX_SPEC_BYTES} bytes (the limit)"),
        ));
        return parsed;
    }
    // Before anything recurses: one linear scan for nesting a parser would recurse into.
    if let Some(position) = crate::nesting::too_deep(text, format) {
        let mut parsed = ParsedSpec::default();
        parsed.diagnostics.push(
            Diagnostic::new(
                Code::SpecTooLarge,
                SpecLocation::at(position.line, position.column),
                format!("the spec nests more than {} levels deep here", crate::nesting::MAX_SPEC_NESTING),
            )
            .with_note("a valid spec nests a few levels; deeper nesting is refused before parsing"),
        );
        return parsed;
    }
    // One scan of the text for positions and, for YAML, the document; serde reads what the
    // scan leaves (JSON, and YAML the scan cannot read as serde_yaml_ng would).
    let (spans, syntax_error, scanned) = match format {
        SpecFormat::Yaml => SpanIndex::build_with_document(text),
        SpecFormat::Json => {
            let (spans, syntax_error) = SpanIndex::build(text);
            (spans, syntax_error, None)
        }
    };
    let mut parsed = ParsedSpec { spans: std::sync::Arc::new(spans), ..ParsedSpec::default() };
    let document = match scanned {
        Some(document) => Ok(document),
        None => read_document(text, format),
    };
    let document: Value = match document {
        Ok(document) => document,
        Err((message, position)) => {
            let position = position.or(syntax_error.as_ref().map(|error| error.position)).unwrap_or(Position { line: 1, column: 1 });
            let what = match format {
                SpecFormat::Yaml => "YAML",
                SpecFormat::Json => "JSON",
            };
            parsed.diagnostics.push(Diagnostic::new(
                Code::SpecSyntax,
                SpecLocation::at(position.line, position.column),
                format!("the spec is not valid {what}: {message}"),
            ));
            return parsed;
        }
    };
    let Value::Object(mut top) = document else {
        parsed.diagnostics.push(Diagnostic::new(
            Code::InvalidValue,
            SpecLocation::root(),
            "the spec must be a mapping with `version`, `sources`, `views`, `outputs` and `profile`",
        ));
        return parsed;
    };
    for duplicate in parsed.spans.duplicates.clone() {
        let location = location_of_path(&duplicate.path);
        parsed.diagnostics.push(
            Diagnostic::new(
                Code::DuplicateKey,
                SpecLocation::at(duplicate.second.line, duplicate.second.column),
                format!("key `{}` appears more than once in this mapping", duplicate.path.last().map(String::as_str).unwrap_or("")),
            )
            .with_label(SpecLocation::at(duplicate.first.line, duplicate.first.column), "first defined here")
            .with_note(format!("only one definition is kept (at {})", describe(&location))),
        );
    }
    for key in top.keys() {
        if !TOP_LEVEL_KEYS.contains(&key.as_str()) {
            let mut diagnostic = Diagnostic::new(
                Code::UnknownField,
                SpecLocation { field: FieldPath(vec![key.clone()]), ..SpecLocation::root() },
                format!("unknown top-level key `{key}`"),
            )
            .with_note("expected one of `version`, `sources`, `views`, `outputs`, `profile`");
            if let Some(suggestion) = closest(key, &TOP_LEVEL_KEYS) {
                diagnostic = diagnostic.with_suggestion(format!("did you mean `{suggestion}`?"));
            }
            parsed.diagnostics.push(diagnostic);
        }
    }
    match top.get("version") {
        Some(Value::Number(number)) if number.as_u64() == Some(SPEC_VERSION) => {}
        Some(other) => {
            parsed.diagnostics.push(
                Diagnostic::new(
                    Code::UnsupportedVersion,
                    SpecLocation { field: FieldPath::from(["version"]), ..SpecLocation::root() },
                    format!("unsupported spec version {other}; this build of viewdag reads version {SPEC_VERSION}"),
                )
                .with_suggestion(format!("write `version: {SPEC_VERSION}`")),
            );
            return parsed;
        }
        None => {
            parsed.diagnostics.push(
                Diagnostic::new(Code::UnsupportedVersion, SpecLocation::root(), "the spec has no `version`")
                    .with_suggestion(format!("add `version: {SPEC_VERSION}` at the top")),
            );
            return parsed;
        }
    }
    let entry_count: usize = [Section::Sources, Section::Views, Section::Outputs]
        .iter()
        .filter_map(|section| top.get(section.key()?))
        .map(|entries| entries.as_object().map_or(0, serde_json::Map::len))
        .sum();
    if entry_count > MAX_SPEC_ENTRIES {
        parsed.diagnostics.push(
            Diagnostic::new(
                Code::SpecTooLarge,
                SpecLocation::root(),
                format!("the spec declares {entry_count} sources, views and outputs; the limit is {MAX_SPEC_ENTRIES}"),
            )
            .with_suggestion("split the project into several specs"),
        );
        return parsed;
    }
    for section in [Section::Sources, Section::Views, Section::Outputs] {
        for (name, value) in section_entries(&mut top, section, &mut parsed) {
            read_section_entry(section, name, value, &mut parsed);
        }
    }
    if let Some(profile) = top.remove("profile") {
        let location = SpecLocation { section: Section::Profile, ..SpecLocation::root() };
        match deserialize_located::<ProfileSpec>(profile) {
            Ok(profile) => {
                parsed.diagnostics.extend(surface_profile_problems(&profile.surface));
                parsed.diagnostics.extend(crate::number_bounds::profile_number_problems(&profile));
                parsed.profile = profile;
            }
            Err((field, message)) => {
                let diagnostic = entry_error(&parsed.spans, location.with_field(field), &message);
                parsed.diagnostics.push(diagnostic);
            }
        }
    }
    parsed
}

/// `profile.surface` values serde accepts but the surface cannot use: non-ASCII CSV
/// characters, table functions that are not row generators.
fn surface_profile_problems(surface: &crate::spec::SurfaceProfile) -> Vec<Diagnostic> {
    let at = |field: &[&str]| {
        SpecLocation { section: Section::Profile, ..SpecLocation::root() }
            .with_field(FieldPath(field.iter().map(|key| key.to_string()).collect()))
    };
    let mut problems = Vec::new();
    for (key, character) in [("delimiter", surface.csv.delimiter), ("quote", surface.csv.quote)] {
        if let Some(character) = character.filter(|character| !character.is_ascii()) {
            problems.push(Diagnostic::new(
                Code::InvalidValue,
                at(&["surface", "csv", key]),
                format!("`profile.surface.csv.{key}` must be one ASCII character, not `{character}`"),
            ));
        }
    }
    for (index, function) in surface.table_functions.iter().enumerate() {
        if !["generate_series", "range"].contains(&function.to_ascii_lowercase().as_str()) {
            problems.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    at(&["surface", "table_functions", &index.to_string()]),
                    format!("`{function}` is not a row-generating table function; only `generate_series` and `range` can be allowed"),
                )
                .with_note("table functions that read files are never allowed: declare the files as sources"),
            );
        }
    }
    problems
}

pub(crate) fn read_document(text: &str, format: SpecFormat) -> Result<Value, (String, Option<Position>)> {
    match format {
        SpecFormat::Json => serde_json::from_str::<Value>(text)
            .map_err(|error| (error.to_string(), Some(Position { line: error.line() as u32, column: error.column() as u32 }))),
        SpecFormat::Yaml => {
            if text.trim().is_empty() {
                return Err(("the file is empty".to_string(), None));
            }
            serde_yaml_ng::from_str::<Value>(text).map_err(|error| {
                let position = error.location().map(|location| Position { line: location.line() as u32, column: location.column() as u32 });
                (error.to_string(), position)
            })
        }
    }
}

/// Reads one entry of `section` into `parsed` (its diagnostics too), replacing any entry of
/// that name.
pub(crate) fn read_section_entry(section: Section, name: String, value: Value, parsed: &mut ParsedSpec) {
    match section {
        Section::Sources => {
            let source = read_entry::<SourceSpec>(section, &name, value, parsed);
            parsed.sources.insert(name, source);
        }
        Section::Views => {
            let view = read_view(&name, value, parsed);
            parsed.views.insert(name, view.map(Arc::new));
        }
        Section::Outputs => {
            let output = read_entry::<OutputSpec>(section, &name, value, parsed);
            parsed.outputs.insert(name, output);
        }
        _ => {}
    }
}

fn read_view(name: &str, value: Value, parsed: &mut ParsedSpec) -> Option<ViewDefinition> {
    if let Some(diagnostic) = join_key_pair_shape(name, &value) {
        parsed.diagnostics.push(diagnostic);
        return None;
    }
    read_entry::<RawViewSpec>(Section::Views, name, value, parsed).and_then(|raw| match raw.into_definition() {
        Ok(definition) => Some(definition),
        Err(present) => {
            let message = if present.is_empty() {
                format!("view `{name}` has no transform")
            } else {
                format!("view `{name}` has {} transforms ({}); a view has exactly one", present.len(), present.join(", "))
            };
            parsed.diagnostics.push(Diagnostic::new(Code::TransformCount, SpecLocation::view(name), message).with_note(
                "the transforms are filter, project, join, aggregate, union, sort, limit, distinct and sql; chain several views to combine them",
            ));
            None
        }
    })
}

/// The entries of one top-level section, which must be a mapping (or absent / null), moved
/// out of the document (the section leaves `top`).
fn section_entries(top: &mut serde_json::Map<String, Value>, section: Section, parsed: &mut ParsedSpec) -> serde_json::Map<String, Value> {
    let key = section.key().expect("sections with entries have a key");
    match top.remove(key) {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(entries)) => entries,
        Some(other) => {
            parsed.diagnostics.push(Diagnostic::new(
                Code::InvalidValue,
                SpecLocation { field: FieldPath(vec![key.to_string()]), ..SpecLocation::root() },
                format!("`{key}` must be a mapping from names to definitions, found {}", kind_of(&other)),
            ));
            serde_json::Map::new()
        }
    }
}

fn read_entry<T: DeserializeOwned>(section: Section, name: &str, value: Value, parsed: &mut ParsedSpec) -> Option<T> {
    match deserialize_located::<T>(value) {
        Ok(entry) => Some(entry),
        Err((field, message)) => {
            let diagnostic = entry_error(&parsed.spans, SpecLocation::entry(section, name).with_field(field), &message);
            parsed.diagnostics.push(diagnostic);
            None
        }
    }
}

/// `value` as a `T`, or the path below `value` where it failed (map keys and sequence
/// indices, as far as serde could follow) and serde's message.
fn deserialize_located<T: DeserializeOwned>(value: Value) -> Result<T, (FieldPath, String)> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|error| {
        use serde_path_to_error::Segment;
        let field = error
            .path()
            .iter()
            .map_while(|segment| match segment {
                Segment::Map { key } | Segment::Enum { variant: key } => Some(key.clone()),
                Segment::Seq { index } => Some(index.to_string()),
                Segment::Unknown => None,
            })
            .collect();
        (FieldPath(field), error.inner().to_string())
    })
}

/// Turns a serde error about one entry into a diagnostic placed as precisely as serde's path
/// allows (`location`'s field): an unknown field is placed on that key, a value of the wrong
/// type on that value, a missing field on the map that misses it.
fn entry_error(spans: &SpanIndex, location: SpecLocation, message: &str) -> Diagnostic {
    let what = match (&location.section, &location.entry) {
        (Section::Sources, Some(name)) => format!("source `{name}`"),
        (Section::Views, Some(name)) => format!("view `{name}`"),
        (Section::Outputs, Some(name)) => format!("output `{name}`"),
        (Section::Profile, _) => "`profile`".to_string(),
        _ => "the spec".to_string(),
    };
    if let Some(field) = message.strip_prefix("unknown field `").and_then(|rest| rest.split('`').next()) {
        // serde's path ends at the unknown key, or at the map holding it.
        let field_location = if location.field.0.last().is_some_and(|last| last == field) {
            location
        } else {
            let prefix = location.key_path();
            match spans.find_key_below(&prefix, field) {
                Some(path) => {
                    let entry_depth = prefix.len() - location.field.0.len();
                    SpecLocation { field: FieldPath(path[entry_depth..].to_vec()), ..location }
                }
                None => location,
            }
        };
        let expected = message.split_once(", expected ").map(|(_, expected)| expected.to_string());
        let mut diagnostic = Diagnostic::new(Code::UnknownField, field_location, format!("{what}: unknown field `{field}`"));
        if let Some(expected) = &expected {
            diagnostic = diagnostic.with_note(format!("expected {expected}"));
            let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            if let Some(suggestion) = closest(field, &candidates) {
                diagnostic = diagnostic.with_suggestion(format!("did you mean `{suggestion}`?"));
            }
        }
        return diagnostic;
    }
    let what = if location.field.0.is_empty() { what } else { format!("{what}, `{}`", dotted(&location.field.0)) };
    let mut diagnostic = Diagnostic::new(Code::InvalidValue, location, format!("{what}: {message}"));
    // `unknown variant `overwite`, expected one of `overwrite`, `append`, …`.
    if let Some(variant) = message.strip_prefix("unknown variant `").and_then(|rest| rest.split('`').next())
        && let Some((_, expected)) = message.split_once(", expected ")
    {
        let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        if let Some(suggestion) = closest(variant, &candidates) {
            diagnostic = diagnostic.with_suggestion(format!("did you mean `{suggestion}`?"));
        }
    }
    diagnostic
}

/// `expect.unique[0]`: keys joined by dots, sequence indices in brackets.
fn dotted(field: &[String]) -> String {
    let mut text = String::new();
    for key in field {
        if key.bytes().all(|byte| byte.is_ascii_digit()) {
            text.push_str(&format!("[{key}]"));
        } else {
            if !text.is_empty() {
                text.push('.');
            }
            text.push_str(key);
        }
    }
    text
}

/// `V0211 join-key-count` for a join key pair that is not exactly `[left, right]` (serde
/// would only say "invalid length"); the view is then lost like any malformed entry.
fn join_key_pair_shape(view: &str, value: &Value) -> Option<Diagnostic> {
    let pairs = value.get("join")?.get("on")?.as_array()?;
    pairs.iter().enumerate().find_map(|(index, pair)| {
        let length = pair.as_array()?.len();
        (length != 2).then(|| {
            Diagnostic::new(
                Code::JoinKeyCount,
                SpecLocation::view(view).with_field(FieldPath(vec!["join".into(), "on".into(), index.to_string()])),
                format!("join key pair {} of view `{view}` has {length} column(s); a pair is `[left_column, right_column]`", index + 1),
            )
            .with_note("write one pair per compared column: `on: [[a, x], [b, y]]`")
        })
    })
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn describe(location: &SpecLocation) -> String {
    location.key_path().join(".")
}

fn location_of_path(path: &[String]) -> SpecLocation {
    let section = match path.first().map(String::as_str) {
        Some("sources") => Section::Sources,
        Some("views") => Section::Views,
        Some("outputs") => Section::Outputs,
        Some("profile") => Section::Profile,
        _ => return SpecLocation { field: FieldPath(path.to_vec()), ..SpecLocation::root() },
    };
    SpecLocation { section, entry: path.get(1).cloned(), field: FieldPath(path.iter().skip(2).cloned().collect()), ..SpecLocation::root() }
}
