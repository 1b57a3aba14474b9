//! The host's side of `replay`: compiling the spec whose providers the bundles are replayed
//! on; the replay itself reads a snapshot (`replay.rs`).

use std::path::Path;

use super::{CompileRequest, Compiler};
use crate::artifacts::read_compile_output;
use crate::error::DriverError;
use crate::replay::ReplayedView;

impl Compiler {
    /// Compiles `spec`, then replays every bundle in `dir` against the providers it loads
    /// now ([`Snapshot::replay_bundles`](crate::Snapshot::replay_bundles)).
    pub fn replay(&mut self, dir: &Path, spec: &Path) -> Result<Vec<ReplayedView>, DriverError> {
        let output = read_compile_output(dir)?;
        self.compile(&CompileRequest::new(spec))?;
        Ok(self.snapshot().replay_bundles(&output))
    }
}
