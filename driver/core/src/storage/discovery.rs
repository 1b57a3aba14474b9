//! Object stores found on demand: an `ObjectStoreRegistry` for a process that is handed
//! plans naming `s3://`, `gs://`, `az://` or `abfss://` locations it was never told about — a
//! cluster's executor, which receives scans and writes of any bucket and holds no spec. The
//! first time a bucket is asked for, its store is built from the process's environment (the
//! standard variables of its kind, as for the driver: `AWS_*`, `AZURE_*`, `GOOGLE_*`) and
//! kept; every later request for that bucket gets the same store.
//!
//! ## Invariants
//! - Nothing secret travels with a plan: an executor reads its credentials from its own
//!   environment ([`EnvironmentStoreRegistry::new`] takes a snapshot of it).
//! - Stores registered explicitly (`file://`, or a bucket registered with its options) win
//!   over discovery; a URL that is not an object-store URL viewdag accepts is DataFusion's
//!   usual "no suitable object store" error.
//! - `Debug` prints the registered keys, never an option.

use std::sync::Arc;

use datafusion::common::{DataFusionError, Result};
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use object_store::ObjectStore;
use url::Url;
use viewdag_ir::{ProfileSpec, StorageUrl};

use super::environment::Environment;
use super::options::StorageSettings;
use super::registry::object_store;

/// DataFusion's registry, plus buckets discovered from the environment when first asked for.
#[derive(Debug)]
pub struct EnvironmentStoreRegistry {
    registered: DefaultObjectStoreRegistry,
    settings: StorageSettings,
}

impl EnvironmentStoreRegistry {
    /// A registry that builds unknown buckets' stores from `environment`'s standard variables.
    pub fn new(environment: Environment) -> Self {
        EnvironmentStoreRegistry {
            registered: DefaultObjectStoreRegistry::new(),
            settings: StorageSettings::new(environment, &ProfileSpec::default()),
        }
    }

    /// The store of `url`'s bucket, built from the environment, when `url` is an object-store
    /// URL viewdag accepts.
    fn discover(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        let refused = |message: String| DataFusionError::Configuration(self.settings.redactor().redact(&message));
        // Only the bucket matters (a file's key may hold characters a spec's key may not).
        let root = format!("{}://{}", url.scheme(), url.authority());
        let storage_url = StorageUrl::parse(&root)
            .map_err(|problem| refused(format!("`{url}` is not a usable object-store URL: {problem}")))?
            .ok_or_else(|| refused(format!("no object store is registered for `{url}`")))?;
        let options = self.settings.options(&storage_url).map_err(|error| refused(error.to_string()))?;
        let store = object_store(&storage_url, &options).map_err(|error| refused(error.to_string()))?;
        let key = Url::parse(&storage_url.store_root().to_string()).map_err(|error| refused(error.to_string()))?;
        self.registered.register_store(&key, Arc::clone(&store));
        Ok(store)
    }
}

impl ObjectStoreRegistry for EnvironmentStoreRegistry {
    fn register_store(&self, url: &Url, store: Arc<dyn ObjectStore>) -> Option<Arc<dyn ObjectStore>> {
        self.registered.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        self.registered.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        self.registered.get_store(url).or_else(|_| self.discover(url))
    }
}

/// The registry a process that holds no spec (a cluster's executor) gives its runtimes: every
/// bucket a plan names is found from this process's environment.
pub fn object_store_registry() -> Arc<dyn ObjectStoreRegistry> {
    Arc::new(EnvironmentStoreRegistry::new(Environment::from_process()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> EnvironmentStoreRegistry {
        EnvironmentStoreRegistry::new(Environment::from_variables([
            ("AWS_ACCESS_KEY_ID".to_string(), "AKIADISCOVERYKEY0001".to_string()),
            ("AWS_SECRET_ACCESS_KEY".to_string(), "discovery-secret-value".to_string()),
            ("AWS_REGION".to_string(), "us-east-1".to_string()),
            ("AWS_ENDPOINT_URL".to_string(), "http://127.0.0.1:9".to_string()),
            ("AWS_ALLOW_HTTP".to_string(), "true".to_string()),
        ]))
    }

    #[test]
    fn a_bucket_is_discovered_once_and_then_reused() {
        let registry = registry();
        let first = registry.get_store(&Url::parse("s3://lake/orders/part-0.parquet").unwrap()).unwrap();
        let again = registry.get_store(&Url::parse("s3://lake/other/").unwrap()).unwrap();
        assert!(Arc::ptr_eq(&first, &again), "one store per bucket");
        let other = registry.get_store(&Url::parse("s3://another/").unwrap()).unwrap();
        assert!(!Arc::ptr_eq(&first, &other), "another bucket, another store");
        assert!(registry.get_store(&Url::parse("file:///tmp/table/").unwrap()).is_ok(), "local files as before");
    }

    #[test]
    fn a_registered_store_wins_and_unknown_schemes_are_refused_without_secrets() {
        let registry = registry();
        let url = Url::parse("s3://lake/").unwrap();
        let registered: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
        registry.register_store(&url, Arc::clone(&registered));
        assert!(Arc::ptr_eq(&registry.get_store(&url).unwrap(), &registered));
        let refused = registry.get_store(&Url::parse("hdfs://namenode:8020/data").unwrap()).unwrap_err().to_string();
        assert!(refused.contains("hdfs://namenode:8020/data"), "{refused}");
        let printed = format!("{registry:?}");
        assert!(!printed.contains("discovery-secret-value") && !printed.contains("AKIADISCOVERYKEY0001"), "{printed}");
    }
}
