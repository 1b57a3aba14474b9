//! `viewdag watch`: recompile incrementally whenever the spec file or a source changes.
//!
//! Watches the spec's directory (editors often replace a file rather than write it) and
//! every source the checks let the spec read (a Delta table's `_delta_log`, a Parquet or
//! CSV file, or a directory: `viewdag_driver::source_watch`).
//! Changes are debounced, then the project is recompiled with the same [`Compiler`], so only
//! what changed re-executes; diagnostics and recompile statistics are printed after every
//! compile. An invalid intermediate state (half-typed YAML) is reported like any other
//! diagnostic and watching goes on.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};

use viewdag_driver::render::{render_human, summary};
use viewdag_driver::source_watch::SourceWatch;
use viewdag_driver::{CompileRequest, Compiler, DriverError, ViewStatus};

/// How `watch` recompiles.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Quiet time after the last change before recompiling.
    pub debounce: Duration,
    /// Stop after this many compiles (the first one included); `None` watches forever.
    pub max_compiles: Option<usize>,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions { debounce: Duration::from_millis(150), max_compiles: None }
    }
}

/// The file watcher could not watch `path`.
fn watch_error(path: &Path, error: notify::Error) -> DriverError {
    DriverError::Read { path: path.to_path_buf(), source: std::io::Error::other(error) }
}

/// Compiles `spec`, then recompiles on every change, writing reports to `out`.
pub fn watch(spec: &Path, options: &WatchOptions, out: &mut dyn Write) -> Result<(), DriverError> {
    let mut compiler = Compiler::new()?;
    let (sender, receiver) = channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !matches!(event.kind, notify::EventKind::Access(_))
        {
            let _ = sender.send(event.paths);
        }
    })
    .map_err(|error| watch_error(spec, error))?;
    let directory = spec.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    watcher.watch(&directory, RecursiveMode::NonRecursive).map_err(|error| watch_error(&directory, error))?;
    let mut watched_sources: Vec<SourceWatch> = Vec::new();
    let mut compiles = 0;
    loop {
        compiles += 1;
        report(&mut compiler, spec, compiles, out)?;
        let sources = compiler.snapshot().source_watches();
        for watch in watched_sources.iter().filter(|watch| !sources.contains(watch)) {
            let _ = watcher.unwatch(&watch.path);
        }
        for watch in sources.iter().filter(|watch| !watched_sources.contains(watch)) {
            let mode = if watch.recursive { RecursiveMode::Recursive } else { RecursiveMode::NonRecursive };
            let _ = watcher.watch(&watch.path, mode);
        }
        watched_sources = sources;
        if options.max_compiles.is_some_and(|max| compiles >= max) {
            return Ok(());
        }
        if !wait_for_change(&receiver, spec, &watched_sources, options.debounce) {
            return Ok(());
        }
    }
}

/// Blocks until a relevant path changes and the debounce interval passes quietly.
/// Returns false when the watcher is gone.
fn wait_for_change(receiver: &Receiver<Vec<PathBuf>>, spec: &Path, sources: &[SourceWatch], debounce: Duration) -> bool {
    let spec_name = spec.file_name();
    let relevant = |paths: &[PathBuf]| {
        paths.iter().any(|path| path.file_name() == spec_name || sources.iter().any(|source| path.starts_with(&source.path)))
    };
    loop {
        match receiver.recv() {
            Ok(paths) if relevant(&paths) => break,
            Ok(_) => continue,
            Err(_) => return false,
        }
    }
    loop {
        match receiver.recv_timeout(debounce) {
            Ok(_) => continue,
            Err(RecvTimeoutError::Timeout) => return true,
            Err(RecvTimeoutError::Disconnected) => return false,
        }
    }
}

fn report(compiler: &mut Compiler, spec: &Path, number: usize, out: &mut dyn Write) -> Result<(), DriverError> {
    let write_error = |source: std::io::Error| DriverError::Write { path: PathBuf::from("<output>"), source };
    let response = match compiler.compile(&CompileRequest::new(spec)) {
        Ok(response) => response,
        Err(error) => {
            // The file may be mid-save or briefly missing: report and keep watching.
            writeln!(out, "[watch] compile #{number}: {error}").map_err(write_error)?;
            return Ok(());
        }
    };
    if let Some(source) = compiler.spec_source() {
        write!(out, "{}", render_human(source, &response.diagnostics, false)).map_err(write_error)?;
    }
    let valid = response.views.iter().filter(|view| view.status.is_valid()).count();
    let planned = response.views.iter().filter(|view| matches!(view.status, ViewStatus::Compiled { .. })).count();
    writeln!(
        out,
        "[watch] compile #{number}: {valid} of {} views valid, {planned} task(s) planned; {}",
        response.views.len(),
        summary(&response.diagnostics)
    )
    .map_err(write_error)?;
    write!(out, "{}", response.stats.render()).map_err(write_error)?;
    out.flush().map_err(write_error)
}
