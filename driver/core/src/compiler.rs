//! The host: the `Compiler` reads a spec, loads its sources, sets the salsa inputs (changing
//! only what changed) and binds task tables; what it compiled is read through a
//! [`Snapshot`](crate::snapshot::Snapshot).
//!
//! ## Invariants
//! - The host's files are this one and `compiler/` (`tables`: binding written, existing and
//!   in-memory tables for their readers; `run_loop`: the loops that bind tables between
//!   tasks, `run` and its forecast; `replay`: compiling the spec bundles are replayed on). They alone hold `&mut` to the database; every
//!   `Compiler` method is defined in them, and every read-only question is a function of a
//!   snapshot in the file that owns it.
//! - An input is set only when its value changed (`set_if_changed!`): an equal value never
//!   starts a new revision.
//! - An edit the parse re-read as a few view entries (`reparse_edited_entry`) sets those
//!   views' inputs (and the project's list of views when names came or went) and nothing
//!   else: no other entry is compared with its input.
//! - Every input is created with [`SPEC_DURABILITY`] except a view's `materialized_table`
//!   (low): a run binds tables between tasks, and salsa then verifies in O(1) every memo that
//!   reads no binding, instead of walking its dependencies (a task's queries would otherwise
//!   re-verify everything upstream of it after each binding: O(tasks × views) per run).

pub(crate) mod background_check;
mod edit_scope;
pub(crate) mod piece_cache;
mod replay;
mod run_loop;
pub(crate) mod signature_cache;
mod tables;
mod warm;

pub(crate) use tables::MemoryBindings;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use salsa::Setter;
use viewdag_ir::parse::MAX_SPEC_BYTES;
use viewdag_ir::split_parse::parse_spec_with;
use viewdag_ir::{
    Code, Diagnostic, ExistingDataInput, OutputSpec, ParsedSpec, PlanningSurfaceSpec, ProfileSpec, ProjectInput, PushdownPolicy, Section,
    SourceInput, SourceResolution, SpanIndex, SpecFormat, SpecLocation, SurfaceInput, ViewDefinition, ViewInput, reparse_edited_entry,
};
use viewdag_optimize::PlanScope;
use viewdag_surface::build_session_state;

use crate::compile_progress::{CompileProgressSink, TerminalProgress};
use crate::database::{Database, QueryLog, id_of};
use crate::error::DriverError;
use crate::runtime::AsyncRuntime;
use crate::snapshot::{Snapshot, SpecSource, ViewPlans};
use crate::sources::{SourceContext, load_source, root_path_text, source_fingerprint};
use crate::stats::{RecompileStats, StructureSync};
use crate::storage::{Environment, StorageSettings};
use edit_scope::{AssemblySlot, CompilePlan, EditLog, EditScope, compile_plan, compile_project};
use viewdag_validate::checks::path_outside_project::check_source;
use viewdag_validate::checks::source_format_not_allowed;
use viewdag_validate::lexical_path::PathSpace;
use viewdag_validate::{Structure, StructureInput, compute_structure, spec_structure, view_difference};

/// The durability of every input but the run's table bindings: what the spec, its sources
/// and the profile say changes between compiles, never between a run's tasks.
const SPEC_DURABILITY: salsa::Durability = salsa::Durability::MEDIUM;

/// Which views a compile plans (P0 → P1 → P2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Planning {
    /// None: validate only (`viewdag check`). O(size of the spec).
    CheckOnly,
    /// The tasks (materialized views and outputs): what `run` executes. The default.
    Tasks,
    /// Every view (`compile --all-views`).
    AllViews,
}

impl Planning {
    fn scope(self) -> PlanScope {
        match self {
            Planning::CheckOnly => PlanScope::Nothing,
            Planning::Tasks => PlanScope::Tasks,
            Planning::AllViews => PlanScope::AllViews,
        }
    }
}

/// Where a compile reads its spec from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecInput {
    /// A spec file, read when the compile starts.
    File(PathBuf),
    /// Spec text as if read from `path` (relative paths resolve against its directory; its
    /// extension chooses YAML or JSON).
    Text {
        /// Where the text claims to come from.
        path: PathBuf,
        /// The spec.
        text: String,
    },
}

impl SpecInput {
    /// The spec's path (read, or claimed by the text).
    pub fn path(&self) -> &Path {
        match self {
            SpecInput::File(path) | SpecInput::Text { path, .. } => path,
        }
    }
}

/// Settings that replace the spec's `profile` entries for one compile (`None`: the spec's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileOverrides {
    /// Replaces `profile.optimizer`.
    pub optimizer: Option<viewdag_optimize::OptimizerPipelineConfig>,
    /// Replaces `profile.pushdown`.
    pub pushdown: Option<PushdownPolicy>,
    /// Replaces `profile.target_partitions`.
    pub target_partitions: Option<usize>,
    /// Replaces `profile.batch_size`.
    pub batch_size: Option<usize>,
}

impl ProfileOverrides {
    /// `profile` with these overrides applied (the optimizer is applied separately, through
    /// the optimizer's settings input, so that it can name rules the spec cannot).
    fn apply(&self, profile: &ProfileSpec) -> ProfileSpec {
        let mut profile = profile.clone();
        if let Some(pushdown) = self.pushdown {
            profile.pushdown = pushdown;
        }
        profile.target_partitions = self.target_partitions.or(profile.target_partitions);
        profile.batch_size = self.batch_size.or(profile.batch_size);
        profile
    }

    fn touch_profile(&self) -> bool {
        self.pushdown.is_some() || self.target_partitions.is_some() || self.batch_size.is_some()
    }
}

/// What a compile records beyond outcomes, diagnostics and stats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recording {
    /// Every planned view's P0, P1 and P2 (plans, texts, digests, traces, pushdown reports)
    /// in [`CompileResponse::plans`].
    pub plans: bool,
    /// Every valid relation's output schema in [`CompileResponse::schemas`].
    pub schemas: bool,
    /// The normalized plan text after every changing rule, in the pass traces.
    pub pass_text: bool,
}

/// What to compile: plain data, so a request can be built, stored and compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileRequest {
    /// The spec file or text.
    pub spec: SpecInput,
    /// Which views are planned.
    pub planning: Planning,
    /// Profile entries replaced for this compile.
    pub overrides: ProfileOverrides,
    /// What the response carries besides outcomes.
    pub record: Recording,
}

