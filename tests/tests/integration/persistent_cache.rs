//! The signature cache across processes (`.viewdag/cache/signatures.bin`): a new
//! `Compiler` (a new process, as far as the cache is concerned) with the cache on reports
//! exactly what a fresh compile without it reports — diagnostics, outcomes, bundles and
//! envelope — after any edit between processes, including edits the memo key must see
//! (a source's schema, the surface settings, `materialize`); a cache file that does not
//! decode is ignored with one `V0920` warning and rebuilt. The `sql` views' reads are kept
//! the same way.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema};
use datafusion::common::{DFSchema, Dependency, FunctionalDependence, FunctionalDependencies};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use viewdag_driver::{CompileRequest, CompileResponse, Compiler, PIECES_CACHE_DIR, READS_CACHE_FILE, SIGNATURE_CACHE_FILE};
use viewdag_ir::{Code, Diagnostic, SpecLocation};
use viewdag_lower::ViewSignature;
use viewdag_lower::signature_memo::{
    FILE_FORMAT, HEADER_LENGTH, MemoCounts, MemoFileError, decode_file, decode_value, encode_file, encode_value,
};
use viewdag_tests::generate::{GeneratedProject, Random};
use viewdag_validate::reads_memo::{decode_reads, encode_reads, reads_key};
use viewdag_validate::relations::{Read, ViewReads};

use crate::soundness::{edit, observable};
use crate::support::{TempProject, memo_file_of_another_build, shop_spec};

/// A compile of `spec` by a new compiler, with the persistent cache on or off.
fn compile_in_new_process(spec: &Path, cached: bool) -> (Compiler, CompileResponse) {
    let mut compiler = Compiler::new().expect("a compiler").with_persistent_cache(cached);
    let response = compiler.compile(&CompileRequest::new(spec)).expect("the spec is readable");
    (compiler, response)
}

/// A new process with the cache on against a fresh one without it: equal observables
/// (diagnostics, outcomes, bundles, envelope), ignoring `V0920` in the cached one, whose
/// `V0920` diagnostics are returned with how many signatures the cache answered.
fn cached_equals_fresh(spec: &Path) -> (Vec<Diagnostic>, MemoCounts) {
    let (warnings, cached) = cached_compiler_equals_fresh(spec);
    (warnings, cached.signature_cache_counts().expect("the cache is on"))
}

/// [`cached_equals_fresh`], returning the compiler with the cache on.
fn cached_compiler_equals_fresh(spec: &Path) -> (Vec<Diagnostic>, Compiler) {
    let (cached, mut cached_response) = compile_in_new_process(spec, true);
    let (fresh, fresh_response) = compile_in_new_process(spec, false);
    let warnings: Vec<Diagnostic> =
        cached_response.diagnostics.iter().filter(|diagnostic| diagnostic.code == Code::CacheUnreadable).cloned().collect();
    cached_response.diagnostics.retain(|diagnostic| diagnostic.code != Code::CacheUnreadable);
    let (cached_text, fresh_text) = (observable(&cached, &cached_response), observable(&fresh, &fresh_response));
    assert!(cached_text == fresh_text, "with the cache:\n{cached_text}\nfresh:\n{fresh_text}");
    let rendered = |compiler: &Compiler, response: &CompileResponse| {
        viewdag_driver::render::render_human(compiler.spec_source().expect("a compiled spec"), &response.diagnostics, false)
    };
    assert_eq!(rendered(&cached, &cached_response), rendered(&fresh, &fresh_response), "rendered diagnostics");
    (warnings, cached)
}

fn cache_file(project: &TempProject) -> PathBuf {
    project.path().join(SIGNATURE_CACHE_FILE)
}

