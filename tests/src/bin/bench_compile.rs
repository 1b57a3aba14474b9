//! Compile benchmarks on synthetic view DAGs, with a hand-written DataFusion baseline
//! measured in the same run. Prints one table; the figures go to BENCHMARKS.md.
//!
//! ```sh
//! cargo run --release -p viewdag-tests --bin bench-compile -- 1000 10000 100000 [--full-baseline-up-to 10000] [--shapes transforms,sql]
//! cargo run --release -p viewdag-tests --bin bench-compile -- --tpch   # only TPC-H
//! cargo run --release -p viewdag-tests --bin bench-compile -- --lsp 1000 10000   # only `viewdag lsp`
//! cargo run --release -p viewdag-tests --bin bench-compile -- --warm-process 1000 10000 100000   # only the cache across processes
//! cargo run --release -p viewdag-tests --bin bench-compile -- --parse 1000 10000 100000   # only the spec's parse
//! cargo run --release -p viewdag-tests --bin bench-compile -- --wide-sql 100 300   # SQL views 469–700 columns wide
//! cargo run --release -p viewdag-tests --bin bench-compile -- --write-project DIR sql 100000   # a project kept for profiling
//!   (`VIEWDAG_BENCH_BEFORE_CLI=path/to/viewdag-cli`: also another build's check of the same specs)
//! cargo build --release -p viewdag-tests --bin viewdag-cli && \
//!   cargo run --release -p viewdag-tests --bin bench-compile -- --check-process 1000 10000 100000   # `viewdag check` processes
//!   (and `--run-process`: `viewdag run` processes, the same binary needed)
//! ```
//!
//! Compiles use the compiler's default threads (`Compiler::set_compile_jobs`: the machine's
//! parallelism, at most 8); `VIEWDAG_BENCH_COMPILE_JOBS=1` runs every scenario on one
//! thread. The TPC-H table has a row of each.
//!
//! Each scenario runs in a child process (this binary with `--scenario`), so peak memory
//! (VmHWM) is measured per scenario: `check` (validation only), `compile` (plan every task,
//! then incremental edits), `run` (an unchanged project, every task up to date), and the
//! baselines.
//!
//! The synthetic DAGs (`viewdag_tests::synthetic_dag`), in both shapes side by side: the
//! transforms-only shape (two Parquet sources of four and two columns) and the SQL-heavy
//! shape (four sources of every format, sixteen-column schemas, one view in five `sql`).
//! Views read the previous view (chains up to 200 deep) or a random earlier one; ten
//! outputs spread over the DAG. The baseline is what a user would write by hand: a
//! `SessionContext` with every view registered as a SQL view, then each view planned
//! (`SELECT * FROM view` → optimized → physical); the outputs-only baseline plans only the
//! outputs' views.
//!
//! TPC-H (`tpch-viewdag`, `tpch-baseline`): the 22 queries over the 8 tables as tiny Parquet
//! files (`viewdag_tests::tpch`), one `sql` view and one output per query. viewdag: a cold
//! `check` (validation only), then a compile of every task (each query is an output) and the
//! compile output (`write_compile_output`, what `viewdag compile --out` writes besides the
//! plan text files). Baseline: a `SessionContext` with the 8 files registered, each query
//! planned to a physical plan.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionConfig, SessionContext};
use viewdag_driver::artifacts::write_compile_output;
use viewdag_driver::{CompileResponse, Compiler, Planning, ViewStatus};
use viewdag_tests::lsp_latency::nearest_rank;
use viewdag_tests::synthetic_dag::{DagShape, MAX_CHAIN, OUTPUTS, SyntheticDag, SyntheticProject};
use viewdag_tests::tpch;
use viewdag_tests::wide_sql_chain::WideSqlChain;

fn peak_memory_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|value| value.parse().ok())
        })
        .unwrap_or(0)
}

/// The environment variable that sets the threads of every compile a scenario makes
/// (`Compiler::set_compile_jobs`); unset: the compiler's default (the machine's parallelism).
const JOBS_VARIABLE: &str = "VIEWDAG_BENCH_COMPILE_JOBS";

/// The threads [`JOBS_VARIABLE`] says, if it is set.
fn jobs_asked() -> Option<usize> {
    std::env::var(JOBS_VARIABLE).ok().and_then(|jobs| jobs.parse().ok())
}

/// A compiler using the threads [`JOBS_VARIABLE`] says.
fn new_compiler() -> Compiler {
    let mut compiler = Compiler::new().expect("a compiler");
    if let Some(jobs) = jobs_asked() {
        compiler.set_compile_jobs(jobs);
    }
    compiler
}

fn seconds(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

/// How many times `function` executed in a compile.
fn executed(response: &CompileResponse, function: &str) -> usize {
    response.stats.stages.get(function).map(|stage| stage.executed).unwrap_or(0)
}

/// `viewdag check`, cold: parse, load sources, validate every view (no planning).
fn scenario_check(shape: DagShape, count: usize) -> String {
    let SyntheticProject { directory: _directory, dag, spec_path, text } = SyntheticProject::create(shape, count);
    let mut compiler = new_compiler();
    let start = Instant::now();
    let checked = compiler.check_text(&spec_path, &text);
    let check_seconds = seconds(start);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics.iter().take(3).collect::<Vec<_>>());
    format!("check={check_seconds:.6} views={} peak_kib={}", dag.views.len(), peak_memory_kib())
}

/// `viewdag lsp`: open the spec, then 100 one-character edits of a leaf filter's predicate
/// (`v > 3` ↔ `v > 4`), each timed from `didChange` to `publishDiagnostics`
/// (`viewdag_tests::lsp_latency`).
fn scenario_lsp(shape: DagShape, count: usize) -> String {
    let SyntheticProject { directory: _directory, dag, spec_path, text } = SyntheticProject::create(shape, count);
    let leaf = dag.leaf_filter().expect("a leaf filter");
    let digit_offset = text.find(&leaf.yaml).expect("the leaf is in the spec") + leaf.yaml.find(" > ").expect("a comparison") + 3;
    let digit = text[digit_offset..].chars().next().expect("a digit");
    let other = if digit == '9' { '8' } else { char::from(digit as u8 + 1) };
    let report = viewdag_tests::lsp_latency::measure(&spec_path, &text, digit_offset, digit, other, 100);
    // The same edits through `Compiler::check_text` alone (no server), for the breakdown.
    let mut compiler = new_compiler();
    compiler.check_text(&spec_path, &text);
    let mut check_seconds = Vec::new();
    let mut edited = text.clone();
    for index in 0..100 {
        let replacement = if index % 2 == 0 { other } else { digit };
        edited.replace_range(digit_offset..digit_offset + 1, &replacement.to_string());
        let start = Instant::now();
        compiler.check_text(&spec_path, &edited);
        check_seconds.push(seconds(start));
    }
    check_seconds.sort_by(f64::total_cmp);
    format!(
        "check_median={:.6} open={:.6} median={:.6} p99={:.6} max={:.6} hover_median={:.6} hover_max={:.6} completion_median={:.6} syntax_error={:.6} syntax_repair={:.6} diagnostics={} rss_kib={} peak_kib={} views={}",
        check_seconds[49],
        report.open_seconds,
        report.percentile(50.0),
        report.percentile(99.0),
        report.percentile(100.0),
        nearest_rank(&report.hover_seconds, 50.0),
        nearest_rank(&report.hover_seconds, 100.0),
        nearest_rank(&report.completion_seconds, 50.0),
        report.syntax_error_seconds,
        report.syntax_repair_seconds,
        report.final_diagnostics,
        report.rss_kib,
        report.peak_kib,
        dag.views.len()
    )
}