impl CompileRequest {
    /// Compile the file `spec_path`, planning its tasks.
    pub fn new(spec_path: impl Into<PathBuf>) -> Self {
        CompileRequest::of(SpecInput::File(spec_path.into()), Planning::Tasks)
    }

    /// Validate the file `spec_path` without planning anything.
    pub fn check(spec_path: impl Into<PathBuf>) -> Self {
        CompileRequest::of(SpecInput::File(spec_path.into()), Planning::CheckOnly)
    }

    /// Compile `text` as if read from `spec_path`, planning its tasks.
    pub fn text(spec_path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        CompileRequest::of(SpecInput::Text { path: spec_path.into(), text: text.into() }, Planning::Tasks)
    }

    fn of(spec: SpecInput, planning: Planning) -> Self {
        CompileRequest { spec, planning, overrides: ProfileOverrides::default(), record: Recording::default() }
    }

    /// The same request with other planning.
    pub fn with_planning(mut self, planning: Planning) -> Self {
        self.planning = planning;
        self
    }

    /// The same request with the optimizer pipeline replaced.
    pub fn with_optimizer(mut self, optimizer: viewdag_optimize::OptimizerPipelineConfig) -> Self {
        self.overrides.optimizer = Some(optimizer);
        self
    }

    /// The same request recording `record`.
    pub fn recording(mut self, record: Recording) -> Self {
        self.record = record;
        self
    }
}

pub use viewdag_optimize::{ProjectViews, ViewOutcome, ViewStatus};

/// One tracked function execution, with the view (or source) it was for when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryExecution {
    /// The tracked function's name (`view_plan`, `optimized_view`, …): shared by every
    /// execution of the function (a cold compile logs tens of thousands).
    pub function: Arc<str>,
    /// The view or source it ran for, when its key names one (shared with the compiler).
    pub relation: Option<Arc<str>>,
}

/// What a compile found: diagnostics, per-view outcomes, stats and what the request asked to record.
#[derive(Debug, Clone)]
pub struct CompileResponse {
    /// The spec's path (read, or claimed by the text).
    pub spec_path: PathBuf,
    /// What was planned.
    pub planning: Planning,
    /// Every diagnostic, sorted by position in the spec.
    pub diagnostics: Vec<Diagnostic>,
    /// Every view, in declaration order. Shared with the `compiled_project` query: a no-op
    /// recompile copies no outcome.
    pub views: ProjectViews,
    /// The tracked functions that executed during this compile (none while the query log
    /// is off: [`Compiler::set_query_log`]).
    pub executions: Vec<QueryExecution>,
    /// How many queries executed and how many were reused, per tracked function (nothing
    /// while the query log is off).
    pub stats: RecompileStats,
    /// Per planned view, its P0, P1 and P2 (with [`Recording::plans`]).
    pub plans: BTreeMap<String, ViewPlans>,
    /// Per valid relation (sources and views), its output schema (with [`Recording::schemas`]).
    pub schemas: BTreeMap<String, SchemaRef>,
}

impl CompileResponse {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
    /// The outcome of view `name`, if it is declared.
    pub fn view(&self, name: &str) -> Option<&ViewOutcome> {
        self.views.iter().find(|view| view.name == name)
    }
    /// How many times `function` executed (optionally for one relation).
    pub fn executed(&self, function: &str, relation: Option<&str>) -> usize {
        self.executions
            .iter()
            .filter(|execution| &*execution.function == function && (relation.is_none() || execution.relation.as_deref() == relation))
            .count()
    }
}

/// Sets `input`'s `field` to `value` through `setter` unless it already holds an equal
/// value; evaluates to 1 if it was set, else 0. The one way the host changes an existing
/// input: an equal value never starts a new revision (nothing downstream is verified).
macro_rules! set_if_changed {
    ($db:expr, $input:expr, $field:ident, $setter:ident, $value:expr) => {{
        let value = $value;
        if *$input.$field(&$db) != value {
            $input.$setter(&mut $db).to(value);
            1
        } else {
            0
        }
    }};
}

/// An incremental compiler for one project. Keep it alive between compiles: only what an
/// edit touched is recomputed.
pub struct Compiler {
    db: Database,
    views: HashMap<String, ViewInput>,
    sources: HashMap<String, SourceInput>,
    project: Option<ProjectInput>,
    surface: Option<SurfaceInput>,
    root: PathBuf,
    spec: Option<SpecSource>,
    outputs: Vec<(String, OutputSpec)>,
    /// The optimizer's Rust-API settings (pipeline override, extra rules, plan text).
    optimizer_settings: Option<viewdag_optimize::OptimizerSettingsInput>,
    /// Existing tables and files the spec is checked against (read in `compile_text`).
    existing: Option<ExistingDataInput>,
    /// The last parse, reused while the spec text is unchanged.
    last_parsed: Option<Arc<ParsedSpec>>,
    /// Per source: the declaration and file fingerprint it was last loaded with, and the
    /// result.
    loaded_sources: HashMap<String, (viewdag_ir::SourceSpec, Option<String>, SourceResolution)>,
    /// Existing tables' schemas by their log's newest commit (`existing::read_existing_data`).
    target_schema_cache: crate::existing::TargetSchemaCache,
    /// Keep the inputs of the last readable text while the text does not parse at all
    /// (see [`Compiler::set_hold_inputs_while_unreadable`]).
    hold_inputs_while_unreadable: bool,
    /// The profile overrides of the last compile (a change re-sets the profile).
    profile_overrides: ProfileOverrides,
    /// While inputs are held: the last readable text and its parse, the base of the next
    /// edit's re-parse.
    held_readable: Option<ReadableText>,
    /// The base the last `parse_edit` could not re-parse from (kept only if the result turns
    /// out unreadable).
    readable_candidate: Option<ReadableText>,
    /// Where object-store settings are read from (the process's environment by default).
    environment: Environment,
    /// The views whose definitions the last compile set (edited or added), in declaration order.
    edited_views: Vec<String>,
    /// The object-store settings of the last compile's spec (its `profile.storage` over
    /// `environment`).
    storage: StorageSettings,
    /// Every view and source input's name, by id (for naming a compile's executions without
    /// walking every input).
    names_by_id: HashMap<salsa::Id, Arc<str>>,
    /// The last compile's result, which the next one reuses or patches (`edit_scope`).
    assembly: AssemblySlot,
    /// What each compile's input sets changed, by revision (`edit_scope`).
    edit_log: EditLog,
    /// The view definitions the current compile set: each view with what it read and whether
    /// it was materialized before.
    set_definitions: Vec<(ViewInput, viewdag_validate::ViewReads, bool)>,
    /// How many of the current compile's input sets changed which views there are (a new
    /// view's input, the project's list of views).
    view_list_sets: usize,
    /// The project's structure, as last set (computed whole or patched: `sync_structure`).
    structure: Option<StructureInput>,
    /// How the current compile brought the structure up to date.
    structure_sync: StructureSync,
    /// The structure's last verdict on which views are broken, as copied into their inputs.
    synced_broken: std::collections::BTreeSet<String>,
    /// The project's tables (declared and checkpoints) when the structure was last set.
    synced_tables: viewdag_lower::ViewTables,
    /// The views whose table a run bound (`ViewInput::materialized_table`), to unbind.
    bound_tables: std::collections::HashSet<ViewInput>,
    /// Whether signatures are kept across processes in `.viewdag/cache/` (see
    /// `Compiler::set_persistent_cache`).
    persistent_cache: bool,
    /// The project root whose cache the database's memo was loaded from.
    cache_root: Option<PathBuf>,
    /// The warnings of cache files that could not be read, for the next response.
    cache_warnings: Vec<Diagnostic>,
    /// The spec's pieces as parsed before (`viewdag_ir::split_parse`), while the persistent
    /// cache is on: a full parse reads them instead of parsing them.
    spec_pieces: Option<Arc<viewdag_ir::persistent_memo::MemoTable>>,
    /// The warning of the first piece file the parses found damaged, for the next response.
    pieces_damage: Arc<std::sync::Mutex<Option<Diagnostic>>>,
    /// How many threads a full compile (and `compile --out`'s bundles) may use.
    compile_jobs: usize,
    /// Where a full compile reports the views it has checked and planned.
    progress: Option<CompileProgressSink>,
}

