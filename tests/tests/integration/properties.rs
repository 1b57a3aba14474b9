//! Properties over generated specs and data (see `viewdag_tests::generate`).

use proptest::prelude::*;
use viewdag_driver::{CompileRequest, Compiler, TaskOutcome, ViewStatus};
use viewdag_tests::generate::project_strategy;

use crate::support::TempProject;

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every generated spec checks without errors (warnings, e.g. a union of differently
    /// named columns, are allowed), compiles every view to P2, and runs:
    /// every task writes a Delta table that a fresh reader opens with the same row count.
    #[test]
    fn every_generated_spec_checks_compiles_and_runs(project in project_strategy(7)) {
        let directory = TempProject::empty();
        let spec = project.write(directory.path());
        let mut compiler = Compiler::new().expect("a compiler");
        let report = compiler.run(&CompileRequest::new(&spec), &mut |_| {}).expect("readable");
        prop_assert!(!report.compile.has_errors(), "seed {}: {:?}\n{}", project.seed, report.compile.diagnostics, project.spec_yaml());
        for view in &report.compile.views {
            prop_assert!(matches!(view.status, ViewStatus::Compiled { .. }), "seed {}: {} {:?}", project.seed, view.name, view.status);
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
