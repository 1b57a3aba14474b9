//! `--no-cache`: the flag of the commands that keep view signatures across processes
//! (`check`, `compile`, `run`) in `.viewdag/cache/` next to the spec.

use viewdag_driver::{Compiler, DriverError};

/// The cache flag, flattened into a command's arguments.
#[derive(Debug, clap::Args)]
pub struct CacheArgs {
    /// Neither read nor write the signature cache in `.viewdag/cache/` (results are the
    /// same with and without it; to clear it: `rm -rf .viewdag/cache`).
    #[arg(long)]
    no_cache: bool,
}

impl CacheArgs {
    /// Whether the cache is on (no `--no-cache`).
    pub fn enabled(&self) -> bool {
        !self.no_cache
    }

    /// A compiler that keeps signatures across processes unless `--no-cache`.
    pub fn compiler(&self) -> Result<Compiler, DriverError> {
        Ok(Compiler::new()?.with_persistent_cache(self.enabled()))
    }
}
