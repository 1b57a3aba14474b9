//! Diagnostics: the golden corpus of invalid specs, the code registry against
//! `docs/diagnostics.md`, limits against hostile input, and "never panics" properties.
//!
//! The corpus: every `tests/fixtures/invalid/NAME.yaml` is compiled in a project holding
//! the shop data, its diagnostics rendered without color, and compared with
//! `NAME.expected` (expect-test: `UPDATE_EXPECT=1` rewrites the snapshots). A fixture named after a
//! code's kebab name (snake_cased) must produce that code.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use viewdag_driver::SpecSource;
use viewdag_driver::render::render_human;
use viewdag_driver::{CompileResponse, Compiler, ViewStatus};
use viewdag_ir::{Code, Severity, SpecFormat, parse_spec};

use crate::support::{TempProject, assert_snapshot_file, shop_spec};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/invalid")
}

/// Codes no spec fixture can produce, each with the reason.
const NOT_TRIGGERED_BY_A_FIXTURE: [(Code, &str); 23] = [
    (
        Code::PlanTooDeep,
        "only a view no task needs, planned on its own: tested by `bad_input::a_chain_longer_than_a_plan_may_inline_is_cut_by_materialized_checkpoints`",
    ),
    (Code::SpecTooLarge, "needs a 128 MiB spec or 1 000 000 entries: tested by `spec_size_limits`"),
    (Code::PlanError, "the fallback for DataFusion errors no specific check explains"),
    (Code::PhysicalPlanFailed, "optimizer behaviour, tested in `optimize`"),
    (Code::OptimizerRuleFailed, "optimizer behaviour, tested in `optimize`"),
    (Code::OptimizerRuleSkipped, "optimizer behaviour, tested in `optimize`"),
    (Code::OptimizerNotIdempotent, "optimizer behaviour, tested in `optimize`"),
    (Code::RunLocked, "a run's error: tested by `run_safety::concurrent_runs_of_one_project_never_duplicate_rows`"),
    (Code::CommitConflict, "a run's error: tested by `run_safety::racing_first_commits_to_one_table_commit_once`"),
    (
        Code::SourceAccessDenied,
        "needs an object store that refuses: tested by `object_storage::a_wrong_credential_is_one_coded_error_per_task_and_nothing_is_written`",
    ),
    (Code::SourceBucketNotFound, "needs an object store: tested by `object_storage::a_missing_bucket_is_one_coded_error_per_task`"),
    (
        Code::SourceStoreUnreachable,
        "needs an endpoint that does not answer (after object_store's retries, minutes): tested by `storage::failure` (unit)",
    ),
    (
        Code::StorageAccessDenied,
        "a run's error: tested by `object_storage::a_wrong_credential_is_one_coded_error_per_task_and_nothing_is_written`",
    ),
    (Code::StorageBucketNotFound, "a run's error: tested by `object_storage::a_missing_bucket_is_one_coded_error_per_task`"),
    (Code::StorageUnreachable, "a run's error against an endpoint that does not answer: tested by `storage::failure` (unit)"),
    (Code::RunStateUnsaved, "a run's error: tested by `run_safety::a_run_state_that_cannot_be_saved_stops_the_run_before_it_writes`"),
    (
        Code::ValueNotStorable,
        "a run's error on a value: tested by `delta_types::a_uint64_above_the_signed_range_fails_its_task_and_commits_nothing`",
    ),
    (Code::MergeKeyNull, "a run's error on the new rows: tested by `merge::null_merge_keys_fail_the_task_and_commit_nothing`"),
    (Code::EngineUnsupportedTable, "a run on a Ballista cluster, tested in `ballista` (with the `ballista` feature)"),
    (
        Code::EngineTaskTimeout,
        "a run's error on a stopped cluster: tested by `ballista::a_job_on_stopped_executors_times_out_is_cancelled_and_commits_nothing`",
    ),
    (
        Code::EngineNoExecutor,
        "a run's error on a cluster whose executors are gone: tested by `ballista::a_run_whose_last_executor_leaves_ends_with_one_coded_error_per_unfinished_task`",
    ),
    (
        Code::CacheUnreadable,
        "a warning about `.viewdag/cache/`, not about a spec: tested by `persistent_cache::a_cache_file_that_does_not_decode_is_ignored_with_one_warning_and_rebuilt`",
    ),
    (
        Code::IncrementalRefreshRefused,
        "a run's error after a source changed: tested by `refresh::an_incremental_task_whose_input_was_rewritten_fails_and_commits_nothing`",
    ),
];

