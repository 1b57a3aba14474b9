//! The `viewdag lsp` latency benchmark: `didChange` → `publishDiagnostics` for one-character
//! edits of an open spec, through the server's real message loop (in-process, over a
//! memory connection: the same loop `viewdag lsp` runs on stdio, without the pipe).
//!
//! Each edit is sent alone and its diagnostics awaited before the next, so every figure is
//! one full incremental check plus the conversion and publication of its diagnostics.
//! Then [`REQUEST_EDITS`] more edits, each followed at once by a hover on the edited view's
//! name and a completion inside its predicate: requests answered while (or right after) the
//! edit's check runs, timed from request to response.

use std::path::Path;
use std::time::Instant;

use serde_json::json;

use crate::lsp_client::{LspClient, file_uri};

/// How many edits are followed by a hover and a completion.
pub const REQUEST_EDITS: usize = 20;

/// Latencies in seconds, in edit order, and the process's memory afterwards.
#[derive(Debug, Clone)]
pub struct LatencyReport {
    /// Opening the spec: the cold check and its diagnostics.
    pub open_seconds: f64,
    pub edit_seconds: Vec<f64>,
    /// A hover on the edited view's name, sent right after each of [`REQUEST_EDITS`] edits.
    pub hover_seconds: Vec<f64>,
    /// A completion inside the edited predicate, right after that hover.
    pub completion_seconds: Vec<f64>,
    /// Half-typed YAML: a character that makes the document unparseable, then the one that
    /// repairs it.
    pub syntax_error_seconds: f64,
    pub syntax_repair_seconds: f64,
    /// Diagnostics published after the last edit.
    pub final_diagnostics: usize,
    pub rss_kib: u64,
    pub peak_kib: u64,
}

impl LatencyReport {
    /// The `percentile` (0–100) of the edit latencies, nearest rank.
    pub fn percentile(&self, percentile: f64) -> f64 {
        nearest_rank(&self.edit_seconds, percentile)
    }
}

/// The `percentile` (0–100) of `seconds`, nearest rank (0 for none).
pub fn nearest_rank(seconds: &[f64], percentile: f64) -> f64 {
    let mut sorted = seconds.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((percentile / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(key))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|value| value.parse().ok())
        })
        .unwrap_or(0)
}

/// Opens `text` (the spec at `spec_path`), then makes `edits` one-character edits: the
/// character at byte `edit_offset` (on a line of ASCII text) toggles between `first` and
/// `second`.
pub fn measure(spec_path: &Path, text: &str, edit_offset: usize, first: char, second: char, edits: usize) -> LatencyReport {
    let mut client = LspClient::in_process();
    let root = spec_path.parent().unwrap_or(Path::new("."));
    client.initialize(root);
    let uri = file_uri(spec_path);
    let start = Instant::now();
    client.open(&uri, text);
    client.diagnostics_of_version(&uri, 1);
    let open_seconds = start.elapsed().as_secs_f64();
    let line = text[..edit_offset].matches('\n').count() as u32;
    let character = (edit_offset - text[..edit_offset].rfind('\n').map(|newline| newline + 1).unwrap_or(0)) as u32;
    let mut version = 1;
    let mut edit_seconds = Vec::with_capacity(edits);
    let mut final_diagnostics = 0;
    for index in 0..edits {
        version += 1;
        let replacement = if index % 2 == 0 { second } else { first };
        let start = Instant::now();
        client.change(&uri, version, &[(line, character, line, character + 1, &replacement.to_string())]);
        final_diagnostics = client.diagnostics_of_version(&uri, version).len();
        edit_seconds.push(start.elapsed().as_secs_f64());
    }
    // Requests right after an edit: a hover on the edited view's name (the line above the
    // edited one, declared at two spaces' indent), a completion at the edited character.
    let mut hover_seconds = Vec::with_capacity(REQUEST_EDITS);
    let mut completion_seconds = Vec::with_capacity(REQUEST_EDITS);
    let at = |line: u32, character: u32| json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } });
    for index in 0..REQUEST_EDITS {
        version += 1;
        let replacement = if (edits + index).is_multiple_of(2) { second } else { first };
        client.change(&uri, version, &[(line, character, line, character + 1, &replacement.to_string())]);
        let start = Instant::now();
        let hover = client.request("textDocument/hover", at(line.saturating_sub(1), 3));
        hover_seconds.push(start.elapsed().as_secs_f64());
        assert!(!hover.is_null(), "the hover on the edited view's name answers");
        let start = Instant::now();
        client.request("textDocument/completion", at(line, character));
        completion_seconds.push(start.elapsed().as_secs_f64());
        client.diagnostics_of_version(&uri, version);
    }
    // Half-typed YAML at the end of the file: an unclosed flow mapping, then closed.
    let last_line = text.lines().count() as u32;
    version += 1;
    let start = Instant::now();
    client.change(&uri, version, &[(last_line, 0, last_line, 0, "x: {")]);
    client.diagnostics_of_version(&uri, version);
    let syntax_error_seconds = start.elapsed().as_secs_f64();
    version += 1;
    let start = Instant::now();
    client.change(&uri, version, &[(last_line, 0, last_line, 4, "")]);
    client.diagnostics_of_version(&uri, version);
    let syntax_repair_seconds = start.elapsed().as_secs_f64();
    let rss_kib = status_kib("VmRSS:");
    let peak_kib = status_kib("VmHWM:");
    assert!(client.shutdown(), "the server shuts down");
    LatencyReport {
        open_seconds,
        edit_seconds,
        hover_seconds,
        completion_seconds,
        syntax_error_seconds,
        syntax_repair_seconds,
        final_diagnostics,
        rss_kib,
        peak_kib,
    }
}
