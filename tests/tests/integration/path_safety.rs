//! Nothing a spec names may destroy data it does not own: view names are single path
//! components (`V0108`), source and output paths stay inside the project root or a root
//! the profile allows (`V0505`), and no output writes a source, the table store or the
//! project root (`V0504`). Each refused form is run for real and the source table checked
//! untouched (its Delta version unchanged).

use viewdag_driver::{CompileRequest, Compiler, TaskOutcome};
use viewdag_tests::data::delta_version;

use crate::support::TempProject;

const SOURCES: &str = "sources:\n  orders: { format: delta, path: data/orders }\n";

#[test]
fn a_view_named_like_a_path_is_refused_and_the_source_is_untouched() {
    let project = TempProject::with_shop_data();
    let orders = project.path().join("data/orders");
    let version = delta_version(&orders).expect("the source is a Delta table");
    let text = format!(
        "version: 1\n{SOURCES}views:\n  \"../../data/orders\":\n    filter: {{ input: orders, predicate: \"amount > 0\" }}\n    materialize: table\n  \
         reader:\n    distinct: {{ input: \"../../data/orders\" }}\n    materialize: table\n  fine:\n    distinct: {{ input: orders }}\n    materialize: table\n"
    );
    let spec = project.write_spec("spec.yaml", &text);
    let report = Compiler::new().unwrap().run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    assert!(report.compile.diagnostics.iter().any(|diagnostic| diagnostic.code.id() == "V0108"), "{:?}", report.compile.diagnostics);
    let outcome = |id: &str| report.tasks.iter().find(|task| task.id == id).map(|task| task.outcome.clone());
    assert!(matches!(outcome("view:../../data/orders"), Some(TaskOutcome::Skipped { .. })), "{:?}", report.tasks);
    assert!(matches!(outcome("view:reader"), Some(TaskOutcome::Skipped { .. })), "{:?}", report.tasks);
    assert!(matches!(outcome("view:fine"), Some(TaskOutcome::Written { .. })), "{:?}", report.tasks);
    assert_eq!(delta_version(&orders), Some(version), "the source table was not written");
    assert!(!project.path().join(".viewdag/tables/..").join("reader").exists());
}