#[test]
fn a_new_process_answers_every_signature_from_the_cache_and_reports_what_a_fresh_compile_reports() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let (warnings, first) = cached_equals_fresh(&spec);
    assert!(warnings.is_empty());
    assert_eq!(first.hits, 0, "nothing was cached yet");
    assert!(first.misses > 5, "{first:?}");
    assert!(cache_file(&project).is_file(), "the first process saved the cache");
    let (warnings, second) = cached_equals_fresh(&spec);
    assert!(warnings.is_empty());
    assert_eq!(second, MemoCounts { hits: first.misses, misses: 0 }, "every signature comes from the cache");

    // A one-view edit between processes: only that view's signature is computed again.
    let edited = shop_spec().replace("status = 'paid' AND amount > 0", "status = 'paid' AND amount > 1");
    assert_ne!(edited, shop_spec());
    let spec = project.write_spec("spec.yaml", &edited);
    let (_, third) = cached_equals_fresh(&spec);
    assert_eq!(third.misses, 1, "{third:?}");
    assert_eq!(third.hits, first.misses - 1, "{third:?}");
    // The saved cache holds one entry per view: the edited view's old entry is gone.
    let entries = decode_file(&std::fs::read(cache_file(&project)).unwrap()).expect("a valid cache");
    assert_eq!(entries.len(), first.misses);
}

/// Corrupt the cache file in each way; every time the compile equals a fresh one plus
/// exactly one `V0920` warning, and the next process finds a rebuilt, valid cache.
#[test]
fn a_cache_file_that_does_not_decode_is_ignored_with_one_warning_and_rebuilt_and_another_builds_silently() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let (_, first) = cached_equals_fresh(&spec);
    let valid = std::fs::read(cache_file(&project)).expect("a saved cache");
    let mut flipped = valid.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    // A file of another viewdag or another layout is a cache of another build, not a broken
    // one: replaced without a warning (an upgrade would otherwise warn once per file).
    let cases: [(&str, Vec<u8>, Option<&str>); 6] = [
        ("truncated", valid[..valid.len() * 2 / 3].to_vec(), Some("truncated")),
        ("a flipped byte", flipped, Some("checksum")),
        ("garbage", b"PK\x03\x04 not a cache at all".to_vec(), Some("not a viewdag signature cache")),
        ("empty", Vec::new(), Some("truncated")),
        ("another version", memo_file_of_another_build(FILE_FORMAT, "0.0.0"), None),
        ("another format", memo_file_of_another_build(FILE_FORMAT - 1, "0.0.0"), None),
    ];
    for (what, bytes, reason) in cases {
        std::fs::write(cache_file(&project), &bytes).unwrap();
        let (warnings, counts) = cached_equals_fresh(&spec);
        match reason {
            Some(reason) => {
                assert_eq!(warnings.len(), 1, "{what}: {warnings:?}");
                assert!(warnings[0].message.contains(reason), "{what}: {}", warnings[0].message);
                assert_eq!(warnings[0].location, SpecLocation::root());
            }
            None => assert!(warnings.is_empty(), "{what}: {warnings:?}"),
        }
        assert_eq!(counts.hits, 0, "{what}: nothing is read from a bad file");
        let rebuilt = decode_file(&std::fs::read(cache_file(&project)).unwrap());
        assert_eq!(rebuilt.map(|entries| entries.len()), Ok(first.misses), "{what}: the cache is rebuilt");
        let (warnings, counts) = cached_equals_fresh(&spec);
        assert!(warnings.is_empty(), "{what}: {warnings:?}");
        assert_eq!(counts, MemoCounts { hits: first.misses, misses: 0 }, "{what}");
    }
    // The reasons a file of another build is not used are still told apart.
    assert_eq!(decode_file(&memo_file_of_another_build(FILE_FORMAT, "0.0.0")), Err(MemoFileError::Version { found: "0.0.0".to_string() }));
    assert_eq!(decode_file(&memo_file_of_another_build(FILE_FORMAT - 1, "0.0.0")), Err(MemoFileError::Format { found: FILE_FORMAT - 1 }));
}

