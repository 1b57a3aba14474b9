//! A Language Server Protocol test client: drives `viewdag lsp` as a real process over
//! stdio (or, for benchmarks, the same message loop in-process over a memory connection)
//! with JSON-RPC messages, and collects what the server publishes.
//!
//! Requests wait for their response; notifications the server sends meanwhile
//! (`publishDiagnostics`) are kept, in order, for [`LspClient::diagnostics_of_version`]
//! (a check's, with a version) and [`LspClient::publications_until`] (every one, the
//! provisional ones without a version included).
//! Over stdio the client can also send raw bytes (hostile framing), close the server's
//! input and read its exit status, and names the server's process (threads, watches).
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

/// What the client sends: a message, or raw bytes written as they are (stdio only).
enum Outbound {
    Message(Message),
    Raw(Vec<u8>),
}

pub struct LspClient {
    outgoing: Sender<Outbound>,
    incoming: Receiver<Message>,
    next_id: i32,
    /// Notifications received and not yet taken.
    pending: Vec<Notification>,
    /// Checks' `publishDiagnostics` notifications (with a version) taken from `pending` so far.
    published: usize,
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
        let (outgoing, to_server) = crossbeam_channel::unbounded::<Outbound>();
        let (from_server, incoming) = crossbeam_channel::unbounded::<Message>();
        std::thread::spawn(move || {
            for outbound in to_server {
                let written = match outbound {
                    Outbound::Message(message) => message.write(&mut stdin),
                    Outbound::Raw(bytes) => stdin.write_all(&bytes),
                };
                if written.is_err() || stdin.flush().is_err() {
                    break;
                }
            }
        });
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Ok(Some(text)) = read_frame(&mut reader) {
                // `lsp_server::Message` has no `null` id: such an error response is kept as a
                // notification of method `$null-id-error`.
                let message = match serde_json::from_str::<Message>(&text) {
                    Ok(message) => message,
                    Err(_) => match serde_json::from_str::<Value>(&text) {
                        Ok(value) => Notification::new(NULL_ID_ERROR.to_string(), value).into(),
                        Err(_) => break,
                    },
                };
                if from_server.send(message).is_err() {
                    break;
                }
            }
        });
        LspClient { outgoing, incoming, next_id: 0, pending: Vec::new(), published: 0, child: Some(child), server: None }
    }

    /// Runs the server's message loop on a thread of this process.
    pub fn in_process() -> LspClient {
        let (server, client) = lsp_server::Connection::memory();
        let handle = std::thread::spawn(move || {
            viewdag_lsp::serve(server).expect("the server runs");
        });
        let (outgoing, to_server) = crossbeam_channel::unbounded::<Outbound>();
        std::thread::spawn(move || {
            for outbound in to_server {
                let Outbound::Message(message) = outbound else { panic!("raw bytes need a server over stdio") };
                if client.sender.send(message).is_err() {
                    break;
                }
            }
        });
        LspClient { outgoing, incoming: client.receiver, next_id: 0, pending: Vec::new(), published: 0, child: None, server: Some(handle) }
    }

    /// The server's process id (over stdio).
    pub fn process_id(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Writes `bytes` to the server's stdin as they are.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.outgoing.send(Outbound::Raw(bytes.to_vec())).expect("the server is connected");
    }

    /// Waits for an error response with a `null` id (the answer to a frame that held no
    /// message) and returns it.
    pub fn null_id_error(&mut self) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(position) = self.pending.iter().position(|notification| notification.method == NULL_ID_ERROR) {
                return self.pending.remove(position).params;
            }
            match self.receive(deadline) {
                Message::Notification(notification) => self.pending.push(notification),
                _ => continue,
            }
        }
    }

    /// How many checks' `publishDiagnostics` (those with a version; the provisional ones
    /// published first after an edit have none) for `uri` arrived so far (taken or not).
    pub fn published_count(&mut self, uri: &str) -> usize {
        while let Ok(message) = self.incoming.try_recv() {
            if let Message::Notification(notification) = message {
                self.pending.push(notification);
            }
        }
        self.published += self.pending.iter().filter(|notification| is_check_publication_of(notification, uri)).count();
        self.pending.retain(|notification| !is_publication_of(notification, uri));
        self.published
    }

    /// Closes the server's stdin (after what was sent) and waits for its exit status.
    pub fn close_and_wait(mut self) -> std::process::ExitStatus {
        self.outgoing = crossbeam_channel::unbounded().0;
        let mut child = self.child.take().expect("a server over stdio");
        wait_with_limit(&mut child)
    }

    /// Sends `exit` (without `shutdown`) and waits for the exit status.
    pub fn exit_without_shutdown(mut self) -> std::process::ExitStatus {
        self.notify("exit", Value::Null);
        let mut child = self.child.take().expect("a server over stdio");
        wait_with_limit(&mut child)
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
        self.outgoing.send(Outbound::Message(Notification::new(method.to_string(), params).into())).expect("the server is connected");
    }

    /// Sends a request and waits for its result (panics on an error response).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        self.outgoing
            .send(Outbound::Message(Request::new(id.clone(), method.to_string(), params).into()))
            .expect("the server is connected");
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
                is_publication_of(notification, uri) && notification.params["version"].as_i64() == Some(version as i64)
            });
            if let Some(position) = position {
                let notification = self.pending.remove(position);
                self.published += 1 + self.pending.iter().filter(|other| is_check_publication_of(other, uri)).count();
                self.pending.retain(|other| !is_publication_of(other, uri));
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

    /// Whether `uri`'s diagnostics of `version` arrived before the last response the client
    /// waited for (messages arrive in the order the server sent them): reads only what was
    /// received, never waits.
    pub fn received_diagnostics_of_version(&self, uri: &str, version: i32) -> bool {
        self.pending
            .iter()
            .any(|notification| is_publication_of(notification, uri) && notification.params["version"].as_i64() == Some(version as i64))
    }

    /// Every publication for `uri` (its version, −1 for none, and diagnostics), in arrival
    /// order, up to and including the first of `version`; waits for that one.
    pub fn publications_until(&mut self, uri: &str, version: i32) -> Vec<(i64, Vec<Value>)> {
        let deadline = Instant::now() + WAIT;
        loop {
            let publications: Vec<&Notification> =
                self.pending.iter().filter(|notification| is_publication_of(notification, uri)).collect();
            if let Some(last) = publications.iter().position(|notification| notification.params["version"].as_i64() == Some(version as i64))
            {
                let taken: Vec<(i64, Vec<Value>)> = publications[..=last]
                    .iter()
                    .map(|notification| {
                        let version = notification.params["version"].as_i64().unwrap_or(-1);
                        (version, notification.params["diagnostics"].as_array().cloned().unwrap_or_default())
                    })
                    .collect();
                let mut skipped = 0;
                self.pending.retain(|notification| {
                    if skipped < taken.len() && is_publication_of(notification, uri) {
                        skipped += 1;
                        return false;
                    }
                    true
                });
                self.published += taken.iter().filter(|(version, _)| *version >= 0).count();
                return taken;
            }
            match self.receive(deadline) {
                Message::Notification(notification) => self.pending.push(notification),
                _ => continue,
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

const NULL_ID_ERROR: &str = "$null-id-error";

fn is_publication_of(notification: &Notification, uri: &str) -> bool {
    notification.method == "textDocument/publishDiagnostics" && notification.params["uri"] == uri
}

/// A publication of a check's diagnostics: with the version of the text it checked.
fn is_check_publication_of(notification: &Notification, uri: &str) -> bool {
    is_publication_of(notification, uri) && notification.params["version"].is_i64()
}

/// One frame's body (`Content-Length` framing), `None` at the end of the stream.
fn read_frame(reader: &mut impl std::io::BufRead) -> std::io::Result<Option<String>> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("Content-Length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length.unwrap_or(0)];
    std::io::Read::read_exact(reader, &mut body)?;
    Ok(String::from_utf8(body).ok())
}

/// Waits for `child` to exit (killing it after the time limit, which fails the caller's
/// assertion on its status).
fn wait_with_limit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return child.wait().expect("the server is reaped");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The `file:` URI of an absolute path (ASCII paths, as tests create).
pub fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}
