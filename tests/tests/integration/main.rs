//! The integration test binary (one binary: each links DataFusion and deltalake).
//! One module per concern; shared helpers live in `support`.

mod support;

mod artifacts;
mod bad_input;
#[cfg(feature = "ballista")]
mod ballista;
mod diagnostics;
mod end_to_end;
mod golden;
mod incremental;
mod optimizer;
mod path_safety;
mod properties;
mod soundness;
mod tpch;
