//! `V0308 storage-option-invalid`: a `profile.storage` option that the store of its bucket
//! does not know (object_store's configuration keys for S3, Azure or Google Cloud Storage,
//! in any case: `AWS_ENDPOINT_URL`, `aws_endpoint`, `azure_storage_account_key`, …), or whose
//! value is not the name of an environment variable.
//!
//! Why values are variable names: a storage option is often a secret (a secret access key,
//! an account key, a service account key); a spec is committed, shared and echoed into
//! plans and bundles, so it never holds a value, only where the value comes from at run
//! time. An option the store does not know would be silently ignored by the store, so a
//! typo (`AWS_ENDPOINT_UR`) would send requests to the wrong endpoint.
//!
//! Invariants: pure (object_store's key parsers only; the environment is the driver's to
//! read); keys of a `profile.storage` entry that is not a usable store root are `V0307`'s
//! and skipped here.

use object_store::aws::AmazonS3ConfigKey;
use object_store::azure::AzureConfigKey;
use object_store::gcp::GoogleConfigKey;
use viewdag_ir::{Code, Diagnostic, FieldPath, ProfileSpec, Section, SpecLocation, StorageUrl, StoreKind};

/// Whether `option` (any case) configures a store of `kind`.
pub fn is_known_option(kind: StoreKind, option: &str) -> bool {
    let key = option.to_ascii_lowercase();
    match kind {
        StoreKind::S3 => key.parse::<AmazonS3ConfigKey>().is_ok(),
        StoreKind::Azure => key.parse::<AzureConfigKey>().is_ok(),
        StoreKind::Gcs => key.parse::<GoogleConfigKey>().is_ok(),
    }
}

/// Whether `name` can be an environment variable's name (`[A-Za-z_][A-Za-z0-9_]*`).
pub fn is_variable_name(name: &str) -> bool {
    let mut characters = name.chars();
    characters.next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && characters.all(|character| character.is_ascii_alphanumeric() || character == '_')
}

pub fn check(profile: &ProfileSpec) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (store, options) in &profile.storage {
        let Ok(Some(url)) = StorageUrl::parse(store) else { continue };
        if !url.key().is_empty() {
            continue;
        }
        for (option, variable) in options {
            let location = SpecLocation { section: Section::Profile, ..SpecLocation::root() }.with_field(FieldPath(vec![
                "storage".into(),
                store.clone(),
                option.clone(),
            ]));
            if !is_known_option(url.kind(), option) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::StorageOptionInvalid,
                        location,
                        format!("`{option}` is not an option of {} stores (`{store}`)", url.kind().as_str()),
                    )
                    .with_note("options are object_store's configuration keys, e.g. `AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ALLOW_HTTP`, `AZURE_STORAGE_ACCOUNT_NAME`, `GOOGLE_SERVICE_ACCOUNT`"),
                );
            } else if !is_variable_name(variable) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::StorageOptionInvalid,
                        location,
                        format!("the value of `{option}` must name the environment variable that holds it, and is not a variable name"),
                    )
                    .with_note("storage options are never written in the spec: it is committed and echoed into plans")
                    .with_suggestion(format!("`{option}: MY_VARIABLE`, with `MY_VARIABLE` set in the environment of `viewdag`")),
                );
            }
        }
    }
    diagnostics
}

#[cfg(test)]
mod tests {
    use indexmap::IndexMap;
    use viewdag_ir::{ProfileSpec, StoreKind};

    use super::{check, is_known_option, is_variable_name};

    #[test]
    fn options_are_the_stores_own_keys_in_any_case() {
        assert!(is_known_option(StoreKind::S3, "AWS_ENDPOINT_URL") && is_known_option(StoreKind::S3, "aws_allow_http"));
        assert!(is_known_option(StoreKind::Azure, "AZURE_STORAGE_ACCOUNT_KEY"));
        assert!(is_known_option(StoreKind::Gcs, "google_service_account"));
        assert!(!is_known_option(StoreKind::S3, "AWS_ENDPOINT_UR") && !is_known_option(StoreKind::Gcs, "AWS_REGION"));
        assert!(is_variable_name("LAKE_KEY_1") && is_variable_name("_x"));
        assert!(!is_variable_name("wJalr/K7MDENG") && !is_variable_name("1X") && !is_variable_name(""));
    }

    #[test]
    fn an_unknown_option_or_a_value_that_is_no_variable_name_is_reported() {
        let options = IndexMap::from([
            ("AWS_ENDPOINT_URL".to_string(), "LAKE_ENDPOINT".to_string()),
            ("AWS_ENDPOINT_UR".to_string(), "X".to_string()),
            ("AWS_SECRET_ACCESS_KEY".to_string(), "wJalr/K7MDENG+bPxRfiCY".to_string()),
        ]);
        let profile = ProfileSpec { storage: IndexMap::from([("s3://lake".to_string(), options)]), ..ProfileSpec::default() };
        let found = check(&profile);
        let fields: Vec<String> = found.iter().map(|diagnostic| diagnostic.location.field.0.join(".")).collect();
        assert_eq!(fields, vec!["storage.s3://lake.AWS_ENDPOINT_UR", "storage.s3://lake.AWS_SECRET_ACCESS_KEY"]);
        assert!(!found[1].message.contains("wJalr"), "the value is not repeated: {}", found[1].message);
    }
}
