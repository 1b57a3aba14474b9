//! The message loop: one thread owns every document and every spec's `Compiler` (the host:
//! it alone sets inputs); each check runs on a thread of its own.
//!
//! - **Edits are coalesced.** After taking one message the loop drains every message already
//!   queued (the transport queues frames as they arrive, `transport.rs`) and applies the
//!   edits among them together: a burst of `didChange` notifications (typing) sets the
//!   inputs of the final text once, and stale intermediate texts are never checked.
//! - **A check never blocks the loop.** Applying a text sets its inputs (the parse and the
//!   sources, on the loop) and starts its check on a new thread over a handle of the same
//!   salsa database (`viewdag_driver::BackgroundCheck`). Its response comes back to the loop
//!   as a message and is published. Before it, the edited views' own diagnostics are
//!   published at once (`edited_first.rs`, without a version: provisional).
//! - **A newer edit cancels a stale check.** Applying the next text sets inputs, which
//!   cancels the running check (salsa 0.28: it unwinds at its next query and drops its
//!   handle; the setter waits for that); a check that completed but describes an older text
//!   than the last applied one is dropped, never published. So the diagnostics published
//!   last are always those of the last text.
//! - **Requests answer from what the server has.** A request (hover, completion,
//!   definition, …) first applies the edits that preceded it, so its answer describes the
//!   text the client sent before it, then is answered at once on the loop: schemas and the
//!   DAG are queries of the applied inputs (computed on the loop's handle while the check
//!   runs on its own, each memo shared), view statuses and diagnostics are the last
//!   completed check's. It never waits for the whole project's check.
//!
//! Source changes: every source the open specs may read (`viewdag_driver::source_watch`: a
//! Delta table's `_delta_log`, a Parquet or CSV file, a directory inside the project; never
//! a source the checks refuse, never recursively outside the project) is watched; a change
//! re-checks the specs that read it (the compiler reloads only the sources whose files
//! changed). `workspace/didChangeWatchedFiles` from the client does the same for every open
//! spec.
//!
//! Every spec's compiler runs on one shared async runtime, and a check's thread ends with
//! its check: the number of threads does not grow with the number of open documents.
//!
//! The loop ends at `exit`: [`ServerExit`] says whether `shutdown` came first (the process
//! then exits 0; otherwise 1, as the protocol says).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crossbeam_channel::{Receiver, Sender};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument, DidOpenTextDocument, Notification as _, PublishDiagnostics,
};
use lsp_types::request::{CodeActionRequest, Completion, DocumentSymbolRequest, GotoDefinition, HoverRequest, References, Request as _};
use lsp_types::{
    CodeActionParams, CodeActionProviderCapability, CompletionOptions, CompletionParams, CompletionResponse, DidChangeTextDocumentParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DocumentSymbolParams, DocumentSymbolResponse, GotoDefinitionParams,
    GotoDefinitionResponse, HoverParams, HoverProviderCapability, OneOf, PublishDiagnosticsParams, ReferenceParams, ServerCapabilities,
    TextDocumentSyncCapability, TextDocumentSyncKind, Uri,
};
use notify::{RecursiveMode, Watcher};

use viewdag_driver::source_watch::SourceWatch;
use viewdag_driver::{AsyncRuntime, CheckCancelled, CompileResponse, PreparedCheck};

use crate::LspError;

use super::code_actions::code_actions;
use super::completion::completion;
use super::diagnostics::to_lsp_diagnostics;
use super::documents::{Document, DocumentStore};
use super::edited_first::edited_entries_first;
use super::hover::hover;
use super::navigation::{definition, references};
use super::spec_project::SpecProject;
use super::symbols::document_symbols;

/// What the server can do, as announced in the `initialize` response.
pub fn server_capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::INCREMENTAL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some([":", "[", ",", "\"", "("].map(String::from).to_vec()),
            ..CompletionOptions::default()
        }),
        document_symbol_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        ..ServerCapabilities::default()
    }
}

fn protocol_error(error: impl std::fmt::Display) -> LspError {
    LspError::Connection(error.to_string())
}

enum Incoming {
    Message(Message),
    SourcesChanged(Vec<PathBuf>),
    Checked(CheckDone),
}

