//! `viewdag lsp` under load and against hostile clients, over stdio (the real binary, where
//! each defect was seen): a burst of edits is checked once, not once per keystroke; frames
//! that are not JSON, or claim absurd lengths, are answered and never crash the server; the
//! exit code follows the protocol; open documents share one async runtime; and only sources
//! the checks let the spec read are watched, never recursively outside the project.

use std::path::Path;

use serde_json::{Value, json};
use viewdag_tests::lsp_client::{LspClient, file_uri};
use viewdag_tests::synthetic_dag::{DagShape, SyntheticProject};

use crate::support::{TempProject, shop_spec};

fn server() -> LspClient {
    LspClient::spawn(Path::new(env!("CARGO_BIN_EXE_viewdag-cli")))
}

fn hover_at_start(uri: &str) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": { "line": 0, "character": 0 } })
}

/// The lines of `/proc/PID/fdinfo/*` of the process's inotify descriptors: one per watch.
fn inotify_watches(process_id: u32) -> usize {
    let Ok(descriptors) = std::fs::read_dir(format!("/proc/{process_id}/fdinfo")) else { return 0 };
    descriptors
        .flatten()
        .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
        .map(|info| info.lines().filter(|line| line.starts_with("inotify wd:")).count())
        .sum()
}

fn thread_count(process_id: u32) -> usize {
    std::fs::read_dir(format!("/proc/{process_id}/task")).map(|tasks| tasks.count()).unwrap_or(0)
}

/// Issue 21 #19: 100 quick keystrokes on a large spec gave 100 checks (the stdio channel
/// handed over one message at a time, so none was ever found queued). Now the edits that
/// arrive during a check are applied together and checked once.
#[test]
fn a_burst_of_keystrokes_is_checked_once_not_once_per_keystroke() {
    let project = SyntheticProject::create(DagShape::Transforms, 1000);
    let leaf = project.dag.leaf_filter().expect("a leaf filter").clone();
    let offset = project.text.find(&leaf.yaml).expect("the leaf is in the text") + leaf.yaml.find(" > ").expect("a comparison") + 1;
    let line = project.text[..offset].matches('\n').count() as u32;
    let character = (offset - project.text[..offset].rfind('\n').map(|newline| newline + 1).unwrap_or(0)) as u32;
    let uri = file_uri(&project.spec_path);
    let mut client = server();
    client.initialize(project.directory.path());
    client.open(&uri, &project.text);
    client.diagnostics_of_version(&uri, 1);
    let keystrokes = 100;
    for version in 2..2 + keystrokes {
        let replacement = if version % 2 == 0 { "<" } else { ">" };
        client.change(&uri, version, &[(line, character, line, character + 1, replacement)]);
    }
    let last = 1 + keystrokes;
    assert_eq!(client.diagnostics_of_version(&uri, last), Vec::<Value>::new(), "the final text checks clean");
    client.request("textDocument/hover", hover_at_start(&uri));
    let published = client.published_count(&uri);
    assert!(published <= 10, "{published} publications for 1 open and {keystrokes} keystrokes: edits were not coalesced");
    assert!(client.shutdown());
}

/// Issue 21 #22: a body that is not JSON ended the server; now it is answered with a parse
/// error (−32700, `id: null`) and the session goes on.
#[test]
fn a_body_that_is_not_json_is_answered_with_a_parse_error_and_the_session_goes_on() {
    let project = TempProject::with_shop_data();
    let spec_path = project.write_spec("spec.yaml", &shop_spec());
    let uri = file_uri(&spec_path);
    let mut client = server();
    client.initialize(project.path());
    client.send_raw(b"Content-Length: 9\r\n\r\n{not json");
    let error = client.null_id_error();
    assert_eq!(error["error"]["code"], -32700, "{error}");
    assert_eq!(error["id"], Value::Null);
    client.send_raw(b"Content-Length: 13\r\n\r\n{\"what\": 1.5}");
    assert_eq!(client.null_id_error()["error"]["code"], -32600, "JSON that is no message");
    client.open(&uri, &shop_spec());
    assert_eq!(client.diagnostics_of_version(&uri, 1), Vec::<Value>::new());
    client.request("textDocument/hover", hover_at_start(&uri));
    assert!(client.shutdown(), "exits 0 after shutdown and exit");
}