/// The `viewdag lsp` table (`--lsp [COUNTS…]`), both shapes side by side.
fn lsp_report(counts: &[usize], shapes: &[DagShape]) {
    scenario_table(
        "`viewdag lsp`: didChange → publishDiagnostics, one-character edit of a leaf filter",
        "views | shape | open (s) | median (ms) | p99 (ms) | max (ms) | `check_text` alone, median (ms) | hover after an edit, median / max (ms) | completion after an edit, median (ms) | syntax error (ms) | repair (ms) | RSS MiB | peak MiB",
        "lsp",
        counts,
        shapes,
        |line, shape| {
            format!(
                "{} | {} | {:.3} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} / {:.1} | {:.1} | {:.1} | {:.1} | {:.0} | {:.0}",
                field(line, "views"),
                shape.name(),
                field(line, "open"),
                field(line, "median") * 1e3,
                field(line, "p99") * 1e3,
                field(line, "max") * 1e3,
                field(line, "check_median") * 1e3,
                field(line, "hover_median") * 1e3,
                field(line, "hover_max") * 1e3,
                field(line, "completion_median") * 1e3,
                field(line, "syntax_error") * 1e3,
                field(line, "syntax_repair") * 1e3,
                field(line, "rss_kib") / 1024.0,
                field(line, "peak_kib") / 1024.0,
            )
        },
    );
}

/// Prints a table: `title`, the header `columns` (`|`-separated cells), then one row per
/// count and shape from the child process `--scenario SCENARIO COUNT SHAPE`'s line.
fn scenario_table(
    title: &str,
    columns: &str,
    scenario: &str,
    counts: &[usize],
    shapes: &[DagShape],
    row: impl Fn(&str, DagShape) -> String,
) {
    println!("### {title}\n");
    println!("| {columns} |");
    println!("|{}", "---|".repeat(columns.split(" | ").count()));
    for count in counts {
        for shape in shapes {
            let line = run_child(&["--scenario", scenario, &count.to_string(), shape.name()]);
            println!("| {} |", row(&line, *shape));
        }
    }
}

/// `viewdag compile` of every task, cold; then incremental recompiles: no-op, leaf edit,
/// schema-changing edit, adding a view in the middle, removing a leaf view.
fn scenario_compile(shape: DagShape, count: usize) -> String {
    let SyntheticProject { directory: _directory, dag, spec_path, text } = SyntheticProject::create(shape, count);
    let mut compiler = new_compiler();
    let start = Instant::now();
    let cold = compiler.compile_text(&spec_path, &text);
    let cold_seconds = seconds(start);
    assert!(!cold.has_errors(), "{:?}", cold.diagnostics.iter().take(3).collect::<Vec<_>>());
    let planned = executed(&cold, "view_plan");
    let start = Instant::now();
    let noop = compiler.compile_text(&spec_path, &text);
    let noop_seconds = seconds(start);
    assert_eq!(noop.stats.executed(), 0);
    let mut timed = |text: &str| {
        let start = Instant::now();
        let response = compiler.compile_text(&spec_path, text);
        let elapsed = seconds(start);
        assert!(!response.has_errors(), "{:?}", response.diagnostics.iter().take(3).collect::<Vec<_>>());
        (elapsed, executed(&response, "view_signature"))
    };
    let leaf = dag.leaf_filter().expect("a leaf filter");
    let edited = dag.with_leaf_edit(&text, leaf);
    let (leaf_seconds, leaf_revalidated) = timed(&edited);
    let middle = dag.mid_projection().expect("a projection");
    let schema_edit = dag.with_extra_column(&edited, middle);
    let (schema_seconds, schema_revalidated) = timed(&schema_edit);
    let added = dag.with_added_view(&schema_edit);
    let (add_seconds, add_revalidated) = timed(&added);
    let removed = dag.without_view(&added, leaf);
    let (remove_seconds, remove_revalidated) = timed(&removed);
    format!(
        "compile={cold_seconds:.6} planned={planned} inlined={} noop={noop_seconds:.6} leaf={leaf_seconds:.6} leaf_revalidated={leaf_revalidated} schema={schema_seconds:.6} schema_revalidated={schema_revalidated} add={add_seconds:.6} add_revalidated={add_revalidated} remove={remove_seconds:.6} remove_revalidated={remove_revalidated} views={} peak_kib={}",
        dag.inlined_count(),
        dag.views.len(),
        peak_memory_kib()
    )
}

/// A new process on an unchanged project and after a one-view edit, with the signature
/// cache in `.viewdag/cache/` (`--warm-process`). Each step is a new `Compiler` (a new
/// database, runtime and cache load) in this child process: a cold `check` without the
/// cache (the baseline), a cold `check` that writes the cache, a check of the unchanged
/// project, a check after a leaf edit; and, for the breakdown, the spec's parse alone.
fn scenario_warm_process(shape: DagShape, count: usize) -> String {
    let SyntheticProject { directory: _directory, dag, spec_path, text } = SyntheticProject::create(shape, count);
    let check = |cached: bool, text: &str| {
        let start = Instant::now();
        let mut compiler = new_compiler().with_persistent_cache(cached);
        let response = compiler.check_text(&spec_path, text);
        let elapsed = seconds(start);
        assert!(!response.has_errors(), "{:?}", response.diagnostics.iter().take(3).collect::<Vec<_>>());
        let counts = compiler.signature_cache_counts().unwrap_or_default();
        (elapsed, counts.hits, counts.misses, executed(&response, "view_signature"))
    };
    let (cold, ..) = check(false, &text);
    let (cold_write, _, written, _) = check(true, &text);
    let (warm, warm_hits, warm_misses, warm_executed) = check(true, &text);
    let edited = dag.with_leaf_edit(&text, dag.leaf_filter().expect("a leaf filter"));
    let (warm_edit, _, edit_misses, _) = check(true, &edited);
    // The breakdown: the parse alone, reading and decoding the cache file alone, a new
    // compiler alone.
    let start = Instant::now();
    let parsed = viewdag_ir::parse_spec(&text, viewdag_ir::SpecFormat::Yaml);
    let parse = seconds(start);
    assert!(parsed.diagnostics.is_empty());
    let cache_path = spec_path.parent().expect("a directory").join(viewdag_driver::SIGNATURE_CACHE_FILE);
    let start = Instant::now();
    let bytes = std::fs::read(&cache_path).expect("the cache was written");
    let entries = viewdag_lower::signature_memo::decode_file(&bytes).expect("a valid cache").len();
    let load = seconds(start);
    let start = Instant::now();
    drop(new_compiler());
    let new_compiler = seconds(start);
    format!(
        "cold={cold:.6} cold_write={cold_write:.6} written={written} warm={warm:.6} warm_hits={warm_hits} warm_misses={warm_misses} warm_executed={warm_executed} warm_edit={warm_edit:.6} edit_misses={edit_misses} parse={parse:.6} load={load:.6} entries={entries} new_compiler={new_compiler:.6} cache_kib={} views={}",
        bytes.len() / 1024,
        dag.views.len()
    )
}