/// A check's thread's answer: for which spec, of which applied text, and its response (or
/// its cancellation by a newer text).
struct CheckDone {
    uri: String,
    generation: u64,
    outcome: Result<CompileResponse, CheckCancelled>,
}

/// The server's state: open documents, one project per open spec, the watched sources.
struct Server {
    sender: Sender<Message>,
    documents: DocumentStore,
    projects: BTreeMap<String, SpecProject>,
    /// Specs edited (or whose sources changed) since their text was last applied.
    dirty: BTreeSet<String>,
    /// Where check threads send their answers.
    checked: Sender<CheckDone>,
    /// How many texts were applied, over every document.
    applied: u64,
    watcher: Option<notify::RecommendedWatcher>,
    watched: BTreeSet<SourceWatch>,
    /// The async runtime every spec's compiler shares.
    runtime: AsyncRuntime,
}

/// How the message loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerExit {
    /// `shutdown`, then `exit`: exit code 0.
    ShutdownThenExit,
    /// `exit` without `shutdown` first: exit code 1.
    ExitWithoutShutdown,
    /// The client closed the connection without `exit`: exit code 1.
    ConnectionClosed,
}

impl ServerExit {
    /// The process exit code the protocol asks for.
    pub fn exit_code(self) -> i32 {
        match self {
            ServerExit::ShutdownThenExit => 0,
            ServerExit::ExitWithoutShutdown | ServerExit::ConnectionClosed => 1,
        }
    }
}

/// Runs the server over a connection not yet initialized until `exit` (or the client
/// closes the connection).
pub fn serve(connection: Connection) -> Result<ServerExit, LspError> {
    let capabilities = serde_json::to_value(server_capabilities()).map_err(protocol_error)?;
    let initialize = serde_json::json!({
        "capabilities": capabilities,
        "serverInfo": { "name": "viewdag", "version": env!("CARGO_PKG_VERSION") },
    });
    let (id, _params) = connection.initialize_start().map_err(protocol_error)?;
    connection.initialize_finish(id, initialize).map_err(protocol_error)?;
    let (source_events, source_changes) = crossbeam_channel::unbounded::<Vec<PathBuf>>();
    // Kept so the channel stays open (never a stream of disconnections) without a watcher.
    let _source_events_kept_open = source_events.clone();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !matches!(event.kind, notify::EventKind::Access(_))
        {
            let _ = source_events.send(event.paths);
        }
    })
    .ok();
    let runtime = AsyncRuntime::new()?;
    let (checked, check_answers) = crossbeam_channel::unbounded::<CheckDone>();
    let mut server = Server {
        checked,
        applied: 0,
        runtime,
        sender: connection.sender.clone(),
        documents: DocumentStore::default(),
        projects: BTreeMap::new(),
        dirty: BTreeSet::new(),
        watcher,
        watched: BTreeSet::new(),
    };
    loop {
        let Some(first) = next_incoming(&connection.receiver, &source_changes, &check_answers) else {
            return Ok(ServerExit::ConnectionClosed);
        };
        let mut batch = vec![first];
        while let Ok(message) = connection.receiver.try_recv() {
            batch.push(Incoming::Message(message));
        }
        while let Ok(paths) = source_changes.try_recv() {
            batch.push(Incoming::SourcesChanged(paths));
        }
        while let Ok(done) = check_answers.try_recv() {
            batch.push(Incoming::Checked(done));
        }
        for incoming in batch {
            match incoming {
                Incoming::Message(Message::Request(request)) => {
                    if connection.handle_shutdown(&request).map_err(protocol_error)? {
                        return Ok(ServerExit::ShutdownThenExit);
                    }
                    server.apply_dirty();
                    let response = server.answer(request);
                    server.send(response.into());
                }
                Incoming::Message(Message::Notification(notification)) => {
                    if notification.method == lsp_types::notification::Exit::METHOD {
                        return Ok(ServerExit::ExitWithoutShutdown);
                    }
                    server.notify(notification);
                }
                Incoming::Message(Message::Response(_)) => {}
                Incoming::SourcesChanged(paths) => server.sources_changed(&paths),
                Incoming::Checked(done) => server.finish_check(done),
            }
        }
        server.apply_dirty();
        server.update_watches();
    }
}

