//! The spec's YAML document read in the span index's scan (`SpanIndex::build_with_document`)
//! equals serde_yaml_ng's reading of every spec the repository holds and of generated specs;
//! where the scan defers (`None`), the parse reads the text with serde_yaml_ng itself.

use std::path::{Path, PathBuf};

use viewdag_ir::SpanIndex;
use viewdag_tests::generate::GeneratedProject;
use viewdag_tests::synthetic_dag::{DagShape, SyntheticDag};

/// Compares the scan's reading with serde_yaml_ng's; returns whether the scan answered.
fn agrees(text: &str, what: &str) -> bool {
    let Some(scanned) = SpanIndex::build_with_document(text).2 else { return false };
    let expected = serde_yaml_ng::from_str::<serde_json::Value>(text);
    assert!(expected.as_ref().ok() == Some(&scanned), "{what}: the scan read {scanned:?}, serde_yaml_ng {expected:?}");
    true
}

fn yaml_files(directory: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(directory).expect("a readable directory").flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() && name != "target" && !name.to_string_lossy().starts_with('.') {
            yaml_files(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "yaml" || extension == "yml") {
            found.push(path);
        }
    }
}

#[test]
fn every_yaml_file_of_the_repository_reads_as_serde_yaml_ng_reads_it() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for directory in ["examples", "tests", "docs", "fuzz"] {
        if workspace.join(directory).is_dir() {
            yaml_files(&workspace.join(directory), &mut files);
        }
    }
    assert!(files.len() >= 20, "{files:?}");
    let mut answered = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a readable file");
        answered += usize::from(agrees(text.strip_prefix('\u{feff}').unwrap_or(&text), &file.display().to_string()));
    }
    // The invalid fixtures (syntax errors, anchors, several documents) defer; the rest answer.
    assert!(answered * 2 > files.len(), "{answered} of {}", files.len());
}

#[test]
fn generated_specs_read_as_serde_yaml_ng_reads_them() {
    for count in [10, 1000, 5000] {
        for shape in [DagShape::Transforms, DagShape::SqlHeavy] {
            let text = SyntheticDag::generate(shape, count, 42).spec_yaml();
            assert!(agrees(&text, &format!("{count} {}", shape.name())), "the scan deferred on a generated spec");
        }
    }
    for seed in 0..40 {
        let text = GeneratedProject::generate(seed, 12).spec_yaml();
        assert!(agrees(&text, &format!("project {seed}")), "the scan deferred on a generated project");
    }
}
