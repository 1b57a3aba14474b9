//! The relations a view reads, for requests about its expressions: from its parsed
//! definition, or — while the view is half-typed and does not parse — from its text
//! (`input:`, `left:`, `right:` and `inputs: [...]` on the lines of its entry).
//!
//! SQL views read what the view DAG says they read.

use viewdag_ir::Transform;

use super::documents::Document;
use super::spec_project::SpecProject;

/// The relations `view` reads, in the order it names them.
pub fn view_inputs(project: &SpecProject, document: &Document, view: &str) -> Vec<String> {
    let parsed = project.compiler.parsed_spec();
    match parsed.and_then(|parsed| parsed.views.get(view)) {
        Some(Some(definition)) => match &definition.transform {
            Transform::Sql(_) => project.dag().reads(view),
            transform => transform.named_inputs().into_iter().map(|(input, _)| input.to_string()).collect(),
        },
        _ => inputs_from_text(&document.text, view),
    }
}

/// Reads the input names of `view` from the lines of its entry under `views:`.
fn inputs_from_text(text: &str, view: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let indentation = |line: &str| line.chars().take_while(|character| *character == ' ').count();
    let mut in_views = false;
    let mut entry: Option<usize> = None;
    let mut inputs = Vec::new();
    for line in lines {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = indentation(line);
        if indent == 0 {
            in_views = line.starts_with("views:");
            if entry.is_some() {
                break;
            }
            continue;
        }
        match entry {
            None if in_views => {
                let key = line.trim_start().split(':').next().unwrap_or("").trim().trim_matches(['"', '\'']);
                if key == view {
                    entry = Some(indent);
                    inputs.extend(inputs_on_line(line.trim_start().split_once(':').map(|(_, rest)| rest).unwrap_or("")));
                }
            }
            Some(entry_indent) if indent <= entry_indent => break,
            Some(_) => inputs.extend(inputs_on_line(line)),
            None => {}
        }
    }
    inputs
}

fn inputs_on_line(line: &str) -> Vec<String> {
    let identifier = |text: &str| -> Option<String> {
        let name: String = text
            .trim_start()
            .trim_start_matches(['"', '\''])
            .chars()
            .take_while(|character| character.is_alphanumeric() || *character == '_')
            .collect();
        (!name.is_empty()).then_some(name)
    };
    let mut inputs = Vec::new();
    for key in ["input:", "left:", "right:"] {
        let mut rest = line;
        while let Some(at) = rest.find(key) {
            let boundary = at == 0 || !rest[..at].ends_with(|character: char| character.is_alphanumeric() || character == '_');
            if boundary && let Some(name) = identifier(&rest[at + key.len()..]) {
                inputs.push(name);
            }
            rest = &rest[at + key.len()..];
        }
    }
    if let Some(at) = line.find("inputs:")
        && let Some(list) = line[at + "inputs:".len()..].trim_start().strip_prefix('[')
    {
        let list = list.split(']').next().unwrap_or("");
        inputs.extend(list.split(',').filter_map(identifier));
    }
    inputs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_of_a_half_typed_view() {
        let text = "views:\n  a:\n    filter: { input: orders, predicate: \"amo\n  j:\n    join:\n      left: a\n      right: \"customers\"\n  u:\n    union: { inputs: [a, j] }\noutputs: {}\n";
        assert_eq!(inputs_from_text(text, "a"), ["orders"]);
        assert_eq!(inputs_from_text(text, "j"), ["a", "customers"]);
        assert_eq!(inputs_from_text(text, "u"), ["a", "j"]);
        assert!(inputs_from_text(text, "missing").is_empty());
        let text = "# c\nversion: 1\nviews:\n  draft:\n    filter: { input: paid_orders, predicat: \"amount > \n  paid_orders:\n    filter: { input: orders, predicate: \"a\" }\n";
        assert_eq!(inputs_from_text(text, "draft"), ["paid_orders"]);
    }
}