/// Issue 21 #22: `Content-Length: 10^12` aborted the server (SIGABRT: it allocated the
/// claimed size) and `2^64 - 1` panicked it. Now the claim is answered with an error, the
/// body is skipped as it arrives, and a client that hangs up gets an orderly exit (1: no
/// `shutdown`), not a signal.
#[test]
fn absurd_content_lengths_are_refused_without_allocating_them() {
    for length in ["1000000000000", "18446744073709551615"] {
        let project = TempProject::empty();
        let mut client = server();
        client.initialize(project.path());
        client.send_raw(format!("Content-Length: {length}\r\n\r\n{{\"jsonrpc\":").as_bytes());
        let error = client.null_id_error();
        assert_eq!(error["error"]["code"], -32600, "{error}");
        let status = client.close_and_wait();
        assert_eq!(status.code(), Some(1), "Content-Length {length}: {status:?}");
    }
    // 2^64 is no length at all: the stream cannot be framed any more, the server says so and
    // exits with an error code, not a signal.
    let project = TempProject::empty();
    let mut client = server();
    client.initialize(project.path());
    client.send_raw(b"Content-Length: 18446744073709551616\r\n\r\n{}");
    let status = client.close_and_wait();
    assert_eq!(status.code(), Some(2), "{status:?}");
}

/// Issue 21 #22: `exit` without `shutdown` exited 0; the protocol says 1.
#[test]
fn exit_without_shutdown_exits_with_code_one() {
    let project = TempProject::empty();
    let mut client = server();
    client.initialize(project.path());
    let status = client.exit_without_shutdown();
    assert_eq!(status.code(), Some(1), "{status:?}");
}

/// Issue 21 #22: every open document had its own async runtime (200 open specs: 400–800
/// threads). Now they share one: the thread count does not grow with the documents.
#[test]
fn open_documents_share_one_runtime() {
    let project = TempProject::with_shop_data();
    let mut client = server();
    client.initialize(project.path());
    let process_id = client.process_id().expect("a server process");
    let documents = 40;
    for index in 0..documents {
        let uri = file_uri(&project.write_spec(&format!("spec{index}.yaml"), &shop_spec()));
        client.open(&uri, &shop_spec());
        assert_eq!(client.diagnostics_of_version(&uri, 1), Vec::<Value>::new());
    }
    let threads = thread_count(process_id);
    assert!(threads < documents, "{threads} threads for {documents} open specs");
    assert!(client.shutdown());
}

/// Issue 21 #18: a source path the checks refuse (here a directory outside the project with
/// hundreds of subdirectories) was watched recursively, freezing the loop while thousands
/// of directories were added. Now only the sources the spec may read are watched, each by
/// one path (the Delta log, the file); the refused one not at all.
#[test]
fn only_confined_sources_are_watched_and_never_recursively_outside_the_project() {
    let project = TempProject::with_shop_data();
    let outside = tempfile::tempdir().expect("a directory outside the project");
    for index in 0..300 {
        std::fs::create_dir_all(outside.path().join(format!("d{index}/inner"))).expect("a directory");
    }
    let spec = shop_spec().replacen(
        "sources:\n",
        &format!("sources:\n  elsewhere: {{ format: parquet, path: \"{}\" }}\n", outside.path().display()),
        1,
    );
    let spec_path = project.write_spec("spec.yaml", &spec);
    let uri = file_uri(&spec_path);
    let mut client = server();
    client.initialize(project.path());
    let process_id = client.process_id().expect("a server process");
    client.open(&uri, &spec);
    let diagnostics = client.diagnostics_of_version(&uri, 1);
    assert!(diagnostics.iter().any(|diagnostic| diagnostic["code"] == "V0505"), "the outside source is refused: {diagnostics:?}");
    // Answered after the loop's previous turn, which updated the watches.
    client.request("textDocument/hover", hover_at_start(&uri));
    // The shop's three sources: the Delta log, the Parquet file, the CSV file.
    let watches = inotify_watches(process_id);
    assert_eq!(watches, 3, "inotify watches of the server");
    assert!(client.shutdown());
}