/// `viewdag check` as a user runs it, each a new process of the real binary (`viewdag-cli`,
/// built next to this one) over a generated project (`--check-process`): the floor (`viewdag
/// --version`), a check without the cache, the first check with it (which records its
/// output), the unchanged project's check (replayed from `.viewdag/cache/replay.bin`; the
/// median of five), a check after a leaf edit (not replayed: checked and recorded), and the
/// unchanged edited project again. Asserts every output is the `--no-cache` one's.
fn scenario_check_process(shape: DagShape, count: usize) -> String {
    let SyntheticProject { directory: _directory, dag, spec_path, text } = SyntheticProject::create(shape, count);
    let cli = viewdag_cli();
    let process = |arguments: &[&str]| {
        let start = Instant::now();
        let output = Command::new(&cli).args(arguments).output().expect("viewdag-cli starts");
        (seconds(start), output)
    };
    let spec = spec_path.to_str().expect("UTF-8");
    let check = |cached: bool| {
        let arguments: &[&str] = if cached { &["check", spec] } else { &["check", spec, "--no-cache"] };
        let (elapsed, output) = process(arguments);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        (elapsed, output.stderr)
    };
    let floor = median_of_five(&|| process(&["--version"]).0);
    let (uncached, fresh) = check(false);
    let (first, first_output) = check(true);
    let recorded = spec_path.with_file_name(viewdag_driver::command_replay::REPLAY_FILE).is_file();
    let replayed = median_of_five(&|| {
        let (elapsed, output) = check(true);
        assert_eq!(output, fresh, "a replay prints what a check without the cache prints");
        elapsed
    });
    assert_eq!(first_output, fresh);
    let edited = dag.with_leaf_edit(&text, dag.leaf_filter().expect("a leaf filter"));
    std::fs::write(&spec_path, &edited).expect("the edit is written");
    let (after_edit, _) = check(true);
    let (edited_replayed, _) = check(true);
    format!(
        "floor={floor:.6} uncached={uncached:.6} first={first:.6} recorded={} replayed={replayed:.6} after_edit={after_edit:.6} edited_replayed={edited_replayed:.6} views={}",
        u8::from(recorded),
        dag.views.len()
    )
}

/// The `viewdag` binary built next to this one (`viewdag-cli`).
fn viewdag_cli() -> PathBuf {
    let cli = std::env::current_exe().expect("this executable").with_file_name("viewdag-cli");
    assert!(cli.is_file(), "build it first: cargo build --release -p viewdag-tests --bin viewdag-cli");
    cli
}

/// The median of five measurements.
fn median_of_five(work: &dyn Fn() -> f64) -> f64 {
    let mut times: Vec<f64> = (0..5).map(|_| work()).collect();
    times.sort_by(f64::total_cmp);
    times[2]
}

/// `viewdag run` as a user runs it, each a new process of the real binary over a generated
/// project (`--run-process`): the first run (writes every task's table), the next (every
/// task up to date: compiled, decided and recorded), the unchanged project's run (replayed
/// from `.viewdag/cache/replay.bin`; the median of five) and an up-to-date run without the
/// cache. Asserts the replays and the uncached run print what the recorded run printed.
fn scenario_run_process(shape: DagShape, count: usize) -> String {
    let SyntheticProject { directory: _directory, dag, spec_path, .. } = SyntheticProject::create(shape, count);
    let cli = viewdag_cli();
    let run = |arguments: &[&str]| {
        let start = Instant::now();
        let output = Command::new(&cli).arg("run").arg(&spec_path).args(arguments).output().expect("viewdag-cli starts");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        (seconds(start), output.stderr)
    };
    let (first, _) = run(&[]);
    let (up_to_date, recorded_output) = run(&[]);
    let recorded = spec_path.with_file_name(viewdag_driver::command_replay::REPLAY_FILE).is_file();
    let replayed = median_of_five(&|| {
        let (elapsed, output) = run(&[]);
        assert_eq!(output, recorded_output, "a replay prints what the up-to-date run printed");
        elapsed
    });
    let (uncached, uncached_output) = run(&["--no-cache"]);
    assert_eq!(uncached_output, recorded_output);
    let tasks = String::from_utf8_lossy(&recorded_output).matches(" up to date → ").count();
    format!(
        "first={first:.6} up_to_date={up_to_date:.6} recorded={} replayed={replayed:.6} uncached={uncached:.6} tasks={tasks} views={}",
        u8::from(recorded),
        dag.views.len()
    )
}

/// The `--run-process` table: `viewdag run` in new processes, both shapes.
fn run_process_report(counts: &[usize], shapes: &[DagShape]) {
    scenario_table(
        "`viewdag run` in a new process: the first run, an up-to-date run (recorded), the unchanged project's run (replayed), an up-to-date run without the cache",
        "views | shape | tasks | first run, writes every table (s) | up-to-date run, recorded (s) | record written | unchanged, replayed (ms) | up to date, `--no-cache` (s) | replayed ÷ no-cache",
        "run-process",
        counts,
        shapes,
        |line, shape| {
            format!(
                "{} | {} | {:.0} | {:.2} | {:.2} | {} | {:.1} | {:.2} | {:.4}",
                field(line, "views"),
                shape.name(),
                field(line, "tasks"),
                field(line, "first"),
                field(line, "up_to_date"),
                if field(line, "recorded") == 1.0 { "yes" } else { "no" },
                field(line, "replayed") * 1e3,
                field(line, "uncached"),
                field(line, "replayed") / field(line, "uncached"),
            )
        },
    );
}