/// What a new text can have changed, as its parse tells.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ParsedChange {
    /// Anything: every entry is compared with its input.
    Anything,
    /// Only these views: the parse re-read their entries (`before` replaced by `after`), and
    /// every other entry is as the last inputs were set.
    Views { before: Vec<String>, after: Vec<String> },
}

/// A spec text that parsed, with its parse.
struct ReadableText {
    path: PathBuf,
    text: String,
    parsed: ParsedSpec,
}

impl Compiler {
    /// A compiler with an empty database and its own async runtime.
    pub fn new() -> Result<Self, DriverError> {
        Ok(Compiler::with_runtime(&AsyncRuntime::new()?))
    }

    /// A compiler with an empty database on a runtime shared with other compilers (a
    /// language server with many open specs starts one runtime, not one per spec).
    pub fn with_runtime(runtime: &AsyncRuntime) -> Self {
        Compiler {
            db: Database::new(runtime.tokio()),
            views: HashMap::new(),
            sources: HashMap::new(),
            project: None,
            surface: None,
            root: PathBuf::new(),
            spec: None,
            outputs: Vec::new(),
            optimizer_settings: None,
            existing: None,
            last_parsed: None,
            loaded_sources: HashMap::new(),
            target_schema_cache: Default::default(),
            hold_inputs_while_unreadable: false,
            profile_overrides: ProfileOverrides::default(),
            held_readable: None,
            readable_candidate: None,
            environment: Environment::from_process(),
            edited_views: Vec::new(),
            storage: StorageSettings::default(),
            names_by_id: HashMap::new(),
            assembly: AssemblySlot::default(),
            edit_log: EditLog::default(),
            set_definitions: Vec::new(),
            view_list_sets: 0,
            structure: None,
            structure_sync: StructureSync::Kept,
            synced_broken: std::collections::BTreeSet::new(),
            synced_tables: Default::default(),
            bound_tables: Default::default(),
            persistent_cache: false,
            cache_root: None,
            cache_warnings: Vec::new(),
            spec_pieces: None,
            pieces_damage: Default::default(),
            compile_jobs: crate::parallel::default_jobs(),
            progress: None,
        }
    }

    /// The same compiler reading object-store settings (`AWS_*`, `AZURE_*`, `GOOGLE_*` and the
    /// variables `profile.storage` names) from `environment` instead of the process's.
    pub fn with_environment(mut self, environment: Environment) -> Self {
        self.set_environment(environment);
        self
    }

    /// Reads object-store settings from `environment` from the next compile on.
    pub fn set_environment(&mut self, environment: Environment) {
        self.environment = environment;
    }