/// The `sql` views' reads are kept across processes next to the signatures: a new process
/// parses no SQL view of an unchanged project, an edit of one view's SQL parses that view
/// only, and a reads file that does not decode is ignored with one warning naming it.
#[test]
fn a_new_process_reads_each_sql_views_relations_from_the_cache() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let reads_counts = |spec: &Path| {
        let (compiler, _) = compile_in_new_process(spec, true);
        compiler.reads_cache_counts().expect("the cache is on")
    };
    cached_equals_fresh(&spec);
    assert!(project.path().join(READS_CACHE_FILE).is_file(), "the first process saved the reads");
    assert_eq!(reads_counts(&spec), MemoCounts { hits: 1, misses: 0 }, "the one SQL view's reads come from the cache");
    let edited = shop_spec().replace("WHERE region IS NOT NULL", "WHERE region IS NOT NULL AND revenue > 0");
    assert_ne!(edited, shop_spec());
    let spec = project.write_spec("spec.yaml", &edited);
    let (warnings, _) = cached_equals_fresh(&spec);
    assert!(warnings.is_empty());
    assert_eq!(reads_counts(&spec), MemoCounts { hits: 1, misses: 0 }, "the edited SQL was recorded by the process before");

    // A bad reads file: one warning naming it, the fresh compile's results, the file rebuilt.
    std::fs::write(project.path().join(READS_CACHE_FILE), b"viewdag signature memo\0\x03").unwrap();
    let (warnings, counts) = cached_equals_fresh(&spec);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].message.contains(READS_CACHE_FILE) && warnings[0].message.contains("truncated"), "{}", warnings[0].message);
    assert!(counts.hits > 5, "the signature file was still used: {counts:?}");
    assert_eq!(reads_counts(&spec), MemoCounts { hits: 1, misses: 0 }, "the reads file was rebuilt");
}

/// The shop spec with `count` more views, each followed by a long comment, so the spec is
/// large enough to be parsed in pieces (`viewdag_ir::split_parse::SPLIT_MIN_BYTES`) while
/// its views stay few and cheap to compile.
fn shop_spec_with_commented_views(count: usize) -> String {
    let comment: String =
        (0..24).map(|line| format!("    # note {line} on this view: what it keeps, and why it keeps it ({})\n", "-".repeat(30))).collect();
    let views: String = (0..count)
        .map(|index| format!("  extra_{index}:\n    filter: {{ input: paid_orders, predicate: \"amount > {index}\" }}\n{comment}"))
        .collect();
    let spec = shop_spec();
    let outputs = spec.find("\noutputs:").expect("the shop spec has outputs") + 1;
    let text = format!("{}{views}{}", &spec[..outputs], &spec[outputs..]);
    assert!(text.len() >= viewdag_ir::split_parse::SPLIT_MIN_BYTES, "{} bytes", text.len());
    text
}