/// Codes that need an optimizer extension or a pushdown contract to fire.
const NOT_TRIGGERED_EXTRA: [Code; 2] = [Code::UnknownOptimizerRule, Code::PushdownViolation];

/// Compiles `text` as `name` in `project` and renders its diagnostics with a relative path.
fn compile_and_render(project: &TempProject, name: &str, text: &str) -> (CompileResponse, String) {
    let mut compiler = Compiler::new().expect("a compiler");
    let response = project.compile(&mut compiler, name, text);
    let source = compiler.spec_source().expect("the spec was read");
    let relative = SpecSource { path: PathBuf::from(name), text: source.text.clone(), spans: source.spans.clone() };
    // Messages may quote absolute paths (a source that cannot be read): keep snapshots
    // machine independent.
    let rendered = render_human(&relative, &response.diagnostics, false).replace(&project.path().display().to_string(), "<project>");
    (response, rendered)
}

#[test]
fn golden_corpus_of_invalid_specs() {
    let project = TempProject::with_shop_data();
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .expect("the fixtures directory")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "yaml"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 40, "the corpus has {} fixtures", fixtures.len());
    let mut codes_seen: BTreeSet<Code> = BTreeSet::new();
    for fixture in &fixtures {
        let stem = fixture.file_stem().and_then(|stem| stem.to_str()).expect("a UTF-8 name").to_string();
        let text = std::fs::read_to_string(fixture).expect("the fixture is readable");
        let (response, rendered) = compile_and_render(&project, &format!("{stem}.yaml"), &text);
        codes_seen.extend(response.diagnostics.iter().map(|diagnostic| diagnostic.code));
        assert!(!response.diagnostics.is_empty(), "{stem}: no diagnostics at all");
        if let Some(code) = Code::ALL.iter().find(|code| code.name().replace('-', "_") == stem) {
            assert!(
                response.diagnostics.iter().any(|diagnostic| diagnostic.code == *code),
                "{stem}: expected {} {}, got:\n{rendered}",
                code.id(),
                code.name()
            );
        }
        assert_snapshot_file(&fixture.with_extension("expected"), &rendered);
    }
    let not_triggered: BTreeSet<Code> = NOT_TRIGGERED_BY_A_FIXTURE.iter().map(|(code, _)| *code).chain(NOT_TRIGGERED_EXTRA).collect();
    let missing: Vec<String> = Code::ALL
        .iter()
        .filter(|code| !codes_seen.contains(code) && !not_triggered.contains(code))
        .map(|code| format!("{} {}", code.id(), code.name()))
        .collect();
    assert!(missing.is_empty(), "codes no fixture produces: {missing:?}");
}

/// Every code has a section `## Vxxxx name` in `docs/diagnostics.md`, in registry order,
/// and every section names a code.
#[test]
fn docs_and_registry_agree() {
    let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/diagnostics.md")).expect("docs/diagnostics.md");
    let documented: Vec<String> =
        docs.lines().filter_map(|line| line.strip_prefix("## ")).filter(|heading| heading.starts_with('V')).map(str::to_string).collect();
    let registry: Vec<String> = Code::ALL.iter().map(|code| format!("{} {}", code.id(), code.name())).collect();
    let undocumented: Vec<&String> = registry.iter().filter(|code| !documented.contains(code)).collect();
    let unknown: Vec<&String> = documented.iter().filter(|heading| !registry.contains(heading)).collect();
    assert!(undocumented.is_empty(), "codes missing from docs/diagnostics.md: {undocumented:?}");
    assert!(unknown.is_empty(), "docs/diagnostics.md documents codes the registry lacks: {unknown:?}");
    assert_eq!(documented, registry, "docs/diagnostics.md lists the codes in registry order");
    for section in docs.split("\n## V").skip(1) {
        let heading = section.lines().next().unwrap_or("");
        assert!(section.contains("```yaml"), "section V{heading} has no minimal example");
        assert!(section.contains("**Why**"), "section V{heading} does not say why");
    }
    let mut ids: Vec<&str> = Code::ALL.iter().map(|code| code.id()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), Code::ALL.len(), "code ids are unique");
}

