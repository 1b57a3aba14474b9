//! The concrete salsa database: every stage's `Db` trait, the provider registry, the
//! runtime, and a log of which tracked functions executed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use datafusion::catalog::TableProvider;
use datafusion::execution::runtime_env::RuntimeEnv;
use salsa::plumbing::AsId;
use viewdag_ir::ProviderIdentity;
use viewdag_schedule::Volume;

/// What salsa did with one tracked-function call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryOutcome {
    /// The function body ran.
    Executed,
    /// A memoized value was checked against the new revision and reused.
    Reused,
}

/// One salsa event about a tracked function: its name, the salsa id of its key, and
/// whether it executed or was reused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryEvent {
    pub function: Arc<str>,
    pub key: salsa::Id,
    pub outcome: QueryOutcome,
}

#[salsa::db]
#[derive(Clone)]
pub struct Database {
    storage: salsa::Storage<Self>,
    providers: Arc<RwLock<HashMap<ProviderIdentity, Arc<dyn TableProvider>>>>,
    /// Volumes of Delta sources, read from their logs when loaded (for the cost model).
    volumes: Arc<RwLock<HashMap<ProviderIdentity, Volume>>>,
    runtime: Arc<tokio::runtime::Runtime>,
    runtime_env: Arc<RuntimeEnv>,
    /// Raw events, as cheap as salsa gives them (a verification walk of a large project
    /// reports one per memo); named only when taken.
    events: Arc<Mutex<Vec<(salsa::DatabaseKeyIndex, QueryOutcome)>>>,
    /// How many in-memory runs (`lab`) bound tables: each gets identities of its own.
    memory_runs: Arc<AtomicU64>,
}

impl Database {
    pub fn new(runtime: Arc<tokio::runtime::Runtime>) -> Self {
        let events: Arc<Mutex<Vec<(salsa::DatabaseKeyIndex, QueryOutcome)>>> = Arc::default();
        let log = Arc::clone(&events);
        let storage = salsa::Storage::new(Some(Box::new(move |event: salsa::Event| {
            let entry = match event.kind {
                salsa::EventKind::WillExecute { database_key } => (database_key, QueryOutcome::Executed),
                salsa::EventKind::DidValidateMemoizedValue { database_key } => (database_key, QueryOutcome::Reused),
                _ => return,
            };
            log.lock().expect("execution log lock").push(entry);
        })));
        Database {
            storage,
            providers: Arc::default(),
            volumes: Arc::default(),
            runtime,
            runtime_env: Arc::new(RuntimeEnv::default()),
            events,
            memory_runs: Arc::default(),
        }
    }

    /// Registers the provider for an identity (done by the driver after loading a source).
    pub fn register_provider(&self, identity: ProviderIdentity, provider: Arc<dyn TableProvider>) {
        self.providers.write().expect("provider registry lock").insert(identity, provider);
    }

    /// Forgets the provider of an identity no plan will read again (an in-memory table).
    pub fn forget_provider(&self, identity: &ProviderIdentity) {
        self.providers.write().expect("provider registry lock").remove(identity);
    }

    /// A number no earlier in-memory run of this database had (1, 2, …).
    pub fn next_memory_run(&self) -> u64 {
        self.memory_runs.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Records how much data the table behind an identity holds.
    pub fn register_volume(&self, identity: ProviderIdentity, volume: Volume) {
        self.volumes.write().expect("volume registry lock").insert(identity, volume);
    }

    pub fn volume(&self, identity: &ProviderIdentity) -> Option<Volume> {
        self.volumes.read().expect("volume registry lock").get(identity).copied()
    }

    pub fn has_provider(&self, identity: &ProviderIdentity) -> bool {
        self.providers.read().expect("provider registry lock").contains_key(identity)
    }

    /// Takes the log of query events since the last call, each named after its tracked
    /// function (salsa's ingredient name).
    pub fn take_events(&self) -> Vec<QueryEvent> {
        use salsa::Database as _;
        let raw = std::mem::take(&mut *self.events.lock().expect("execution log lock"));
        let mut names: HashMap<salsa::plumbing::IngredientIndex, Arc<str>> = HashMap::new();
        raw.into_iter()
            .map(|(database_key, outcome)| {
                let ingredient = database_key.ingredient_index();
                let function =
                    Arc::clone(names.entry(ingredient).or_insert_with(|| Arc::from(self.ingredient_debug_name(ingredient).as_ref())));
                QueryEvent { function, key: database_key.key_index(), outcome }
            })
            .collect()
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
