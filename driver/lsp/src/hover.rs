//! Hover: on a source or view name (declared or read), its kind, status, materialization,
//! inputs, dependents and schema; on a column inside an expression, its type, the input it
//! comes from and its lineage upstream.

use arrow_schema::SchemaRef;
use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind, Position as LspPosition, Range};
use viewdag_ir::types::type_name;
use viewdag_ir::{Position, Section};

use viewdag_driver::ViewStatus;

use super::cursor::{cursor_context, word_at};
use super::documents::Document;
use super::lineage::column_lineage;
use super::occurrences::occurrence_at;
use super::spec_project::SpecProject;
use super::view_inputs::view_inputs;

pub fn hover(project: &SpecProject, document: &Document, position: LspPosition) -> Option<Hover> {
    project.response.as_ref()?;
    let at = document.lines.spec_position_of(&document.text, position);
    if let Some(occurrence) = project.compiler.parsed_spec().and_then(|parsed| occurrence_at(parsed, at)) {
        let range = Range::new(
            document.lines.lsp_position_of(&document.text, occurrence.start),
            document.lines.lsp_position_of(&document.text, occurrence.end),
        );
        return Some(markdown(relation_hover(project, &occurrence.name)?, range));
    }
    column_hover(project, document, position, at)
}

fn markdown(value: String, range: Range) -> Hover {
    Hover { contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value }), range: Some(range) }
}

fn schema_table(schema: &SchemaRef) -> String {
    let mut table = String::from("| column | type |\n|---|---|\n");
    for field in schema.fields() {
        let nullability = if field.is_nullable() { "" } else { " not null" };
        table.push_str(&format!("| `{}` | `{}{nullability}` |\n", field.name(), type_name(field.data_type())));
    }
    table
}

fn names(names: &[String]) -> String {
    if names.is_empty() { "nothing".to_string() } else { names.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ") }
}

/// The hover text of a source or view.
pub fn relation_hover(project: &SpecProject, name: &str) -> Option<String> {
    let compiler = &project.compiler;
    let parsed = compiler.parsed_spec()?;
    let snapshot = compiler.snapshot();
    let dag = project.dag();
    let schema = snapshot.relation_schema(name);
    let mut text = String::new();
    if let Some(source) = parsed.sources.get(name) {
        match source {
            Some(spec) => text.push_str(&format!("**source** `{name}` — {} at `{}`\n\n", spec.format.as_str(), spec.path)),
            None => text.push_str(&format!("**source** `{name}` (malformed)\n\n")),
        }
        if schema.is_none() {
            text.push_str("could not be loaded (see its diagnostic)\n\n");
        }
    } else if let Some(definition) = parsed.views.get(name) {
        match definition {
            Some(definition) => {
                let materialization = if definition.is_materialized() {
                    "materialized as a table"
                } else if snapshot.is_materialized(name) {
                    "materialized automatically: a chain of ephemeral views as long as one plan may inline ends here"
                } else {
                    "ephemeral (inlined into its readers)"
                };
                text.push_str(&format!("**view** `{name}` — `{}`, {materialization}\n\n", definition.transform.key()));
            }
            None => text.push_str(&format!("**view** `{name}` (does not parse)\n\n")),
        }
        let status = project.view_outcome(name).map(|view| view.status.clone());
        match status {
            Some(ViewStatus::Failed) => text.push_str("has errors\n\n"),
            Some(ViewStatus::Blocked { upstream }) => text.push_str(&format!("blocked: `{upstream}` has errors\n\n")),
            _ => {}
        }
        text.push_str(&format!("reads {}\n\n", names(&dag.reads(name))));
    } else {
        return None;
    }
    text.push_str(&format!("read by {}\n\n", names(&dag.readers(name))));
    let outputs: Vec<String> = parsed
        .outputs
        .iter()
        .filter_map(|(output, spec)| spec.as_ref().filter(|spec| spec.view == name).map(|spec| format!("`{output}` → `{}`", spec.path)))
        .collect();
    if !outputs.is_empty() {
        text.push_str(&format!("written by output {}\n\n", outputs.join(", ")));
    }
    if let Some(schema) = schema {
        text.push_str(&schema_table(&schema));
    }
    Some(text)
}

/// A column named inside one of a view's expressions (or SQL).
fn column_hover(project: &SpecProject, document: &Document, position: LspPosition, at: Position) -> Option<Hover> {
    let column = at.column.saturating_sub(1) as usize;
    let context = cursor_context(&document.text, &document.lines, position.line, column);
    let [section, view, ..] = context.path.as_slice() else { return None };
    if section != Section::Views.key()? || context.path.len() < 3 {
        return None;
    }
    let line_text = document.lines.line_text(&document.text, position.line);
    let (word, characters) = word_at(line_text, column)?;
    let compiler = &project.compiler;
    for input in view_inputs(project, document, view) {
        let Some(schema) = compiler.snapshot().relation_schema(&input) else { continue };
        let Ok(field) = schema.field_with_name(&word) else { continue };
        let mut text = format!("**column** `{word}`: `{}`\n\nfrom `{input}`\n", type_name(field.data_type()));
        let lineage = column_lineage(compiler, &input, &word);
        if !lineage.is_empty() {
            text.push_str("\nlineage:\n");
            for step in lineage {
                text.push_str(&format!("- {step}\n"));
            }
        }
        let start = Position { line: at.line, column: characters.start as u32 + 1 };
        let end = Position { line: at.line, column: characters.end as u32 + 1 };
        let range = Range::new(document.lines.lsp_position_of(&document.text, start), document.lines.lsp_position_of(&document.text, end));
        return Some(markdown(text, range));
    }
    None
}
