//! The integration test binary (one binary: each links DataFusion and deltalake).
//! One module per concern; shared helpers live in `support`.

mod support;

mod artifacts;
mod bad_input;
#[cfg(feature = "ballista")]
mod ballista;
mod command_replay;
mod delta_types;
mod determinism;
mod diagnostics;
mod docs_site;
mod embed;
mod end_to_end;
mod execute;
mod expectations;
mod golden;
mod hygiene;
mod incremental;
mod lsp;
mod lsp_robustness;
mod merge;
mod object_storage;
mod optimizer;
mod parallel_compile;
mod path_safety;
mod persistent_cache;
mod properties;
mod refresh;
// The incremental-refresh property runs local engines only (no Ballista, no Substrait): it
// runs once in CI, in the plain `cargo test --workspace` pass, not again in the pass with the
// `ballista` and `substrait` features, whose engine code it never reaches.
#[cfg(not(feature = "ballista"))]
mod refresh_property;
mod refresh_resume;
mod run_safety;
mod selection;
mod soundness;
mod surface_governance;
mod tpch;
mod wide_views;
mod yaml_reading;