    /// A read-only view of the database and host state as the last compile left them:
    /// every question about the compiled project is asked of it (see [`Snapshot`]).
    pub fn snapshot(&self) -> Snapshot<'_> {
        Snapshot {
            db: &self.db,
            root: &self.root,
            spec: self.spec.as_ref(),
            outputs: &self.outputs,
            storage: &self.storage,
            project: self.project,
            surface: self.surface,
            sources: &self.sources,
            jobs: self.compile_jobs,
        }
    }

    /// The spec text of the last compile, for rendering its diagnostics.
    pub fn spec_source(&self) -> Option<&SpecSource> {
        self.spec.as_ref()
    }

    /// Compiles what `request` says: reads the spec file (or takes its text), applies its
    /// overrides, plans what it asks and records what it asks. Only an unreadable spec file
    /// is an error; every problem in the spec is a diagnostic of the response.
    pub fn compile(&mut self, request: &CompileRequest) -> Result<CompileResponse, DriverError> {
        match &request.spec {
            SpecInput::File(path) => {
                let text = read_spec_file(path)?;
                Ok(self.compile_source(path, &text, request))
            }
            SpecInput::Text { path, text } => Ok(self.compile_source(path, text, request)),
        }
    }

    /// Compiles spec text as if read from `spec_path` (relative paths resolve against its
    /// directory), planning its tasks.
    pub fn compile_text(&mut self, spec_path: &Path, text: &str) -> CompileResponse {
        self.compile_text_with(spec_path, text, Planning::Tasks)
    }

    /// Validates spec text without planning anything.
    pub fn check_text(&mut self, spec_path: &Path, text: &str) -> CompileResponse {
        self.compile_text_with(spec_path, text, Planning::CheckOnly)
    }

    /// Compiles spec text, planning what `planning` says.
    pub fn compile_text_with(&mut self, spec_path: &Path, text: &str, planning: Planning) -> CompileResponse {
        self.compile_source(spec_path, text, &CompileRequest::of(SpecInput::File(spec_path.to_path_buf()), planning))
    }

    /// Compiles `text` read from `spec_path` as `request` says (its `spec` aside).
    fn compile_source(&mut self, spec_path: &Path, text: &str, request: &CompileRequest) -> CompileResponse {
        let inputs_changed = match self.apply_source(spec_path, text, request) {
            AppliedSource::Unreadable(response) => return response,
            AppliedSource::InputsSet { inputs_changed } => inputs_changed,
        };
        let mut response = self.collect(spec_path, request.planning);
        let events = self.db.take_events();
        response.stats = RecompileStats { structure: self.structure_sync, ..RecompileStats::from_events(&events, inputs_changed) };
        response.executions = self.name_executions(events);
        self.record(&mut response, request.record);
        self.save_signature_cache(&mut response);
        response
    }

    /// Reads `text` and sets every input that changed; asks no query but the unreadable
    /// text's (none).
    fn apply_source(&mut self, spec_path: &Path, text: &str, request: &CompileRequest) -> AppliedSource {
        let planning = request.planning;
        let before = salsa::plumbing::current_revision(&self.db);
        self.set_optimizer_pipeline(request.overrides.optimizer.clone());
        self.set_record_plan_text(request.record.pass_text);
        let settings_unchanged = salsa::plumbing::current_revision(&self.db) == before;
        self.set_definitions.clear();
        self.view_list_sets = 0;
        self.structure_sync = StructureSync::Kept;
        let overrides_unchanged = self.profile_overrides == request.overrides;
        self.profile_overrides = request.overrides.clone();
        let unchanged = self.spec.as_ref().is_some_and(|spec| spec.path == spec_path && spec.text == text);
        if !unchanged {
            self.root = spec_root(spec_path);
        }
        // Before the parse, which reads the spec's pieces from it.
        self.load_signature_cache();
        let (parsed, change) = match (&self.last_parsed, unchanged) {
            (Some(parsed), true) => (Arc::clone(parsed), ParsedChange::Anything),
            _ => {
                let (parsed, change) = self.parse_edit(spec_path, text);
                let parsed = Arc::new(parsed);
                // An oversized spec is not kept (nor rendered: its one diagnostic says why).
                let kept_text = if text.len() > MAX_SPEC_BYTES { String::new() } else { text.to_string() };
                self.spec = Some(SpecSource { path: spec_path.to_path_buf(), text: kept_text, spans: Arc::clone(&parsed.spans) });
                self.last_parsed = Some(Arc::clone(&parsed));
                (parsed, change)
            }
        };
        let readable_candidate = self.readable_candidate.take();
        if self.hold_inputs_while_unreadable && self.project.is_some() && is_unreadable(&parsed) {
            self.held_readable = self.held_readable.take().or(readable_candidate);
            return AppliedSource::Unreadable(self.unreadable_response(spec_path, planning, &parsed));
        }
        self.held_readable = None;
        let parsed = match request.overrides.touch_profile() {
            true => Arc::new(ParsedSpec { profile: request.overrides.apply(&parsed.profile), ..(*parsed).clone() }),
            false => parsed,
        };
        let change = if overrides_unchanged { change } else { ParsedChange::Anything };
        let inputs_changed = self.set_inputs(&parsed, unchanged && overrides_unchanged && self.last_parsed.is_some(), &change);
        let sources: Vec<_> = parsed.sources.iter().map(|(name, spec)| (name.clone(), spec.clone())).collect();
        let existing = crate::existing::read_existing_data(
            &mut self.target_schema_cache,
            &self.root,
            &self.outputs,
            &sources,
            &parsed.profile.surface.csv,
            &self.storage,
            self.db.tokio(),
        );
        let inputs_changed = inputs_changed + self.set_existing_data(existing);
        let mut scope = match settings_unchanged && inputs_changed == self.set_definitions.len() + self.view_list_sets {
            true => self.definitions_scope(),
            false => EditScope::Everything,
        };
        // An edit of definitions that keeps what each view reads keeps the structure.
        if !matches!(scope, EditScope::Views(_)) {
            let mut changed = self.sync_structure(matches!(scope, EditScope::Shape(_)));
            changed.extend(self.sync_broken_views());
            changed.extend(self.sync_view_tables());
            if let EditScope::Shape(views) = &mut scope {
                views.extend(changed);
            }
        }
        self.edit_log.record(before, salsa::plumbing::current_revision(&self.db), scope);
        AppliedSource::InputsSet { inputs_changed }
    }

    /// Sets the structure of the current inputs: kept when nothing it depends on changed,
    /// patched in place when the inputs set since it are an edit of views only
    /// (`shape_only`) that a patch handles, computed whole otherwise. After any set that may
    /// have changed what the views read or their names, before any other query. Returns,
    /// for an edit of views computed whole, the views that read a view it removed (affected,
    /// as the views it set are).
    fn sync_structure(&mut self, shape_only: bool) -> Vec<String> {
        let Some(project) = self.project else { return Vec::new() };
        let Some(input) = self.structure else {
            warm::warm_view_reads(&self.db, project, self.compile_jobs);
            self.structure = Some(StructureInput::builder(compute_structure(&self.db, project)).durability(SPEC_DURABILITY).new(&self.db));
            self.structure_sync = StructureSync::Computed;
            return Vec::new();
        };
        let reread: Vec<ViewInput> = self
            .set_definitions
            .iter()
            .filter(|(view, reads_before, materialized_before)| {
                viewdag_validate::view_reads(&self.db, *view) != reads_before
                    || viewdag_validate::declares_table(&self.db, *view) != *materialized_before
            })
            .map(|(view, ..)| *view)
            .collect();
        if input.structure(&self.db).is_current(&self.db, project, &reread) {
            debug_assert_eq!(
                *input.structure(&self.db),
                compute_structure(&self.db, project),
                "a kept structure is the one computed whole"
            );
            return Vec::new();
        }
        // Taken out of the database, so that the patch owns it (no query reads it meanwhile).
        let mut structure = input.set_structure(&mut self.db).to(Structure::default());
        let patched = shape_only && structure.patch(&self.db, project, &reread);
        let mut readers_of_removed = Vec::new();
        self.structure_sync = if patched { StructureSync::Patched } else { StructureSync::Computed };
        if patched {
            debug_assert_eq!(structure, compute_structure(&self.db, project), "a patched structure is the one computed whole");
        } else {
            if shape_only {
                let removed = view_difference(project.views(&self.db), &structure.views).removed;
                readers_of_removed = removed.iter().flat_map(|view| structure.dag.readers(view.name(&self.db))).collect();
            }
            warm::warm_view_reads(&self.db, project, self.compile_jobs);
            structure = compute_structure(&self.db, project);
        }
        input.set_structure(&mut self.db).to(structure);
        readers_of_removed
    }

    /// Copies the structure's verdict on each view into its input (`ViewInput::broken`):
    /// after any set that may have changed what the views read, before any other query.
    /// Only the views whose verdict changed since the last copy are visited (every view
    /// input's flag is whether its name was in the last verdict; a new input starts
    /// unbroken, and its name was never a view's). Returns their names.
    fn sync_broken_views(&mut self) -> Vec<String> {
        if self.project.is_none() {
            return Vec::new();
        }
        let broken = &spec_structure(&self.db).broken_views;
        let changed: Vec<String> = broken.symmetric_difference(&self.synced_broken).cloned().collect();
        self.synced_broken = broken.clone();
        for name in &changed {
            if let Some(input) = self.views.get(name) {
                input.set_broken(&mut self.db).to(self.synced_broken.contains(name));
            }
        }
        changed
    }

    /// The views whose table verdict (`viewdag_lower::view_materialization`) changed since the
    /// structure was last set: a checkpoint's readers scan its table, so a view that becomes
    /// or stops being one is affected like an edited view, although it was not edited (a
    /// chain grew or shrank upstream of it, or a task reading through it came or went
    /// downstream). After the structure is set.
    fn sync_view_tables(&mut self) -> Vec<String> {
        let Some(project) = self.project else { return Vec::new() };
        let tables = viewdag_lower::view_tables(&self.db, project);
        if *tables == self.synced_tables {
            return Vec::new();
        }
        let changed = tables.changed_since(&self.synced_tables).into_iter().map(|view| view.name(&self.db).clone()).collect();
        self.synced_tables = tables.clone();
        changed
    }

    /// What this compile's view sets (definitions, new views, the list of views) changed:
    /// only the definitions of the views set, if each kept what it reads and whether it is
    /// materialized and no view was added or removed; else the views' shape.
    fn definitions_scope(&self) -> EditScope {
        let views: std::collections::BTreeSet<String> = self.edited_views.iter().cloned().collect();
        let keeps_shape = |(view, reads_before, materialized_before): &(ViewInput, viewdag_validate::ViewReads, bool)| {
            let materialized = view.definition(&self.db).as_deref().is_some_and(ViewDefinition::is_materialized);
            materialized == *materialized_before && viewdag_validate::view_reads(&self.db, *view) == reads_before
        };
        match self.view_list_sets == 0 && self.set_definitions.iter().all(keeps_shape) {
            true => EditScope::Views(views),
            false => EditScope::Shape(views),
        }
    }

    /// How the next collect gets the project's compile under `planning`.
    fn compile_plan(&mut self, planning: Planning) -> CompilePlan {
        compile_plan(&self.db, planning.scope(), &self.assembly, &mut self.edit_log, self.compile_jobs, self.progress.clone())
    }

    /// Adds what `record` asks for to `response`.
    fn record(&self, response: &mut CompileResponse, record: Recording) {
        let snapshot = self.snapshot();
        if record.plans {
            for view in response.views.iter().filter(|view| matches!(view.status, ViewStatus::Compiled { .. })) {
                if let Some(Ok(plans)) = snapshot.view_plans(&view.name) {
                    response.plans.insert(view.name.clone(), plans);
                }
            }
        }
        if record.schemas {
            let sources = self.sources.keys().cloned();
            let valid_views = response.views.iter().filter(|view| view.status.is_valid()).map(|view| view.name.clone());
            for name in sources.chain(valid_views) {
                if let Some(schema) = snapshot.relation_schema(&name) {
                    response.schemas.insert(name, schema);
                }
            }
        }
    }

    /// Logs which queries each compile executed and reused (on by default), for
    /// [`CompileResponse::executions`] and [`CompileResponse::stats`]. A caller that shows
    /// neither turns it off: it costs a locked push per query (a few percent of a check of a
    /// large project).
    pub fn set_query_log(&mut self, enabled: bool) {
        self.db.set_query_log(enabled);
    }

    /// How many threads a full compile may use for its per-view work (checks, plans, and the
    /// bundles of `compile --out`): the machine's parallelism by default, at most 8; `1`
    /// compiles on the calling thread. The results do not depend on it.
    pub fn set_compile_jobs(&mut self, jobs: usize) {
        self.compile_jobs = jobs.max(1);
    }

    /// Where a full compile reports the views it has checked and planned as it goes (a
    /// command's progress line, see `compile_progress::TerminalProgress`); `None` (the
    /// default) reports nothing. An edit's patch is not reported: it is quick.
    pub fn set_progress(&mut self, sink: Option<CompileProgressSink>) {
        self.progress = sink;
    }

    /// A progress line for this compiler's full compiles when stderr is a terminal (never in
    /// a log or a pipe); dropping it erases the line.
    pub fn progress_on_terminal(&mut self) -> Option<TerminalProgress> {
        if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            return None;
        }
        let progress = TerminalProgress::new();
        self.set_progress(Some(progress.sink()));
        Some(progress)
    }

    /// For an editor: while the text does not parse at all (a syntax error, or a document
    /// over the size or nesting limit: nothing in it can be read), keep the salsa inputs of
    /// the last text that did. The response is what a fresh compile reports (the parse's
    /// diagnostics, no views) and `spec_source`/`parsed_spec` describe the unreadable text,
    /// but schemas and the DAG (`relation_schema`, `structure`, `view_names`) stay those of
    /// the last readable text, and the edit that repairs the text re-checks only what
    /// changed since then instead of every view. Off by default.
    pub fn set_hold_inputs_while_unreadable(&mut self, hold: bool) {
        self.hold_inputs_while_unreadable = hold;
    }

    /// The response to an unreadable text while its inputs are held: the parse's
    /// diagnostics, sorted by position; no views.
    fn unreadable_response(&mut self, spec_path: &Path, planning: Planning, parsed: &ParsedSpec) -> CompileResponse {
        // Ordered as the project queries order them (logically, then by position).
        let mut diagnostics = parsed.diagnostics.clone();
        viewdag_ir::diagnostic::sort_diagnostics(&mut diagnostics);
        diagnostics.dedup();
        sort_by_position(&mut diagnostics, &parsed.spans);
        diagnostics.dedup();
        let events = self.db.take_events();
        CompileResponse {
            spec_path: spec_path.to_path_buf(),
            planning,
            diagnostics,
            views: ProjectViews::default(),
            executions: self.name_executions(events),
            stats: RecompileStats::default(),
            plans: BTreeMap::new(),
            schemas: BTreeMap::new(),
        }
    }

    /// The parse of `text`: the previous parse with only the edited entry re-parsed when the
    /// edit allows it (`reparse_edited_entry`), else a full parse. Takes the previous parse
    /// and spec text (the caller sets new ones).
    /// Also says what the text can have changed: one view entry when only that one was
    /// re-parsed over the text the inputs were last set from.
    fn parse_edit(&mut self, spec_path: &Path, text: &str) -> (ParsedSpec, ParsedChange) {
        let format = SpecFormat::from_path(spec_path);
        if format == SpecFormat::Yaml {
            // While inputs are held for an unreadable text, an edit applies to the last
            // readable text and its parse (so the repairing edit re-parses one entry).
            let held = self.held_readable.take().filter(|held| held.path == spec_path);
            let base = held.or_else(|| {
                let old = self.spec.take_if(|spec| spec.path == spec_path)?;
                let previous = self.last_parsed.take()?;
                let SpecSource { path, text, spans } = old;
                // Release the old copy of the span index so the edit updates it in place.
                drop(spans);
                Some(ReadableText { path, text, parsed: Arc::try_unwrap(previous).unwrap_or_else(|shared| (*shared).clone()) })
            });
            if let Some(mut base) = base {
                // Back to exactly the last readable text (an edit undone): its parse.
                if base.text == text {
                    return (base.parsed, ParsedChange::Anything);
                }
                if let Some(entries) = reparse_edited_entry(&mut base.parsed, &base.text, text) {
                    let change = match entries.section {
                        Section::Views => ParsedChange::Views { before: entries.before, after: entries.after },
                        _ => ParsedChange::Anything,
                    };
                    return (base.parsed, change);
                }
                if self.hold_inputs_while_unreadable && !is_unreadable(&base.parsed) {
                    self.readable_candidate = Some(base);
                }
            }
        }
        (parse_spec_with(text, format, self.compile_jobs, self.spec_pieces.as_deref()), ParsedChange::Anything)
    }

    /// Sets the existing-data input's fields that changed; returns how many were set.
    fn set_existing_data(&mut self, existing: crate::existing::ExistingData) -> usize {
        let crate::existing::ExistingData { target_schemas, csv_headers } = existing;
        let Some(input) = self.existing else {
            self.existing = Some(ExistingDataInput::builder(target_schemas, csv_headers).durability(SPEC_DURABILITY).new(&self.db));
            return 1;
        };
        let mut changed = 0;
        changed += set_if_changed!(self.db, input, target_schemas, set_target_schemas, target_schemas);
        changed += set_if_changed!(self.db, input, csv_headers, set_csv_headers, csv_headers);
        changed
    }

    /// Sets every input whose value changed; returns how many were set.
    /// With `text_unchanged`, the views, outputs and profile were set from this very text by
    /// the previous compile: only the sources (whose files may have changed) are checked.
    /// With `change` naming one view, only that view's definition is compared.
    fn set_inputs(&mut self, parsed: &ParsedSpec, text_unchanged: bool, change: &ParsedChange) -> usize {
        let mut changed = 0;
        self.edited_views.clear();
        crate::storage::register_handlers();
        self.storage = StorageSettings::new(self.environment.clone(), &parsed.profile);
        self.optimizer_settings_input();
        let surface_spec = PlanningSurfaceSpec::from_profile(&parsed.profile);
        let root_text = self.root.to_string_lossy().into_owned();
        match self.surface {
            None => {
                self.surface = Some(SurfaceInput::builder(surface_spec.clone(), root_text).durability(SPEC_DURABILITY).new(&self.db));
                changed += 1;
            }
            Some(surface) => {
                changed += set_if_changed!(self.db, surface, spec, set_spec, surface_spec.clone());
                changed += set_if_changed!(self.db, surface, root, set_root, root_text);
            }
        }
        // Sources are loaded with a throwaway session on the shared runtime environment, built
        // only if some source has to be (re)loaded.
        let mut loading_state = None;
        let path_space = PathSpace::new(Some(&root_path_text(&self.root)));
        let mut source_inputs = Vec::new();
        for (name, spec) in &parsed.sources {
            let refused = spec.as_ref().and_then(|spec| {
                source_format_not_allowed::check(name, spec, &parsed.profile)
                    .or_else(|| check_source(name, &spec.path, &parsed.profile, &path_space))
                    .or_else(|| self.source_through_symlink(name, spec, &parsed.profile))
            });
            let resolution = match (spec, refused) {
                (None, None) => SourceResolution::Failed(Diagnostic::new(
                    Code::InvalidValue,
                    SpecLocation::source(name),
                    format!("source `{name}` could not be read"),
                )),
                // Outside the project and every allowed root: never opened.
                (_, Some(refused)) => SourceResolution::Failed(refused),
                (Some(spec), None) => {
                    // Reload only when the files (or the Delta log) changed.
                    let fingerprint = source_fingerprint(&self.root, spec);
                    // How files are read is part of what was loaded.
                    let fingerprint = fingerprint.map(|files| format!("{files}|{:?}", surface_spec.surface.csv));
                    let cached = self.loaded_sources.get(name).filter(|(cached_spec, cached_fingerprint, _)| {
                        cached_spec == spec && fingerprint.is_some() && *cached_fingerprint == fingerprint
                    });
                    match cached {
                        Some((_, _, resolution)) => resolution.clone(),
                        None => {
                            let state = loading_state
                                .get_or_insert_with(|| build_session_state(&surface_spec, self.db.datafusion_runtime_env().clone()));
                            let context = SourceContext {
                                root: &self.root,
                                allow: &parsed.profile.paths.allow,
                                csv: &surface_spec.surface.csv,
                                state,
                                storage: &self.storage,
                            };
                            let loaded = self.db.tokio().block_on(load_source(name, spec, &context));
                            if let (SourceResolution::Resolved { identity, .. }, Some(provider)) = (&loaded.resolution, loaded.provider)
                                && !self.db.has_provider(identity)
                            {
                                self.db.register_provider(identity.clone(), provider);
                                if let Some(volume) = loaded.volume {
                                    self.db.register_volume(identity.clone(), volume);
                                }
                            }
                            self.loaded_sources.insert(name.clone(), (spec.clone(), fingerprint, loaded.resolution.clone()));
                            loaded.resolution
                        }
                    }
                }
            };
            let input = match self.sources.get(name) {
                Some(input) => {
                    changed += set_if_changed!(self.db, input, declaration, set_declaration, spec.clone());
                    changed += set_if_changed!(self.db, input, resolution, set_resolution, resolution);
                    *input
                }
                None => {
                    let input = SourceInput::builder(name.clone(), spec.clone(), resolution).durability(SPEC_DURABILITY).new(&self.db);
                    self.names_by_id.insert(id_of(input), Arc::from(name.as_str()));
                    changed += 1;
                    self.sources.insert(name.clone(), input);
                    input
                }
            };
            source_inputs.push(input);
        }
        if text_unchanged && self.project.is_some() {
            return changed;
        }
        if let (ParsedChange::Views { before, after }, Some(project)) = (change, self.project) {
            for name in after {
                let definition = parsed.views.get(name).cloned().flatten();
                changed += match self.views.get(name).copied() {
                    Some(input) => self.set_view_definition(input, name, &definition),
                    None => {
                        self.new_view_input(name, definition);
                        self.view_list_sets += 1;
                        1
                    }
                };
            }
            // A table a run left bound (tables are unbound when a run ends; this is the net
            // the full path casts too).
            changed += self.unbind_materialized_tables();
            if before != after {
                let looked_up = || parsed.views.keys().filter_map(|name| self.views.get(name).copied()).collect::<Vec<_>>();
                let view_inputs = self.spliced_view_list(project, before, after).unwrap_or_else(looked_up);
                debug_assert_eq!(view_inputs, looked_up(), "the spliced list of views is the looked-up one");
                let set = set_if_changed!(self.db, project, views, set_views, view_inputs);
                self.view_list_sets += set;
                changed += set;
            }
            return changed;
        }
        let mut view_inputs = Vec::with_capacity(parsed.views.len());
        let new_views = parsed.views.len().saturating_sub(self.views.len());
        self.views.reserve(new_views);
        self.names_by_id.reserve(new_views);
        for (name, definition) in &parsed.views {
            let input = match self.views.get(name).copied() {
                Some(input) => {
                    changed += self.set_view_definition(input, name, definition);
                    input
                }
                None => {
                    changed += 1;
                    self.view_list_sets += 1;
                    self.new_view_input(name, definition.clone())
                }
            };
            view_inputs.push(input);
        }
        changed += self.unbind_materialized_tables();
        let outputs = Arc::new(parsed.outputs.clone());
        self.outputs = parsed.outputs.iter().filter_map(|(name, spec)| spec.clone().map(|spec| (name.clone(), spec))).collect();
        match self.project {
            None => {
                self.project = Some(
                    ProjectInput::builder(source_inputs, view_inputs, outputs, parsed.profile.clone(), parsed.diagnostics.clone())
                        .durability(SPEC_DURABILITY)
                        .new(&self.db),
                );
            }
            Some(project) => {
                changed += set_if_changed!(self.db, project, sources, set_sources, source_inputs);
                let set = set_if_changed!(self.db, project, views, set_views, view_inputs);
                self.view_list_sets += set;
                changed += set;
                changed += set_if_changed!(self.db, project, outputs, set_outputs, outputs);
                changed += set_if_changed!(self.db, project, profile, set_profile, parsed.profile.clone());
                changed += set_if_changed!(self.db, project, parse_diagnostics, set_parse_diagnostics, parsed.diagnostics.clone());
            }
        }
        changed
    }

    /// The list of views after the entries `before` were replaced by `after` in place: the
    /// current list with that run of inputs spliced, so an added or removed view costs a
    /// copy of the list's ids, not a lookup of every name. `None` when the current list does
    /// not hold `before`'s inputs consecutively (then every name is looked up).
    fn spliced_view_list(&self, project: ProjectInput, before: &[String], after: &[String]) -> Option<Vec<ViewInput>> {
        let current = project.views(&self.db);
        let replaced: Vec<ViewInput> = before.iter().map(|name| self.views.get(name).copied()).collect::<Option<_>>()?;
        let at = current.iter().position(|view| Some(view) == replaced.first())?;
        if current.get(at..at + replaced.len())? != replaced.as_slice() {
            return None;
        }
        let inserted: Vec<ViewInput> = after.iter().map(|name| self.views.get(name).copied()).collect::<Option<_>>()?;
        let mut spliced = Vec::with_capacity(current.len() - replaced.len() + inserted.len());
        spliced.extend_from_slice(&current[..at]);
        spliced.extend(inserted);
        spliced.extend_from_slice(&current[at + replaced.len()..]);
        Some(spliced)
    }

    /// Sets view `name`'s definition if it changed; returns 1 if it was set.
    fn set_view_definition(&mut self, input: ViewInput, name: &str, definition: &Option<Arc<ViewDefinition>>) -> usize {
        if input.definition(&self.db) == definition {
            return 0;
        }
        let reads_before = viewdag_validate::view_reads(&self.db, input).clone();
        let materialized_before = input.definition(&self.db).as_deref().is_some_and(ViewDefinition::is_materialized);
        self.set_definitions.push((input, reads_before, materialized_before));
        input.set_definition(&mut self.db).to(definition.clone());
        self.edited_views.push(name.to_string());
        1
    }

    /// The input of a view the spec did not have before.
    fn new_view_input(&mut self, name: &str, definition: Option<Arc<ViewDefinition>>) -> ViewInput {
        // Not broken until the structure says so (`sync_broken_views`, before any query asks).
        // A run binds and unbinds `materialized_table` between tasks: the one low-durability
        // field, so that a binding leaves every memo that reads none shallowly verified.
        let input = ViewInput::builder(name.to_string(), definition, None, false)
            .durability(SPEC_DURABILITY)
            .materialized_table_durability(salsa::Durability::LOW)
            .new(&self.db);
        self.edited_views.push(name.to_string());
        self.views.insert(name.to_string(), input);
        self.names_by_id.insert(id_of(input), Arc::from(name));
        input
    }

    /// The last parse of the spec (definitions as written, and its span index).
    pub fn parsed_spec(&self) -> Option<&ParsedSpec> {
        self.last_parsed.as_deref()
    }

    /// The response: the queries' outcomes (shared) and diagnostics sorted by position.
    fn collect(&mut self, spec_path: &Path, planning: Planning) -> CompileResponse {
        let plan = self.compile_plan(planning);
        let spans = &self.spec.as_ref().expect("spec is read").spans;
        let project = self.project.expect("inputs are set before compiling");
        collect_response(&self.db, project, spans, spec_path, planning, plan, &self.assembly)
    }

    fn name_executions(&self, events: QueryLog) -> Vec<QueryExecution> {
        events
            .executed
            .into_iter()
            .map(|event| QueryExecution { relation: self.names_by_id.get(&event.key).cloned(), function: event.function })
            .collect()
    }
}