/// A large spec's pieces are kept across processes (`.viewdag/cache/pieces/`, one file per
/// piece): a new process on an unchanged spec parses none, after an edit of one view it
/// parses (and writes) the pieces around it only and removes the files of the pieces it
/// replaced, and it reports what a fresh compile reports; a damaged piece file is ignored
/// with one warning naming it and written again.
#[test]
fn a_new_process_parses_again_only_the_pieces_of_the_spec_an_edit_changed() {
    let project = TempProject::with_shop_data();
    let text = shop_spec_with_commented_views(160);
    let spec = project.write_spec("spec.yaml", &text);
    let piece_files = || {
        let mut files: Vec<PathBuf> = std::fs::read_dir(project.path().join(PIECES_CACHE_DIR))
            .expect("the pieces' directory")
            .map(|file| file.unwrap().path())
            .collect();
        files.sort();
        files
    };
    let (warnings, first) = cached_compiler_equals_fresh(&spec);
    assert!(warnings.is_empty(), "{warnings:?}");
    let recorded = first.pieces_cache_counts().expect("the cache is on");
    assert!(recorded.hits == 0 && recorded.misses >= 4, "{recorded:?}");
    let files = piece_files();
    assert_eq!(files.len(), recorded.misses, "one file per piece: {files:?}");
    let pieces = |spec: &Path| compile_in_new_process(spec, true).0.pieces_cache_counts().expect("the cache is on");
    assert_eq!(pieces(&spec), MemoCounts { hits: recorded.misses, misses: 0 }, "an unchanged spec parses no piece");
    assert_eq!(piece_files(), files, "and writes none");

    // One view edited in the middle of the spec: the pieces before and after it are read.
    let edited = text.replacen("predicate: \"amount > 80\"", "predicate: \"amount > 80 AND amount < 1000\"", 1);
    assert_ne!(edited, text);
    let spec = project.write_spec("spec.yaml", &edited);
    let (warnings, after_edit) = cached_compiler_equals_fresh(&spec);
    assert!(warnings.is_empty(), "{warnings:?}");
    let counts = after_edit.pieces_cache_counts().expect("the cache is on");
    assert!(
        counts.misses >= 1 && counts.misses <= 2 && counts.hits + counts.misses == recorded.misses,
        "{counts:?} of {} pieces",
        recorded.misses
    );
    let after = piece_files();
    assert_eq!(after.len(), recorded.misses, "the replaced pieces' files are removed: {after:?}");
    assert_eq!(after.iter().filter(|file| files.contains(file)).count(), counts.hits, "the other pieces' files are kept");

    // A view with an error: the spec is parsed whole (the diagnostic is the whole parse's),
    // and the pieces' files stay for the fix, which reads every piece but the fixed one's.
    let broken = edited.replacen("predicate: \"amount > 90\"", "predicate: \"amount > 90\", typo: 1", 1);
    assert_ne!(broken, edited);
    let spec = project.write_spec("spec.yaml", &broken);
    let (_, broken_compiler) = cached_compiler_equals_fresh(&spec);
    assert!(broken_compiler.parsed_spec().is_some_and(|parsed| !parsed.diagnostics.is_empty()), "the typo is reported");
    assert_eq!(piece_files(), after, "a spec with an error writes and removes no piece");
    let spec = project.write_spec("spec.yaml", &edited);
    assert_eq!(pieces(&spec), MemoCounts { hits: recorded.misses, misses: 0 }, "the fixed spec's pieces are all kept");

    // A damaged piece file: one warning naming it, the fresh compile's results, written again.
    std::fs::write(&after[0], b"viewdag signature memo\0\x03").unwrap();
    let (warnings, rebuilt) = cached_compiler_equals_fresh(&spec);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let name = after[0].file_name().unwrap().to_str().unwrap();
    assert!(warnings[0].message.contains(&format!("{PIECES_CACHE_DIR}/{name}")), "{}", warnings[0].message);
    assert_eq!(rebuilt.pieces_cache_counts().map(|counts| counts.misses), Some(1));
    assert_eq!(pieces(&spec).misses, 0, "the piece file was written again");
    assert_eq!(piece_files(), after);
}

/// A `sql` view's reads decode to exactly what was encoded (names, ranges, diagnostics);
/// reads whose locations decoding would not rebuild are not recorded.
#[test]
fn sql_view_reads_decode_to_exactly_what_was_encoded() {
    let location = |range: Option<(usize, usize)>| {
        let location = SpecLocation::view("v").with_field(["sql"]);
        match range {
            Some((start, end)) => location.with_range(start, end),
            None => location,
        }
    };
    let reads = ViewReads {
        reads: vec![
            Read { name: "orders".to_string(), location: location(Some((14, 20))) },
            Read { name: "customers".to_string(), location: location(None) },
        ],
        diagnostics: vec![Diagnostic::new(Code::PlanError, location(Some((0, 6))), "a diagnostic").with_note("a note")],
        unparsed: false,
    };
    let bytes = encode_reads("v", &reads).expect("the reads encode");
    assert_eq!(decode_reads("v", &bytes), Some(reads.clone()));
    assert_eq!(decode_reads("v", &bytes[..bytes.len() - 1]), None, "a cut value is a miss");
    let elsewhere = ViewReads {
        reads: vec![Read { name: "orders".to_string(), location: SpecLocation::view("v").with_field(["filter", "input"]) }],
        ..reads.clone()
    };
    assert_eq!(encode_reads("v", &elsewhere), None);
    assert_eq!(encode_reads("w", &reads), None, "another view's locations");
    let key = |view: &str, query: &str, functions: &[&str]| {
        reads_key("build", view, query, &functions.iter().map(|function| function.to_string()).collect::<Vec<_>>())
    };
    let base = key("v", "SELECT 1", &["range"]);
    assert_ne!(base, key("w", "SELECT 1", &["range"]));
    assert_ne!(base, key("v", "SELECT 2", &["range"]));
    assert_ne!(base, key("v", "SELECT 1", &[]));
    assert_ne!(base, reads_key("other build", "v", "SELECT 1", &["range".to_string()]));
}

