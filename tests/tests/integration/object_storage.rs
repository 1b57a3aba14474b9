//! Object storage: every test starts its own `moto_server` (a real S3-compatible server, as
//! a process on a free port, `viewdag_tests::s3_server`) with a bucket of its own, and reads
//! back what was written with an independent reader (deltalake and DataFusion configured
//! by the test, not viewdag's run path).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use viewdag_driver::execute::TaskError;
use viewdag_driver::storage::{StorageSettings, TableLocation};
use viewdag_driver::{CompileRequest, Compiler, Environment, RunReport, TaskOutcome};
use viewdag_ir::{Code, ProfileSpec, StorageUrl};
use viewdag_tests::data::{delta_version_at, read_delta_rows, read_delta_rows_at, write_delta_table_at};
use viewdag_tests::s3_server::{S3Credentials, S3Server};
use viewdag_tests::shop;

use crate::support::{TempProject, shop_spec};

/// The harness itself, and the fact the run promises rest on: deltalake commits on S3 with a
/// conditional PUT (`If-None-Match: *`), never a copy or rename into `_delta_log`. Once
/// signatures are required, a key moto does not know and a known key with a wrong secret
/// are refused and write nothing. (moto 5.2.1 also rejects *valid* signatures of list
/// requests whose query holds a `/`, which every Delta log listing has, so a right key cannot
/// be shown to work under authentication: the tests that need writes run without it.)
#[test]
fn the_s3_server_refuses_wrong_credentials_and_deltalake_commits_with_a_conditional_put() {
    let server = S3Server::start();
    server.create_bucket("harness");
    let credentials = server.create_user("writer");
    server.require_signatures();
    let unknown = S3Credentials { access_key_id: "AKIAUNKNOWNKEY000000".to_string(), ..credentials.clone() };
    let refused = write_delta_table_at("s3://harness/refused", &server.environment(&unknown), vec![shop::regions()]).unwrap_err();
    assert!(refused.contains("InvalidAccessKeyId"), "{refused}");
    let wrong_secret = S3Credentials { secret_access_key: "not-the-secret".to_string(), ..credentials.clone() };
    let refused = write_delta_table_at("s3://harness/refused", &server.environment(&wrong_secret), vec![shop::regions()]).unwrap_err();
    assert!(refused.contains("SignatureDoesNotMatch"), "{refused}");
    server.allow_unsigned();
    assert!(server.list_keys("harness", "refused").is_empty(), "nothing was written with wrong credentials");

    let environment = server.environment(&S3Credentials::unchecked());
    server.start_recording();
    write_delta_table_at("s3://harness/regions", &environment, vec![shop::regions()]).expect("the table is written");
    assert_eq!(delta_version_at("s3://harness/regions", &environment), Some(0));
    assert_eq!(read_delta_rows_at("s3://harness/regions", &environment).len(), shop::regions().num_rows());
    let log: Vec<_> =
        server.recorded_requests().into_iter().filter(|request| request.path().starts_with("/harness/regions/_delta_log/")).collect();
    let puts: Vec<_> = log.iter().filter(|request| request.method == "PUT").collect();
    assert_eq!(puts.len(), 1, "one commit: {log:?}");
    assert_eq!(puts[0].path(), "/harness/regions/_delta_log/00000000000000000000.json");
    assert_eq!(puts[0].header("If-None-Match"), Some("*"), "the commit is a conditional PUT: {:?}", puts[0]);
    assert!(log.iter().all(|request| request.header("x-amz-copy-source").is_none()), "no copy (rename) into the log: {log:?}");
    assert_eq!(server.list_keys("harness", "regions/_delta_log/"), vec!["regions/_delta_log/00000000000000000000.json"]);
}

/// The shop example's spec with every source, output and materialized table in `bucket`.
fn shop_spec_on_s3(bucket: &str) -> String {
    let spec = shop_spec()
        .replace("path: data/", &format!("path: s3://{bucket}/data/"))
        .replace("path: out/", &format!("path: s3://{bucket}/out/"));
    assert!(!spec.contains("path: data/") && !spec.contains("path: out/"), "every path is rewritten");
    format!("{spec}  tables: s3://{bucket}/tables\n  paths: {{ allow: [\"s3://{bucket}\"] }}\n")
}