/// What [`Compiler::apply_source`] did with a text.
enum AppliedSource {
    /// The text does not parse and the last readable inputs are held: the parse's response.
    Unreadable(CompileResponse),
    /// The inputs are the text's; this many were set.
    InputsSet { inputs_changed: usize },
}

/// The response of `planning` over the project's current inputs: the queries' outcomes
/// (shared) and diagnostics sorted by position (`spans`: the text's span index), the
/// project's compile got as `plan` says (and stored in `slot`). Asks queries only: runs on
/// any handle of the database.
pub(crate) fn collect_response(
    db: &Database,
    project: ProjectInput,
    spans: &SpanIndex,
    spec_path: &Path,
    planning: Planning,
    plan: CompilePlan,
    slot: &AssemblySlot,
) -> CompileResponse {
    let compiled = compile_project(db, project, planning.scope(), plan, slot);
    let mut diagnostics: Vec<Diagnostic> = compiled.diagnostics.as_ref().clone();
    sort_by_position(&mut diagnostics, spans);
    diagnostics.dedup();
    CompileResponse {
        spec_path: spec_path.to_path_buf(),
        planning,
        diagnostics,
        views: compiled.views.clone(),
        executions: Vec::new(),
        stats: RecompileStats::default(),
        plans: BTreeMap::new(),
        schemas: BTreeMap::new(),
    }
}

