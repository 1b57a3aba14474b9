//! A full compile's per-view work on several threads, before `compiled_project` collects it
//! (and, before that, every view's reads, before the structure is computed whole).
//!
//! `compiled_project` checks every view chunk by chunk in dependency order, then plans the
//! valid views in scope chunk by chunk: one thread. [`warm_full_compile`] asks the same
//! queries first on [`crate::parallel::for_each_in_parallel`]'s workers — every view's check
//! (and its inlined depth, as `chunk_warm` does) in dependency order, a dependency-order chunk
//! per claim, then the plan of every view `compiled_chunk` will plan, a view per claim — so
//! the project's query finds them memoized.
//!
//! ## Invariants
//! - The views planned are exactly those `compiled_chunk` plans: in scope (a task, or every
//!   view for `PlanScope::AllViews`) and valid by their check. No other query is asked that
//!   the single-threaded compile would not ask (the incremental tests count executions).
//! - Only for a full compile: a patch after an edit asks few views and stays on one thread.
//! - Progress (when a sink is given) is reported after each chunk checked and each view
//!   planned; with one job and a sink, the same warming runs on the calling thread, so the
//!   compile asks the same queries either way.

use viewdag_ir::{ProjectInput, ViewInput};
use viewdag_lower::{ChunkOrder, chunk_members, is_task, view_check, view_chunks};
use viewdag_optimize::{PlanScope, planned_view};

use crate::compile_progress::{CompileProgressSink, CompileStage, ProgressCounter};
use crate::database::Database;
use crate::parallel::for_each_in_parallel;

/// Fewer views than this are checked on the calling thread: spawning workers would cost
/// more than it saves.
const MIN_VIEWS_TO_SHARE: usize = 16;

/// Fewer views than this have their reads found on the calling thread.
const MIN_VIEWS_TO_SHARE_READS: usize = 1024;
/// The views a worker claims at a time when finding reads (each is independent of the others).
const READS_PER_CLAIM: usize = 256;

/// Asks every view's reads (`view_reads`: for a `sql` view, a parse of its SQL) on up to
/// `jobs` threads, before the structure is computed whole (which asks them all in
/// declaration order on one thread, and then finds them memoized).
pub(crate) fn warm_view_reads(db: &Database, project: ProjectInput, jobs: usize) {
    let views = project.views(db);
    if jobs <= 1 || views.len() < MIN_VIEWS_TO_SHARE_READS {
        return;
    }
    let claims: Vec<&[ViewInput]> = views.chunks(READS_PER_CLAIM).collect();
    for_each_in_parallel(db, &claims, jobs, |db, claim| {
        for view in claim.iter() {
            viewdag_validate::view_reads(db, *view);
        }
    });
}

/// Checks every view, then plans the views in `scope`, on up to `jobs` threads, reporting
/// to `progress`.
pub(crate) fn warm_full_compile(
    db: &Database,
    project: ProjectInput,
    scope: PlanScope,
    jobs: usize,
    progress: Option<&CompileProgressSink>,
) {
    if (jobs <= 1 && progress.is_none()) || project.views(db).len() < MIN_VIEWS_TO_SHARE {
        return;
    }
    // Workers claim whole chunks (about 64 views, in dependency order), not single views: a
    // view mostly reads views just before it, and a worker that claimed one view at a time
    // would wait for the other worker's view it reads at nearly every claim (measured: 2
    // threads slower than 1 on the transforms shape at 10k views; by chunk, faster on both).
    let chunks = view_chunks(db, project, ChunkOrder::Dependency);
    let checked = ProgressCounter::new(progress, CompileStage::Checking, project.views(db).len());
    for_each_in_parallel(db, &chunks.firsts, jobs, |db, first| {
        let members = chunk_members(db, project, *first, ChunkOrder::Dependency);
        for view in members.iter() {
            view_check(db, *view);
        }
        checked.add(members.len());
    });
    let in_dependency_order = chunks
        .firsts
        .iter()
        .flat_map(|first| chunk_members(db, project, *first, ChunkOrder::Dependency).iter().copied().collect::<Vec<_>>());
    let to_plan: Vec<ViewInput> = in_dependency_order
        .filter(|view| {
            let in_scope = match scope {
                PlanScope::Nothing => false,
                PlanScope::Tasks => is_task(db, project, *view),
                PlanScope::AllViews => true,
            };
            in_scope && view_check(db, *view).status.is_valid()
        })
        .collect();
    let planned = ProgressCounter::new(progress, CompileStage::Planning, to_plan.len());
    for_each_in_parallel(db, &to_plan, jobs, |db, view| {
        planned_view(db, *view);
        planned.add(1);
    });
}
