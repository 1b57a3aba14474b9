//! Asking the same query of many views on several threads: a full compile's checks and
//! plans, and the bundles `compile --out` writes.
//!
//! Each worker holds its own handle of the salsa database (`Database` is `Clone`: handles
//! share memos, and a query one handle is computing is waited for by the others, never
//! computed twice). The work only *warms* memos: the caller then asks the same queries in
//! its own order and finds them computed, so what it returns is exactly what it returns
//! single-threaded.
//!
//! ## Invariants
//! - Warming asks exactly the queries the single-threaded path asks, no others: the set of
//!   executed queries (what the incremental tests count) is the same; only the order in
//!   which they execute depends on the threads, and nothing reads that order into a result.
//! - Items are claimed in the order given (a shared counter): given in dependency order,
//!   every item's inputs were claimed before it, so a query recurses at most as many levels
//!   as there are workers, never along a chain of views.
//! - A panic on any worker (a bug, or `salsa::Cancelled` when the host sets an input) stops
//!   the others from claiming more, and is resumed on the calling thread once every worker
//!   has stopped, with its payload: a cancelled background check still sees `Cancelled`.
//! - Several jobs run on as many spawned threads, each with [`PLANNING_STACK_BYTES`] of
//!   stack; the caller only waits. A worker can recurse along a chain as far as the views
//!   claimed before its own but not yet checked (a chunk or two of them), which overflows
//!   a 2 MiB stack (a test thread's, a host's) in a debug build — seen in CI on a
//!   30,000-view chain, and only when the threads' timing was unlucky.
//! - One job (or a single item) runs on the calling thread, spawning nothing: items in
//!   dependency order, each query finds its inputs computed.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::database::Database;
use crate::error::DriverError;

/// The stack of a thread that plans: planning walks plans recursively (DataFusion) up to
/// `MAX_INLINED_DEPTH` views deep. Virtual memory: only what is touched is used.
pub const PLANNING_STACK_BYTES: usize = 256 << 20;

/// The default number of threads a compile uses: the machine's parallelism, at most 8
/// (planning allocates heavily; more threads than that contend on the allocator).
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map(usize::from).unwrap_or(1).clamp(1, 8)
}

/// Runs `work` on a new thread named `name` with [`PLANNING_STACK_BYTES`] of stack and
/// returns what it returns (a command's whole compile and run, whatever thread called:
/// a `main` thread's stack is too small for planning deep chains). A panic of `work` is
/// resumed on the caller.
pub fn on_planning_stack<T: Send + 'static>(name: &str, work: impl FnOnce() -> T + Send + 'static) -> Result<T, DriverError> {
    std::thread::Builder::new()
        .name(name.to_string())
        .stack_size(PLANNING_STACK_BYTES)
        .spawn(work)
        .map_err(|source| DriverError::Start { what: "the planning thread", source })
        .map(|thread| thread.join().unwrap_or_else(|panic| resume_unwind(panic)))
}

/// Calls `work` for every item on up to `jobs` threads, each with its own handle of `db`
/// and [`PLANNING_STACK_BYTES`] of stack (the caller waits; one job runs on the caller);
/// items are claimed in order.
pub(crate) fn for_each_in_parallel<T: Sync>(db: &Database, items: &[T], jobs: usize, work: impl Fn(&Database, &T) + Sync) {
    let jobs = jobs.min(items.len());
    if jobs <= 1 {
        items.iter().for_each(|item| work(db, item));
        return;
    }
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let run = |db: &Database| {
        let claimed = catch_unwind(AssertUnwindSafe(|| {
            while !stop.load(Ordering::Relaxed) {
                let Some(item) = items.get(next.fetch_add(1, Ordering::Relaxed)) else { break };
                work(db, item);
            }
        }));
        if claimed.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        claimed
    };
    let panicked = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                let handle = db.clone();
                let run = &run;
                std::thread::Builder::new()
                    .name("viewdag-compile".into())
                    .stack_size(PLANNING_STACK_BYTES)
                    .spawn_scoped(scope, move || run(&handle))
                    .expect("a compile worker thread starts")
            })
            .collect();
        let mut first = None;
        for worker in workers {
            // `run` catches its own panics: a join error would be a panic in `catch_unwind`'s
            // own bookkeeping; kept as the payload all the same.
            let outcome = worker.join().unwrap_or_else(Err);
            if let Err(payload) = outcome {
                first.get_or_insert(payload);
            }
        }
        first
    });
    if let Some(payload) = panicked {
        resume_unwind(payload);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn database() -> Database {
        Database::new(Arc::new(tokio::runtime::Builder::new_current_thread().build().expect("a runtime")))
    }

    #[test]
    fn every_item_is_worked_on_exactly_once() {
        let db = database();
        let items: Vec<usize> = (0..1000).collect();
        let visits: Vec<AtomicUsize> = items.iter().map(|_| AtomicUsize::new(0)).collect();
        for jobs in [1, 2, 7] {
            for_each_in_parallel(&db, &items, jobs, |_, item| {
                visits[*item].fetch_add(1, Ordering::Relaxed);
            });
        }
        assert!(visits.iter().all(|count| count.load(Ordering::Relaxed) == 3));
    }

    #[test]
    fn several_jobs_never_work_on_the_callers_small_stack() {
        // A worker may recurse a chunk or two of views deep: with several jobs, every item
        // is worked on a spawned thread with the planning stack, whatever the caller's.
        let db = database();
        let items: Vec<usize> = (0..200).collect();
        let caller = std::thread::current().id();
        let on_caller = AtomicUsize::new(0);
        let deep_enough = AtomicUsize::new(0);
        for_each_in_parallel(&db, &items, 2, |_, _| {
            if std::thread::current().id() == caller {
                on_caller.fetch_add(1, Ordering::Relaxed);
            }
            // 8 MiB on the stack: past a test thread's 2 MiB, well within the planning stack.
            let deep = std::hint::black_box([1u8; 8 << 20]);
            deep_enough.fetch_add(usize::from(deep[deep.len() - 1]), Ordering::Relaxed);
        });
        assert_eq!(on_caller.load(Ordering::Relaxed), 0);
        assert_eq!(deep_enough.load(Ordering::Relaxed), items.len());
    }

    #[test]
    fn a_workers_panic_reaches_the_caller_with_its_payload_and_stops_the_others() {
        let db = database();
        let items: Vec<usize> = (0..10_000).collect();
        let worked = AtomicUsize::new(0);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            for_each_in_parallel(&db, &items, 4, |_, item| {
                if *item == 10 {
                    resume_unwind(Box::new(format!("item {item}")));
                }
                std::thread::sleep(std::time::Duration::from_micros(200));
                worked.fetch_add(1, Ordering::Relaxed);
            })
        }));
        let payload = outcome.expect_err("the panic is resumed");
        assert_eq!(payload.downcast_ref::<String>().map(String::as_str), Some("item 10"));
        // Each worker finishes the item it holds, then claims no more (all of them: 0.5 s).
        assert!(worked.load(Ordering::Relaxed) < 1000, "{} items worked on", worked.load(Ordering::Relaxed));
    }
}
