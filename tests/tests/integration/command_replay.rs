//! `viewdag check` on an unchanged project, and `viewdag run` on an up-to-date one, replay
//! the last such command's output from `.viewdag/cache/replay.bin`
//! (`viewdag_driver::command_replay`): the same bytes and exit code as the command without
//! the cache, and never a record that outlived something the command reads — the spec, a
//! source's files or Delta log, a CSV header, the Delta table an output keeps rows of (for a
//! run, any task's table), a symlink swapped in. Every command runs the real binary in its
//! own process.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use viewdag_driver::command_replay::{self, CommandOutput, Probe, REPLAY_FILE, Replayed};
use viewdag_ir::{SpecFormat, parse_spec};
use viewdag_lower::signature_memo::FILE_FORMAT;

use crate::support::{TempProject, memo_file_of_another_build, shop_spec};

/// Runs `viewdag COMMAND SPEC [arguments]` in a new process.
fn viewdag(command: &str, spec: &Path, arguments: &[&str]) -> CommandOutput {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_viewdag-cli"))
        .arg(command)
        .arg(spec)
        .args(arguments)
        .output()
        .expect("viewdag starts");
    CommandOutput {
        stdout: String::from_utf8(output.stdout).expect("UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8"),
        exit_code: output.status.code().expect("exited, not killed"),
    }
}

/// Runs `viewdag check SPEC [arguments]` in a new process.
fn check(spec: &Path, arguments: &[&str]) -> CommandOutput {
    viewdag("check", spec, arguments)
}

/// Whether the record file holds `output` (for any format).
fn recorded(spec: &Path, output: &CommandOutput) -> bool {
    command_replay::recorded_outputs(spec).contains(output)
}

/// A cached `command` (`check`, `run`) of `spec` that must be a replay: the same output as
/// `expected`, and the record file untouched (a command that is not replayed writes it again).
fn replayed(command: &str, spec: &Path, arguments: &[&str], expected: &CommandOutput) {
    let file = spec.with_file_name(REPLAY_FILE);
    let before = (std::fs::read(&file).expect("a record"), std::fs::metadata(&file).unwrap().modified().unwrap());
    settle(&file);
    let settled = std::fs::metadata(&file).unwrap().modified().unwrap();
    assert_eq!(&viewdag(command, spec, arguments), expected, "the replay prints the command's output");
    let after = (std::fs::read(&file).expect("a record"), std::fs::metadata(&file).unwrap().modified().unwrap());
    assert_eq!(after, (before.0, settled), "a replay writes nothing");
}

/// Sets every file and directory below `path` (or `path`) modified in the last ten seconds a
/// minute back, as data written before a check started is (a record is never kept over a
/// file or directory modified in the tick its check started in); older ones and symlinks
/// keep their times.
fn settle(path: &Path) {
    let now = SystemTime::now();
    let past = now - Duration::from_secs(60);
    let mut entries = if path.is_dir() { walk(path) } else { Vec::new() };
    entries.push(path.to_path_buf());
    for entry in entries {
        let recent = std::fs::symlink_metadata(&entry).unwrap().modified().unwrap() > now - Duration::from_secs(10);
        if !entry.is_symlink() && recent {
            std::fs::File::open(&entry).expect("opens").set_modified(past).expect("set");
        }
    }
}

fn walk(directory: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![directory.to_path_buf()];
    while let Some(directory) = stack.pop() {
        for entry in std::fs::read_dir(&directory).expect("listed") {
            let path = entry.expect("an entry").path();
            if path.is_dir() && !path.is_symlink() {
                stack.push(path.clone());
            }
            found.push(path);
        }
    }
    found
}

/// The shop spec with one broken view, so the output has diagnostics with snippets.
fn spec_text() -> String {
    shop_spec().replace("views:\n", "views:\n  broken:\n    filter: { input: orders, predicate: \"no_such_column > 1\" }\n")
}

/// Checks `spec` with the cache and without it: the same output; returns it. The cached
/// check's output is then in the record file exactly when `expect_recorded`.
fn cached_equals_fresh(spec: &Path, expect_recorded: bool) -> CommandOutput {
    let cached = check(spec, &[]);
    let fresh = check(spec, &["--no-cache"]);
    assert_eq!(cached, fresh, "a check with the cache prints what one without it prints");
    assert_eq!(recorded(spec, &cached), expect_recorded, "what the record holds");
    cached
}