/// The `--check-process` table: `viewdag check` in new processes, both shapes.
fn check_process_report(counts: &[usize], shapes: &[DagShape]) {
    scenario_table(
        "`viewdag check` in a new process: without the cache, recording, an unchanged project (replayed), after a leaf edit",
        "views | shape | process floor, `--version` (ms) | check, `--no-cache` (ms) | first check, recorded (ms) | record written | unchanged, replayed (ms) | replayed ÷ no-cache | after a leaf edit (ms) | edited, unchanged again (ms)",
        "check-process",
        counts,
        shapes,
        |line, shape| {
            format!(
                "{} | {} | {:.1} | {:.1} | {:.1} | {} | {:.1} | {:.3} | {:.1} | {:.1}",
                field(line, "views"),
                shape.name(),
                field(line, "floor") * 1e3,
                field(line, "uncached") * 1e3,
                field(line, "first") * 1e3,
                if field(line, "recorded") == 1.0 { "yes" } else { "no" },
                field(line, "replayed") * 1e3,
                field(line, "replayed") / field(line, "uncached"),
                field(line, "after_edit") * 1e3,
                field(line, "edited_replayed") * 1e3,
            )
        },
    );
}

/// The spec's parse alone (`--parse`), in a child process per row: `parse_spec` and, for the
/// breakdown, the span index's scan alone and serde_yaml_ng's reading of the same text (the
/// second scan the parse did before it read the document in the span index's scan). Medians
/// of several runs.
fn scenario_parse(shape: DagShape, count: usize) -> String {
    let text = SyntheticDag::generate(shape, count, 42).spec_yaml();
    let runs = if count >= 100_000 { 3 } else { 9 };
    let median = |work: &dyn Fn()| {
        let mut times: Vec<f64> = (0..runs)
            .map(|_| {
                let start = Instant::now();
                work();
                seconds(start)
            })
            .collect();
        times.sort_by(f64::total_cmp);
        times[runs / 2]
    };
    // The split parse first: the peak after it is its own (the whole parse holds the whole
    // document at once).
    let jobs = jobs_asked().unwrap_or_else(viewdag_driver::parallel::default_jobs);
    let split = median(&|| {
        let parsed = viewdag_ir::split_parse::parse_spec_on(&text, viewdag_ir::SpecFormat::Yaml, jobs);
        assert!(parsed.diagnostics.is_empty());
    });
    let split_peak_kib = peak_memory_kib();
    let parse = median(&|| {
        let parsed = viewdag_ir::parse_spec(&text, viewdag_ir::SpecFormat::Yaml);
        assert!(parsed.diagnostics.is_empty());
    });
    let parse_peak_kib = peak_memory_kib();
    let scan = median(&|| drop(viewdag_ir::SpanIndex::build(&text)));
    let serde_yaml = median(&|| drop(serde_yaml_ng::from_str::<serde_json::Value>(&text).expect("valid YAML")));
    format!(
        "views={count} jobs={jobs} split={split:.6} split_peak_kib={split_peak_kib} parse={parse:.6} parse_peak_kib={parse_peak_kib} scan={scan:.6} serde_yaml={serde_yaml:.6} spec_kib={}",
        text.len() / 1024
    )
}

/// The `--parse` table: the spec's parse alone, both shapes.
fn parse_report(counts: &[usize], shapes: &[DagShape]) {
    scenario_table(
        "The spec's parse alone, median: cut into pieces on the compile's threads (`parse_spec_on`, what the compiler calls) and whole (`parse_spec`); peak memory after each (the whole parse's includes the split's)",
        "views | shape | spec (KiB) | threads | `parse_spec_on` (ms) | peak MiB | `parse_spec` (ms) | peak MiB | whole ÷ split | span index scan alone (ms) | serde_yaml_ng alone (ms)",
        "parse",
        counts,
        shapes,
        |line, shape| {
            format!(
                "{} | {} | {:.0} | {} | {:.1} | {:.0} | {:.1} | {:.0} | {:.2} | {:.1} | {:.1}",
                field(line, "views"),
                shape.name(),
                field(line, "spec_kib"),
                field(line, "jobs"),
                field(line, "split") * 1e3,
                field(line, "split_peak_kib") / 1024.0,
                field(line, "parse") * 1e3,
                field(line, "parse_peak_kib") / 1024.0,
                field(line, "parse") / field(line, "split"),
                field(line, "scan") * 1e3,
                field(line, "serde_yaml") * 1e3,
            )
        },
    );
}

/// The `--warm-process` table: a new process with the signature cache, both shapes.
fn warm_process_report(counts: &[usize], shapes: &[DagShape]) {
    scenario_table(
        "A new process with the signature cache (`.viewdag/cache/`): `check` cold, unchanged, after a leaf edit",
        "views | shape | cold check, no cache (ms) | cold check writing the cache (ms) | unchanged (ms) | unchanged ÷ cold | signatures from the cache | after a leaf edit (ms) | edit ÷ unchanged | signatures computed after the edit | parse alone (ms) | reading + decoding the cache (ms) | new `Compiler` (ms) | cache file (KiB)",
        "warm-process",
        counts,
        shapes,
        |line, shape| {
            format!(
                "{} | {} | {:.1} | {:.1} | {:.1} | {:.3} | {}/{} | {:.1} | {:.2} | {} | {:.1} | {:.1} | {:.1} | {}",
                field(line, "views"),
                shape.name(),
                field(line, "cold") * 1e3,
                field(line, "cold_write") * 1e3,
                field(line, "warm") * 1e3,
                field(line, "warm") / field(line, "cold"),
                field(line, "warm_hits"),
                field(line, "warm_executed"),
                field(line, "warm_edit") * 1e3,
                field(line, "warm_edit") / field(line, "warm"),
                field(line, "edit_misses"),
                field(line, "parse") * 1e3,
                field(line, "load") * 1e3,
                field(line, "new_compiler") * 1e3,
                field(line, "cache_kib"),
            )
        },
    );
}

/// For profiling (`perf record`, callgrind): a cold compile, then 40 compiles alternating
/// between the text `edit` makes and the original; the mean seconds per compile.
fn alternating_edits(shape: DagShape, count: usize, edit: impl Fn(&SyntheticDag, &str) -> String) -> f64 {
    let SyntheticProject { directory: _directory, dag, spec_path, text } = SyntheticProject::create(shape, count);
    let mut compiler = new_compiler();
    compiler.compile_text(&spec_path, &text);
    let edited = edit(&dag, &text);
    let start = Instant::now();
    for round in 0..40 {
        let response = compiler.compile_text(&spec_path, if round % 2 == 0 { &edited } else { &text });
        assert!(!response.has_errors(), "{:?}", response.diagnostics.iter().take(3).collect::<Vec<_>>());
    }
    seconds(start) / 40.0
}

