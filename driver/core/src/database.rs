//! The concrete salsa database: every stage's `Db` trait, the provider registry, the
//! runtime, and a log of which tracked functions executed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use datafusion::catalog::TableProvider;
use datafusion::execution::cache::cache_manager::CacheManagerConfig;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use salsa::plumbing::AsId;
use viewdag_ir::ProviderIdentity;
use viewdag_lower::schema_interner::SchemaInterner;
use viewdag_lower::signature_memo::{MemoTable, SignatureMemo};
use viewdag_schedule::Volume;

/// One execution of a tracked function: its name and the salsa id of its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryEvent {
    pub function: Arc<str>,
    pub key: salsa::Id,
}

/// What salsa did since the log was last taken: every execution, in order, and per tracked
/// function how many memoized values were checked against the new revision and reused.
/// Reuses are counted, not listed: a recompile re-validates every memo the project's
/// queries read (O(views)), and one counter per memo costs less than one event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryLog {
    pub executed: Vec<QueryEvent>,
    pub reused: Vec<(Arc<str>, usize)>,
}

/// The log as salsa's callback writes it.
#[derive(Default)]
struct RawQueryLog {
    executed: Vec<salsa::DatabaseKeyIndex>,
    reused: HashMap<salsa::plumbing::IngredientIndex, usize>,
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
    events: Arc<Mutex<RawQueryLog>>,
    /// Whether events are logged at all (on unless the host turns it off: a command that
    /// shows no statistics saves a locked push per query).
    logging: Arc<AtomicBool>,
    /// How many in-memory runs (`lab`) bound tables: each gets identities of its own.
    memory_runs: Arc<AtomicU64>,
    /// The signature memo kept across processes, when the compiler keeps one: an untracked
    /// side table whose values are pure functions of their keys
    /// (`viewdag_lower::signature_memo`).
    signature_memo: Option<Arc<SignatureMemo>>,
    /// The `sql` views' reads kept across processes, likewise
    /// (`viewdag_validate::reads_memo`).
    reads_memo: Option<Arc<MemoTable>>,
    /// Views' output schemas shared by value (`viewdag_lower::schema_interner`).
    schemas: Arc<SchemaInterner>,
}

/// DataFusion's runtime environment without its list-files cache. DataFusion 55 caches every
/// directory listing for the runtime's lifetime by default (no TTL); this runtime lives as
/// long as the `Compiler`, and viewdag identifies file sources by what a fresh listing finds,
/// so a cached listing made a long-lived compiler (an editor, `watch`, an embedder) infer a
/// Parquet source's schema without the files added since. The file-metadata and statistics
/// caches stay: they are keyed by each file's size and modification time.
fn fresh_listing_runtime_env() -> Arc<RuntimeEnv> {
    let caches = CacheManagerConfig::default().with_list_files_cache_limit(0);
    Arc::new(RuntimeEnvBuilder::new().with_cache_manager(caches).build().expect("DataFusion's default runtime builds"))
}

impl Database {
    pub fn new(runtime: Arc<tokio::runtime::Runtime>) -> Self {
        let events: Arc<Mutex<RawQueryLog>> = Arc::default();
        let log = Arc::clone(&events);
        let logging = Arc::new(AtomicBool::new(true));
        let log_on = Arc::clone(&logging);
        let storage = salsa::Storage::new(Some(Box::new(move |event: salsa::Event| match event.kind {
            _ if !log_on.load(Ordering::Relaxed) => {}
            salsa::EventKind::WillExecute { database_key } => log.lock().expect("execution log lock").executed.push(database_key),
            salsa::EventKind::DidValidateMemoizedValue { database_key } => {
                *log.lock().expect("execution log lock").reused.entry(database_key.ingredient_index()).or_default() += 1;
            }
            _ => {}
        })));
        Database {
            storage,
            providers: Arc::default(),
            volumes: Arc::default(),
            runtime,
            runtime_env: fresh_listing_runtime_env(),
            events,
            logging,
            memory_runs: Arc::default(),
            signature_memo: None,
            reads_memo: None,
            schemas: Arc::default(),
        }
    }

    /// Sets (or removes) the memos kept across processes: the signatures `view_signature`
    /// consults and the reads `view_reads` consults.
    pub fn set_persistent_memos(&mut self, memos: Option<(Arc<SignatureMemo>, Arc<MemoTable>)>) {
        (self.signature_memo, self.reads_memo) = memos.unzip();
    }

    /// The signature memo, shared.
    pub fn signature_memo_handle(&self) -> Option<Arc<SignatureMemo>> {
        self.signature_memo.clone()
    }

    /// The reads memo, shared.
    pub fn reads_memo_handle(&self) -> Option<Arc<MemoTable>> {
        self.reads_memo.clone()
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

    /// Turns the query log on or off (on by default). Off, [`Database::take_events`] returns
    /// nothing logged since.
    pub fn set_query_log(&self, enabled: bool) {
        self.logging.store(enabled, Ordering::Relaxed);
    }

    /// Takes the log of query events since the last call, each named after its tracked
    /// function (salsa's ingredient name).
    pub fn take_events(&self) -> QueryLog {
        use salsa::Database as _;
        let raw = std::mem::take(&mut *self.events.lock().expect("execution log lock"));
        let mut names: HashMap<salsa::plumbing::IngredientIndex, Arc<str>> = HashMap::new();
        let mut name =
            |ingredient| Arc::clone(names.entry(ingredient).or_insert_with(|| Arc::from(self.ingredient_debug_name(ingredient).as_ref())));
        let executed = raw
            .executed
            .into_iter()
            .map(|database_key| QueryEvent { function: name(database_key.ingredient_index()), key: database_key.key_index() })
            .collect();
        let reused = raw.reused.into_iter().map(|(ingredient, count)| (name(ingredient), count)).collect();
        QueryLog { executed, reused }
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
impl viewdag_validate::Db for Database {
    fn reads_memo(&self) -> Option<&MemoTable> {
        self.reads_memo.as_deref()
    }
}

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
impl viewdag_lower::Db for Database {
    fn signature_memo(&self) -> Option<&SignatureMemo> {
        self.signature_memo.as_deref()
    }

    fn schema_interner(&self) -> &SchemaInterner {
        &self.schemas
    }
}

#[salsa::db]
impl viewdag_optimize::Db for Database {}

#[salsa::db]
impl viewdag_artifact::Db for Database {}