const SHOP_OUTPUTS: [&str; 4] = ["revenue", "top_regions", "largest_orders", "labels"];

/// A compiler reading storage settings from exactly `environment`.
fn compiler_with(environment: &[(String, String)]) -> Compiler {
    Compiler::new().expect("a compiler").with_environment(Environment::from_variables(environment.iter().cloned()))
}

/// Runs `spec` locally in `project` (the reference run) and asserts that it succeeded.
fn run_locally(project: &TempProject, spec: &str) {
    let spec = project.write_spec("spec.yaml", spec);
    let report = Compiler::new().unwrap().run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    assert!(report.succeeded(), "{:?}", report.tasks);
}

/// A server whose `bucket` holds `project`'s `data/` directory under `data/`, and the
/// environment of a client of it.
fn bucket_with_data(bucket: &str, project: &TempProject) -> (S3Server, Vec<(String, String)>) {
    let server = S3Server::start();
    server.create_bucket(bucket);
    server.upload_directory(&project.path().join("data"), bucket, "data");
    let environment = server.environment(&S3Credentials::unchecked());
    (server, environment)
}

/// Every output's and the materialized view's table of the shop example in `bucket` holds the
/// rows (some) of the local run in `local`, read back directly.
fn assert_shop_tables_equal(bucket: &str, environment: &[(String, String)], local: &TempProject) {
    for output in SHOP_OUTPUTS {
        let written = read_delta_rows_at(&format!("s3://{bucket}/out/{output}"), environment);
        assert_eq!(written, read_delta_rows(&local.path().join("out").join(output)), "{output}");
        assert!(!written.is_empty(), "{output}");
    }
    assert_eq!(
        read_delta_rows_at(&format!("s3://{bucket}/tables/enriched"), environment),
        read_delta_rows(&local.path().join(".viewdag/tables/enriched")),
        "the materialized view's table"
    );
}

fn outcome_codes(report: &RunReport) -> Vec<(String, Option<&'static str>)> {
    report
        .tasks
        .iter()
        .map(|task| {
            let code = match &task.outcome {
                TaskOutcome::Failed { error } => error.code().map(|code| code.id()),
                _ => None,
            };
            (task.id.to_string(), code)
        })
        .collect()
}

/// The shop example with every source (Delta, Parquet, CSV), output (overwrite, partitioned,
/// merge) and materialized table in S3 writes the same rows as a local run, read back by
/// deltalake and DataFusion directly; a second run finds every task up to date.
#[test]
fn the_shop_example_on_s3_writes_the_same_rows_as_a_local_run() {
    let local = TempProject::with_shop_data();
    run_locally(&local, &shop_spec());
    let (server, environment) = bucket_with_data("shop", &local);
    let remote = TempProject::empty();
    let spec = remote.write_spec("spec.yaml", &shop_spec_on_s3("shop"));
    let mut compiler = compiler_with(&environment);
    let report = compiler.run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    assert!(report.succeeded(), "{:?}\n{:?}", report.compile.diagnostics, report.tasks);
    assert_shop_tables_equal("shop", &environment, &local);
    let targets: Vec<&str> = report.tasks.iter().map(|task| task.target.as_str()).collect();
    assert!(targets.contains(&"s3://shop/tables/enriched") && targets.contains(&"s3://shop/out/revenue"), "{targets:?}");
    assert!(!remote.path().join("out").exists() && !remote.path().join(".viewdag/tables").exists(), "nothing was written locally");
    // One commit per task, carrying viewdag's `txn` at the run's number (read from the objects).
    for table in ["out/revenue", "out/top_regions", "out/largest_orders", "out/labels", "tables/enriched"] {
        let log = server.list_keys("shop", &format!("{table}/_delta_log/"));
        let commits: Vec<&String> = log.iter().filter(|key| key.ends_with(".json")).collect();
        assert_eq!(commits, vec![&format!("{table}/_delta_log/00000000000000000000.json")], "{table}: {log:?}");
        let text = String::from_utf8(server.get_object("shop", commits[0])).unwrap();
        let transactions: Vec<serde_json::Value> =
            text.lines().filter_map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap().get("txn").cloned()).collect();
        assert_eq!(transactions.len(), 1, "{table}: {text}");
        assert_eq!(transactions[0]["appId"], "viewdag", "{table}");
        assert_eq!(transactions[0]["version"], 1, "{table}: the first run's number");
    }

    let again = compiler_with(&environment).run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    assert!(again.tasks.iter().all(|task| matches!(task.outcome, TaskOutcome::UpToDate { .. })), "{:?}", again.tasks);
    assert!(again.planned.is_empty(), "an unchanged project plans nothing: {:?}", again.planned);
}

