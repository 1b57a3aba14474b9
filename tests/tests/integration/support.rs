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
