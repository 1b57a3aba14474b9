//! One object store's options, and the settings they are resolved from.
//!
//! A store's options are, in order (later wins): the standard environment variables of its
//! kind (every `AWS_*`, `AZURE_*` or `GOOGLE_*` variable whose name is one of object_store's
//! configuration keys for S3, Azure or Google Cloud Storage: `AWS_ACCESS_KEY_ID`,
//! `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`, `AZURE_STORAGE_ACCOUNT_KEY`, `GOOGLE_SERVICE_ACCOUNT`,
//! …, as object_store's own `from_env` builders read them), then the `profile.storage`
//! options of its bucket, each read from the environment variable it names. deltalake
//! receives the same options (its own S3 settings, e.g. `AWS_S3_LOCKING_PROVIDER`, it still
//! reads from the process environment).
//!
//! ## Invariants
//! - Option values live only in [`StoreOptions`] (and the [`Redactor`] built from the same
//!   environment); `Debug` of either prints option names only.
//! - A `profile.storage` option whose variable is not set is an error of whatever needs the
//!   store (`V0309`), never an option silently left out.

use std::collections::{BTreeMap, HashMap};

use indexmap::IndexMap;
use viewdag_ir::{Code, ProfileSpec, StorageUrl, StoreKind};
use viewdag_validate::checks::storage_option_invalid::is_known_option;

use super::environment::Environment;
use super::redaction::Redactor;

/// The store kinds, for options that may configure any of them.
const KINDS: [StoreKind; 3] = [StoreKind::S3, StoreKind::Azure, StoreKind::Gcs];

/// Whether the environment variable `name` is a standard setting of `kind`'s stores: it has
/// the kind's prefix (`AWS_`, `AZURE_`, `GOOGLE_`, as object_store's `from_env` builders
/// read them) and names one of its options.
fn is_standard_variable(kind: StoreKind, name: &str) -> bool {
    let prefix = match kind {
        StoreKind::S3 => "AWS_",
        StoreKind::Azure => "AZURE_",
        StoreKind::Gcs => "GOOGLE_",
    };
    name.starts_with(prefix) && is_known_option(kind, name)
}

/// Why a store could not be configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// A `profile.storage` option names a variable the environment does not set.
    #[error(
        "error[{code}]: `profile.storage` sets `{option}` of `{store}` from the environment variable `{variable}`, which is not set",
        code = Code::StorageVariableUnset.id()
    )]
    VariableUnset {
        /// The store root (`s3://bucket`).
        store: String,
        /// The option.
        option: String,
        /// The variable it names.
        variable: String,
    },
    /// The options do not make a store (an unparsable value, a missing account name).
    #[error("cannot configure the object store of `{store}`: {message}")]
    Configuration {
        /// The store root.
        store: String,
        /// object_store's reason (redacted).
        message: String,
    },
}

impl StorageError {
    /// The registered diagnostic code, when there is one.
    pub fn code(&self) -> Option<Code> {
        match self {
            StorageError::VariableUnset { .. } => Some(Code::StorageVariableUnset),
            StorageError::Configuration { .. } => None,
        }
    }
}

/// One store's options: option name (lowercase) → value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StoreOptions {
    options: BTreeMap<String, String>,
}

impl StoreOptions {
    /// The options, as deltalake's storage options.
    pub fn to_map(&self) -> HashMap<String, String> {
        self.options.iter().map(|(key, value)| (key.clone(), value.clone())).collect()
    }

    /// Each option and its value.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.options.iter().map(|(key, value)| (key.as_str(), value.as_str()))
    }
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("StoreOptions").field("options", &self.options.keys().collect::<Vec<_>>()).finish()
    }
}

/// Whether an option's value is a credential (or may hold one): its name mentions a key, a
/// secret, a token, a password, a SAS or credentials. Over-inclusive on purpose: redacting a
/// KMS key id or a token file's path costs nothing.
pub fn is_secret_option(option: &str) -> bool {
    let option = option.to_ascii_lowercase();
    ["key", "secret", "token", "password", "sas", "credential"].iter().any(|word| option.contains(word))
}

/// What a compile and its run know about object stores: the environment and the spec's
/// `profile.storage`, and the redactor of every credential among them.
#[derive(Debug, Clone, Default)]
pub struct StorageSettings {
    environment: Environment,
    /// `profile.storage`, by store root (keys that are not usable store roots are `V0307`'s and left out).
    stores: Vec<(StorageUrl, IndexMap<String, String>)>,
    redactor: Redactor,
}