/// A leaf filter's predicate edited and restored, 40 times (`--scenario leaf-loop N SHAPE`).
fn scenario_leaf_loop(shape: DagShape, count: usize) -> String {
    let mean = alternating_edits(shape, count, |dag, text| dag.with_leaf_edit(text, dag.leaf_filter().expect("a leaf filter")));
    format!("leaf_mean={mean:.6}")
}

/// Adding a view, then removing it again, 40 times (`--scenario shape-loop N SHAPE`): shape
/// edits, as `leaf-loop` is for definition edits.
fn scenario_shape_loop(shape: DagShape, count: usize) -> String {
    let mean = alternating_edits(shape, count, |dag, text| dag.with_added_view(text));
    format!("shape_mean={mean:.6}")
}

/// `viewdag run` of an unchanged project (every task up to date), cold: a first run writes
/// the tables, then a fresh compiler runs again.
fn scenario_run(shape: DagShape, count: usize) -> String {
    let SyntheticProject { directory: _directory, dag, spec_path, text: _ } = SyntheticProject::create(shape, count);
    let request = viewdag_driver::CompileRequest::new(&spec_path);
    let first = new_compiler().run(&request, &mut |_| {}).expect("readable");
    assert!(first.succeeded(), "{:?}", first.tasks.iter().find(|task| !task.outcome.is_done()));
    let start = Instant::now();
    let second = new_compiler().run(&request, &mut |_| {}).expect("readable");
    let run_seconds = seconds(start);
    assert!(second.tasks.iter().all(|task| matches!(task.outcome, viewdag_driver::TaskOutcome::UpToDate { .. })));
    format!("run={run_seconds:.6} planned={} views={} peak_kib={}", second.planned.len(), dag.views.len(), peak_memory_kib())
}

/// The hand-written DataFusion baseline: register every view as a SQL view, then plan each
/// (or, with `outputs_only`, only the outputs' views: what a task compile must match).
fn scenario_baseline(shape: DagShape, count: usize, outputs_only: bool) -> String {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let dag = SyntheticDag::generate(shape, count, 42);
    dag.write_sources(directory.path());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let start = Instant::now();
    runtime.block_on(async {
        let config = SessionConfig::new().with_target_partitions(4).set_bool("datafusion.sql_parser.enable_ident_normalization", false);
        let context = SessionContext::new_with_config(config);
        let data = directory.path().join("data");
        let path = |file: &str| data.join(file).to_str().expect("utf-8").to_string();
        context.register_parquet("facts", path("facts.parquet"), ParquetReadOptions::default()).await.expect("registered");
        context.register_parquet("dims", path("dims.parquet"), ParquetReadOptions::default()).await.expect("registered");
        if shape == DagShape::SqlHeavy {
            let url = viewdag_driver::sources::directory_url(&data.join("events")).expect("a URL");
            let events = deltalake::open_table(url).await.expect("the Delta source opens");
            events.update_datafusion_session(&context.state()).expect("the object store is registered");
            context.register_table("events", events.table_provider().await.expect("a provider")).expect("registered");
            context.register_csv("regions", path("regions.csv"), CsvReadOptions::new()).await.expect("registered");
        }
        for view in &dag.views {
            context.sql(&format!("CREATE VIEW {} AS {}", view.name, view.sql)).await.expect("the view is created");
        }
        let planned: Vec<String> = if outputs_only { dag.output_views() } else { dag.views.iter().map(|view| view.name.clone()).collect() };
        for view in planned {
            let frame = context.sql(&format!("SELECT * FROM {view}")).await.expect("plans");
            frame.create_physical_plan().await.expect("physical plan");
        }
    });
    format!("cold={:.6} views={} peak_kib={}", seconds(start), dag.views.len(), peak_memory_kib())
}

/// A 200-deep chain compiled at once vs 200 single views compiled one by one.
fn scenario_chain() -> String {
    let directory = tempfile::tempdir().expect("a temporary directory");
    SyntheticDag::generate(DagShape::Transforms, 1, 42).write_sources(directory.path());
    let header = "version: 1\nsources:\n  facts: { format: parquet, path: data/facts.parquet }\n  dims: { format: parquet, path: data/dims.parquet }\nviews:\n";
    let mut chain = String::from(header);
    for index in 0..MAX_CHAIN {
        let input = if index == 0 { "facts".to_string() } else { format!("c{}", index - 1) };
        let _ = writeln!(chain, "  c{index}:\n    filter: {{ input: {input}, predicate: \"v > {}\" }}", index % 7);
    }
    let spec_path = directory.path().join("spec.yaml");
    let mut compiler = new_compiler();
    let start = Instant::now();
    // No outputs: every view is planned on request (`compile --all-views`).
    let response = compiler.compile_text_with(&spec_path, &chain, Planning::AllViews);
    let chain_seconds = seconds(start);
    assert!(!response.has_errors());
    let mut singles = 0.0;
    for index in 0..MAX_CHAIN {
        let single = format!("{header}  c{index}:\n    filter: {{ input: facts, predicate: \"v > {}\" }}\n", index % 7);
        let mut compiler = new_compiler();
        compiler.compile_text(&spec_path, header);
        let start = Instant::now();
        compiler.compile_text_with(&spec_path, &single, Planning::AllViews);
        singles += seconds(start);
    }
    format!("chain={chain_seconds:.6} singles={singles:.6}")
}

/// A chain of `count` filters over `facts`, an output at its end (`--scenario deep N`): a
/// cold check, a compile of the tasks (the chain cut every 512 views), and a first run
/// writing every checkpoint's table and the output — on a thread with the CLI's stack.
fn scenario_deep(count: usize) -> String {
    let run = move || {
        let directory = tempfile::tempdir().expect("a temporary directory");
        SyntheticDag::generate(DagShape::Transforms, 1, 42).write_sources(directory.path());
        let mut text = String::from("version: 1\nsources:\n  facts: { format: parquet, path: data/facts.parquet }\nviews:\n");
        for index in 0..count {
            let input = if index == 0 { "facts".to_string() } else { format!("c{}", index - 1) };
            let _ = writeln!(text, "  c{index}:\n    filter: {{ input: {input}, predicate: \"v > {}\" }}", index % 7);
        }
        let _ = writeln!(text, "outputs:\n  deepest: {{ view: c{}, path: out/deepest }}", count - 1);
        let spec_path = directory.path().join("spec.yaml");
        std::fs::write(&spec_path, &text).expect("the spec is written");
        let start = Instant::now();
        let checked = new_compiler().check_text(&spec_path, &text);
        let check_seconds = seconds(start);
        assert!(!checked.has_errors());
        let start = Instant::now();
        let compiled = new_compiler().compile_text(&spec_path, &text);
        let compile_seconds = seconds(start);
        let checkpoints = compiled.views.iter().filter(|view| view.materialized).count();
        let start = Instant::now();
        let report = new_compiler().run(&viewdag_driver::CompileRequest::new(&spec_path), &mut |_| {}).expect("readable");
        let run_seconds = seconds(start);
        assert!(report.succeeded(), "{:?}", report.tasks.iter().find(|task| !task.outcome.is_done()));
        format!(
            "check={check_seconds:.6} compile={compile_seconds:.6} run={run_seconds:.6} checkpoints={checkpoints} tasks={} peak_kib={}",
            report.tasks.len(),
            peak_memory_kib()
        )
    };
    std::thread::Builder::new().stack_size(256 << 20).spawn(run).expect("a thread").join().expect("the scenario")
}

