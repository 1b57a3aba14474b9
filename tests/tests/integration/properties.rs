//! Properties over generated specs and data (see `viewdag_tests::generate`).

use proptest::prelude::*;
use viewdag_driver::{CompileRequest, Compiler, Planning, TaskOutcome, ViewStatus};
use viewdag_tests::generate::project_strategy;

use crate::support::TempProject;

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every generated spec checks without errors (warnings, e.g. a union of differently
    /// named columns, are allowed), compiles every view to P2, validates every view per view
    /// exactly as over inlined plans, and runs:
    /// every task writes a Delta table that a fresh reader opens with the same row count.
    #[test]
    fn every_generated_spec_checks_compiles_and_runs(project in project_strategy(7)) {
        let directory = TempProject::empty();
        let spec = project.write(directory.path());
        let mut compiler = Compiler::new().expect("a compiler");
        let compiled = compiler.compile(&CompileRequest::new(&spec).with_planning(Planning::AllViews)).expect("readable");
        for view in compiled.views.iter() {
            prop_assert!(matches!(view.status, ViewStatus::Compiled { .. }), "seed {}: {} {:?}", project.seed, view.name, view.status);
        }
        // Per-view validation (over inputs' schemas) agrees with validation over inlined plans.
        let agreement = crate::support::signatures_match_inlined(&compiler);
        prop_assert!(agreement.is_ok(), "seed {}: {}\n{}", project.seed, agreement.unwrap_err(), project.spec_yaml());
        let report = compiler.run(&CompileRequest::new(&spec), &mut |_| {}).expect("readable");
        prop_assert!(!report.compile.has_errors(), "seed {}: {:?}\n{}", project.seed, report.compile.diagnostics, project.spec_yaml());
        for view in report.compile.views.iter() {
            prop_assert!(view.status.is_valid(), "seed {}: {} {:?}", project.seed, view.name, view.status);
        }
        for task in &report.tasks {
            let TaskOutcome::Written { rows, .. } = &task.outcome else {
                return Err(TestCaseError::fail(format!("seed {}: {task:?}\n{}", project.seed, project.spec_yaml())));
            };
            let read_back = viewdag_tests::data::read_delta_rows(&directory.path().join(&task.target));
            prop_assert_eq!(read_back.len(), *rows, "seed {}: {}", project.seed, task.id);
        }
    }
}

/// The configurations the differential property compares against DataFusion's defaults.
const CONFIGURATIONS: [(&str, usize, usize); 6] =
    [("none", 1, 1), ("minimal", 4, 7), ("default", 1, 8192), ("none", 4, 8192), ("minimal", 1, 1), ("default", 4, 7)];

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    /// Rows are identical (as multisets) whatever the rulepack (`none`, `minimal`,
    /// `default`), `target_partitions` (1, 4) and batch size (1, 7, 8192).
    #[test]
    fn rows_do_not_depend_on_rulepack_partitions_or_batch_size(project in project_strategy(6), first in 0..CONFIGURATIONS.len(), second in 0..CONFIGURATIONS.len()) {
        let mut outputs_by_configuration = Vec::new();
        for (optimizer, partitions, batch) in [("default", 4, 8192), CONFIGURATIONS[first], CONFIGURATIONS[second]] {
            let directory = TempProject::empty();
            let spec = project.write(directory.path());
            let text = format!("{}profile:\n  optimizer: {optimizer}\n  target_partitions: {partitions}\n  batch_size: {batch}\n", project.spec_yaml());
            std::fs::write(&spec, text).expect("the spec is written");
            let mut compiler = Compiler::new().expect("a compiler");
            let report = compiler.run(&CompileRequest::new(&spec), &mut |_| {}).expect("readable");
            prop_assert!(report.succeeded(), "seed {} under {optimizer}/{partitions}/{batch}: {:?} {:?}", project.seed, report.compile.diagnostics, report.tasks);
            let rows: Vec<(String, Vec<String>)> = report.tasks.iter().map(|task| (task.id.to_string(), viewdag_tests::data::read_delta_rows(&directory.path().join(&task.target)))).collect();
            outputs_by_configuration.push(((optimizer, partitions, batch), rows));
        }
        let (baseline_configuration, baseline) = &outputs_by_configuration[0];
        for (configuration, rows) in &outputs_by_configuration[1..] {
            prop_assert!(rows == baseline, "seed {}: {configuration:?} differs from {baseline_configuration:?}\n{}", project.seed, project.spec_yaml());
        }
    }
}
