//! The view DAG as Graphviz dot or Mermaid.

use viewdag_ir::{RelationKind, ViewDag};

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\\\""))
}

/// The DAG in Graphviz's DOT language: sources, ephemeral and materialized views, outputs.
pub fn to_dot(dag: &ViewDag, is_materialized: &dyn Fn(&str) -> bool, outputs: &[(String, String)]) -> String {
    let mut text = String::from("digraph viewdag {\n  rankdir=LR;\n");
    for node in dag.nodes() {
        let shape = match node.kind {
            RelationKind::Source => "cylinder",
            RelationKind::View if is_materialized(&node.name) => "box3d",
            RelationKind::View => "box",
        };
        text.push_str(&format!("  {} [shape={shape}];\n", quote(&node.name)));
    }
    for (from, to) in dag.edges() {
        text.push_str(&format!("  {} -> {};\n", quote(&from), quote(&to)));
    }
    for (output, view) in outputs {
        let id = format!("output:{output}");
        text.push_str(&format!("  {} [shape=note];\n  {} -> {};\n", quote(&id), quote(view), quote(&id)));
    }
    text.push_str("}\n");
    text
}

fn mermaid_id(name: &str) -> String {
    name.chars().map(|character| if character.is_alphanumeric() { character } else { '_' }).collect()
}

/// The DAG as a Mermaid flowchart (the same nodes and edges as [`to_dot`]).
pub fn to_mermaid(dag: &ViewDag, is_materialized: &dyn Fn(&str) -> bool, outputs: &[(String, String)]) -> String {
    let mut text = String::from("flowchart LR\n");
    for node in dag.nodes() {
        let id = mermaid_id(&node.name);
        let shape = match node.kind {
            RelationKind::Source => format!("{id}[({})]", node.name),
            RelationKind::View if is_materialized(&node.name) => format!("{id}[[{}]]", node.name),
            RelationKind::View => format!("{id}[{}]", node.name),
        };
        text.push_str(&format!("  {shape}\n"));
    }
    for (from, to) in dag.edges() {
        text.push_str(&format!("  {} --> {}\n", mermaid_id(&from), mermaid_id(&to)));
    }
    for (output, view) in outputs {
        let id = format!("output_{}", mermaid_id(output));
        text.push_str(&format!("  {id}>{output}]\n  {} --> {id}\n", mermaid_id(view)));
    }
    text
}