/// The directory relative paths of the spec at `spec_path` resolve against: its parent
/// (`.` for a bare file name), canonical, so plan text (which shows canonical file paths)
/// normalizes to `$ROOT`.
pub(crate) fn spec_root(spec_path: &Path) -> PathBuf {
    let root = spec_path.parent().map(Path::to_path_buf).unwrap_or_default();
    let root = if root.as_os_str().is_empty() { PathBuf::from(".") } else { root };
    std::fs::canonicalize(&root).or_else(|_| std::path::absolute(&root)).unwrap_or(root)
}

/// Reads a spec file, never more than the parser's size limit plus one byte: a larger file
/// (or an endless one, like `/dev/zero`) comes back as that many bytes, which the parser
/// reports as too large (`V0007`) without reading the rest. A file that is not UTF-8 is an
/// I/O error, unless it is too large anyway.
pub fn read_spec_file(path: &Path) -> Result<String, DriverError> {
    use std::io::Read;
    let io_error = |error: std::io::Error| DriverError::read(path)(error);
    let file = std::fs::File::open(path).map_err(io_error)?;
    // Sized from the file's length: `take` hides it from `read_to_end`, which would grow the
    // buffer by doubling (a 10 MiB spec copied and faulted in again at every step).
    let length = file.metadata().map_or(0, |metadata| metadata.len()).min(MAX_SPEC_BYTES as u64 + 1);
    let mut bytes = Vec::with_capacity(usize::try_from(length).unwrap_or(0) + 1);
    file.take(MAX_SPEC_BYTES as u64 + 1).read_to_end(&mut bytes).map_err(io_error)?;
    if bytes.len() > MAX_SPEC_BYTES {
        return Ok(String::from_utf8_lossy(&bytes).into_owned());
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| io_error(std::io::Error::new(std::io::ErrorKind::InvalidData, "stream did not contain valid UTF-8")))?;
    // A UTF-8 byte order mark is not content: dropped here, so positions and rendering agree.
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// The optimizer settings input: set from each request's overrides and recording; rule
/// extensions (code, not data) through [`Compiler::set_optimizer_extensions`].
impl Compiler {
    fn optimizer_settings_input(&mut self) -> viewdag_optimize::OptimizerSettingsInput {
        *self.optimizer_settings.get_or_insert_with(|| {
            viewdag_optimize::OptimizerSettingsInput::builder(None, viewdag_optimize::OptimizerRuleExtensions::default(), false)
                .durability(SPEC_DURABILITY)
                .new(&self.db)
        })
    }

    /// Replaces the spec's optimizer profile with `config` (`None` goes back to the spec).
    fn set_optimizer_pipeline(&mut self, config: Option<viewdag_optimize::OptimizerPipelineConfig>) {
        let settings = self.optimizer_settings_input();
        set_if_changed!(self.db, settings, pipeline_override, set_pipeline_override, config);
    }

    /// Registers rules on top of DataFusion's defaults (name them in a pipeline to run them).
    pub fn set_optimizer_extensions(&mut self, extensions: viewdag_optimize::OptimizerRuleExtensions) {
        let settings = self.optimizer_settings_input();
        set_if_changed!(self.db, settings, extensions, set_extensions, extensions);
    }

    /// Keep the plan text after every changing rule in the traces (for `explain --passes`).
    fn set_record_plan_text(&mut self, record: bool) {
        let settings = self.optimizer_settings_input();
        set_if_changed!(self.db, settings, record_plan_text, set_record_plan_text, record);
    }
}

/// Whether a parse read nothing of the document: a syntax error, or a size or nesting limit
/// refused before parsing.
fn is_unreadable(parsed: &ParsedSpec) -> bool {
    parsed.diagnostics.iter().any(|diagnostic| {
        diagnostic.code == Code::SpecSyntax
            || (diagnostic.code == Code::SpecTooLarge && diagnostic.location.section == viewdag_ir::Section::Root)
    })
}

/// Sorts diagnostics by where they point in the file, then by code and message.
pub fn sort_by_position(diagnostics: &mut [Diagnostic], spans: &SpanIndex) {
    diagnostics.sort_by_cached_key(|diagnostic| {
        let position = spans.resolve(&diagnostic.location).map(|(start, _)| (start.line, start.column)).unwrap_or((0, 0));
        (position, diagnostic.code, diagnostic.message.clone())
    });
}

impl Compiler {
    /// `V0505` for a local source that, once symlinks are followed, reads outside the project
    /// and every `profile.paths.allow` root (`data/users.csv -> /etc/passwd`).
    fn source_through_symlink(&self, name: &str, spec: &viewdag_ir::SourceSpec, profile: &ProfileSpec) -> Option<Diagnostic> {
        let every_entry = spec.format != viewdag_ir::SourceFormat::Delta;
        let (entry, resolved) = crate::confinement::source_escape(&self.root, &profile.paths.allow, &spec.path, every_entry)?;
        Some(crate::confinement::source_escape_diagnostic(name, &self.root, &entry, &resolved))
    }
}