/// A spec over one Parquet source `t` with views whose outcome depends on `t.x`'s type.
const TYPED_SPEC: &str = "version: 1\nsources:\n  t: { format: parquet, path: data/t.parquet }\nviews:\n  doubled:\n    project: { input: t, columns: { id: id, twice: \"x * 2\" } }\n  summed:\n    sql: \"SELECT id, sum(twice) AS total FROM doubled GROUP BY id\"\n  kept:\n    filter: { input: summed, predicate: \"total > 1\" }\noutputs:\n  kept: { view: kept, path: out/kept }\n";

fn write_t(project: &TempProject, x: Arc<dyn datafusion::arrow::array::Array>) {
    let schema = Schema::new(vec![Field::new("id", DataType::Int64, false), Field::new("x", x.data_type().clone(), true)]);
    let batch = RecordBatch::try_new(Arc::new(schema), vec![Arc::new(Int64Array::from(vec![1, 2])), x]).unwrap();
    viewdag_tests::data::write_parquet_file(&project.path().join("data/t.parquet"), &batch);
}

#[test]
fn a_source_rewritten_with_another_column_type_between_processes_changes_its_readers_as_a_fresh_compile_does() {
    let project = TempProject::empty();
    write_t(&project, Arc::new(Int64Array::from(vec![Some(1), Some(2)])));
    let spec = project.write_spec("spec.yaml", TYPED_SPEC);
    let (compiler, before) = compile_in_new_process(&spec, true);
    assert!(!before.has_errors(), "{:?}", before.diagnostics);
    let total_before = compiler.snapshot().relation_schema("summed").unwrap().field_with_name("total").unwrap().data_type().clone();
    cached_equals_fresh(&spec);

    write_t(&project, Arc::new(StringArray::from(vec![Some("a"), Some("b")])));
    let (_, counts) = cached_equals_fresh(&spec);
    assert_eq!(counts.hits, 0, "every view reads the changed column: {counts:?}");
    let (compiler, after) = compile_in_new_process(&spec, true);
    let outcome_changed = after.has_errors()
        || compiler.snapshot().relation_schema("summed").unwrap().field_with_name("total").unwrap().data_type() != &total_before;
    assert!(outcome_changed, "the new type reaches the readers: {:?}", after.diagnostics);

    write_t(&project, Arc::new(datafusion::arrow::array::Float64Array::from(vec![Some(1.5), None])));
    cached_equals_fresh(&spec);
}

