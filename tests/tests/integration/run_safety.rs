//! What one run and concurrent runs promise, on real Delta tables: one run per project at a
//! time (a second one stops with `V0901` before it writes), racing first commits to one
//! table land once (`V0902` for the losers), a killed run is resumed without appending
//! twice, and a task reading a source with an error is skipped.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use viewdag_driver::execute::TaskError;
use viewdag_driver::run_state::RunState;
use viewdag_driver::storage::{StoreOptions, TableLocation};
use viewdag_driver::{CompileRequest, Compiler, RunOptions, TaskOutcome};
use viewdag_ir::Code;
use viewdag_tests::data::{delta_version, read_delta_rows};

use crate::support::{TempProject, shop_spec};

/// The shop spec's outputs section ends before `profile:`; insert the append output there.
fn shop_spec_with_append() -> String {
    let spec = shop_spec();
    let (head, profile) = spec.split_once("\nprofile:").expect("the shop spec has a profile");
    format!("{head}\n  revenue_log:\n    view: revenue_by_region\n    path: out/revenue_log\n    mode: append\n\nprofile:{profile}")
}

fn revenue_rows(project: &TempProject) -> Vec<String> {
    read_delta_rows(&project.path().join("out/revenue"))
}

fn sorted(mut rows: Vec<String>) -> Vec<String> {
    rows.sort();
    rows
}

/// `n` copies of `rows`, sorted as `read_delta_rows` returns them.
fn repeated(rows: &[String], n: usize) -> Vec<String> {
    sorted(std::iter::repeat_n(rows.iter().cloned(), n).flatten().collect())
}

#[test]
fn concurrent_runs_of_one_project_never_duplicate_rows() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec_with_append());
    let children: Vec<_> = (0..2)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_viewdag-cli"))
                .args(["run", "--jobs", "1"])
                .arg(&spec)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("viewdag runs")
        })
        .collect();
    let outcomes: Vec<(i32, String)> = children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().expect("the run ends");
            (output.status.code().expect("exited, not killed"), String::from_utf8_lossy(&output.stderr).into_owned())
        })
        .collect();
    let succeeded = outcomes.iter().filter(|(code, _)| *code == 0).count();
    assert!(succeeded >= 1, "{outcomes:?}");
    for (code, stderr) in &outcomes {
        if *code != 0 {
            assert_eq!(*code, 2, "{stderr}");
            assert!(stderr.contains("error[V0901]") && stderr.contains("is running on this project"), "{stderr}");
        }
    }
    // Overwrite outputs hold one result; the append output one batch per successful run.
    let revenue = revenue_rows(&project);
    assert_eq!(revenue.len(), 4, "{revenue:?}");
    assert_eq!(read_delta_rows(&project.path().join("out/revenue_log")), repeated(&revenue, succeeded));
}

/// Eight writers overwrite one table at once, first while it does not exist yet, then once it
/// does: it always holds one result, and every writer that lost the race says so with
/// `V0902` (before, the losers' first commits landed as later versions without removing the
/// winner's files: rows doubled, or more).
#[test]
fn racing_first_commits_to_one_table_commit_once() {
    let directory = tempfile::tempdir().unwrap();
    let target = TableLocation::Local(directory.path().join("table"));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
    for round in ["creating the table", "overwriting it"] {
        let results: Vec<Result<usize, TaskError>> = runtime.block_on(async {
            let context = datafusion::prelude::SessionContext::new();
            let state = Arc::new(context.state());
            let mut writers = Vec::new();
            for _ in 0..8 {
                // Enough rows that writing takes a while: every writer opens the table before
                // any commits. A physical plan keeps execution state, so each writer plans its own.
                let frame = context.sql("SELECT value AS id, value % 7 AS bucket FROM generate_series(1, 300000)").await.unwrap();
                let plan = frame.create_physical_plan().await.unwrap();
                let (target, state) = (target.clone(), Arc::clone(&state));
                let overwrite = viewdag_driver::execute::merge::TableWrite::materialized();
                writers.push(tokio::spawn(async move {
                    viewdag_driver::execute::write_plan(&target, &StoreOptions::default(), plan, &state, &overwrite, 1)
                        .await
                        .map(|written| written.rows)
                }));
            }
            let mut results = Vec::new();
            for writer in writers {
                results.push(writer.await.unwrap());
            }
            results
        });
        assert!(results.iter().any(Result::is_ok), "{round}: {results:?}");
        for result in &results {
            match result {
                Ok(rows) => assert_eq!(*rows, 300_000, "{round}"),
                Err(error) => {
                    assert_eq!(error.code(), Some(Code::CommitConflict), "{round}: {error}");
                    assert!(error.to_string().starts_with("error[V0902]") && error.to_string().contains("run again"), "{round}: {error}");
                }
            }
        }
        assert_eq!(read_delta_rows(&directory.path().join("table")).len(), 300_000, "{round}");
    }
}

