//! Code hygiene that stays true: no import cycle between the files of a crate, no declared
//! dependency that no file names (`cargo machete`'s check, in-repo), every `Compiler`
//! method in the host's own files (the host/snapshot split), and no error that is only text
//! (`Result<_, String>`) in library code.
//!
//! They read the workspace's manifests and sources (see `viewdag_tests::file_imports`,
//! `viewdag_tests::declared_dependencies` and `viewdag_tests::type_mentions`); a failure names
//! the files and lines to fix.

use std::path::{Path, PathBuf};

use viewdag_tests::declared_dependencies::{unused_dependencies, workspace_packages};
use viewdag_tests::file_imports::{ImportGraph, collect_rust_files};
use viewdag_tests::type_mentions::{impl_blocks_of, string_error_results};

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

/// The host/snapshot split: `Compiler` (the host, which sets inputs and binds tables) has its
/// methods in its own files only, `driver/core/src/compiler.rs` and `compiler/`; every
/// read-only concern extends `Snapshot` in the file that owns it.
#[test]
fn compiler_methods_live_in_the_host_files_only() {
    let src = workspace_root().join("driver/core/src");
    let mut files = Vec::new();
    collect_rust_files(&src, &mut files).expect("the driver's sources are readable");
    let is_host_file = |path: &Path| path == src.join("compiler.rs") || path.starts_with(src.join("compiler"));
    let (mut in_host, mut outside) = (0, Vec::new());
    for file in files {
        let source = std::fs::read_to_string(&file).expect("a source file is readable");
        let blocks = impl_blocks_of(&source, "Compiler");
        if is_host_file(&file) {
            in_host += blocks.len();
        } else {
            outside.extend(blocks.into_iter().map(|line| format!("  {}:{line}", file.strip_prefix(&src).unwrap_or(&file).display())));
        }
    }
    assert!(in_host >= 3, "the host's own `impl Compiler` blocks are found (is the reader broken?)");
    assert!(outside.is_empty(), "`impl Compiler` outside the host's files (make it a function of `Snapshot`):\n{}", outside.join("\n"));
}

/// Library code has typed errors: no crate of the workspace but the command line (clap's
/// `value_parser` convention is `Result<_, String>`) and the test support names
/// `Result<…, String>` in its `src/`.
#[test]
fn library_code_names_no_string_error() {
    let packages = workspace_packages(&workspace_root()).expect("cargo metadata");
    let libraries: Vec<(String, PathBuf)> =
        packages.into_iter().filter(|(package, _)| package != "viewdag-cli" && package != "viewdag-tests").collect();
    assert!(libraries.len() >= 10, "the workspace's library crates, as cargo metadata lists them: {libraries:?}");
    let mut found = Vec::new();
    for (package, directory) in libraries {
        let mut files = Vec::new();
        collect_rust_files(&directory.join("src"), &mut files).expect("the crate's sources are readable");
        for file in files {
            let source = std::fs::read_to_string(&file).expect("a source file is readable");
            let relative = file.strip_prefix(&directory).unwrap_or(&file).display().to_string();
            found.extend(string_error_results(&source).into_iter().map(|line| format!("  {package}: {relative}:{line}")));
        }
    }
    assert!(found.is_empty(), "`Result<_, String>` in library code (give it a typed error, thiserror):\n{}", found.join("\n"));
}