/// Eight writers race the first commit of one S3 table (then an overwrite of it): it always
/// holds one result, and every loser fails with `V0902` — a first commit that went through a
/// rename, or without its condition, would land a loser's rows on top of the winner's.
#[test]
fn racing_first_commits_on_s3_commit_once_with_conditional_puts() {
    let server = S3Server::start();
    server.create_bucket("race");
    let environment = server.environment(&S3Credentials::unchecked());
    let url = StorageUrl::parse("s3://race/table").unwrap().unwrap();
    let settings = StorageSettings::new(Environment::from_variables(environment.clone()), &ProfileSpec::default());
    let options = settings.options(&url).unwrap();
    let location = TableLocation::Url(url);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
    for round in ["creating the table", "overwriting it"] {
        let results: Vec<Result<usize, TaskError>> = runtime.block_on(async {
            let context = datafusion::prelude::SessionContext::new();
            let state = Arc::new(context.state());
            let mut writers = Vec::new();
            for _ in 0..8 {
                let frame = context.sql("SELECT value AS id, value % 7 AS bucket FROM generate_series(1, 50000)").await.unwrap();
                let plan = frame.create_physical_plan().await.unwrap();
                let (location, options, state) = (location.clone(), options.clone(), Arc::clone(&state));
                let overwrite = viewdag_driver::execute::merge::TableWrite::materialized();
                writers.push(tokio::spawn(async move {
                    viewdag_driver::execute::write_plan(&location, &options, plan, &state, &overwrite, 1).await.map(|written| written.rows)
                }));
            }
            let mut results = Vec::new();
            for writer in writers {
                results.push(writer.await.unwrap());
            }
            results
        });
        assert!(results.iter().any(Result::is_ok), "{round}: {results:?}");
        if round == "creating the table" {
            assert!(results.iter().any(Result::is_err), "the writers raced the first commit: {results:?}");
        }
        for result in &results {
            match result {
                Ok(rows) => assert_eq!(*rows, 50_000, "{round}"),
                Err(error) => assert_eq!(error.code(), Some(Code::CommitConflict), "{round}: {error}"),
            }
        }
        assert_eq!(read_delta_rows_at("s3://race/table", &environment).len(), 50_000, "{round}");
    }
}

/// Two runs of two projects writing the same S3 output at once never leave its rows doubled:
/// each either committed (one after the other) or failed with `V0902`.
#[test]
fn two_runs_racing_a_first_commit_on_s3_never_double_rows() {
    let server = S3Server::start();
    server.create_bucket("shared");
    let data = TempProject::with_shop_data();
    server.upload_directory(&data.path().join("data"), "shared", "data");
    let environment = server.environment(&S3Credentials::unchecked());
    let text = "version: 1\nsources:\n  orders: { format: delta, path: s3://shared/data/orders }\nviews:\n  paid:\n    filter: { input: orders, predicate: \"status = 'paid'\" }\noutputs:\n  paid: { view: paid, path: s3://shared/out/paid }\nprofile:\n  paths: { allow: [\"s3://shared\"] }\n";
    let projects = [TempProject::empty(), TempProject::empty()];
    let specs: Vec<_> = projects.iter().map(|project| project.write_spec("spec.yaml", text)).collect();
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let runs: Vec<_> = specs
        .into_iter()
        .map(|spec| {
            let (environment, barrier) = (environment.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let mut compiler = compiler_with(&environment);
                barrier.wait();
                compiler.run(&CompileRequest::new(&spec), &mut |_| {}).unwrap()
            })
        })
        .collect();
    let reports: Vec<RunReport> = runs.into_iter().map(|run| run.join().unwrap()).collect();
    for report in &reports {
        match &report.tasks[0].outcome {
            TaskOutcome::Written { .. } => {}
            TaskOutcome::Failed { error } => assert_eq!(error.code(), Some(Code::CommitConflict), "{error}"),
            other => panic!("{other:?}"),
        }
    }
    assert!(reports.iter().any(|report| matches!(report.tasks[0].outcome, TaskOutcome::Written { .. })));
    let paid = read_delta_rows(&data.path().join("data/orders")).iter().filter(|row| row.contains("|paid|")).count();
    assert_eq!(read_delta_rows_at("s3://shared/out/paid", &environment).len(), paid, "one run's rows, never two");
}