/// A run killed after some commits (here: `kill -9` as soon as its first task reports a
/// commit) is resumed by the next run: every output holds one result and the append output
/// one batch, wherever the kill landed.
#[test]
fn a_killed_run_is_resumed_without_appending_twice() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec_with_append());
    let mut child = Command::new(env!("CARGO_BIN_EXE_viewdag-cli"))
        .args(["run", "--jobs", "1"])
        .arg(&spec)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("viewdag runs");
    let stderr = child.stderr.take().unwrap();
    for line in BufReader::new(stderr).lines() {
        if line.expect("a progress line").contains(" rows  → ") {
            child.kill().expect("the run is killed");
            break;
        }
    }
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed mid-run: {status:?}");
    let state = RunState::load(project.path());
    assert!(!state.complete && state.run == 1, "the killed run is recorded as in progress: {state:?}");
    // The lock file a killed run leaves behind does not lock: the OS released the lock.

    let report = Compiler::new().unwrap().run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    assert!(report.succeeded(), "{:?} {:?}", report.tasks, report.errors);
    let revenue = revenue_rows(&project);
    assert_eq!(revenue.len(), 4);
    assert_eq!(read_delta_rows(&project.path().join("out/revenue_log")), repeated(&revenue, 1));
    let state = RunState::load(project.path());
    assert!(state.complete && state.run == 1, "the resumed run kept its number and finished: {state:?}");

    // A later, new run appends again (each run appends once); the progress counts the rows
    // of this commit, not the table's.
    let report = Compiler::new().unwrap().run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    assert!(report.succeeded());
    let appended = &report.tasks.iter().find(|task| task.id == "output:revenue_log").unwrap().outcome;
    assert!(matches!(appended, TaskOutcome::Written { rows: 4, .. }), "{appended:?}");
    assert_eq!(read_delta_rows(&project.path().join("out/revenue_log")), repeated(&revenue, 2));
    assert_eq!(RunState::load(project.path()).run, 2);
}

/// The narrowest window: the append committed but the process died before the run state
/// recorded it. The table's `txn` (the run's number) tells the resumed run.
#[test]
fn an_append_committed_before_the_state_was_saved_is_not_appended_again() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec_with_append());
    let report = Compiler::new()
        .unwrap()
        .run_with(&CompileRequest::new(&spec), &RunOptions { jobs: 1, force: false, ..RunOptions::default() }, &mut |_| {})
        .unwrap();
    assert!(report.succeeded(), "{:?}", report.tasks);
    let log = project.path().join("out/revenue_log");
    let version = delta_version(&log);
    // As if killed right after the commits, before any save: in progress, nothing recorded.
    let mut state = RunState::load(project.path());
    state.complete = false;
    state.tasks.clear();
    state.save(project.path()).unwrap();

    let report = Compiler::new().unwrap().run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    assert!(report.succeeded(), "{:?}", report.tasks);
    let outcome = &report.tasks.iter().find(|task| task.id == "output:revenue_log").unwrap().outcome;
    assert!(matches!(outcome, TaskOutcome::UpToDate { .. }), "{outcome:?}");
    assert_eq!(delta_version(&log), version, "not appended again");
    assert_eq!(read_delta_rows(&log), repeated(&revenue_rows(&project), 1));
}