#[test]
fn an_unchanged_project_replays_its_check_byte_for_byte_and_every_change_it_reads_is_seen() {
    let project = TempProject::with_shop_data();
    settle(project.path());
    let spec = project.write_spec("spec.yaml", &spec_text());
    let first = cached_equals_fresh(&spec, true);
    assert_eq!(first.exit_code, 1);
    assert!(first.stderr.contains("no_such_column") && first.stderr.contains("spec.yaml"), "{}", first.stderr);
    replayed("check", &spec, &[], &first);

    // The JSON format has its own record, and the human one stays.
    let json = check(&spec, &["--format", "json"]);
    assert_eq!(json, check(&spec, &["--format", "json", "--no-cache"]));
    assert!(json.stdout.contains("\"views\""), "{}", json.stdout);
    assert!(recorded(&spec, &json) && recorded(&spec, &first));
    replayed("check", &spec, &["--format", "json"], &json);

    // A check narrowed by a selection is neither replayed nor recorded.
    let selected = check(&spec, &["--select", "paid_orders"]);
    assert_ne!(selected, first);
    assert!(!recorded(&spec, &selected));
    replayed("check", &spec, &[], &first);

    // Each change below alters what a fresh check prints, and a cached check prints the
    // fresh output; a record is kept once the changed files are settled.
    let mut before = first;
    let mut changed = |what: &str, change: &dyn Fn()| {
        change();
        settle(project.path());
        let after = cached_equals_fresh(&spec, true);
        assert_ne!(after, before, "{what}: the change shows in the check");
        replayed("check", &spec, &[], &after);
        before = after;
    };
    changed("a spec edit", &|| {
        project.write_spec("spec.yaml", &spec_text().replace("no_such_column > 1", "no_such_column > 2"));
    });
    changed("a table under a merge output whose columns differ from its view's", &|| {
        let schema = Schema::new(vec![Field::new("label", DataType::Int64, false)]);
        let columns: Vec<Arc<dyn datafusion::arrow::array::Array>> = vec![Arc::new(Int64Array::from(vec![1]))];
        viewdag_tests::data::write_delta_table(
            &project.path().join("out/labels"),
            vec![RecordBatch::try_new(Arc::new(schema), columns).unwrap()],
        );
    });
    let data = project.path().join("data");
    changed("a Parquet source without a column its readers use", &|| {
        let schema = Schema::new(vec![Field::new("customer_id", DataType::Int64, false), Field::new("name", DataType::Utf8, true)]);
        let columns: Vec<Arc<dyn datafusion::arrow::array::Array>> =
            vec![Arc::new(Int64Array::from(vec![1, 2])), Arc::new(StringArray::from(vec!["a", "b"]))];
        viewdag_tests::data::write_parquet_file(&data.join("customers.parquet"), &RecordBatch::try_new(Arc::new(schema), columns).unwrap());
    });
    changed("a CSV header unlike the declared columns", &|| {
        std::fs::write(data.join("regions.csv"), "id,region\n1,north\n").unwrap();
    });
    changed("a Delta source rewritten without a column", &|| {
        std::fs::remove_dir_all(data.join("orders")).unwrap();
        let schema = Schema::new(vec![Field::new("order_id", DataType::Int64, false), Field::new("amount", DataType::Int64, true)]);
        let columns: Vec<Arc<dyn datafusion::arrow::array::Array>> =
            vec![Arc::new(Int64Array::from(vec![1, 2])), Arc::new(Int64Array::from(vec![10, 20]))];
        viewdag_tests::data::write_delta_table(&data.join("orders"), vec![RecordBatch::try_new(Arc::new(schema), columns).unwrap()]);
    });
    // The same bytes with the same time, reached through a symlink that leaves the project:
    // only where the file resolves to changed.
    let outside = tempfile::tempdir().expect("a directory");
    changed("a source file swapped for a symlink out of the project", &|| {
        let file = data.join("customers.parquet");
        let moved = outside.path().join("customers.parquet");
        std::fs::copy(&file, &moved).unwrap();
        let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
        std::fs::File::options().write(true).open(&moved).unwrap().set_modified(modified).unwrap();
        std::fs::remove_file(&file).unwrap();
        std::os::unix::fs::symlink(&moved, &file).unwrap();
    });
}

