//! What every command prints the same way: output formats, diagnostics on stderr, exit codes.

use std::io::{IsTerminal, Write};

use clap::ValueEnum;
use viewdag_driver::command_replay::CommandOutput;
use viewdag_driver::render::render_human;
use viewdag_driver::{CompileResponse, Compiler, SpecSource};

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

    /// Its name, as the flag takes it (`human`, `json`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
        }
    }
}

/// Prints a response's diagnostics on stderr (coloured on a terminal).
pub fn print_diagnostics(compiler: &Compiler, response: &CompileResponse) {
    let source = compiler.spec_source().expect("a compiled spec has a source");
    eprint!("{}", render_diagnostics(source, response, std::io::stderr().is_terminal()));
}

/// A response's diagnostics as [`print_diagnostics`] prints them (nothing when there are none).
pub fn render_diagnostics(source: &SpecSource, response: &CompileResponse, color: bool) -> String {
    match response.diagnostics.is_empty() {
        true => String::new(),
        false => render_human(source, &response.diagnostics, color),
    }
}

/// 1 when the spec has errors, else 0.
pub fn exit_code(response: &CompileResponse) -> i32 {
    if response.has_errors() { 1 } else { 0 }
}

/// Prints a command's whole output (a replayed one's, or one gathered to be recorded); its
/// exit code.
pub fn print_output(output: &CommandOutput) -> i32 {
    // Written whole, as the command's own prints were.
    let _ = std::io::stdout().lock().write_all(output.stdout.as_bytes());
    let _ = std::io::stderr().lock().write_all(output.stderr.as_bytes());
    output.exit_code
}
