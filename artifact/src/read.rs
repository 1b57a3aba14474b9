//! Reading bundles and envelopes back, with a schema-version check first: a reader accepts
//! version 1 and rejects a newer version with an error that says so (before looking at any
//! other field, since a newer format may have changed them).

use serde::de::DeserializeOwned;

use crate::bundle::{BUNDLE_SCHEMA_VERSION, PlanBundle};
use crate::canonical::digest_bytes;
use crate::envelope::{CompileEnvelope, ENVELOPE_SCHEMA_VERSION};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArtifactReadError {
    #[error("the {kind} is not valid JSON: {message}")]
    NotJson { kind: &'static str, message: String },
    #[error("the {kind} has no numeric `schema_version`")]
    MissingSchemaVersion { kind: &'static str },
    #[error(
        "the {kind} has schema_version {found}, newer than this viewdag reads (at most {supported}); \
         use a newer viewdag to read it"
    )]
    NewerSchemaVersion { kind: &'static str, found: u64, supported: u32 },
    #[error("the {kind} has schema_version {found}, which no viewdag ever wrote (this one reads {supported})")]
    UnknownSchemaVersion { kind: &'static str, found: u64, supported: u32 },
    #[error("the {kind} does not match schema version {version}: {message}")]
    Shape { kind: &'static str, version: u32, message: String },
    #[error("the envelope's hash does not match its content (the file was edited or damaged)")]
    EnvelopeHashMismatch,
}

fn read_versioned<T: DeserializeOwned>(text: &str, kind: &'static str, supported: u32) -> Result<T, ArtifactReadError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|error| ArtifactReadError::NotJson { kind, message: error.to_string() })?;
    let Some(found) = value.get("schema_version").and_then(serde_json::Value::as_u64) else {
        return Err(ArtifactReadError::MissingSchemaVersion { kind });
    };
    if found > u64::from(supported) {
        return Err(ArtifactReadError::NewerSchemaVersion { kind, found, supported });
    }
    if found < 1 {
        return Err(ArtifactReadError::UnknownSchemaVersion { kind, found, supported });
    }
    serde_json::from_value(value).map_err(|error| ArtifactReadError::Shape { kind, version: supported, message: error.to_string() })
}

/// Parses a `<view>.bundle.json`.
pub fn read_bundle(text: &str) -> Result<PlanBundle, ArtifactReadError> {
    read_versioned(text, "plan bundle", BUNDLE_SCHEMA_VERSION)
}

/// Parses a `manifest.json` and checks its hash.
pub fn read_envelope(text: &str) -> Result<CompileEnvelope, ArtifactReadError> {
    let envelope: CompileEnvelope = read_versioned(text, "compile envelope", ENVELOPE_SCHEMA_VERSION)?;
    if !envelope.verify_hash() {
        return Err(ArtifactReadError::EnvelopeHashMismatch);
    }
    Ok(envelope)
}

/// The digest a bundle file's bytes must have to match its envelope entry.
pub fn bundle_file_digest(text: &str) -> String {
    digest_bytes(text.as_bytes())
}