/// A credential the store refuses fails each task that writes with one clear coded error
/// (`V0910`, its readers skipped) and writes nothing; sources it cannot read are one `V0310`
/// each. The key id never appears in a message.
#[test]
fn a_wrong_credential_is_one_coded_error_per_task_and_nothing_is_written() {
    let server = S3Server::start();
    server.create_bucket("locked");
    let project = TempProject::with_shop_data();
    server.upload_directory(&project.path().join("data"), "locked", "data");
    let user = server.create_user("viewdag");
    server.require_signatures();
    let wrong = S3Credentials { access_key_id: "AKIAWRONGKEY00000001".to_string(), ..user };
    let environment = server.environment(&wrong);

    // Local sources, tables and outputs in the locked bucket.
    let outputs_only = shop_spec().replace("path: out/", "path: s3://locked/out/")
        + "  tables: s3://locked/tables\n  paths: { allow: [\"s3://locked\"] }\n";
    let spec = project.write_spec("spec.yaml", &outputs_only);
    let report = compiler_with(&environment).run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    let codes = outcome_codes(&report);
    assert_eq!(
        codes,
        vec![
            ("view:enriched".to_string(), Some("V0910")),
            ("output:revenue".to_string(), Some("V0910")),
            ("output:top_regions".to_string(), Some("V0910")),
            ("output:largest_orders".to_string(), None),
            ("output:labels".to_string(), None),
        ],
        "{:?}",
        report.tasks
    );
    for task in &report.tasks {
        match &task.outcome {
            TaskOutcome::Failed { error } => {
                let message = error.to_string();
                assert!(message.starts_with("error[V0910]") && message.contains("refused the credentials"), "{message}");
                assert!(!message.contains(&wrong.access_key_id) && !message.contains(&wrong.secret_access_key), "{message}");
            }
            TaskOutcome::Skipped { .. } => {}
            other => panic!("{}: {other:?}", task.id),
        }
    }

    // Every source in the locked bucket: one V0310 per source, nothing runs.
    let spec = project.write_spec("spec.yaml", &shop_spec_on_s3("locked"));
    let report = compiler_with(&environment).run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    let source_errors: Vec<(Option<&str>, &str)> = report
        .compile
        .diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.is_error())
        .map(|diagnostic| (diagnostic.location.entry.as_deref(), diagnostic.code.id()))
        .collect();
    assert_eq!(source_errors, vec![(Some("orders"), "V0310"), (Some("customers"), "V0310"), (Some("regions"), "V0310")]);
    assert!(report.tasks.iter().all(|task| matches!(task.outcome, TaskOutcome::Skipped { .. })), "{:?}", report.tasks);
    for diagnostic in &report.compile.diagnostics {
        assert!(!diagnostic.message.contains(&wrong.access_key_id), "{}", diagnostic.message);
    }

    server.allow_unsigned();
    let written: Vec<String> = server.list_keys("locked", "").into_iter().filter(|key| !key.starts_with("data/")).collect();
    assert!(written.is_empty(), "nothing was written: {written:?}");
}