/// One view over a source `columns` wide, checked cold: a filter (`check` must be linear in
/// the schema's width), then a projection naming every column.
fn scenario_wide(columns: usize) -> String {
    use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    let directory = tempfile::tempdir().expect("a temporary directory");
    let fields: Vec<Field> = (0..columns).map(|index| Field::new(format!("c{index}"), DataType::Int64, true)).collect();
    let arrays: Vec<ArrayRef> = (0..columns).map(|_| Arc::new(Int64Array::from(vec![1_i64, 2])) as ArrayRef).collect();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("a batch");
    viewdag_tests::data::write_parquet_file(&directory.path().join("data/wide.parquet"), &batch);
    let spec_path = directory.path().join("spec.yaml");
    let header = "version: 1\nsources:\n  wide: { format: parquet, path: data/wide.parquet }\nviews:\n";
    let filter = format!("{header}  narrow:\n    filter: {{ input: wide, predicate: \"c0 > 1\" }}\n");
    let mut projection = format!("{header}  every:\n    project:\n      input: wide\n      columns:\n");
    for index in 0..columns {
        let _ = writeln!(projection, "        c{index}: c{index}");
    }
    let timed = |text: &str| {
        let mut compiler = new_compiler();
        let start = Instant::now();
        let response = compiler.check_text(&spec_path, text);
        assert!(!response.has_errors(), "{:?}", response.diagnostics.first());
        seconds(start)
    };
    let filter_seconds = timed(&filter);
    let projection_seconds = timed(&projection);
    format!("filter={filter_seconds:.6} projection={projection_seconds:.6} columns={columns}")
}

/// A chain of `views` SQL views over a 469-column join (`viewdag_tests::wide_sql_chain`),
/// checked cold: each view plans one `SELECT` of 469–700 columns. With
/// `VIEWDAG_BENCH_BEFORE_CLI=path/to/viewdag-cli` (another build, e.g. main's before a
/// change), also that binary's `check --no-cache` of the same spec, as a new process.
fn scenario_wide_sql(views: usize) -> String {
    let project = WideSqlChain::create(views);
    let mut compiler = new_compiler();
    let start = Instant::now();
    let response = compiler.check_text(&project.spec_path, &project.text);
    let check_seconds = seconds(start);
    assert!(!response.has_errors(), "{:?}", response.diagnostics.first());
    let before = std::env::var_os(BEFORE_CLI_VARIABLE).map(|cli| {
        let start = Instant::now();
        let output = Command::new(cli).arg("check").arg(&project.spec_path).arg("--no-cache").output().expect("the other build starts");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        seconds(start)
    });
    format!(
        "check={check_seconds:.6} before={:.6} views={} peak_kib={}",
        before.unwrap_or(f64::NAN),
        project.views.len(),
        peak_memory_kib()
    )
}

/// The variable naming another build's `viewdag-cli` for `--wide-sql`'s before/after column.
const BEFORE_CLI_VARIABLE: &str = "VIEWDAG_BENCH_BEFORE_CLI";

/// The baseline of `wide-sql`: DataFusion validating each view once over its inputs'
/// schemas, as a user would by hand: the sources registered, then each view's SQL planned
/// and its schema registered (an empty table) under its name for the views after it.
/// (`CREATE VIEW`s instead would re-plan every view below each one: 82 s and 7 GiB at 300.)
fn scenario_wide_sql_baseline(views: usize) -> String {
    let project = WideSqlChain::create(views);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let start = Instant::now();
    runtime.block_on(async {
        let context = project.datafusion_context().await;
        for (name, sql) in &project.views {
            let frame = context.sql(sql).await.unwrap_or_else(|error| panic!("{name} plans: {error}"));
            let schema = Arc::new(frame.schema().as_arrow().clone());
            let table = datafusion::datasource::MemTable::try_new(schema, vec![Vec::new()]).expect("an empty table");
            context.register_table(name.as_str(), Arc::new(table)).expect("registered");
        }
    });
    format!("cold={:.6} views={} peak_kib={}", seconds(start), project.views.len(), peak_memory_kib())
}

/// The `--wide-sql` table: viewdag's cold check of the wide chain beside the baseline (and
/// beside another build's, when `VIEWDAG_BENCH_BEFORE_CLI` names one).
fn wide_sql_report(counts: &[usize]) {
    println!("### A chain of SQL views over a 469-column join (`wide_sql_chain`), cold check\n");
    println!(
        "| views | viewdag check (s) | peak MiB | other build's `check --no-cache`, a process (s) | baseline: DataFusion planning each view over its inputs' schemas (s) | baseline peak MiB | check ÷ baseline |"
    );
    println!("|---|---|---|---|---|---|---|");
    for count in counts {
        let ours = run_child(&["--scenario", "wide-sql", &count.to_string()]);
        let baseline = run_child(&["--scenario", "wide-sql-baseline", &count.to_string()]);
        let before = field(&ours, "before");
        println!(
            "| {:.0} | {:.3} | {:.0} | {} | {:.3} | {:.0} | {:.2}× |",
            field(&ours, "views"),
            field(&ours, "check"),
            field(&ours, "peak_kib") / 1024.0,
            if before.is_nan() { "not run".to_string() } else { format!("{before:.3}") },
            field(&baseline, "cold"),
            field(&baseline, "peak_kib") / 1024.0,
            field(&ours, "check") / field(&baseline, "cold"),
        );
    }
}