#[test]
fn a_run_state_that_cannot_be_saved_stops_the_run_before_it_writes() {
    let project = TempProject::with_shop_data();
    // A directory where the state file goes: the rename onto it fails.
    std::fs::create_dir_all(project.path().join(".viewdag/run-state.json/blocked")).unwrap();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let error = Compiler::new().unwrap().run(&CompileRequest::new(&spec), &mut |_| {}).unwrap_err();
    assert!(error.to_string().starts_with("error[V0903]") && error.to_string().contains("nothing was written"), "{error}");
    assert!(!project.path().join("out").exists(), "nothing was written");
    assert!(!project.path().join(".viewdag/run-state.json.tmp").exists());
}

/// A CSV whose header disagrees with the declared schema is a source error (`V0305`): the
/// tasks that read it are skipped, the others run.
#[test]
fn tasks_reading_a_source_with_an_error_are_skipped() {
    let project = TempProject::with_shop_data();
    // The header's columns swapped against the declared `{ region_id, region }`.
    std::fs::write(project.path().join("data/regions.csv"), "region,region_id\nnorth,1\nsouth,2\n").unwrap();
    let spec = shop_spec().replace("outputs:\n", "outputs:\n  paid:\n    view: paid_orders\n    path: out/paid\n");
    let spec = project.write_spec("spec.yaml", &spec);
    let report = Compiler::new().unwrap().run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    assert!(report.compile.diagnostics.iter().any(|diagnostic| diagnostic.code == viewdag_ir::Code::SourceSchemaMismatch));
    for task in &report.tasks {
        match task.id.to_string().as_str() {
            "output:paid" => assert!(matches!(task.outcome, TaskOutcome::Written { .. }), "{task:?}"),
            _ => match &task.outcome {
                TaskOutcome::Skipped { reason } => {
                    assert!(reason.contains("source `regions` has errors") || reason.contains("upstream task"), "{task:?}")
                }
                other => panic!("{} ran on a broken source: {other:?}", task.id),
            },
        }
    }
    assert!(!project.path().join("out/revenue").exists());
}

/// A CSV source naming one file is read as CSV whatever its extension (before: 0 rows).
#[test]
fn a_csv_file_without_the_csv_extension_is_read() {
    let project = TempProject::with_shop_data();
    std::fs::rename(project.path().join("data/regions.csv"), project.path().join("data/regions.txt")).unwrap();
    let spec = shop_spec()
        .replace("data/regions.csv", "data/regions.txt")
        .replace("outputs:\n", "outputs:\n  region_list:\n    view: region_names\n    path: out/region_list\n");
    let spec = project.write_spec("spec.yaml", &spec);
    let report = Compiler::new().unwrap().run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    assert!(report.succeeded(), "{:?}", report.tasks);
    assert_eq!(read_delta_rows(&project.path().join("out/region_list")), vec!["east", "north", "south", "west"]);
}

/// Writes a task's rows as data files in this process, the way an engine's executors would
/// (deltalake's `DeltaWriter` into the layout's table), and lets a test commit to the same
/// table while it writes: another writer racing the engine-written files' commit.
#[derive(Debug)]
struct FilesWrittenMeanwhile {
    batches: Vec<datafusion::arrow::array::RecordBatch>,
    /// Rows another writer commits to the table while the files are written, if any.
    concurrent: Option<Vec<datafusion::arrow::array::RecordBatch>>,
}