#[test]
fn a_run_that_found_every_task_up_to_date_is_replayed_until_an_input_or_a_table_changes() {
    let project = TempProject::with_shop_data();
    settle(project.path());
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let run = |arguments: &[&str]| {
        let output = viewdag("run", &spec, arguments);
        assert_eq!(output.exit_code, 0, "{}", output.stderr);
        output
    };
    let written = |output: &CommandOutput| output.stderr.matches(" rows  → ").count();
    let first = run(&[]);
    assert_eq!(written(&first), 5, "{}", first.stderr);
    assert!(!recorded(&spec, &first), "a run that wrote is never recorded");
    // The tables were written before the next run starts.
    settle(project.path());
    let up_to_date = run(&[]);
    assert!(up_to_date.stderr.contains("0 of 5 task(s) written, 5 up to date"), "{}", up_to_date.stderr);
    assert!(recorded(&spec, &up_to_date), "an up-to-date run is recorded");
    replayed("run", &spec, &[], &up_to_date);
    // The replay is what a run without the cache prints; that run bumps the run state's run
    // number, so the next run runs (and is recorded) again, then replays.
    assert_eq!(run(&["--no-cache"]), up_to_date);
    let again = run(&[]);
    assert_eq!(again, up_to_date);
    replayed("run", &spec, &[], &up_to_date);
    // Flags that change what runs are never replayed.
    assert_eq!(written(&run(&["--force"])), 5);
    settle(project.path());
    let forced = run(&[]);
    assert!(forced.stderr.contains("out/revenue (v1)") && forced.stderr.contains("5 up to date"), "{}", forced.stderr);
    replayed("run", &spec, &[], &forced);

    // A source changed (settled first: a run reads a source's time too): the tasks reading it run.
    std::fs::write(project.path().join("data/regions.csv"), "region_id,region\n1,north\n2,south\n3,east\n4,west\n5,centre\n").unwrap();
    settle(project.path());
    assert!(written(&run(&[])) > 0);
    settle(project.path());
    let up_to_date = run(&[]);
    assert!(up_to_date.stderr.contains("5 up to date"), "{}", up_to_date.stderr);
    replayed("run", &spec, &[], &up_to_date);
    // A task's table removed: its task runs.
    std::fs::remove_dir_all(project.path().join("out/revenue")).unwrap();
    let rewritten = run(&[]);
    assert_eq!(written(&rewritten), 1, "{}", rewritten.stderr);
    // A materialized view's table removed: its task runs again, and writes the same rows.
    settle(project.path());
    replayed("run", &spec, &[], &run(&[]));
    let enriched = project.path().join(".viewdag/tables/enriched");
    let rows = viewdag_tests::data::read_delta_rows(&enriched);
    assert!(!rows.is_empty());
    std::fs::remove_dir_all(&enriched).unwrap();
    let after = run(&[]);
    assert!(written(&after) >= 1, "{}", after.stderr);
    assert_eq!(viewdag_tests::data::read_delta_rows(&enriched), rows, "the run wrote the view's rows again");
}

#[test]
fn a_file_or_directory_modified_as_the_check_starts_is_never_recorded() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &spec_text());
    // A source modified in the future of the check (as the clock tick the check starts in
    // is, for a file written during it) keeps the check from being recorded.
    let future = SystemTime::now() + Duration::from_secs(3600);
    std::fs::File::options().write(true).open(project.path().join("data/regions.csv")).unwrap().set_modified(future).unwrap();
    cached_equals_fresh(&spec, false);
    settle(project.path());
    cached_equals_fresh(&spec, true);
    // Likewise a directory of a source's files (a file removed or renamed in it during the
    // check changes the directory's time, not a file's); the spec edit gives an output that
    // is not recorded yet.
    std::fs::File::open(project.path().join("data/orders/_delta_log")).unwrap().set_modified(future).unwrap();
    std::fs::write(project.path().join("spec.yaml"), spec_text().replace("no_such_column > 1", "no_such_column > 3")).unwrap();
    cached_equals_fresh(&spec, false);
    settle(project.path());
    cached_equals_fresh(&spec, true);
}

