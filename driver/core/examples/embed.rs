//! Embedding viewdag: compile a spec and print each task's physical plan.
//!
//! `cargo run -p viewdag-driver --example embed -- examples/shop/spec.yaml`

use std::path::Path;

use viewdag_driver::{CompileRequest, Compiler, DriverError, Recording};

fn main() -> Result<(), DriverError> {
    let spec = std::env::args().nth(1).unwrap_or_else(|| "examples/shop/spec.yaml".to_string());
    print!("{}", physical_plans(Path::new(&spec))?);
    Ok(())
}

/// Every task's P2 (or the spec's diagnostics), as text.
pub fn physical_plans(spec: &Path) -> Result<String, DriverError> {
    let mut compiler = Compiler::new()?;
    let request = CompileRequest::new(spec).recording(Recording { plans: true, ..Recording::default() });
    let response = compiler.compile(&request)?;
    let mut text: String =
        response.diagnostics.iter().map(|diagnostic| format!("{}: {}\n", diagnostic.code.id(), diagnostic.message)).collect();
    for (view, plans) in &response.plans {
        text += &format!("== {view} ({}) ==\n{}\n", plans.physical.digest, plans.physical.text);
    }
    Ok(text)
}