impl StorageSettings {
    /// The settings of a spec whose profile is `profile`, read from `environment`.
    pub fn new(environment: Environment, profile: &ProfileSpec) -> StorageSettings {
        let stores: Vec<(StorageUrl, IndexMap<String, String>)> = profile
            .storage
            .iter()
            .filter_map(|(store, options)| match StorageUrl::parse(store) {
                Ok(Some(url)) if url.key().is_empty() => Some((url, options.clone())),
                _ => None,
            })
            .collect();
        let standard = environment
            .variables()
            .filter(|(name, _)| is_secret_option(name) && KINDS.iter().any(|kind| is_standard_variable(*kind, name)))
            .map(|(_, value)| value.to_string());
        let named = stores
            .iter()
            .flat_map(|(_, options)| options.iter())
            .filter(|(option, _)| is_secret_option(option))
            .filter_map(|(_, variable)| environment.get(variable).map(str::to_string));
        let redactor = Redactor::new(standard.chain(named));
        StorageSettings { environment, stores, redactor }
    }

    /// The options of the store `url` lives in.
    pub fn options(&self, url: &StorageUrl) -> Result<StoreOptions, StorageError> {
        let kind = url.kind();
        let mut options: BTreeMap<String, String> = self
            .environment
            .variables()
            .filter(|(name, _)| is_standard_variable(kind, name))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_string()))
            .collect();
        let root = url.store_root();
        for (store, configured) in &self.stores {
            if *store != root {
                continue;
            }
            for (option, variable) in configured {
                let value = self.environment.get(variable).ok_or_else(|| StorageError::VariableUnset {
                    store: root.to_string(),
                    option: option.clone(),
                    variable: variable.clone(),
                })?;
                options.insert(option.to_ascii_lowercase(), value.to_string());
            }
        }
        Ok(StoreOptions { options })
    }

    /// Removes every credential value from messages.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }
}

#[cfg(test)]
mod tests {
    use indexmap::IndexMap;
    use viewdag_ir::{ProfileSpec, StorageUrl};

    use super::{Environment, StorageError, StorageSettings};

    fn url(text: &str) -> StorageUrl {
        StorageUrl::parse(text).unwrap().unwrap()
    }

    #[test]
    fn profile_options_read_their_variables_and_win_over_the_standard_ones() {
        let environment = Environment::from_variables(
            [
                ("AWS_ENDPOINT_URL", "http://standard:9000"),
                ("AWS_SECRET_ACCESS_KEY", "standard-secret-value"),
                ("LAKE_ENDPOINT", "http://lake:9000"),
                ("LAKE_SECRET", "lake-secret-value"),
                ("AZURE_STORAGE_ACCOUNT_NAME", "account"),
                ("HOME", "/root"),
                ("TIMEOUT", "1s"),
            ]
            .map(|(name, value)| (name.to_string(), value.to_string())),
        );
        let lake = IndexMap::from([
            ("AWS_ENDPOINT_URL".to_string(), "LAKE_ENDPOINT".to_string()),
            ("aws_secret_access_key".to_string(), "LAKE_SECRET".to_string()),
        ]);
        let missing = IndexMap::from([("AWS_REGION".to_string(), "UNSET_REGION".to_string())]);
        let profile = ProfileSpec {
            storage: IndexMap::from([("s3a://Lake".to_string(), lake), ("s3://other".to_string(), missing)]),
            ..ProfileSpec::default()
        };
        let settings = StorageSettings::new(environment, &profile);
        let lake: Vec<(String, String)> =
            settings.options(&url("s3://lake/t")).unwrap().entries().map(|(key, value)| (key.to_string(), value.to_string())).collect();
        assert_eq!(
            lake,
            vec![
                ("aws_endpoint_url".to_string(), "http://lake:9000".to_string()),
                ("aws_secret_access_key".to_string(), "lake-secret-value".to_string())
            ]
        );
        let plain = settings.options(&url("s3://third/x")).unwrap();
        assert_eq!(plain.entries().count(), 2, "the standard variables of S3 only: {plain:?}");
        assert!(matches!(settings.options(&url("s3://other/x")), Err(StorageError::VariableUnset { .. })));
        let azure = settings.options(&url("az://container/x")).unwrap();
        assert_eq!(azure.entries().collect::<Vec<_>>(), vec![("azure_storage_account_name", "account")]);
        let redacted = settings.redactor().redact("lake-secret-value standard-secret-value http://lake:9000");
        assert_eq!(redacted, "*** *** http://lake:9000");
        assert!(!format!("{settings:?}").contains("secret-value"));
    }
}