fn next_incoming(messages: &Receiver<Message>, source_changes: &Receiver<Vec<PathBuf>>, checked: &Receiver<CheckDone>) -> Option<Incoming> {
    crossbeam_channel::select! {
        recv(messages) -> message => message.ok().map(Incoming::Message),
        recv(source_changes) -> paths => Some(Incoming::SourcesChanged(paths.unwrap_or_default())),
        recv(checked) -> done => done.ok().map(Incoming::Checked),
    }
}

fn parameters<P: serde::de::DeserializeOwned>(value: serde_json::Value) -> Option<P> {
    serde_json::from_value(value).ok()
}

impl Server {
    fn send(&self, message: Message) {
        let _ = self.sender.send(message);
    }

    fn notify(&mut self, notification: Notification) {
        match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Some(params) = parameters::<DidOpenTextDocumentParams>(notification.params) else { return };
                let document = params.text_document;
                self.dirty.insert(document.uri.as_str().to_string());
                self.documents.open(Document::new(document.uri, document.version, document.text));
            }
            DidChangeTextDocument::METHOD => {
                let Some(params) = parameters::<DidChangeTextDocumentParams>(notification.params) else { return };
                if let Some(document) = self.documents.get_mut(&params.text_document.uri) {
                    document.apply_changes(params.text_document.version, params.content_changes);
                    self.dirty.insert(params.text_document.uri.as_str().to_string());
                }
            }
            DidCloseTextDocument::METHOD => {
                let Some(params) = parameters::<DidCloseTextDocumentParams>(notification.params) else { return };
                let uri = params.text_document.uri;
                self.documents.close(&uri);
                self.projects.remove(uri.as_str());
                self.dirty.remove(uri.as_str());
                self.publish(uri, Vec::new(), None);
            }
            DidChangeWatchedFiles::METHOD => self.dirty.extend(self.projects.keys().cloned()),
            _ => {}
        }
    }

    /// Re-checks the specs reading a changed path.
    fn sources_changed(&mut self, paths: &[PathBuf]) {
        for (uri, project) in &self.projects {
            let watched = project.compiler.snapshot().source_watches();
            if paths.iter().any(|path| watched.iter().any(|source| path.starts_with(&source.path))) {
                self.dirty.insert(uri.clone());
            }
        }
    }

    /// Applies the text of every dirty spec and starts its check on a thread of its own
    /// (an unreadable text's answer needs no check: published at once).
    fn apply_dirty(&mut self) {
        for uri in std::mem::take(&mut self.dirty) {
            let Some(document) = self.documents.get_by_text(&uri) else { continue };
            let project = match self.projects.entry(uri.clone()) {
                std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::btree_map::Entry::Vacant(entry) => entry.insert(SpecProject::new(&self.runtime)),
            };
            // Numbered across the server: a check of a closed and reopened document can
            // never pass for the new document's.
            self.applied += 1;
            let generation = self.applied;
            match project.apply(document, generation) {
                PreparedCheck::Answered(response) => self.finish_check(CheckDone { uri, generation, outcome: Ok(response) }),
                PreparedCheck::Pending(check) => {
                    if let Some(first) = edited_entries_first(project, document, &check) {
                        self.publish(document.uri.clone(), first, None);
                    }
                    let answers = self.checked.clone();
                    // A thread that cannot start drops the check: the next edit checks again.
                    let _ = std::thread::Builder::new().name("viewdag-lsp-check".to_string()).spawn(move || {
                        let outcome = check.run();
                        let _ = answers.send(CheckDone { uri, generation, outcome });
                    });
                }
            }
        }
    }

    /// Publishes the diagnostics of a completed check, unless a newer text was applied (or
    /// received) since.
    fn finish_check(&mut self, done: CheckDone) {
        let CheckDone { uri, generation, outcome } = done;
        let Ok(response) = outcome else { return };
        if self.dirty.contains(&uri) {
            return;
        }
        let (Some(project), Some(document)) = (self.projects.get_mut(&uri), self.documents.get_by_text(&uri)) else { return };
        if !project.finish(generation, response) {
            return;
        }
        let (Some(response), Some(parsed)) = (&project.response, project.compiler.parsed_spec()) else { return };
        let diagnostics = to_lsp_diagnostics(document, &parsed.spans, response);
        let (uri, version) = (document.uri.clone(), document.version);
        self.publish(uri, diagnostics, Some(version));
    }

    fn publish(&self, uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) {
        let params = PublishDiagnosticsParams { uri, diagnostics, version };
        self.send(Notification::new(PublishDiagnostics::METHOD.to_string(), params).into());
    }

    /// Watches the sources the open specs read (and stops watching the others).
    fn update_watches(&mut self) {
        let Some(watcher) = self.watcher.as_mut() else { return };
        let wanted: BTreeSet<SourceWatch> =
            self.projects.values().flat_map(|project| project.compiler.snapshot().source_watches()).collect();
        for watch in self.watched.difference(&wanted) {
            let _ = watcher.unwatch(&watch.path);
        }
        for watch in wanted.difference(&self.watched) {
            let mode = if watch.recursive { RecursiveMode::Recursive } else { RecursiveMode::NonRecursive };
            let _ = watcher.watch(&watch.path, mode);
        }
        self.watched = wanted;
    }

    fn answer(&self, request: Request) -> Response {
        let Request { id, method, params } = request;
        match method.as_str() {
            HoverRequest::METHOD => self.with_document(id, params, |project, document, params: HoverParams| {
                hover(project, document, params.text_document_position_params.position)
            }),
            GotoDefinition::METHOD => self.with_document(id, params, |project, document, params: GotoDefinitionParams| {
                definition(project, document, params.text_document_position_params.position).map(GotoDefinitionResponse::Scalar)
            }),
            References::METHOD => self.with_document(id, params, |project, document, params: ReferenceParams| {
                Some(references(project, document, params.text_document_position.position, params.context.include_declaration))
            }),
            Completion::METHOD => self.with_document(id, params, |project, document, params: CompletionParams| {
                Some(CompletionResponse::Array(completion(project, document, params.text_document_position.position)))
            }),
            DocumentSymbolRequest::METHOD => self.with_document(id, params, |project, document, _: DocumentSymbolParams| {
                Some(DocumentSymbolResponse::Nested(document_symbols(project, document)))
            }),
            CodeActionRequest::METHOD => self.with_document(id, params, |project, document, params: CodeActionParams| {
                Some(code_actions(project, document, params.range))
            }),
            _ => Response::new_err(id, ErrorCode::MethodNotFound as i32, format!("viewdag lsp does not handle `{method}`")),
        }
    }

    /// Answers a request about one open document with `handler`'s result (`null` when the
    /// document is not open or was never checked).
    fn with_document<P, R>(
        &self,
        id: RequestId,
        params: serde_json::Value,
        handler: impl FnOnce(&SpecProject, &Document, P) -> Option<R>,
    ) -> Response
    where
        P: serde::de::DeserializeOwned + TextDocumentOf,
        R: serde::Serialize,
    {
        let Some(params) = parameters::<P>(params) else {
            return Response::new_err(id, ErrorCode::InvalidParams as i32, "invalid parameters".to_string());
        };
        let uri = params.text_document_uri().clone();
        let result = match (self.projects.get(uri.as_str()), self.documents.get(&uri)) {
            (Some(project), Some(document)) if project.response.is_some() => handler(project, document, params),
            _ => None,
        };
        Response::new_ok(id, result)
    }
}

/// The document a request's parameters are about.
trait TextDocumentOf {
    fn text_document_uri(&self) -> &Uri;
}

macro_rules! text_document_of {
    ($($params:ty => |$value:ident| $uri:expr;)*) => {
        $(impl TextDocumentOf for $params {
            fn text_document_uri(&self) -> &Uri {
                let $value = self;
                $uri
            }
        })*
    };
}

text_document_of! {
    HoverParams => |params| &params.text_document_position_params.text_document.uri;
    GotoDefinitionParams => |params| &params.text_document_position_params.text_document.uri;
    ReferenceParams => |params| &params.text_document_position.text_document.uri;
    CompletionParams => |params| &params.text_document_position.text_document.uri;
    DocumentSymbolParams => |params| &params.text_document.uri;
    CodeActionParams => |params| &params.text_document.uri;
}
