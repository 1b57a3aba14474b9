//! Completion, from the cursor's place in the YAML (read from the text, so it works while
//! the spec is half-typed): relation names where a relation is expected, the input's
//! columns inside expressions, transform keys and their fields, `kind`, `materialize`,
//! `format` and `mode` values, and type names in schemas and contracts.

use lsp_types::{CompletionItem, CompletionItemKind, Position as LspPosition};
use viewdag_ir::{JoinKind, RelationKind, TRANSFORM_KEYS};

use super::cursor::cursor_context;
use super::documents::Document;
use super::spec_project::SpecProject;
use super::view_inputs::view_inputs;

/// The fields of each transform, as the spec reference lists them.
fn transform_fields(transform: &str) -> &'static [&'static str] {
    match transform {
        "filter" => &["input", "predicate"],
        "project" => &["input", "columns"],
        "join" => &["left", "right", "kind", "on", "filter"],
        "aggregate" => &["input", "group_by", "measures"],
        "union" => &["inputs", "distinct"],
        "sort" => &["input", "by", "limit"],
        "limit" => &["input", "count", "offset"],
        "distinct" => &["input"],
        _ => &[],
    }
}

/// Fields that hold an expression over the view's inputs (or name their columns).
const EXPRESSION_FIELDS: [&str; 7] = ["predicate", "columns", "measures", "group_by", "by", "filter", "on"];

/// Type names offered in `schema:` and `contract.columns`.
const TYPE_NAMES: [&str; 17] = [
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float32",
    "float64",
    "utf8",
    "bool",
    "date32",
    "date64",
    "binary",
    "timestamp[us]",
    "decimal128(38,10)",
];

fn items(labels: impl IntoIterator<Item = impl Into<String>>, kind: CompletionItemKind, detail: &str) -> Vec<CompletionItem> {
    labels
        .into_iter()
        .map(|label| CompletionItem {
            label: label.into(),
            kind: Some(kind),
            detail: Some(detail.to_string()),
            ..CompletionItem::default()
        })
        .collect()
}

pub fn completion(project: &SpecProject, document: &Document, position: LspPosition) -> Vec<CompletionItem> {
    let at = document.lines.spec_position_of(&document.text, position);
    let context = cursor_context(&document.text, &document.lines, position.line, at.column.saturating_sub(1) as usize);
    let path: Vec<&str> = context.path.iter().map(String::as_str).collect();
    let relations = || relation_items(project, path.get(1).copied());
    match (path.as_slice(), context.in_key) {
        ([], true) => items(["version", "sources", "views", "outputs", "profile"], CompletionItemKind::MODULE, "spec section"),
        (["views", _], true) => {
            let mut offered = items(TRANSFORM_KEYS, CompletionItemKind::KEYWORD, "transform");
            offered.extend(items(["materialize"], CompletionItemKind::PROPERTY, "ephemeral | table"));
            offered
        }
        (["views", _, transform], true) => items(transform_fields(transform).iter().copied(), CompletionItemKind::PROPERTY, "field"),
        (["sources", _], true) => items(["format", "path", "schema", "version"], CompletionItemKind::PROPERTY, "field"),
        (["outputs", _], true) => items(["view", "path", "mode", "partition_by", "contract"], CompletionItemKind::PROPERTY, "field"),
        (["views", _, _, "input" | "left" | "right" | "inputs"], false) => relations(),
        (["outputs", _, "view"], false) => relations(),
        (["views", _, "join", "kind"], false) => {
            items(JoinKind::ALL.iter().map(|kind| format!("{kind:?}").to_lowercase()), CompletionItemKind::ENUM_MEMBER, "join kind")
        }
        (["views", _, "materialize"], false) => items(["ephemeral", "table"], CompletionItemKind::ENUM_MEMBER, "materialization"),
        (["sources", _, "format"], false) => items(["delta", "parquet", "csv"], CompletionItemKind::ENUM_MEMBER, "source format"),
        (["outputs", _, "mode"], false) => items(["overwrite", "append"], CompletionItemKind::ENUM_MEMBER, "write mode"),
        (["sources", _, "schema", _], false) | (["outputs", _, "contract", "columns", _], false) => {
            items(TYPE_NAMES, CompletionItemKind::TYPE_PARAMETER, "logical type")
        }
        (["outputs", output, "contract", "columns"], true) | (["outputs", output, "partition_by"], false) => {
            output_columns(project, output)
        }
        (["views", view, "sql"], false) => {
            let mut offered = relations();
            offered.extend(input_columns(project, document, view));
            offered
        }
        (["views", view, _, field, ..], false) if EXPRESSION_FIELDS.contains(field) || context.in_string => {
            input_columns(project, document, view)
        }
        (["views", view, _, "columns" | "measures"], true) => input_columns(project, document, view),
        _ => Vec::new(),
    }
}

/// Every source and view name, but the view being edited, in declaration order (from the
/// view DAG, which while the text does not parse is the last readable text's).
fn relation_items(project: &SpecProject, current: Option<&str>) -> Vec<CompletionItem> {
    let mut nodes = project.dag().nodes();
    nodes.sort_by_key(|node| (node.kind == RelationKind::View, node.declaration_index));
    nodes
        .into_iter()
        .filter(|node| Some(node.name.as_str()) != current)
        .map(|node| {
            let (kind, detail) = match node.kind {
                RelationKind::Source => (CompletionItemKind::CLASS, "source"),
                RelationKind::View => (CompletionItemKind::FUNCTION, "view"),
            };
            CompletionItem { label: node.name.clone(), kind: Some(kind), detail: Some(detail.to_string()), ..CompletionItem::default() }
        })
        .collect()
}

/// The columns of the view's inputs, each with its type and the input it comes from.
fn input_columns(project: &SpecProject, document: &Document, view: &str) -> Vec<CompletionItem> {
    let compiler = &project.compiler;
    let mut offered: Vec<CompletionItem> = Vec::new();
    for input in view_inputs(project, document, view) {
        let Some(schema) = compiler.snapshot().relation_schema(&input) else { continue };
        for field in schema.fields() {
            if offered.iter().any(|item| item.label == *field.name()) {
                continue;
            }
            offered.push(CompletionItem {
                label: field.name().clone(),
                kind: Some(CompletionItemKind::FIELD),
                detail: Some(format!("{} (from {input})", viewdag_ir::types::type_name(field.data_type()))),
                ..CompletionItem::default()
            });
        }
    }
    offered
}

/// The columns of an output's view.
fn output_columns(project: &SpecProject, output: &str) -> Vec<CompletionItem> {
    let compiler = &project.compiler;
    let Some(view) =
        compiler.parsed_spec().and_then(|parsed| parsed.outputs.get(output)).and_then(|spec| spec.as_ref()).map(|spec| spec.view.clone())
    else {
        return Vec::new();
    };
    let Some(schema) = compiler.snapshot().relation_schema(&view) else { return Vec::new() };
    schema
        .fields()
        .iter()
        .map(|field| CompletionItem {
            label: field.name().clone(),
            kind: Some(CompletionItemKind::FIELD),
            detail: Some(viewdag_ir::types::type_name(field.data_type())),
            ..CompletionItem::default()
        })
        .collect()
}
