//! DataFusion's object stores: one per bucket, built from the bucket's [`StoreOptions`] and
//! registered in a `RuntimeEnv`, so that Parquet and CSV sources (listing tables) and any
//! other DataFusion scan of an `s3://`, `gs://`, `az://` or `abfss://` URL find it.
//! [`register_object_store`] is how the driver, which knows each bucket's options, makes a
//! bucket readable; a process without a spec (an executor) discovers buckets instead
//! (`discovery`), building them with the same [`object_store`].
//!
//! ## Invariants
//! - A registered store is keyed by scheme and bucket (DataFusion's registry key), so one
//!   bucket has one configuration per runtime; registering it again replaces it with the
//!   same options (sources and tables of one bucket share them).
//! - Errors name the store and object_store's reason; callers redact them.

use std::str::FromStr;
use std::sync::Arc;

use datafusion::execution::runtime_env::RuntimeEnv;
use object_store::ObjectStore;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use viewdag_ir::{StorageUrl, StoreKind};

use super::options::{StorageError, StoreOptions};

/// The object store of the bucket `url` lives in, configured by `options`.
pub fn object_store(url: &StorageUrl, options: &StoreOptions) -> Result<Arc<dyn ObjectStore>, StorageError> {
    let root = url.store_root().to_string();
    let failed = |error: object_store::Error| StorageError::Configuration { store: root.clone(), message: error.to_string() };
    let store: Arc<dyn ObjectStore> = match url.kind() {
        StoreKind::S3 => {
            let mut builder = AmazonS3Builder::new().with_url(root.clone());
            for (key, value) in options.entries() {
                if let Ok(key) = AmazonS3ConfigKey::from_str(key) {
                    builder = builder.with_config(key, value);
                }
            }
            Arc::new(builder.build().map_err(failed)?)
        }
        StoreKind::Azure => {
            let mut builder = MicrosoftAzureBuilder::new().with_url(root.clone());
            for (key, value) in options.entries() {
                if let Ok(key) = AzureConfigKey::from_str(key) {
                    builder = builder.with_config(key, value);
                }
            }
            Arc::new(builder.build().map_err(failed)?)
        }
        StoreKind::Gcs => {
            let mut builder = GoogleCloudStorageBuilder::new().with_url(root.clone());
            for (key, value) in options.entries() {
                if let Ok(key) = GoogleConfigKey::from_str(key) {
                    builder = builder.with_config(key, value);
                }
            }
            Arc::new(builder.build().map_err(failed)?)
        }
    };
    Ok(store)
}

/// Builds the store of `url`'s bucket and registers it in `runtime`; returns it.
pub fn register_object_store(runtime: &RuntimeEnv, url: &StorageUrl, options: &StoreOptions) -> Result<Arc<dyn ObjectStore>, StorageError> {
    let store = object_store(url, options)?;
    let root = url.store_root().to_string();
    let key = url::Url::parse(&root).map_err(|error| StorageError::Configuration { store: root.clone(), message: error.to_string() })?;
    runtime.register_object_store(&key, Arc::clone(&store));
    Ok(store)
}