impl viewdag_driver::execute::DataFileWriter for FilesWrittenMeanwhile {
    fn write_data_files(
        &self,
        layout: viewdag_driver::execute::DataFileLayout,
        _expectations: Option<Arc<viewdag_driver::expect::CompiledExpectations>>,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<viewdag_driver::execute::WrittenDataFiles, viewdag_driver::execute::DataFileWriteError>>
                + Send,
        >,
    > {
        let (batches, concurrent) = (self.batches.clone(), self.concurrent.clone());
        Box::pin(async move {
            let table = deltalake::DeltaTable::try_from_url(layout.table_url.clone()).await.unwrap();
            let config = deltalake::datafile::writer::WriterConfig::new(
                Arc::clone(&layout.schema),
                layout.partition_columns.clone(),
                None,
                None,
                None,
                "32".try_into().unwrap(),
                None,
            );
            let mut writer = deltalake::datafile::writer::DeltaWriter::new(table.log_store().object_store(None), config);
            let mut rows = 0;
            for batch in &batches {
                rows += batch.num_rows() as u64;
                writer.write(batch).await.unwrap();
            }
            let adds = writer.close().await.unwrap();
            if let Some(concurrent) = concurrent {
                let other = deltalake::DeltaTable::try_from_url(layout.table_url.clone()).await.unwrap();
                other.write(concurrent).with_save_mode(deltalake::protocol::SaveMode::Overwrite).await.unwrap();
            }
            Ok(viewdag_driver::execute::WrittenDataFiles { adds, rows, expectations: None })
        })
    }
}

/// Data files an engine wrote are committed once, with viewdag's `txn`: alone they land as
/// one version holding exactly their rows (overwriting, then appending); when another writer
/// commits to the table while they are written — its first commit, or a later one — the
/// task fails with `V0902` and only the other writer's rows are in the table.
#[test]
fn engine_written_files_commit_once_or_lose_to_a_concurrent_writer() {
    use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use viewdag_driver::TaskPlan;
    use viewdag_driver::execute::{DeltaSink, WrittenBy, merge::TableWrite};
    use viewdag_ir::WriteMode;

    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false), Field::new("label", DataType::Utf8, true)]));
    let batch = |from: i64, count: i64| {
        let ids: Vec<i64> = (from..from + count).collect();
        let labels: Vec<String> = ids.iter().map(|id| format!("l{}", id % 3)).collect();
        RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(Int64Array::from(ids)), Arc::new(StringArray::from(labels))]).unwrap()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let write = |target: &std::path::Path, mode: WriteMode, batches: Vec<RecordBatch>, concurrent: Option<Vec<RecordBatch>>| {
        let context = datafusion::prelude::SessionContext::new();
        let rows: Arc<dyn datafusion::physical_plan::ExecutionPlan> =
            datafusion::datasource::memory::MemorySourceConfig::try_new_exec(std::slice::from_ref(&batches), Arc::clone(&schema), None)
                .unwrap();
        let plan = TaskPlan { rows, data_files: Some(Arc::new(FilesWrittenMeanwhile { batches, concurrent })) };
        let sink = DeltaSink {
            target: TableLocation::Local(target.to_path_buf()),
            options: StoreOptions::default(),
            write: TableWrite { mode, ..TableWrite::default() },
            run: 7,
        };
        runtime.block_on(sink.write_task(plan, Arc::new(context.state()), viewdag_driver::execute::TaskChecks::default()))
    };
    let directory = tempfile::tempdir().unwrap();
    let alone = directory.path().join("alone");
    for (mode, version, rows) in [(WriteMode::Overwrite, 0, 100), (WriteMode::Overwrite, 1, 100), (WriteMode::Append, 2, 200)] {
        let written = write(&alone, mode, vec![batch(0, 60), batch(60, 40)], None).unwrap();
        assert_eq!((written.table.version(), written.rows), (Some(version), 100), "{mode:?}");
        assert!(matches!(written.written_by, WrittenBy::Engine { files } if files >= 1), "{:?}", written.written_by);
        assert_eq!(read_delta_rows(&alone).len(), rows);
    }
    let runtime_for_txn = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let table = runtime_for_txn.block_on(deltalake::open_table(viewdag_driver::sources::directory_url(&alone).unwrap())).unwrap();
    let txn = runtime_for_txn
        .block_on(table.snapshot().unwrap().transaction_version(table.log_store().as_ref(), viewdag_driver::run_state::APP_ID));
    assert_eq!(txn.unwrap(), Some(7), "the commit carries the run's txn");

    let raced = directory.path().join("raced");
    for round in ["creating the table", "overwriting it"] {
        let error = write(&raced, WriteMode::Overwrite, vec![batch(0, 50)], Some(vec![batch(1000, 5)])).unwrap_err();
        assert_eq!(error.code(), Some(Code::CommitConflict), "{round}: {error}");
        assert_eq!(read_delta_rows(&raced).len(), 5, "{round}: only the other writer's rows");
    }
}