/// The `.rs` files under `dir`, recursively.
fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            into.push(path);
        }
    }
}

/// `docs/diagnostics.md` says where each `V02xx`–`V05xx` code is checked: in
/// `validate/src/checks/<name>.rs`, or, for the codes in its table, in exactly the files the
/// table names (each of which emits it).
#[test]
fn checks_live_where_the_docs_say() {
    // Canonical, as cargo metadata writes package directories.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().expect("the workspace");
    let docs = std::fs::read_to_string(workspace.join("docs/diagnostics.md")).expect("docs/diagnostics.md");
    let mut sources = Vec::new();
    let packages = viewdag_tests::declared_dependencies::workspace_packages(&workspace).expect("cargo metadata");
    for (_, directory) in packages.iter().filter(|(name, _)| name != "viewdag-tests") {
        rust_files(&directory.join("src"), &mut sources);
    }
    let texts: Vec<(String, String)> = sources
        .iter()
        .filter(|path| !path.ends_with("ir/src/diagnostic.rs"))
        .map(|path| {
            let relative = path.strip_prefix(&workspace).expect("in the workspace").display().to_string();
            (relative, std::fs::read_to_string(path).expect("a readable source"))
        })
        .collect();
    let mut problems = Vec::new();
    for code in Code::ALL.iter().filter(|code| ("V0201".."V0600").contains(&code.id())) {
        let own_file = workspace.join("validate/src/checks").join(format!("{}.rs", code.name().replace('-', "_")));
        let row = docs.lines().find(|line| line.starts_with(&format!("| `{}` {} |", code.id(), code.name())));
        match (own_file.exists(), row) {
            (true, None) => {}
            (true, Some(_)) => problems.push(format!("{}: has its own file, yet the table lists it", code.id())),
            (false, None) => problems.push(format!("{} {}: no file of its own and no row in the table", code.id(), code.name())),
            (false, Some(row)) => {
                let named: BTreeSet<String> =
                    row.split('`').skip(3).step_by(2).filter(|piece| piece.ends_with(".rs")).map(str::to_string).collect();
                let emitting: BTreeSet<String> = texts
                    .iter()
                    .filter(|(_, text)| text.contains(&format!("Code::{code:?},")) || text.contains(&format!("Code::{code:?})")))
                    .map(|(path, _)| path.clone())
                    .collect();
                if named != emitting {
                    problems.push(format!("{}: the table names {named:?}, the code is emitted in {emitting:?}", code.id()));
                }
            }
        }
    }
    assert!(problems.is_empty(), "docs/diagnostics.md and the sources disagree:\n{}", problems.join("\n"));
}

#[test]
fn warnings_are_reported_on_views_that_compile() {
    let project = TempProject::with_shop_data();
    let text = std::fs::read_to_string(fixtures_dir().join("union_name_mismatch.yaml")).expect("the fixture");
    let (response, _) = compile_and_render(&project, "spec.yaml", &text);
    let warning = response.diagnostics.iter().find(|diagnostic| diagnostic.code == Code::UnionNameMismatch).expect("a warning");
    assert_eq!(warning.severity, Severity::Warning);
    assert!(response.view("labels").is_some_and(|view| view.status.is_valid()));
    assert!(!response.has_errors(), "{:?}", response.diagnostics);
}

#[test]
fn an_error_blocks_dependents_and_spares_unrelated_views() {
    let project = TempProject::with_shop_data();
    let text = shop_spec().replace("predicate: \"status = 'paid' AND amount > 0\"", "predicate: \"status = 'paid' AND amout > 0\"");
    let (response, rendered) = compile_and_render(&project, "spec.yaml", &text);
    let errors: Vec<_> = response.diagnostics.iter().filter(|diagnostic| diagnostic.is_error()).collect();
    assert_eq!(errors.len(), 1, "one error, no cascade:\n{rendered}");
    assert_eq!(errors[0].code, Code::UnknownColumn);
    assert!(rendered.contains("spec.yaml:13:"), "placed on the predicate's line:\n{rendered}");
    assert!(matches!(response.view("order_lines").map(|view| &view.status), Some(ViewStatus::Blocked { .. })));
    assert!(response.view("region_names").is_some_and(|view| view.status.is_valid()));
}