/// viewdag on TPC-H: a cold compile of the 22 queries (and `revenue0`), then the bundles of
/// `viewdag compile --out`. Views that failed are listed (`rejected=`) with their diagnostics
/// on stderr.
fn scenario_tpch_viewdag() -> String {
    let directory = tempfile::tempdir().expect("a temporary directory");
    tpch::write_tpch_data(directory.path());
    let spec_path = directory.path().join("spec.yaml");
    let text = tpch::spec_yaml();
    std::fs::write(&spec_path, &text).expect("the spec is written");
    let mut compiler = new_compiler();
    let start = Instant::now();
    let checked = compiler.check_text(&spec_path, &text);
    let check_seconds = seconds(start);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics.first());
    // Then plan every task (each query is an output), reusing the validation.
    let start = Instant::now();
    let response = compiler.compile_text(&spec_path, &text);
    let plan_seconds = seconds(start);
    let rejected: Vec<&str> = response
        .views
        .iter()
        .filter(|view| matches!(view.status, ViewStatus::Failed | ViewStatus::Blocked { .. }))
        .map(|view| view.name.as_str())
        .collect();
    for diagnostic in response.diagnostics.iter().filter(|diagnostic| diagnostic.is_error()).take(10) {
        eprintln!(
            "tpch-viewdag: {} {} in {}: {}",
            diagnostic.code.id(),
            diagnostic.code.name(),
            diagnostic.entry().unwrap_or("?"),
            diagnostic.message
        );
    }
    assert!(
        !response.has_errors(),
        "the TPC-H spec has {} error(s); rejected views: {rejected:?}",
        response.diagnostics.iter().filter(|diagnostic| diagnostic.is_error()).count()
    );
    let out = directory.path().join("out-compile");
    let start = Instant::now();
    let written = write_compile_output(compiler.snapshot(), &response, &out).expect("the compile output is written");
    let bundle_seconds = seconds(start);
    let bundle_bytes: u64 = written.bundle_files.iter().map(|path| std::fs::metadata(path).map(|meta| meta.len()).unwrap_or(0)).sum();
    format!(
        "check={check_seconds:.6} plan={plan_seconds:.6} bundles={bundle_seconds:.6} views={} bundle_files={} bundle_kib={} warnings={} rejected={} peak_kib={}",
        response.views.len(),
        written.bundle_files.len(),
        bundle_bytes / 1024,
        response.diagnostics.iter().filter(|diagnostic| !diagnostic.is_error()).count(),
        if rejected.is_empty() { "none".to_string() } else { rejected.join(",") },
        peak_memory_kib()
    )
}

/// The hand-written DataFusion baseline on TPC-H: register the 8 Parquet files (and Q15's
/// `revenue0` as a SQL view), then plan each query to a physical plan.
fn scenario_tpch_baseline() -> String {
    let directory = tempfile::tempdir().expect("a temporary directory");
    tpch::write_tpch_data(directory.path());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let start = Instant::now();
    runtime.block_on(async {
        let config = SessionConfig::new().with_target_partitions(4).set_bool("datafusion.sql_parser.enable_ident_normalization", false);
        let context = SessionContext::new_with_config(config);
        for table in tpch::TABLES {
            let path = tpch::table_path(directory.path(), table);
            context.register_parquet(table, path.to_str().expect("utf-8"), ParquetReadOptions::default()).await.expect("registered");
        }
        context.sql(&format!("CREATE VIEW {} AS {}", tpch::REVENUE0_NAME, tpch::REVENUE0)).await.expect("revenue0 is created");
        for (index, query) in tpch::QUERIES.iter().enumerate() {
            let frame = context.sql(query).await.unwrap_or_else(|error| panic!("Q{} plans: {error}", index + 1));
            frame.create_physical_plan().await.unwrap_or_else(|error| panic!("Q{} has a physical plan: {error}", index + 1));
        }
    });
    format!("cold={:.6} queries={} peak_kib={}", seconds(start), tpch::QUERIES.len(), peak_memory_kib())
}

