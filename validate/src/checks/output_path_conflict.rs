//! `V0504 output-path-conflict`: two outputs write the same Delta table, or one table lies
//! inside another's directory, or an output writes into the table store of materialized
//! views. Tasks run concurrently, so such writes would conflict or silently replace each
//! other's rows.
//!
//! Paths are compared lexically (relative to the spec's directory, `.` and `..` resolved, no
//! file-system access), so two spellings of one directory are one path.

use viewdag_ir::{Code, Diagnostic, FieldPath, SpecLocation};

use super::CheckContext;

/// Where materialized views are written, relative to the spec's directory (the driver's
/// `TABLE_STORE`).
const TABLE_STORE: [&str; 2] = [".viewdag", "tables"];

/// `path`'s components with `.` dropped and `..` applied; an absolute path starts with "/".
fn components(path: &str) -> Vec<String> {
    let mut parts: Vec<String> = if path.starts_with('/') { vec!["/".to_string()] } else { Vec::new() };
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|last| last != ".." && last != "/") => {
                parts.pop();
            }
            other => parts.push(other.to_string()),
        }
    }
    parts
}

fn path_location(output: &str) -> SpecLocation {
    SpecLocation::output(output).with_field(FieldPath::from(["path"]))
}

pub fn check(context: &CheckContext) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut seen: Vec<(&str, Vec<String>)> = Vec::new();
    for (output, spec) in context.outputs {
        let Some(spec) = spec else { continue };
        let path = components(&spec.path);
        if path.len() >= TABLE_STORE.len() && path.iter().zip(TABLE_STORE).all(|(part, store)| part == store) {
            diagnostics.push(Diagnostic::new(
                Code::OutputPathConflict,
                path_location(output),
                format!("output `{output}` writes into `.viewdag/tables`, where viewdag keeps the tables of materialized views"),
            ));
            continue;
        }
        let clash = seen.iter().find(|(_, other)| other.starts_with(&path) || path.starts_with(other));
        if let Some((first, other)) = clash {
            let message = if *other == path {
                format!("output `{output}` writes the same Delta table as output `{first}` (`{}`)", spec.path)
            } else {
                format!("output `{output}`'s Delta table (`{}`) and output `{first}`'s lie one inside the other", spec.path)
            };
            diagnostics.push(
                Diagnostic::new(Code::OutputPathConflict, path_location(output), message)
                    .with_label(path_location(first), "written here too")
                    .with_note("outputs run at the same time: give each its own directory"),
            );
            continue;
        }
        seen.push((output, path));
    }
    diagnostics
}

#[cfg(test)]
mod tests {
    use super::components;

    #[test]
    fn spellings_of_one_directory_are_one_path() {
        assert_eq!(components("out/a"), components("./out//a/"));
        assert_eq!(components("out/x/../a"), components("out/a"));
        assert_eq!(components("../shared/a"), vec!["..", "shared", "a"]);
        assert_eq!(components("/abs/a"), vec!["/", "abs", "a"]);
        assert_ne!(components("out/a"), components("out/ab"));
    }
}