/// A bucket that does not exist: one `V0911` per task that writes there, one `V0311` per
/// source read from there.
#[test]
fn a_missing_bucket_is_one_coded_error_per_task() {
    let server = S3Server::start();
    let environment = server.environment(&S3Credentials::unchecked());
    let project = TempProject::with_shop_data();
    let outputs_only = shop_spec().replace("path: out/", "path: s3://no-such-bucket/out/")
        + "  tables: s3://no-such-bucket/tables\n  paths: { allow: [\"s3://no-such-bucket\"] }\n";
    let spec = project.write_spec("spec.yaml", &outputs_only);
    let report = compiler_with(&environment).run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    let executed: Vec<(String, Option<&str>)> =
        outcome_codes(&report).into_iter().filter(|(id, _)| !id.ends_with("largest_orders") && !id.ends_with("labels")).collect();
    assert_eq!(
        executed,
        vec![
            ("view:enriched".to_string(), Some("V0911")),
            ("output:revenue".to_string(), Some("V0911")),
            ("output:top_regions".to_string(), Some("V0911")),
        ],
        "{:?}",
        report.tasks
    );

    let spec = project.write_spec("spec.yaml", &shop_spec_on_s3("no-such-bucket"));
    let report = compiler_with(&environment).run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    let codes: Vec<&str> =
        report.compile.diagnostics.iter().filter(|diagnostic| diagnostic.is_error()).map(|diagnostic| diagnostic.code.id()).collect();
    assert_eq!(codes, vec!["V0311", "V0311", "V0311"], "{:?}", report.compile.diagnostics);
}

/// Every file below `directory`, read whole.
fn files_below(directory: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![directory.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                files.push((path, bytes));
            }
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle.as_bytes())
}

/// No credential reaches anything viewdag writes or prints: the spec names variables only,
/// and after check, compile (bundles), explain, run (its JSON report), test, docs, graph,
/// schedule and replay, and after runs that fail (a variable unset: `V0309`; a refused key:
/// `V0310`), neither the access key id nor the secret is in any output, any file of the
/// project, the bundles, the docs site or any object in the bucket.
#[test]
fn credentials_appear_in_no_artifact_report_message_or_table() {
    let server = S3Server::start();
    server.create_bucket("vault");
    let data = TempProject::with_shop_data();
    server.upload_directory(&data.path().join("data"), "vault", "data");
    let (key_id, secret) = ("AKIAVIEWDAGKEYID7Q3Z", "viewdag+Secret/Value=7Q3Zx9");
    let project = TempProject::empty();
    let spec = project.write_spec(
        "spec.yaml",
        &(shop_spec_on_s3("vault")
            + "  storage:\n    \"s3://vault\": { AWS_SECRET_ACCESS_KEY: VAULT_SECRET, AWS_ENDPOINT_URL: VAULT_ENDPOINT }\n"),
    );
    let spec_text = spec.display().to_string();
    let (bundles, site) = (project.path().join("bundles"), project.path().join("site"));
    let cli = |arguments: &[&str], secret_set: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_viewdag-cli"));
        command
            .args(arguments)
            .env("AWS_ACCESS_KEY_ID", key_id)
            .env("VAULT_ENDPOINT", server.endpoint())
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_REGION", viewdag_tests::s3_server::REGION)
            .env_remove("AWS_SECRET_ACCESS_KEY");
        if secret_set {
            command.env("VAULT_SECRET", secret);
        } else {
            command.env_remove("VAULT_SECRET");
        }
        let output = command.output().expect("the CLI runs");
        (output.status.code(), [output.stdout, output.stderr].concat())
    };
    let mut printed = Vec::new();
    let bundles_text = bundles.display().to_string();
    let site_text = site.display().to_string();
    let succeeding: [&[&str]; 9] = [
        &["check", &spec_text, "--format", "json"],
        &["compile", &spec_text, "--out", &bundles_text, "--all-views"],
        &["explain", &spec_text, "enriched", "--passes"],
        &["run", &spec_text, "--format", "json"],
        &["test", &spec_text, "--format", "json"],
        &["docs", &spec_text, "--out", &site_text],
        &["graph", &spec_text, "--format", "dot"],
        &["schedule", &spec_text],
        &["replay", &bundles_text, "--spec", &spec_text],
    ];
    for arguments in succeeding {
        let (status, output) = cli(arguments, true);
        assert_eq!(status, Some(0), "{arguments:?}: {}", String::from_utf8_lossy(&output));
        printed.push((format!("{arguments:?}"), output));
    }
    assert!(contains(&printed[3].1, "\"rows\""), "the run wrote rows: {}", String::from_utf8_lossy(&printed[3].1));

    // Failing runs: the secret's variable unset, then a key the store refuses.
    let (status, output) = cli(&["run", &spec_text, "--force"], false);
    assert_ne!(status, Some(0));
    assert!(contains(&output, "V0309"), "{}", String::from_utf8_lossy(&output));
    printed.push(("run without the secret".to_string(), output));
    server.require_signatures();
    let (status, output) = cli(&["run", &spec_text, "--force", "--format", "json"], true);
    assert_ne!(status, Some(0));
    assert!(contains(&output, "V0310"), "{}", String::from_utf8_lossy(&output));
    printed.push(("run with a refused key".to_string(), output));
    server.allow_unsigned();

    let mut haystacks: Vec<(String, Vec<u8>)> = printed;
    haystacks.extend(files_below(project.path()).into_iter().map(|(path, bytes)| (path.display().to_string(), bytes)));
    for key in server.list_keys("vault", "") {
        haystacks.push((format!("s3://vault/{key}"), server.get_object("vault", &key)));
    }
    assert!(haystacks.iter().any(|(name, _)| name.contains("run-state.json")), "the run state is among the files");
    assert!(haystacks.iter().any(|(name, _)| name.contains("s3://vault/out/revenue/_delta_log/")), "the tables are among the objects");
    for (name, bytes) in &haystacks {
        assert!(!contains(bytes, key_id), "the access key id is in {name}");
        assert!(!contains(bytes, secret), "the secret is in {name}");
    }
}