#[test]
fn spec_size_limits() {
    // A large generated project's spec (the limit was 16 MiB: a 100,000-view project with
    // real names and SQL is 20–30 MiB) is read.
    let large = format!("version: 1\n# {}\n", "x".repeat(24 << 20));
    assert_eq!(parse_spec(&large, SpecFormat::Yaml).diagnostics, Vec::new());
    let oversized = format!("version: 1\n# {}\n", "x".repeat(viewdag_ir::parse::MAX_SPEC_BYTES));
    let parsed = parse_spec(&oversized, SpecFormat::Yaml);
    assert_eq!(parsed.diagnostics.iter().map(|diagnostic| diagnostic.code).collect::<Vec<_>>(), vec![Code::SpecTooLarge]);
    let mut many = String::from("version: 1\nviews:\n");
    for index in 0..=viewdag_ir::parse::MAX_SPEC_ENTRIES {
        many.push_str(&format!("  v{index}: {{ distinct: {{ input: s }} }}\n"));
    }
    let parsed = parse_spec(&many, SpecFormat::Yaml);
    assert!(parsed.diagnostics.iter().any(|diagnostic| diagnostic.code == Code::SpecTooLarge), "{:?}", parsed.diagnostics.first());
    assert!(parsed.views.is_empty());
}

#[test]
fn hostile_expressions_and_sql_are_diagnostics() {
    let project = TempProject::with_shop_data();
    let long_chain = vec!["amount"; 3000].join("+");
    let deep_sql = format!("SELECT {}1{} AS x FROM orders", "(".repeat(200), ")".repeat(200));
    let huge_sql = format!("SELECT {} FROM orders", vec!["amount"; 20_000].join(", "));
    let nested_yaml = format!("version: 1\nviews: {}{}", "[".repeat(5000), "]".repeat(5000));
    let cases = [
        format!(
            "version: 1\nsources:\n  orders: {{ format: delta, path: data/orders }}\nviews:\n  v:\n    filter: {{ input: orders, predicate: \"{long_chain} > 0\" }}\n"
        ),
        format!("version: 1\nsources:\n  orders: {{ format: delta, path: data/orders }}\nviews:\n  v:\n    sql: \"{deep_sql}\"\n"),
        format!("version: 1\nsources:\n  orders: {{ format: delta, path: data/orders }}\nviews:\n  v:\n    sql: \"{huge_sql}\"\n"),
        nested_yaml,
    ];
    for (index, text) in cases.iter().enumerate() {
        let (response, rendered) = compile_and_render(&project, "spec.yaml", text);
        assert!(response.has_errors(), "case {index} was accepted");
        if index < 3 {
            assert!(
                response.diagnostics.iter().any(|diagnostic| diagnostic.code == Code::ExpressionTooComplex),
                "case {index}:\n{rendered}"
            );
        }
    }
}

