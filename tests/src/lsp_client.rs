//! A Language Server Protocol test client: drives `viewdag lsp` as a real process over
//! stdio (or, for benchmarks, the same message loop in-process over a memory connection)
//! with JSON-RPC messages, and collects what the server publishes.
//!
//! Requests wait for their response; notifications the server sends meanwhile
//! (`publishDiagnostics`) are kept, in order, for [`LspClient::diagnostics_of_version`].
//! Every wait has a time limit, so a server that stops answering fails the test instead of
//! hanging it.

use std::io::{BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use lsp_server::{Message, Notification, Request, RequestId};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(300);

pub struct LspClient {
    outgoing: Sender<Message>,
    incoming: Receiver<Message>,
    next_id: i32,
    /// Notifications received and not yet taken.
    pending: Vec<Notification>,
    child: Option<Child>,
    server: Option<std::thread::JoinHandle<()>>,
}

impl LspClient {
    /// Starts `program lsp` with piped stdin and stdout.
    pub fn spawn(program: &Path) -> LspClient {
        let mut child = Command::new(program)
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server starts");
        let mut stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (outgoing, to_server) = crossbeam_channel::unbounded::<Message>();
        let (from_server, incoming) = crossbeam_channel::unbounded::<Message>();
        std::thread::spawn(move || {
            for message in to_server {
                if message.write(&mut stdin).is_err() || stdin.flush().is_err() {
                    break;
                }
            }
        });
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Ok(Some(message)) = Message::read(&mut reader) {
                if from_server.send(message).is_err() {
                    break;
                }
            }
        });
        LspClient { outgoing, incoming, next_id: 0, pending: Vec::new(), child: Some(child), server: None }
    }

    /// Runs the server's message loop on a thread of this process.
    pub fn in_process() -> LspClient {
        let (server, client) = lsp_server::Connection::memory();
        let handle = std::thread::spawn(move || {
            viewdag_lsp::serve(server).expect("the server runs");
        });
        LspClient { outgoing: client.sender, incoming: client.receiver, next_id: 0, pending: Vec::new(), child: None, server: Some(handle) }
    }

    /// `initialize` then `initialized`; returns the server's capabilities.
    pub fn initialize(&mut self, root: &Path) -> Value {
        let root_uri = file_uri(root);
        let result = self.request(
            "initialize",
            json!({ "processId": null, "rootUri": root_uri, "capabilities": {}, "workspaceFolders": [{ "uri": root_uri, "name": "project" }] }),
        );
        self.notify("initialized", json!({}));
        result["capabilities"].clone()
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.outgoing.send(Notification::new(method.to_string(), params).into()).expect("the server is connected");
    }

    /// Sends a request and waits for its result (panics on an error response).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        self.outgoing.send(Request::new(id.clone(), method.to_string(), params).into()).expect("the server is connected");
        let deadline = Instant::now() + WAIT;
        loop {
            match self.receive(deadline) {
                Message::Response(response) if response.id == id => match response.response_result {
                    Ok(result) => return result,
                    Err(error) => panic!("{method} failed: {} ({})", error.message, error.code),
                },
                Message::Notification(notification) => self.pending.push(notification),
                _ => {}
            }
        }
    }

    fn receive(&self, deadline: Instant) -> Message {
        let left = deadline.saturating_duration_since(Instant::now());
        self.incoming.recv_timeout(left).unwrap_or_else(|_| panic!("the server did not answer within {WAIT:?}"))
    }

    pub fn open(&mut self, uri: &str, text: &str) {
        self.notify("textDocument/didOpen", json!({ "textDocument": { "uri": uri, "languageId": "yaml", "version": 1, "text": text } }));
    }

    /// Sends one `didChange` with incremental changes: `(start line, start character, end
    /// line, end character, new text)` each.
    pub fn change(&mut self, uri: &str, version: i32, changes: &[(u32, u32, u32, u32, &str)]) {
        let content_changes: Vec<Value> = changes
            .iter()
            .map(|(start_line, start_character, end_line, end_character, text)| {
                json!({
                    "range": { "start": { "line": start_line, "character": start_character }, "end": { "line": end_line, "character": end_character } },
                    "text": text,
                })
            })
            .collect();
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": content_changes }),
        );
    }

    /// Waits for the diagnostics published for `uri` at `version` (earlier versions' are
    /// dropped; the server may coalesce them away).
    pub fn diagnostics_of_version(&mut self, uri: &str, version: i32) -> Vec<Value> {
        self.diagnostics_of_version_within(uri, version, WAIT).unwrap_or_else(|| panic!("no diagnostics within {WAIT:?}"))
    }

    /// [`LspClient::diagnostics_of_version`], or `None` after `limit`.
    pub fn diagnostics_of_version_within(&mut self, uri: &str, version: i32, limit: Duration) -> Option<Vec<Value>> {
        let deadline = Instant::now() + limit;
        loop {
            let position = self.pending.iter().position(|notification| {
                notification.method == "textDocument/publishDiagnostics"
                    && notification.params["uri"] == uri
                    && notification.params["version"].as_i64() == Some(version as i64)
            });
            if let Some(position) = position {
                let notification = self.pending.remove(position);
                self.pending.retain(|other| !(other.method == "textDocument/publishDiagnostics" && other.params["uri"] == uri));
                return Some(notification.params["diagnostics"].as_array().cloned().unwrap_or_default());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(left) {
                Ok(Message::Notification(notification)) => self.pending.push(notification),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }

    /// `shutdown`, then `exit`; waits for the server to end and returns whether it exited
    /// successfully.
    pub fn shutdown(mut self) -> bool {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        if let Some(mut child) = self.child.take() {
            return child.wait().map(|status| status.success()).unwrap_or(false);
        }
        self.server.take().map(|server| server.join().is_ok()).unwrap_or(false)
    }
}

/// The `file:` URI of an absolute path (ASCII paths, as tests create).
pub fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}
