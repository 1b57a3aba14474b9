//! Golden snapshots of the shop example's plans: P0, P1, P2 and the optimizer trace (pass
//! ids and outcomes, no times) of every view, compared with
//! `tests/fixtures/golden/shop/VIEW.txt` (expect-test: refresh with `UPDATE_EXPECT=1`).

use std::path::PathBuf;

use viewdag_driver::{CompileRequest, Compiler};

use crate::support::{assert_snapshot_file, examples_dir};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/golden/shop")
}

#[test]
fn shop_example_plans_match_their_snapshots() {
    let mut compiler = Compiler::new().expect("a compiler");
    let response = compiler.compile(&CompileRequest::new(examples_dir().join("shop/spec.yaml"))).expect("readable");
    assert!(response.diagnostics.is_empty(), "{:?}", response.diagnostics);
    for view in compiler.snapshot().view_names() {
        let plans = compiler.snapshot().view_plans(&view).expect("declared").unwrap_or_else(|failure| panic!("{view}: {failure:?}"));
        let trace: Vec<String> = plans
            .optimized
            .trace
            .phases
            .iter()
            .chain(plans.physical.trace.phases.iter())
            .flat_map(|phase| phase.entries.iter())
            .map(|entry| format!("{} {}", entry.pass_id, entry.outcome.as_str()))
            .collect();
        let actual = format!(
            "== P0 ==\n{}\n== P1 ==\n{}\n== P2 ==\n{}\n== TRACE ==\n{}\n",
            plans.p0_text.trim_end(),
            plans.optimized.text.trim_end(),
            plans.physical.text.trim_end(),
            trace.join("\n")
        );
        assert!(!actual.contains("examples/shop") && !actual.contains("/tmp"), "{view}: plan text has a machine path:\n{actual}");
        assert_snapshot_file(&golden_dir().join(format!("{view}.txt")), &actual);
    }
}
