//! What a long compile reports while it works — views checked, then views planned — so a
//! command can show progress on a project of many views (a 100,000-view check takes
//! seconds), and how a terminal shows it.
//!
//! ## Invariants
//! - Reporting never changes what is compiled: the counter is told after each unit of work
//!   the compile does anyway, and a sink only observes.
//! - Counts are exact at the end (the last report of a stage has `done == total`); with
//!   several workers, reports may arrive out of order, so a sink keeps the largest `done`.
//! - Nothing of it reaches a result or an artifact: the terminal line is written to stderr
//!   only, and erased before the command prints anything else.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which part of a full compile is reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CompileStage {
    /// Every view checked against its inputs' schemas.
    Checking,
    /// The views in the compile's scope planned and optimized.
    Planning,
}

/// How far one stage is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompileProgress {
    /// The stage reporting.
    pub stage: CompileStage,
    /// Views done so far in this stage.
    pub done: usize,
    /// Views this stage works on.
    pub total: usize,
}

/// Where a compile reports its progress (called from its worker threads).
#[derive(Clone)]
pub struct CompileProgressSink(Arc<dyn Fn(CompileProgress) + Send + Sync>);

impl CompileProgressSink {
    /// A sink calling `report` with each step (from any thread).
    pub fn new(report: impl Fn(CompileProgress) + Send + Sync + 'static) -> Self {
        CompileProgressSink(Arc::new(report))
    }

    fn report(&self, progress: CompileProgress) {
        (self.0)(progress)
    }
}

impl std::fmt::Debug for CompileProgressSink {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("CompileProgressSink")
    }
}

/// Counts one stage's views as workers finish them and reports each step to the sink.
pub(crate) struct ProgressCounter<'a> {
    sink: Option<&'a CompileProgressSink>,
    stage: CompileStage,
    total: usize,
    done: AtomicUsize,
}

impl<'a> ProgressCounter<'a> {
    pub(crate) fn new(sink: Option<&'a CompileProgressSink>, stage: CompileStage, total: usize) -> Self {
        ProgressCounter { sink, stage, total, done: AtomicUsize::new(0) }
    }

    /// `views` more views are done.
    pub(crate) fn add(&self, views: usize) {
        if let Some(sink) = self.sink {
            let done = self.done.fetch_add(views, Ordering::Relaxed) + views;
            sink.report(CompileProgress { stage: self.stage, done, total: self.total });
        }
    }
}

/// The line a terminal shows: `checking views 40000/100000 (40%)`.
pub fn progress_line(progress: &CompileProgress) -> String {
    let verb = match progress.stage {
        CompileStage::Checking => "checking",
        CompileStage::Planning => "planning",
    };
    let percent = (progress.done * 100).checked_div(progress.total).unwrap_or(100);
    format!("{verb} views {}/{} ({percent}%)", progress.done, progress.total)
}

/// A progress line on a terminal's stderr, redrawn in place at most every
/// [`TerminalProgress::REDRAW`] once the compile has run for [`TerminalProgress::QUIET`]
/// (a short compile shows nothing), erased by [`TerminalProgress::finish`] or on drop.
pub struct TerminalProgress {
    state: Arc<Mutex<LineState>>,
}

struct LineState {
    started: Instant,
    last_drawn: Option<Instant>,
    shown: bool,
    /// The largest `done` reported per stage (reports may arrive out of order).
    latest: Option<CompileProgress>,
}

impl TerminalProgress {
    /// How long a compile runs before its progress is shown.
    pub const QUIET: Duration = Duration::from_millis(500);
    /// The least time between two redraws.
    pub const REDRAW: Duration = Duration::from_millis(100);

    /// A line not drawn yet; the quiet period starts now.
    pub fn new() -> Self {
        TerminalProgress {
            state: Arc::new(Mutex::new(LineState { started: Instant::now(), last_drawn: None, shown: false, latest: None })),
        }
    }

    /// The sink to give the compiler (`Compiler::set_progress`).
    pub fn sink(&self) -> CompileProgressSink {
        let state = Arc::clone(&self.state);
        CompileProgressSink::new(move |progress: CompileProgress| {
            let mut state = state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let progress = match state.latest {
                Some(latest) if latest.stage == progress.stage && latest.done > progress.done => latest,
                _ => progress,
            };
            state.latest = Some(progress);
            let now = Instant::now();
            let due = state.last_drawn.is_none_or(|last| now.duration_since(last) >= Self::REDRAW) || progress.done == progress.total;
            if now.duration_since(state.started) >= Self::QUIET && due {
                let mut stderr = std::io::stderr().lock();
                let _ = write!(stderr, "\r{}\x1b[K", progress_line(&progress));
                let _ = stderr.flush();
                state.last_drawn = Some(now);
                state.shown = true;
            }
        })
    }

    /// Erases the line, if one was drawn.
    pub fn finish(&self) {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if std::mem::take(&mut state.shown) {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[K");
            let _ = stderr.flush();
        }
    }
}

impl Default for TerminalProgress {
    fn default() -> Self {
        TerminalProgress::new()
    }
}

impl Drop for TerminalProgress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_the_stage_and_the_share_done() {
        let line = |stage, done, total| progress_line(&CompileProgress { stage, done, total });
        assert_eq!(line(CompileStage::Checking, 40_000, 100_000), "checking views 40000/100000 (40%)");
        assert_eq!(line(CompileStage::Planning, 10, 10), "planning views 10/10 (100%)");
        assert_eq!(line(CompileStage::Planning, 0, 0), "planning views 0/0 (100%)");
    }

    #[test]
    fn a_counter_reports_every_step_and_ends_at_the_total() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = {
            let seen = Arc::clone(&seen);
            CompileProgressSink::new(move |progress| seen.lock().unwrap().push(progress))
        };
        let counter = ProgressCounter::new(Some(&sink), CompileStage::Checking, 100);
        for _ in 0..4 {
            counter.add(25);
        }
        let seen = seen.lock().unwrap();
        assert_eq!(seen.iter().map(|progress| progress.done).collect::<Vec<_>>(), [25, 50, 75, 100]);
        assert!(seen.iter().all(|progress| progress.total == 100 && progress.stage == CompileStage::Checking));
        ProgressCounter::new(None, CompileStage::Planning, 3).add(3);
    }
}
