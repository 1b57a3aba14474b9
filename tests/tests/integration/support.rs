//! Helpers: a temporary project directory with the shop data and a spec.

use std::path::{Path, PathBuf};

use viewdag_driver::{CompileRequest, CompileResponse, Compiler};

/// A temporary project: the shop example's data under `data/` and a spec file.
pub struct TempProject {
    pub directory: tempfile::TempDir,
}

impl TempProject {
    /// An empty project directory.
    pub fn empty() -> Self {
        TempProject { directory: tempfile::tempdir().expect("a temporary directory") }
    }

    /// A project with the shop example's sources written fresh under `data/`.
    pub fn with_shop_data() -> Self {
        let project = TempProject::empty();
        viewdag_tests::shop::write_shop_data(&project.path().join("data"));
        project
    }

    pub fn path(&self) -> &Path {
        self.directory.path()
    }

    /// Writes `spec.yaml` (or another name) and returns its path.
    pub fn write_spec(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, text).expect("the spec is written");
        path
    }

    pub fn compile(&self, compiler: &mut Compiler, name: &str, text: &str) -> CompileResponse {
        let path = self.write_spec(name, text);
        compiler.compile(&CompileRequest::new(path)).expect("the spec is readable")
    }
}

/// The shop example's spec text (as shipped in `examples/shop/spec.yaml`).
pub fn shop_spec() -> String {
    std::fs::read_to_string(examples_dir().join("shop/spec.yaml")).expect("the example spec is readable")
}

pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// The codes of all diagnostics, in order.
pub fn codes(response: &CompileResponse) -> Vec<&'static str> {
    response.diagnostics.iter().map(|diagnostic| diagnostic.code.id()).collect()
}

/// Per-view validation against inputs' signatures must agree with validating each view over
/// its inputs' whole inlined plans (the reference): same schema (names, types,
/// nullability), same warnings, same errors, same blocked upstream. Returns the first
/// disagreement.
pub fn signatures_match_inlined(compiler: &Compiler) -> Result<(), String> {
    let db = compiler.snapshot().database();
    for view in viewdag_ir::ProjectInput::get(db).views(db) {
        let name = view.name(db);
        let per_view = viewdag_lower::view_signature(db, *view).clone();
        let inlined = viewdag_lower::inlined_signature(db, *view);
        let agree = match (&per_view, &inlined) {
            (Ok(per_view), Ok(inlined)) => per_view.schema.inner() == inlined.schema.inner() && per_view.warnings == inlined.warnings,
            (Err(per_view), Err(inlined)) => per_view == inlined,
            _ => false,
        };
        if !agree {
            return Err(format!("view `{name}`: per view {per_view:?}\ninlined {inlined:?}"));
        }
    }
    Ok(())
}

/// Compiles with every view planned (not only the tasks).
pub fn compile_all_views(project: &TempProject, compiler: &mut Compiler, name: &str, text: &str) -> CompileResponse {
    let path = project.write_spec(name, text);
    compiler.compile(&CompileRequest::new(path).with_planning(viewdag_driver::Planning::AllViews)).expect("the spec is readable")
}

/// Compares `actual` with the committed snapshot file at `path` (absolute), through
/// expect-test's `expect_file`: a mismatch fails with a diff; `UPDATE_EXPECT=1` rewrites the
/// file instead. The one snapshot convention of the test suite (diagnostics corpus, golden
/// plans, JSON Schemas).
pub fn assert_snapshot_file(path: &Path, actual: &str) {
    assert!(path.is_absolute(), "snapshot paths are absolute: {}", path.display());
    expect_test::ExpectFile { path: path.to_path_buf(), position: file!() }.assert_eq(actual);
}

pub use viewdag_tests::data::copy_tree;

/// A cache file (the signature cache's framing) that is whole, with no entry, of `format`
/// and written by viewdag `version`: another build's cache.
pub fn memo_file_of_another_build(format: u32, version: &str) -> Vec<u8> {
    use viewdag_lower::signature_memo::HEADER_LENGTH;
    let mut body = b"viewdag signature memo\0".to_vec();
    body.extend_from_slice(&format.to_le_bytes());
    let length = HEADER_LENGTH + 8 + version.len() + 8 + 8 + 32;
    body.extend_from_slice(&(length as u64).to_le_bytes());
    body.extend_from_slice(&(version.len() as u64).to_le_bytes());
    body.extend_from_slice(version.as_bytes());
    body.extend_from_slice(&0u64.to_le_bytes()); // no value
    body.extend_from_slice(&0u64.to_le_bytes()); // no entry
    let checksum = blake3::hash(&body);
    body.extend_from_slice(checksum.as_bytes());
    assert_eq!(body.len(), length);
    body
}