/// TPC-H: viewdag on one thread and on the default threads, and the baseline, each in its
/// own process.
fn tpch_report() {
    let one_thread = run_child_with(&["--scenario", "tpch-viewdag"], Some(1));
    let default_threads = run_child(&["--scenario", "tpch-viewdag"]);
    let baseline = run_child(&["--scenario", "tpch-baseline"]);
    let base = field(&baseline, "cold");
    println!(
        "\n| TPC-H | compile threads | baseline (ms) | viewdag check (ms) | check / baseline | plan tasks (ms) | bundles (ms) | compile --out (ms) | compile --out / baseline | rejected | peak MiB viewdag / baseline |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let default_jobs = viewdag_driver::parallel::default_jobs().to_string();
    for (ours, jobs) in [(&one_thread, "1"), (&default_threads, default_jobs.as_str())] {
        let (check, plan, bundles) = (field(ours, "check"), field(ours, "plan"), field(ours, "bundles"));
        let rejected = ours.split_whitespace().find_map(|pair| pair.strip_prefix("rejected=")).unwrap_or("?");
        let compile_out = check + plan + bundles;
        println!(
            "| 22 queries, {} views | {jobs} | {:.1} | {:.1} | {:.2}× | {:.1} | {:.1} | {:.1} | {:.2}× | {rejected} | {:.0} / {:.0} |",
            field(ours, "views"),
            base * 1e3,
            check * 1e3,
            check / base,
            plan * 1e3,
            bundles * 1e3,
            compile_out * 1e3,
            compile_out / base,
            field(ours, "peak_kib") / 1024.0,
            field(&baseline, "peak_kib") / 1024.0,
        );
    }
}

fn field(line: &str, key: &str) -> f64 {
    line.split_whitespace().find_map(|pair| pair.strip_prefix(&format!("{key}="))).and_then(|value| value.parse().ok()).unwrap_or(f64::NAN)
}

fn run_child(arguments: &[&str]) -> String {
    run_child_with(arguments, None)
}

/// Runs a scenario in a child process, its compiles on `jobs` threads when given (else as
/// this process was told).
fn run_child_with(arguments: &[&str], jobs: Option<usize>) -> String {
    let mut command = Command::new(std::env::current_exe().expect("this binary"));
    command.args(arguments);
    if let Some(jobs) = jobs {
        command.env(JOBS_VARIABLE, jobs.to_string());
    }
    let output = command.output().expect("the scenario runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// One row of the synthetic table: every scenario of `shape` at `count` views.
fn synthetic_row(shape: DagShape, count: usize, full_baseline_limit: usize) {
    let arguments = |scenario: &'static str| [scenario.to_string(), count.to_string(), shape.name().to_string()];
    let child = |scenario: &'static str| {
        let [scenario, count, shape] = arguments(scenario);
        run_child(&["--scenario", &scenario, &count, &shape])
    };
    let check = child("check");
    let compile = child("compile");
    let run = child("run");
    let outputs = child("baseline-outputs");
    let full = if count <= full_baseline_limit { format!("{:.2}", field(&child("baseline"), "cold")) } else { "not run".to_string() };
    println!(
        "| {} | {} | {:.3} | {:.0} | {:.3} | {} | {:.3} | {:.2}× | {full} | {:.3} | {} | {:.2} | {:.1} | {} | {:.1} | {} | {:.1} | {} | {:.1} | {} | {:.0} |",
        field(&check, "views"),
        shape.name(),
        field(&check, "check"),
        field(&check, "peak_kib") / 1024.0,
        field(&compile, "compile"),
        field(&compile, "inlined"),
        field(&outputs, "cold"),
        field(&compile, "compile") / field(&outputs, "cold"),
        field(&run, "run"),
        field(&run, "planned"),
        field(&compile, "noop") * 1e3,
        field(&compile, "leaf") * 1e3,
        field(&compile, "leaf_revalidated"),
        field(&compile, "schema") * 1e3,
        field(&compile, "schema_revalidated"),
        field(&compile, "add") * 1e3,
        field(&compile, "add_revalidated"),
        field(&compile, "remove") * 1e3,
        field(&compile, "remove_revalidated"),
        field(&compile, "peak_kib") / 1024.0,
    );
}

/// `--write-project DIR SHAPE COUNT`: writes the generated project (sources and
/// `spec.yaml`, seed 42, as every scenario generates it) into `DIR`, kept for profiling a
/// command on it by hand.
fn write_project(arguments: &[String]) {
    let [directory, shape, count] = arguments else {
        panic!("usage: bench-compile --write-project DIR transforms|sql COUNT");
    };
    let shape = DagShape::from_name(shape).expect("a shape: transforms or sql");
    let count: usize = count.parse().expect("a view count");
    std::fs::create_dir_all(directory).expect("the directory is created");
    let (_, spec_path, _) = SyntheticProject::write_into(directory.as_ref(), shape, count);
    println!("{}", spec_path.display());
}

/// The allocator of this binary (see `mimalloc` in the workspace's Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    if arguments.first().map(String::as_str) == Some("--write-project") {
        write_project(&arguments[1..]);
        return;
    }
    if arguments.first().map(String::as_str) == Some("--scenario") {
        let count: usize = arguments.get(2).and_then(|count| count.parse().ok()).unwrap_or(1000);
        let shape = arguments.get(3).and_then(|shape| DagShape::from_name(shape)).unwrap_or(DagShape::Transforms);
        let line = match arguments.get(1).map(String::as_str).unwrap_or_default() {
            "check" => scenario_check(shape, count),
            "compile" => scenario_compile(shape, count),
            "run" => scenario_run(shape, count),
            "leaf-loop" => scenario_leaf_loop(shape, count),
            "shape-loop" => scenario_shape_loop(shape, count),
            "lsp" => scenario_lsp(shape, count),
            "baseline" => scenario_baseline(shape, count, false),
            "baseline-outputs" => scenario_baseline(shape, count, true),
            "tpch-viewdag" => scenario_tpch_viewdag(),
            "tpch-baseline" => scenario_tpch_baseline(),
            "wide" => scenario_wide(count),
            "wide-sql" => scenario_wide_sql(count),
            "wide-sql-baseline" => scenario_wide_sql_baseline(count),
            "deep" => scenario_deep(count),
            "warm-process" => scenario_warm_process(shape, count),
            "parse" => scenario_parse(shape, count),
            "check-process" => scenario_check_process(shape, count),
            "run-process" => scenario_run_process(shape, count),
            _ => scenario_chain(),
        };
        println!("{line}");
        return;
    }
    // `--full-baseline-up-to N`: plan every view by hand only up to N views (it is
    // O(views × depth): minutes at 10k views, hours at 100k). `--shapes a,b`: which DAG
    // shapes (default both).
    let mut full_baseline_limit = 10_000;
    let mut shapes = vec![DagShape::Transforms, DagShape::SqlHeavy];
    let mut counts = Vec::new();
    let mut lsp = false;
    let mut warm_process = false;
    let mut parse = false;
    let mut check_process = false;
    let mut run_process = false;
    let mut tpch_only = false;
    let mut wide_sql = false;
    let mut words = arguments.iter();
    while let Some(word) = words.next() {
        match word.as_str() {
            "--full-baseline-up-to" => {
                full_baseline_limit = words.next().and_then(|limit| limit.parse().ok()).unwrap_or(full_baseline_limit)
            }
            "--shapes" => shapes = words.next().map(|names| names.split(',').filter_map(DagShape::from_name).collect()).unwrap_or(shapes),
            "--lsp" => lsp = true,
            "--warm-process" => warm_process = true,
            "--parse" => parse = true,
            "--check-process" => check_process = true,
            "--run-process" => run_process = true,
            "--tpch" => tpch_only = true,
            "--wide-sql" => wide_sql = true,
            count => counts.extend(count.parse::<usize>().ok()),
        }
    }
    if tpch_only {
        tpch_report();
        return;
    }
    if wide_sql {
        wide_sql_report(if counts.is_empty() { &[100, 300] } else { &counts });
        return;
    }
    if parse {
        parse_report(if counts.is_empty() { &[1000, 10000, 100000] } else { &counts }, &shapes);
        return;
    }
    if check_process {
        check_process_report(if counts.is_empty() { &[1000, 10000, 100000] } else { &counts }, &shapes);
        return;
    }
    if run_process {
        run_process_report(if counts.is_empty() { &[1000, 10000, 100000] } else { &counts }, &shapes);
        return;
    }
    if warm_process {
        warm_process_report(if counts.is_empty() { &[1000, 10000, 100000] } else { &counts }, &shapes);
        return;
    }
    if lsp {
        lsp_report(if counts.is_empty() { &[1000, 10000] } else { &counts }, &shapes);
        return;
    }
    if counts.is_empty() {
        counts = vec![1000, 10000, 100000];
    }
    println!("### Random view DAGs (chains up to {MAX_CHAIN} deep, {OUTPUTS} outputs), both shapes\n");
    println!(
        "| views | shape | check (s) | check peak MiB | compile tasks (s) | views inlined | baseline, outputs only (s) | compile ÷ baseline outputs | baseline, every view (s) | unchanged run (s) | run planned | no-op (ms) | leaf edit (ms) | leaf re-validated | schema edit (ms) | schema re-validated | add view (ms) | add re-validated | remove view (ms) | remove re-validated | compile peak MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for count in counts {
        for shape in &shapes {
            synthetic_row(*shape, count, full_baseline_limit);
        }
    }
    let chain = run_child(&["--scenario", "chain"]);
    println!(
        "\n200-deep chain, every view planned (`--all-views`): {:.3} s; 200 single views compiled one by one: {:.3} s; ratio {:.2}×",
        field(&chain, "chain"),
        field(&chain, "singles"),
        field(&chain, "chain") / field(&chain, "singles")
    );
    tpch_report();
}