/// Every setting the signature reads besides the views and their inputs, changed between
/// two processes with the cache on: the second reports what a fresh compile reports.
#[test]
fn each_setting_the_signature_reads_changed_between_processes_gives_the_fresh_outcome() {
    let project = TempProject::with_shop_data();
    let series = "version: 1\nviews:\n  numbers:\n    sql: \"SELECT value FROM range(0, 5)\"\n  doubled:\n    sql: \"SELECT value * 2 AS twice FROM numbers\"\noutputs:\n  doubled: { view: doubled, path: out/doubled }\n";
    let csv = |delimiter: &str| {
        format!(
            "version: 1\nsources:\n  prices: {{ format: csv, path: data/prices.csv, schema: {{ item: utf8, price: float64 }} }}\nviews:\n  cheap:\n    filter: {{ input: prices, predicate: \"price < 10\" }}\noutputs:\n  cheap: {{ view: cheap, path: out/cheap }}\nprofile:\n  surface: {{ csv: {{ delimiter: \"{delimiter}\" }} }}\n"
        )
    };
    std::fs::write(project.path().join("data/prices.csv"), "item;price\napple;2.5\nmelon;12\n").unwrap();
    let stored = |materialize: &str| {
        format!(
            "version: 1\nviews:\n  unsigned:\n    sql: \"SELECT arrow_cast(1, 'UInt32') AS small, INTERVAL '1 day' AS span\"\n    materialize: {materialize}\n  reader:\n    sql: \"SELECT small FROM unsigned\"\n"
        )
    };
    let partitions = |count: u32| format!("{series}profile:\n  surface: {{ table_functions: [range] }}\n  target_partitions: {count}\n");
    let settings: [(&str, String, String); 4] = [
        ("allowed table functions", format!("{series}profile:\n  surface: {{ table_functions: [range] }}\n"), series.to_string()),
        ("CSV delimiter", csv(";"), csv(",")),
        ("materialize", stored("ephemeral"), stored("table")),
        ("target partitions", partitions(2), partitions(8)),
    ];
    for (setting, first, second) in settings {
        let _ = std::fs::remove_dir_all(project.path().join(".viewdag"));
        let spec = project.write_spec("spec.yaml", &first);
        cached_equals_fresh(&spec);
        let (_, first_response) = compile_in_new_process(&spec, false);
        let spec = project.write_spec("spec.yaml", &second);
        cached_equals_fresh(&spec);
        let (_, second_response) = compile_in_new_process(&spec, false);
        if setting != "target partitions" {
            assert_ne!(first_response.diagnostics, second_response.diagnostics, "{setting}: the setting changes the outcome");
        }
        // And back: the first setting's entries were evicted, the outcome is the first's again.
        let spec = project.write_spec("spec.yaml", &first);
        cached_equals_fresh(&spec);
    }
}

/// The memo's values are pure functions of their keys: a value decodes to exactly the
/// signature (schema with metadata and functional dependencies, warnings) or the errors
/// that were encoded.
#[test]
fn memo_values_decode_to_exactly_what_was_encoded() {
    let nested = DataType::Struct(Fields::from(vec![
        Field::new("inner", DataType::List(Arc::new(Field::new("item", DataType::Utf8View, true))), false)
            .with_metadata([("k".to_string(), "v".to_string())].into()),
    ]));
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("at", DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Microsecond, Some("UTC".into())), true),
        Field::new("amount", DataType::Decimal128(20, 4), true).with_metadata([("unit".to_string(), "EUR".to_string())].into()),
        Field::new("nested", nested, true),
    ])
    .with_metadata([("origin".to_string(), "test".to_string()), ("b".to_string(), "2".to_string())].into());
    let dependencies = FunctionalDependencies::new(vec![
        FunctionalDependence::new(vec![0], vec![0, 1, 2, 3], false).with_mode(Dependency::Single),
        FunctionalDependence::new(vec![1, 2], vec![3], true),
    ]);
    let schema = DFSchema::try_from(schema).unwrap().with_functional_dependencies(dependencies).unwrap();
    let warning = Diagnostic::new(Code::PlanError, SpecLocation::view("v").with_field(["sql"]).with_range(3, 9), "a warning")
        .with_note("a note")
        .with_suggestion("a suggestion")
        .with_label(SpecLocation::source("s"), "here");
    let signature = ViewSignature { schema: Arc::new(schema), warnings: Arc::new(vec![warning.clone()]) };
    for value in [Ok(signature), Err(Arc::new(vec![warning]))] {
        let bytes = encode_value(&value).expect("a value encodes");
        assert_eq!(decode_value(&bytes), Some(value.clone()));
        assert_eq!(decode_value(&bytes[..bytes.len() - 1]), None, "a cut value is a miss");
        let entries = vec![([7u8; 32], Arc::<[u8]>::from(bytes))];
        let file = encode_file(&entries);
        assert_eq!(decode_file(&file), Ok(entries));
        // Whatever byte of the body flips, the file is corrupted (never mistaken for a cut one);
        // wherever it is cut, it is truncated.
        for position in HEADER_LENGTH..file.len() {
            let mut flipped = file.clone();
            flipped[position] ^= 0x40;
            assert_eq!(decode_file(&flipped), Err(MemoFileError::Corrupted), "byte {position} flipped");
        }
        for length in 0..file.len() {
            assert_eq!(decode_file(&file[..length]), Err(MemoFileError::Truncated), "cut at {length}");
        }
    }
}

