//! The concrete salsa database: every stage's `Db` trait, the provider registry, the
//! runtime, and a log of which tracked functions executed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use datafusion::catalog::TableProvider;
use datafusion::execution::runtime_env::RuntimeEnv;
use salsa::plumbing::AsId;
use viewdag_ir::ProviderIdentity;

/// One execution of a tracked function: its name and the salsa id of its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutedQuery {
    pub function: String,
    pub key: salsa::Id,
}

#[salsa::db]
#[derive(Clone)]
pub struct Database {
    storage: salsa::Storage<Self>,
    providers: Arc<RwLock<HashMap<ProviderIdentity, Arc<dyn TableProvider>>>>,
    runtime: Arc<tokio::runtime::Runtime>,
    runtime_env: Arc<RuntimeEnv>,
    executed: Arc<Mutex<Vec<ExecutedQuery>>>,
}

impl Database {
    pub fn new(runtime: Arc<tokio::runtime::Runtime>) -> Self {
        let executed: Arc<Mutex<Vec<ExecutedQuery>>> = Arc::default();
        let log = Arc::clone(&executed);
        let storage = salsa::Storage::new(Some(Box::new(move |event: salsa::Event| {
            if let salsa::EventKind::WillExecute { database_key } = event.kind {
                let rendered = format!("{database_key:?}");
                let function = rendered.split('(').next().unwrap_or("").to_string();
                log.lock().expect("execution log lock").push(ExecutedQuery { function, key: database_key.key_index() });
            }
        })));
        Database { storage, providers: Arc::default(), runtime, runtime_env: Arc::new(RuntimeEnv::default()), executed }
    }

    /// Registers the provider for an identity (done by the driver after loading a source).
    pub fn register_provider(&self, identity: ProviderIdentity, provider: Arc<dyn TableProvider>) {
        self.providers.write().expect("provider registry lock").insert(identity, provider);
    }

    pub fn has_provider(&self, identity: &ProviderIdentity) -> bool {
        self.providers.read().expect("provider registry lock").contains_key(identity)
    }

    /// Takes the log of executed queries since the last call.
    pub fn take_executed(&self) -> Vec<ExecutedQuery> {
        std::mem::take(&mut *self.executed.lock().expect("execution log lock"))
    }

    pub fn tokio(&self) -> &Arc<tokio::runtime::Runtime> {
        &self.runtime
    }

    pub fn datafusion_runtime_env(&self) -> &Arc<RuntimeEnv> {
        &self.runtime_env
    }
}

/// The salsa id of an input, to match executed queries with views.
pub fn id_of(input: impl AsId) -> salsa::Id {
    input.as_id()
}

#[salsa::db]
impl salsa::Database for Database {}

#[salsa::db]
impl viewdag_ir::Db for Database {}

#[salsa::db]
impl viewdag_validate::Db for Database {}

#[salsa::db]
impl viewdag_surface::Db for Database {
    fn provider(&self, identity: &ProviderIdentity) -> Option<Arc<dyn TableProvider>> {
        self.providers.read().expect("provider registry lock").get(identity).cloned()
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    fn runtime_env(&self) -> Arc<RuntimeEnv> {
        Arc::clone(&self.runtime_env)
    }
}

#[salsa::db]
impl viewdag_lower::Db for Database {}

#[salsa::db]
impl viewdag_optimize::Db for Database {}

#[salsa::db]
impl viewdag_artifact::Db for Database {}
