//! Code hygiene that stays true: no import cycle between the files of a crate, no declared
//! dependency that no file names (`cargo machete`'s check, in-repo).
//!
//! Both read the workspace's manifests and sources (see `viewdag_tests::file_imports` and
//! `viewdag_tests::declared_dependencies`); a failure names the files and lines to fix.

use std::path::{Path, PathBuf};

use viewdag_tests::declared_dependencies::{unused_dependencies, workspace_packages};
use viewdag_tests::file_imports::ImportGraph;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the tests crate is in the workspace").to_path_buf()
}

/// Every crate of the workspace (from `cargo metadata`): no two of its files import each
/// other in a cycle.
#[test]
fn no_import_cycle_between_the_files_of_a_crate() {
    let packages = workspace_packages(&workspace_root()).expect("cargo metadata");
    assert!(packages.len() >= 12, "the workspace's crates, as cargo metadata lists them: {packages:?}");
    let mut cycles = Vec::new();
    for (package, directory) in packages {
        let graph = ImportGraph::of_crate(&directory).expect("the crate's sources are readable");
        assert!(!graph.imports().is_empty(), "{package}: no import found between its files (is the reader broken?)");
        for cycle in graph.cycles() {
            let imports: Vec<String> =
                cycle.iter().map(|import| format!("  {}:{} imports {}", import.from.display(), import.line, import.to.display())).collect();
            cycles.push(format!("{package}:\n{}", imports.join("\n")));
        }
    }
    assert!(cycles.is_empty(), "import cycles (move the shared item into a leaf module):\n{}", cycles.join("\n"));
}

#[test]
fn every_declared_dependency_is_used() {
    let unused = unused_dependencies(&workspace_root()).expect("cargo metadata");
    let listed: Vec<String> =
        unused.iter().map(|unused| format!("{} {} dependency `{}`", unused.package, unused.kind, unused.dependency)).collect();
    assert!(
        listed.is_empty(),
        "declared and never named (remove it, or list it under [package.metadata.cargo-machete] ignored with a reason):\n{}",
        listed.join("\n")
    );
}