/// Every commit a run makes on S3 is a conditional PUT of its log entry, never a copy or a
/// rename into `_delta_log` — even with `AWS_S3_ALLOW_UNSAFE_RENAME=true` in the environment
/// (deltalake's S3 settings it reads from the process): the requests the server received say so.
#[test]
fn run_commits_on_s3_are_conditional_puts_even_with_unsafe_rename_allowed() {
    let server = S3Server::start();
    server.create_bucket("commits");
    let data = TempProject::with_shop_data();
    server.upload_directory(&data.path().join("data"), "commits", "data");
    let project = TempProject::empty();
    let spec = project.write_spec("spec.yaml", &shop_spec_on_s3("commits"));
    server.start_recording();
    let output = Command::new(env!("CARGO_BIN_EXE_viewdag-cli"))
        .args(["run", "--jobs", "1"])
        .arg(&spec)
        .envs(server.environment(&S3Credentials::unchecked()))
        .env("AWS_S3_ALLOW_UNSAFE_RENAME", "true")
        .output()
        .expect("the CLI runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let requests = server.recorded_requests();
    let log: Vec<_> = requests.iter().filter(|request| request.path().contains("/_delta_log/")).collect();
    let commits: Vec<_> = log.iter().filter(|request| request.method == "PUT" && request.path().ends_with(".json")).collect();
    let tables = ["out/revenue", "out/top_regions", "out/largest_orders", "out/labels", "tables/enriched"];
    for table in tables {
        let first = format!("/commits/{table}/_delta_log/00000000000000000000.json");
        assert!(commits.iter().any(|request| request.path() == first), "{table}'s first commit: {commits:?}");
    }
    assert_eq!(commits.len(), tables.len(), "one commit per task: {commits:?}");
    assert!(commits.iter().all(|request| request.header("If-None-Match") == Some("*")), "conditional: {commits:?}");
    assert!(log.iter().all(|request| request.header("x-amz-copy-source").is_none()), "no copy or rename into a log: {log:?}");
}

/// On a Ballista cluster (`viewdag cluster`, two executors), the shop example with every
/// source (Delta, Parquet, CSV), output and materialized table in S3 — the project directory
/// holds the spec only — writes the rows of a local file run, read back directly: the executors
/// read the Delta tables' pinned files and the other sources from S3 and write the overwrite
/// outputs' and the materialized view's files into S3, each node with the credentials of its
/// own environment (nothing secret in a plan).
#[cfg(feature = "ballista")]
#[test]
fn executors_read_and_write_s3_with_the_credentials_of_their_environment() {
    use viewdag_driver::RunOptions;
    use viewdag_driver::execute::WrittenBy;
    use viewdag_tests::local_cluster::LocalCluster;

    let local = TempProject::with_shop_data();
    run_locally(&local, &shop_spec());
    let (_server, environment) = bucket_with_data("cluster", &local);
    let remote = TempProject::empty();
    let spec = remote.write_spec("spec.yaml", &shop_spec_on_s3("cluster"));

    let cluster = LocalCluster::start_in_environment(Path::new(env!("CARGO_BIN_EXE_viewdag-cli")), 2, &[], &environment);
    let options = RunOptions { engine: Some(Arc::new(cluster.engine())), ..RunOptions::default() };
    let report = compiler_with(&environment).run_with(&CompileRequest::new(&spec), &options, &mut |_| {}).unwrap();
    assert!(report.succeeded(), "{:?}\n{:?}", report.compile.diagnostics, report.tasks);
    assert_shop_tables_equal("cluster", &environment, &local);
    assert!(!remote.path().join("out").exists() && !remote.path().join(".viewdag/tables").exists(), "nothing was written locally");
    for task in ["view:enriched", "output:revenue", "output:top_regions", "output:largest_orders"] {
        let written_by = report.tasks.iter().find(|report| report.id == task).and_then(|report| report.written_by.clone());
        assert!(matches!(written_by, Some(WrittenBy::Engine { files }) if files > 0), "{task}: {written_by:?}");
    }
}

/// TPC-H (SF 0.01, `tpchgen`'s rows: `lineitem` a Delta table, the other seven Parquet
/// objects) with every table and every output in S3, run on a two-executor cluster: each of
/// the 22 outputs holds the rows of a local run over local files, read back directly.
#[cfg(feature = "ballista")]
#[test]
fn tpch_with_every_table_in_s3_on_two_executors_writes_the_rows_of_a_local_run() {
    use viewdag_driver::RunOptions;
    use viewdag_tests::local_cluster::LocalCluster;
    use viewdag_tests::tpch::{query_name, spec_yaml_with_delta_tables};
    use viewdag_tests::tpch_data::{DELTA_TABLES, write_tables};

    let local = TempProject::empty();
    write_tables(local.path(), 0.01);
    run_locally(&local, &spec_yaml_with_delta_tables(&DELTA_TABLES));
    let (_server, environment) = bucket_with_data("tpch", &local);
    let spec = spec_yaml_with_delta_tables(&DELTA_TABLES)
        .replace("path: data/", "path: s3://tpch/data/")
        .replace("path: out/", "path: s3://tpch/out/");
    assert!(!spec.contains("path: data/") && !spec.contains("path: out/"), "every path is rewritten");
    let remote = TempProject::empty();
    let spec = remote.write_spec("spec.yaml", &format!("{spec}profile:\n  paths: {{ allow: [\"s3://tpch\"] }}\n"));

    let cluster = LocalCluster::start_in_environment(Path::new(env!("CARGO_BIN_EXE_viewdag-cli")), 2, &[], &environment);
    let options = RunOptions { engine: Some(Arc::new(cluster.engine())), ..RunOptions::default() };
    let report = compiler_with(&environment).run_with(&CompileRequest::new(&spec), &options, &mut |_| {}).unwrap();
    assert!(report.succeeded(), "{:?}\n{:?}", report.compile.diagnostics, report.tasks);
    assert_eq!(report.tasks.len(), 22);
    let mut returning = 0;
    for number in 1..=22 {
        let name = query_name(number);
        let written = read_delta_rows_at(&format!("s3://tpch/out/{name}"), &environment);
        assert_eq!(written, read_delta_rows(&local.path().join("out").join(&name)), "{name}");
        returning += usize::from(!written.is_empty());
    }
    assert!(returning >= 18, "most queries return rows at SF 0.01 ({returning} of 22 do)");
    assert!(!remote.path().join("out").exists(), "nothing was written locally");
}

/// The deployment the README documents, on one machine: a scheduler and two executors
/// started one by one as `viewdag cluster-node` processes (as each machine of a real cluster
/// runs them: listening on every interface, advertising an address, a work directory of
/// their own, no directory shared with the driver), every node and the driver given the S3
/// variables in their environment, and `viewdag run --engine ballista --scheduler` against
/// the scheduler: the shop example with everything in S3 writes the rows of a local run.
#[cfg(feature = "ballista")]
#[test]
fn cluster_nodes_started_one_by_one_run_a_spec_in_s3_from_the_command_line() {
    use std::net::{TcpListener, TcpStream};
    use std::process::{Child, Stdio};
    use std::time::{Duration, Instant};

    /// The node processes, killed and reaped when the test ends.
    struct Nodes(Vec<Child>);
    impl Drop for Nodes {
        fn drop(&mut self) {
            for child in self.0.iter_mut().rev() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
    let wait_until_listening = |nodes: &mut Nodes, port: u16| {
        let deadline = Instant::now() + Duration::from_secs(120);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = nodes.0.last_mut().and_then(|node| node.try_wait().ok().flatten());
            assert!(exited.is_none(), "the node on port {port} exited: {exited:?}");
            assert!(Instant::now() < deadline, "nothing listens on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };

    let local = TempProject::with_shop_data();
    run_locally(&local, &shop_spec());
    let (_server, environment) = bucket_with_data("deployment", &local);
    let project = TempProject::empty();
    let spec = project.write_spec("spec.yaml", &shop_spec_on_s3("deployment"));

    let listeners: Vec<TcpListener> = (0..5).map(|_| TcpListener::bind("127.0.0.1:0").expect("a free port")).collect();
    let ports: Vec<String> = listeners.iter().map(|listener| listener.local_addr().unwrap().port().to_string()).collect();
    drop(listeners);
    let cli = env!("CARGO_BIN_EXE_viewdag-cli");
    let node = |arguments: &[&str]| {
        Command::new(cli)
            .arg("cluster-node")
            .args(arguments)
            .envs(environment.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("the node starts")
    };
    let mut nodes = Nodes(Vec::new());
    let scheduler = ["scheduler", "--port", &ports[0], "--bind", "0.0.0.0", "--external-host", "127.0.0.1"];
    nodes.0.push(node(&scheduler));
    wait_until_listening(&mut nodes, ports[0].parse().unwrap());
    let work = tempfile::tempdir().unwrap();
    for executor in 0..2 {
        let work_dir = work.path().join(format!("executor-{executor}"));
        std::fs::create_dir_all(&work_dir).unwrap();
        let (flight, grpc) = (&ports[1 + 2 * executor], &ports[2 + 2 * executor]);
        let arguments = [
            "executor",
            "--scheduler-host",
            "127.0.0.1",
            "--scheduler-port",
            &ports[0],
            "--port",
            flight,
            "--grpc-port",
            grpc,
            "--bind",
            "0.0.0.0",
            "--external-host",
            "127.0.0.1",
            "--work-dir",
            work_dir.to_str().unwrap(),
            "--task-slots",
            "2",
        ];
        nodes.0.push(node(&arguments));
        wait_until_listening(&mut nodes, flight.parse().unwrap());
    }

    let scheduler_address = format!("df://127.0.0.1:{}", ports[0]);
    let run = Command::new(cli)
        .args(["run", spec.to_str().unwrap(), "--engine", "ballista", "--scheduler", &scheduler_address, "--task-timeout", "300"])
        .envs(environment.iter().map(|(name, value)| (name, value)))
        .output()
        .expect("the CLI runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("ballista at {scheduler_address}")), "{stderr}");
    assert_shop_tables_equal("deployment", &environment, &local);
    assert!(nodes.0.iter_mut().all(|node| matches!(node.try_wait(), Ok(None))), "every node still serves");
}