/// Equal values are written once, whether or not they share their bytes in memory, and
/// decode shared: the file's bytes depend on the entries' keys and values only, and a project
/// whose views mostly keep their inputs' schemas saves each schema once.
#[test]
fn equal_values_are_written_once_and_decode_shared() {
    let value = |byte: u8| -> Arc<[u8]> { Arc::from(vec![byte; 700]) };
    let shared = value(1);
    let keys = |count: u8| (0..count).map(|index| [index; 32]);
    let sharing: Vec<_> = keys(100).map(|key| (key, if key[0] % 10 == 9 { value(2) } else { Arc::clone(&shared) })).collect();
    let copied: Vec<_> = keys(100).map(|key| (key, value(if key[0] % 10 == 9 { 2 } else { 1 }))).collect();
    let file = encode_file(&sharing);
    assert_eq!(file, encode_file(&copied), "the bytes depend on the values, not on their sharing");
    assert!(file.len() < 2 * 700 + 100 * 36 + 200, "each distinct value once: {} bytes", file.len());
    let decoded = decode_file(&file).expect("a valid file");
    assert_eq!(decoded, copied);
    let ones: Vec<_> = decoded.iter().filter(|(_, value)| value[0] == 1).collect();
    assert_eq!(ones.len(), 90);
    assert!(ones.iter().all(|(_, value)| Arc::ptr_eq(value, &ones[0].1)), "equal values decode shared");
    // An entry naming a value the file does not hold is corruption, even under a valid checksum.
    let mut forged = file[..file.len() - 32].to_vec();
    let last_index = forged.len() - 4;
    forged[last_index..].copy_from_slice(&7u32.to_le_bytes());
    forged.extend_from_slice(blake3::hash(&forged).as_bytes());
    assert_eq!(decode_file(&forged), Err(MemoFileError::Corrupted));
}

/// The seed of the cross-process property (fixed: CI runs the same sequences every time).
const PROPERTY_SEED: [u8; 32] = *b"viewdag cache across processes!!";
const EDITS_PER_CASE: usize = 10;

proptest! {
    #![proptest_config(ProptestConfig { cases: 5, failure_persistence: None, rng_seed: RngSeed::Fixed(u64::from_le_bytes(PROPERTY_SEED[..8].try_into().unwrap())), ..ProptestConfig::default() })]

    /// Incremental across processes == fresh: after every random edit (the soundness
    /// property's edits: add, remove, rename, retarget, modify views; new source data), a new
    /// compiler with the cache on reports exactly what a fresh compile without it reports.
    #[test]
    fn incremental_across_processes_equals_fresh((seed, view_count) in (any::<u64>(), 2..6usize)) {
        let directory = TempProject::empty();
        let mut project = GeneratedProject::generate(seed, view_count);
        let spec = project.write(directory.path());
        compile_in_new_process(&spec, true);
        let mut random = Random::new(seed ^ 0xCAC4E);
        let mut history = Vec::new();
        let mut hits = 0;
        for step in 0..EDITS_PER_CASE {
            history.push(edit(&mut project, &mut random, directory.path(), step));
            std::fs::write(&spec, project.spec_yaml()).expect("the spec is written");
            let (warnings, counts) = cached_equals_fresh(&spec);
            prop_assert!(warnings.is_empty(), "seed {seed}, after {history:?}: {warnings:?}");
            hits += counts.hits;
        }
        prop_assert!(hits > 0, "seed {seed}: the cache answered nothing after {history:?}");
    }
}
