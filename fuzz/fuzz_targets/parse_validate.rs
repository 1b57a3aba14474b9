//! Arbitrary bytes through parse and validation: never a panic, never a stack overflow.
#![no_main]

use std::path::Path;
use std::sync::Mutex;

use libfuzzer_sys::fuzz_target;
use viewdag_driver::Compiler;
use viewdag_ir::{SpecFormat, parse_spec};

static COMPILER: Mutex<Option<Compiler>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_spec(&text, SpecFormat::Yaml);
    let _ = parse_spec(&text, SpecFormat::Json);
    let mut compiler = COMPILER.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let compiler = compiler.get_or_insert_with(|| Compiler::new().expect("a compiler"));
    // A directory that does not exist: sources fail to load, everything else is checked.
    let _ = compiler.compile_text(Path::new("/nonexistent-viewdag-fuzz/spec.yaml"), &text);
});