#[test]
fn a_record_file_that_cannot_be_read_is_ignored_with_one_warning_and_rewritten() {
    let project = TempProject::with_shop_data();
    settle(project.path());
    let spec = project.write_spec("spec.yaml", &spec_text());
    let first = cached_equals_fresh(&spec, true);
    let file = project.path().join(REPLAY_FILE);
    let valid = std::fs::read(&file).expect("a record");
    let mut flipped = valid.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    for (what, bytes, reason) in [
        ("a flipped byte", flipped, "checksum"),
        ("truncated", valid[..valid.len() / 2].to_vec(), "truncated"),
        ("garbage", b"not a record".to_vec(), "not a viewdag"),
    ] {
        std::fs::write(&file, &bytes).unwrap();
        let warned = check(&spec, &[]);
        let (warning, rest) = warned.stderr.split_once('\n').expect("lines");
        assert!(warning.starts_with("warning[V0920") && warning.contains(REPLAY_FILE) && warning.contains(reason), "{what}: {warning}");
        assert_eq!(warned.stderr.matches("V0920").count(), 1, "{what}: {}", warned.stderr);
        assert!(rest.contains(&first.stderr), "{what}: the check's own output follows");
        assert_eq!(warned.exit_code, first.exit_code);
        assert_eq!(command_replay::recorded_outputs(&spec), vec![first.clone()], "{what}: the record is rewritten");
        replayed("check", &spec, &[], &first);
    } // Another build's record (an upgrade) is replaced without a warning.
    std::fs::write(&file, memo_file_of_another_build(FILE_FORMAT - 1, "0.0.0")).unwrap();
    let upgraded = check(&spec, &[]);
    assert_eq!(upgraded, first, "no warning, the check's own output");
    assert_eq!(command_replay::recorded_outputs(&spec), vec![first.clone()], "the record is rewritten");
    replayed("check", &spec, &[], &first);
}

#[test]
fn a_spec_that_reads_an_object_store_is_never_recorded() {
    let root = Path::new("/project");
    let local = parse_spec(&spec_text(), SpecFormat::Yaml);
    let tables = ["enriched".to_string()];
    let probes = command_replay::probes(Replayed::Check, root, &local, &tables).expect("a local spec is observable");
    // Each source (canonical path, files), each output (canonical path; its Delta log for the
    // merge output), and the tables location.
    assert_eq!(probes.len(), 1 + 3 * 2 + 4 + 1, "{probes:?}");
    // A run reads every task's table (each output's and the materialized view's Delta log)
    // and depends on the run state and the last run's report, observed by content.
    let probes = command_replay::probes(Replayed::Run, root, &local, &tables).expect("a local spec is observable");
    assert_eq!(probes.len(), 1 + 3 * 2 + 4 + 4 + 1 + 2, "{probes:?}");
    assert!(probes.contains(&Probe::Files { path: root.join(".viewdag/tables/enriched/_delta_log"), extension: String::new() }));
    assert!(probes.contains(&Probe::Content { path: root.join(".viewdag/run-state.json") }));
    for (what, text) in [
        ("a source", spec_text().replace("path: data/orders", "path: s3://lake/orders")),
        ("an output", spec_text().replace("path: out/labels", "path: s3://lake/labels")),
        ("the tables", format!("{}  tables: gs://lake/tables\n", spec_text())),
        ("storage settings", format!("{}  storage: {{ \"s3://lake\": {{ aws_region: REGION }} }}\n", spec_text())),
    ] {
        let parsed = parse_spec(&text, SpecFormat::Yaml);
        assert!(parsed.diagnostics.is_empty(), "{what}: {:?}", parsed.diagnostics);
        assert_eq!(command_replay::probes(Replayed::Check, root, &parsed, &tables), None, "{what}");
        assert_eq!(command_replay::probes(Replayed::Run, root, &parsed, &tables), None, "{what}");
    }
}