/// Replaces, inserts or deletes a few bytes of `text` (on char boundaries).
fn mutate(text: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut bytes: Vec<u8> = text.as_bytes().to_vec();
    const ALPHABET: &[u8] = b" \n:{}[],'\"-#&*!|>0123456789abcdefghijklmnopqrstuvwxyz_()+=<";
    for (position, kind, symbol) in edits {
        if bytes.is_empty() {
            break;
        }
        let at = position % bytes.len();
        let symbol = ALPHABET[*symbol as usize % ALPHABET.len()];
        match kind % 3 {
            0 => bytes[at] = symbol,
            1 => bytes.insert(at, symbol),
            _ => {
                bytes.remove(at);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// Parsing and validating arbitrary bytes never panics.
    #[test]
    fn parse_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_spec(&text, SpecFormat::Yaml);
        let _ = parse_spec(&text, SpecFormat::Json);
    }

    /// Checking a randomly mutated shop spec never panics, and the compiler still answers
    /// for every view.
    #[test]
    fn check_never_panics_on_mutated_specs(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6)) {
        let project = shared_project();
        let text = mutate(&shop_spec(), &edits);
        let mut compiler = Compiler::new().expect("a compiler");
        let response = crate::support::compile_all_views(project, &mut compiler, "spec.yaml", &text);
        let source = compiler.spec_source().expect("the spec was read");
        let _ = render_human(source, &response.diagnostics, false);
        for diagnostic in &response.diagnostics {
            let _ = viewdag_driver::render::to_json(source, diagnostic);
        }
        // Accepted means plannable: a spec `check` accepts compiles every view to P2.
        if !response.has_errors() {
            for view in response.views.iter() {
                prop_assert!(matches!(view.status, ViewStatus::Compiled { .. }), "accepted but {view:?} did not compile:\n{text}");
            }
        }
        // Per-view validation sees what validating over inlined plans sees, errors included.
        let agreement = crate::support::signatures_match_inlined(&compiler);
        prop_assert!(agreement.is_ok(), "{}\n{text}", agreement.unwrap_err());
    }
}

/// The fuzz run CI makes: 10,000 mutated shop specs checked by one long-lived compiler (so
/// every mutation is also an incremental edit of the previous one), and every twentieth
/// compiled (tasks planned): no panic, and every diagnostic renders. The mutations come from
/// a fixed seed, so a failure reproduces; the case is in the message.
#[test]
fn ten_thousand_mutated_specs_check_and_compile_without_panicking() {
    let project = shared_project();
    let path = project.path().join("fuzz.yaml");
    let base = shop_spec();
    let mut compiler = Compiler::new().expect("a compiler");
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        // xorshift64*: deterministic, no dependency.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    for case in 0..10_000 {
        let edits: Vec<(usize, u8, u8)> = (0..1 + next() % 5).map(|_| (next() as usize, next() as u8, next() as u8)).collect();
        let text = mutate(&base, &edits);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let planning = if case % 20 == 0 { viewdag_driver::Planning::Tasks } else { viewdag_driver::Planning::CheckOnly };
            let response = compiler.compile_text_with(&path, &text, planning);
            let source = compiler.spec_source().expect("the spec was read");
            let _ = render_human(source, &response.diagnostics, false);
            response.views.len()
        }));
        assert!(outcome.is_ok(), "case {case} panicked on:\n{text}");
    }
}

/// One project with the shop data for all mutation cases (writing it is the slow part).
fn shared_project() -> &'static TempProject {
    static PROJECT: std::sync::OnceLock<TempProject> = std::sync::OnceLock::new();
    PROJECT.get_or_init(TempProject::with_shop_data)
}

/// `check /dev/zero` reads at most the size limit plus one byte and reports the spec as too
/// large, quickly (before, it read without bound: 15 GB).
#[test]
fn an_endless_spec_file_is_read_with_a_bound() {
    let started = std::time::Instant::now();
    let code = viewdag_cli::main_with_args(["viewdag", "check", "/dev/zero"].map(std::ffi::OsString::from));
    assert_eq!(code, 1, "a diagnostic, not an I/O error");
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "took {:?}", started.elapsed());
    let mut compiler = Compiler::new().expect("a compiler");
    let response = compiler.compile(&viewdag_driver::CompileRequest::check("/dev/zero")).expect("read with a bound");
    assert_eq!(response.diagnostics.iter().map(|diagnostic| diagnostic.code).collect::<Vec<_>>(), vec![Code::SpecTooLarge]);
}

/// Nesting deeper than the limit is one positioned diagnostic, found by a linear scan before
/// any parser recurses: 100,000 `[` (and a 1 MB line of them) take well under a second.
#[test]
fn deep_nesting_is_one_positioned_diagnostic_found_in_linear_time() {
    for (text, format) in [
        (format!("version: 1\nviews: {}", "[".repeat(100_000)), SpecFormat::Yaml),
        (format!("version: 1\nviews: {}", "[".repeat(1_000_000)), SpecFormat::Yaml),
        (format!("{{\"version\": 1, \"views\": {}", "{\"a\": ".repeat(100_000)), SpecFormat::Json),
        (
            format!("version: 1\nviews:\n{}", (0..200).map(|depth| format!("{}k{depth}:\n", " ".repeat(depth + 2))).collect::<String>()),
            SpecFormat::Yaml,
        ),
    ] {
        let started = std::time::Instant::now();
        let parsed = parse_spec(&text, format);
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "took {:?}", started.elapsed());
        assert_eq!(parsed.diagnostics.len(), 1, "{:?}", parsed.diagnostics);
        let diagnostic = &parsed.diagnostics[0];
        assert_eq!(diagnostic.code, Code::SpecTooLarge);
        assert!(diagnostic.location.absolute.is_some(), "positioned: {diagnostic:?}");
        assert!(diagnostic.message.contains("nests more than"), "{diagnostic:?}");
    }
}
