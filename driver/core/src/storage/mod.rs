//! Object stores: where a spec's URLs (`s3://`, `gs://`, `az://`, `abfss://`) are read and
//! written, and with which settings. The one place that turns the environment and
//! `profile.storage` into store options, builds DataFusion's object stores, opens Delta
//! tables at a [`TableLocation`], classifies a store's refusals and keeps secrets out of
//! every message.
//!
//! - [`environment`]: the variables a compile reads (a snapshot; the process's by default).
//! - [`options`]: one store's options: the standard variables of its kind, then the
//!   `profile.storage` options of its bucket, each read from the variable it names.
//! - [`registry`]: DataFusion's object store for a bucket, registered in a runtime
//!   ([`register_object_store`]: the driver, which knows each bucket's options).
//! - [`discovery`]: a registry that builds an unknown bucket's store from the process's
//!   environment when a plan first names it ([`object_store_registry`]: what a cluster's
//!   executor gives its runtimes).
//! - [`location`]: a table's location (a local directory or a URL) and opening the Delta
//!   table there.
//! - [`failure`]: a store's refusals (credentials, missing bucket, unreachable endpoint)
//!   recognised in an error, for their codes.
//! - [`redaction`]: every credential value the environment holds, removed from a text.
//!
//! ## Invariants
//! - No value of an option is ever part of a spec, a plan, a bundle, a digest or a provider
//!   identity; every message viewdag makes from a store's error passes through the
//!   [`Redactor`], and no type here prints option values in its `Debug`.
//! - Delta commits on S3 use deltalake's default log store: a conditional PUT
//!   (`If-None-Match: *`) of the commit file, never a rename (tested against moto's
//!   recording of the requests).
//! - deltalake's handlers for `s3`, `gs`, `az`/`abfss` are registered once, before any
//!   table is opened ([`register_handlers`]).

pub mod discovery;
pub mod environment;
pub mod failure;
pub mod location;
pub mod options;
pub mod redaction;
pub mod registry;

pub use discovery::{EnvironmentStoreRegistry, object_store_registry};
pub use environment::Environment;
pub use failure::StorageFailure;
pub use location::TableLocation;
pub use options::{StorageError, StorageSettings, StoreOptions};
pub use redaction::Redactor;
pub use registry::register_object_store;

/// Registers deltalake's object-store and log-store factories for every scheme viewdag
/// accepts (idempotent; deltalake also registers them when it is loaded, this makes the
/// dependency explicit).
pub fn register_handlers() {
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    REGISTERED.call_once(|| {
        deltalake::aws::register_handlers(None);
        deltalake::azure::register_handlers(None);
        deltalake::gcp::register_handlers(None);
    });
}
