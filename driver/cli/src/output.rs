//! What every command prints the same way: output formats, diagnostics on stderr, exit codes.

use std::io::IsTerminal;

use clap::ValueEnum;
use viewdag_driver::render::render_human;
use viewdag_driver::{CompileResponse, Compiler};

/// How a command prints its result.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// Text for people (diagnostics on stderr, with colour on a terminal).
    Human,
    /// One JSON document on stdout.
    Json,
}

impl Format {
    /// Whether JSON was asked for.
    pub fn is_json(self) -> bool {
        self == Format::Json
    }
}

/// Prints a response's diagnostics on stderr (coloured on a terminal).
pub fn print_diagnostics(compiler: &Compiler, response: &CompileResponse) {
    if response.diagnostics.is_empty() {
        return;
    }
    let source = compiler.spec_source().expect("a compiled spec has a source");
    let color = std::io::stderr().is_terminal();
    eprint!("{}", render_human(source, &response.diagnostics, color));
}

/// 1 when the spec has errors, else 0.
pub fn exit_code(response: &CompileResponse) -> i32 {
    if response.has_errors() { 1 } else { 0 }
}
