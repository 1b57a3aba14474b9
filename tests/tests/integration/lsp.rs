//! `viewdag lsp` driven over stdio by a test client (`viewdag_tests::lsp_client`): the real
//! binary, the shop example's real data. Diagnostics appear and disappear at the right
//! ranges as the text changes (half-typed YAML included), hover shows schemas and column
//! lineage, definition/references/completion/symbols/quick fixes answer from the last
//! check; and, as a property, the diagnostics published after a random edit sequence equal
//! those of a fresh `viewdag check` of the final text.

use std::path::Path;

use serde_json::{Value, json};
use viewdag_tests::generate::{GeneratedProject, Random};
use viewdag_tests::lsp_client::{LspClient, file_uri};
use viewdag_tests::synthetic_dag::{DagShape, SyntheticProject};

use crate::support::{TempProject, shop_spec};

fn server() -> LspClient {
    LspClient::spawn(Path::new(env!("CARGO_BIN_EXE_viewdag-cli")))
}

/// The 0-based line and character of the `nth` occurrence of `needle` (ASCII text).
fn position_of(text: &str, needle: &str, nth: usize) -> (u32, u32) {
    let offset = text.match_indices(needle).nth(nth).unwrap_or_else(|| panic!("`{needle}` #{nth} is in the text")).0;
    let line = text[..offset].matches('\n').count() as u32;
    let character = (offset - text[..offset].rfind('\n').map(|newline| newline + 1).unwrap_or(0)) as u32;
    (line, character)
}

fn at(uri: &str, (line, character): (u32, u32)) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } })
}

fn range_of(diagnostic: &Value) -> (u64, u64, u64, u64) {
    let range = &diagnostic["range"];
    let number = |value: &Value| value.as_u64().expect("a number");
    (
        number(&range["start"]["line"]),
        number(&range["start"]["character"]),
        number(&range["end"]["line"]),
        number(&range["end"]["character"]),
    )
}

fn codes(diagnostics: &[Value]) -> Vec<String> {
    diagnostics.iter().map(|diagnostic| diagnostic["code"].as_str().unwrap_or("").to_string()).collect()
}

fn labels(items: &Value) -> Vec<String> {
    items.as_array().expect("a list").iter().map(|item| item["label"].as_str().unwrap_or("").to_string()).collect()
}

#[test]
fn an_editing_session_over_stdio_shows_live_diagnostics_hover_definitions_and_completions() {
    let project = TempProject::with_shop_data();
    let spec_path = project.write_spec("spec.yaml", &shop_spec());
    let uri = file_uri(&spec_path);
    let mut client = server();
    let capabilities = client.initialize(project.path());
    assert_eq!(capabilities["textDocumentSync"], 2, "incremental sync");
    assert_eq!(capabilities["hoverProvider"], true);

    let mut text = shop_spec();
    client.open(&uri, &text);
    let diagnostics = client.diagnostics_of_version(&uri, 1);
    assert!(codes(&diagnostics).iter().all(|code| !code.is_empty()), "{diagnostics:?}");
    assert!(diagnostics.iter().all(|diagnostic| diagnostic["severity"] != 1), "the example has no errors: {diagnostics:?}");

    // A typo inside the filter's predicate: an unknown column, underlined inside the string.
    let (line, character) = position_of(&text, "amount > 0", 0);
    client.change(&uri, 2, &[(line, character + 5, line, character + 6, "")]);
    text = text.replacen("amount > 0", "amoun > 0", 1);
    let diagnostics = client.diagnostics_of_version(&uri, 2);
    let unknown = diagnostics.iter().find(|diagnostic| diagnostic["code"] == "V0203").unwrap_or_else(|| panic!("{diagnostics:?}"));
    assert_eq!(range_of(unknown), (line as u64, character as u64, line as u64, character as u64 + 5));
    assert!(unknown["message"].as_str().unwrap().contains("amoun"), "{unknown}");
    assert_eq!(unknown["source"], "viewdag");
    // Its dependents are blocked, each pointing at the broken input and its error.
    let blocked = diagnostics
        .iter()
        .find(|diagnostic| diagnostic["code"] == "V0106" && diagnostic["message"].as_str().unwrap().contains("order_lines"))
        .unwrap_or_else(|| panic!("order_lines is blocked: {diagnostics:?}"));
    let related = blocked["relatedInformation"].as_array().expect("related information");
    assert_eq!(related[0]["location"]["range"]["start"]["line"], position_of(&text, "paid_orders:", 0).0);
    assert!(related.iter().any(|information| information["message"].as_str().unwrap().starts_with("V0203")), "{related:?}");
    // The quick fix writes the suggestion over the typo.
    let actions = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": unknown["range"], "context": { "diagnostics": [] } }),
    );
    let action = &actions[0];
    assert_eq!(action["kind"], "quickfix", "{actions}");
    let edit = &action["edit"]["changes"][&uri][0];
    assert_eq!(edit["newText"], "amount");
    assert_eq!(edit["range"], unknown["range"]);

    // Fixing it clears every error.
    client.change(&uri, 3, &[(line, character + 5, line, character + 5, "t")]);
    text = text.replacen("amoun > 0", "amount > 0", 1);
    let diagnostics = client.diagnostics_of_version(&uri, 3);
    assert!(diagnostics.iter().all(|diagnostic| diagnostic["severity"] != 1), "{diagnostics:?}");

    // Half-typed YAML: a new view typed character by character, in one burst (the server
    // coalesces what is queued): an unclosed flow mapping is a syntax error.
    let (views_line, _) = position_of(&text, "views:", 0);
    // Typed at the end of the `views:` line, as an editor sends it: a new line, then keys.
    let typed = "\n  draft:\n    filter: { inp";
    let mut version = 3;
    let mut typed_so_far = String::new();
    for character in typed.chars() {
        version += 1;
        let line = typed_so_far.matches('\n').count() as u32;
        let column = match typed_so_far.rfind('\n') {
            Some(newline) => (typed_so_far.len() - newline - 1) as u32,
            None => "views:".len() as u32 + typed_so_far.len() as u32,
        };
        client.change(&uri, version, &[(views_line + line, column, views_line + line, column, &character.to_string())]);
        typed_so_far.push(character);
    }
    let diagnostics = client.diagnostics_of_version(&uri, version);
    assert_eq!(codes(&diagnostics), ["V0001"], "an unclosed flow mapping: {diagnostics:?}");
    assert_eq!(range_of(&diagnostics[0]).0, views_line as u64 + 3, "reported where the parser gave up: {diagnostics:?}");
    // Still unparseable while the expression is typed: completion inside it offers the
    // input's columns with their types (the schemas of the last readable text).
    version += 1;
    let line = views_line + 2;
    let typed_end = "    filter: { inp".len() as u32;
    let rest = "ut: paid_orders, predicat: \"amount > ";
    client.change(&uri, version, &[(line, typed_end, line, typed_end, rest)]);
    let diagnostics = client.diagnostics_of_version(&uri, version);
    assert_eq!(codes(&diagnostics), ["V0001"], "{diagnostics:?}");
    let expression_end = (line, typed_end + rest.len() as u32);
    let completions = client.request("textDocument/completion", at(&uri, expression_end));
    let offered = labels(&completions);
    for column in ["order_id", "customer_id", "status", "amount", "order_date"] {
        assert!(offered.contains(&column.to_string()), "{column} offered: {offered:?}");
    }
    let amount = completions.as_array().unwrap().iter().find(|item| item["label"] == "amount").unwrap();
    assert_eq!(amount["detail"], "float64 (from paid_orders)", "{completions}");
    // The mapping closed, a key misspelled: the syntax error is gone; the view alone is
    // malformed, and its expression still completes.
    version += 1;
    client.change(&uri, version, &[(expression_end.0, expression_end.1, expression_end.0, expression_end.1, "\" }")]);
    text = text.replacen("views:\n", "views:\n  draft:\n    filter: { input: paid_orders, predicat: \"amount > \" }\n", 1);
    let diagnostics = client.diagnostics_of_version(&uri, version);
    assert_eq!(codes(&diagnostics), ["V0002"], "{diagnostics:?}");
    assert_eq!(diagnostics[0]["range"]["start"]["line"], line, "{diagnostics:?}");
    let completions = labels(&client.request("textDocument/completion", at(&uri, expression_end)));
    assert!(completions.contains(&"status".to_string()), "{completions:?}");
    // Fixing the key and finishing the predicate: no errors, and the new view checks.
    version += 1;
    let (key_line, key_character) = position_of(&text, "predicat:", 0);
    client.change(
        &uri,
        version,
        &[
            (expression_end.0, expression_end.1, expression_end.0, expression_end.1, "10"),
            (key_line, key_character + 8, key_line, key_character + 8, "e"),
        ],
    );
    text = text.replacen("predicat: \"amount > \"", "predicate: \"amount > 10\"", 1);
    let diagnostics = client.diagnostics_of_version(&uri, version);
    assert!(diagnostics.iter().all(|diagnostic| diagnostic["severity"] != 1), "{diagnostics:?}");
    assert!(text.contains("filter: { input: paid_orders, predicate: \"amount > 10\" }"));
    let hover = client.request("textDocument/hover", at(&uri, (line, "    filter: { input: pa".len() as u32)));
    assert!(hover["contents"]["value"].as_str().unwrap().contains("**view** `paid_orders`"), "{hover}");

    // Hover on a read of a view: kind, materialization, inputs, readers and schema.
    let reference = position_of(&text, "left: paid_orders", 0);
    let hover = client.request("textDocument/hover", at(&uri, (reference.0, reference.1 + 8)));
    let hover_text = hover["contents"]["value"].as_str().expect("markdown");
    assert!(hover_text.contains("**view** `paid_orders` — `filter`, ephemeral"), "{hover_text}");
    assert!(hover_text.contains("reads `orders`"), "{hover_text}");
    assert!(hover_text.contains("`order_lines`") && hover_text.contains("`draft`"), "readers listed: {hover_text}");
    assert!(hover_text.contains("| `amount` | `float64` |"), "{hover_text}");
    assert_eq!(hover["range"]["start"]["character"], reference.1 + 6);
    // Hover on a column inside an expression: its type and where it comes from.
    let column = position_of(&text, "round(amount", 0);
    let hover = client.request("textDocument/hover", at(&uri, (column.0, column.1 + 8)));
    let hover_text = hover["contents"]["value"].as_str().expect("markdown");
    assert!(hover_text.contains("**column** `amount`: `float64`"), "{hover_text}");
    assert!(hover_text.contains("from `order_lines`"), "{hover_text}");
    assert!(hover_text.contains("source `orders`, column `amount`"), "lineage reaches the source: {hover_text}");

    // Definition and references of `paid_orders`, SQL strings and outputs included.
    let definition = client.request("textDocument/definition", at(&uri, (reference.0, reference.1 + 8)));
    assert_eq!(definition["range"]["start"]["line"], position_of(&text, "  paid_orders:", 0).0);
    assert_eq!(definition["range"]["start"]["character"], 2);
    let sql_reference = position_of(&text, "FROM revenue_by_region", 0);
    let references = client.request(
        "textDocument/references",
        json!({ "textDocument": { "uri": uri }, "position": { "line": sql_reference.0, "character": sql_reference.1 + 7 }, "context": { "includeDeclaration": false } }),
    );
    let lines: Vec<u64> =
        references.as_array().unwrap().iter().map(|location| location["range"]["start"]["line"].as_u64().unwrap()).collect();
    assert_eq!(
        lines,
        [position_of(&text, "FROM revenue_by_region", 0).0 as u64, position_of(&text, "view: revenue_by_region", 0).0 as u64],
        "the SQL read and the output: {references}"
    );

    // Completion where a relation goes, and of `kind` values.
    let input = position_of(&text, "input: enriched, by", 0);
    let completions = labels(&client.request("textDocument/completion", at(&uri, (input.0, input.1 + 7))));
    assert!(completions.contains(&"orders".to_string()) && completions.contains(&"order_lines".to_string()), "{completions:?}");
    assert!(!completions.contains(&"largest_orders".to_string()), "not the view itself: {completions:?}");
    let kind = position_of(&text, "kind: left", 0);
    let completions = labels(&client.request("textDocument/completion", at(&uri, (kind.0, kind.1 + 6))));
    assert_eq!(completions, ["inner", "left", "right", "full", "semi", "anti"]);

    // Document symbols: sources, views and outputs.
    let symbols = client.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": uri } }));
    let groups: Vec<&str> = symbols.as_array().unwrap().iter().map(|group| group["name"].as_str().unwrap()).collect();
    assert_eq!(groups, ["sources", "views", "outputs"]);
    assert_eq!(symbols[1]["children"].as_array().unwrap().len(), 13, "12 views and the draft");

    assert!(client.shutdown(), "the server exits cleanly after shutdown and exit");
}

#[test]
fn a_new_delta_commit_re_checks_the_views_reading_it() {
    use datafusion::arrow::array::{Int64Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    let project = TempProject::empty();
    let table = project.path().join("data/t");
    let batch = |columns: &[&str]| {
        let fields: Vec<Field> = columns.iter().map(|name| Field::new(*name, DataType::Int64, true)).collect();
        let arrays: Vec<std::sync::Arc<dyn datafusion::arrow::array::Array>> =
            columns.iter().map(|_| std::sync::Arc::new(Int64Array::from(vec![1])) as _).collect();
        RecordBatch::try_new(std::sync::Arc::new(Schema::new(fields)), arrays).unwrap()
    };
    viewdag_tests::data::write_delta_table(&table, vec![batch(&["a"])]);
    let text = "version: 1\nsources:\n  t: { format: delta, path: data/t }\nviews:\n  v:\n    filter: { input: t, predicate: \"b > 0\" }\n";
    let spec_path = project.write_spec("spec.yaml", text);
    let uri = file_uri(&spec_path);
    let mut client = server();
    client.initialize(project.path());
    client.open(&uri, text);
    assert_eq!(codes(&client.diagnostics_of_version(&uri, 1)), ["V0203"]);
    // A new commit adds a column `b` (schema evolution): the view becomes valid.
    let url = viewdag_driver::sources::directory_url(&table).expect("a URL");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let delta = deltalake::DeltaTable::try_from_url(url).await.expect("the table opens");
        delta
            .write(vec![batch(&["a", "b"])])
            .with_save_mode(deltalake::protocol::SaveMode::Append)
            .with_schema_mode(deltalake::operations::write::SchemaMode::Merge)
            .await
            .expect("the commit is written");
    });
    client.notify("workspace/didChangeWatchedFiles", json!({ "changes": [{ "uri": file_uri(&table), "type": 2 }] }));
    // The server watches the table's log: it re-checks and re-publishes (same version) by
    // itself, possibly first for a half-written commit; the last state is clean.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut diagnostics = vec![Value::Null];
    while !diagnostics.is_empty() {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match client.diagnostics_of_version_within(&uri, 1, left) {
            Some(published) => diagnostics = published,
            None => panic!("no re-check after the commit within 60 s; last: {diagnostics:?}"),
        }
    }
    // A client's `didChangeWatchedFiles` re-checks too (nothing changed: the same answer).
    client.notify("workspace/didChangeWatchedFiles", json!({ "changes": [{ "uri": file_uri(&table), "type": 2 }] }));
    let diagnostics = client.diagnostics_of_version(&uri, 1);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert!(client.shutdown());
}

/// The diagnostics of `viewdag check --format json` for the spec at `path`, as comparable
/// tuples: code, 0-based start line and character, end line and character, message.
fn fresh_check(path: &Path) -> Vec<(String, u64, u64, u64, u64, String)> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_viewdag-cli"))
        .args(["check", "--format", "json"])
        .arg(path)
        .output()
        .expect("viewdag check runs");
    let document: Value = serde_json::from_slice(&output.stdout).expect("check prints JSON");
    document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|diagnostic| {
            let location = &diagnostic["location"];
            let number = |key: &str| location[key].as_u64().map(|value| value - 1).unwrap_or(0);
            (
                diagnostic["code"].as_str().unwrap().to_string(),
                number("line"),
                number("column"),
                number("end_line"),
                number("end_column"),
                diagnostic["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn published(diagnostics: &[Value]) -> Vec<(String, u64, u64, u64, u64, String)> {
    diagnostics
        .iter()
        .map(|diagnostic| {
            let (start_line, start_character, end_line, end_character) = range_of(diagnostic);
            let message = diagnostic["message"].as_str().unwrap().lines().next().unwrap_or("").to_string();
            (diagnostic["code"].as_str().unwrap().to_string(), start_line, start_character, end_line, end_character, message)
        })
        .collect()
}

/// One random edit of `text` (ASCII): delete a few characters, type one, rename a name,
/// or put back a line of the original. Returns the LSP change and the new text.
fn random_edit(random: &mut Random, text: &str, original: &str, names: &[String]) -> ((u32, u32, u32, u32, String), String) {
    let lines: Vec<&str> = text.split('\n').collect();
    let line = random.below(lines.len()) as u32;
    let length = lines[line as usize].len();
    let column = random.below(length + 1) as u32;
    let offset = |line: u32, column: u32| lines[..line as usize].iter().map(|line| line.len() + 1).sum::<usize>() + column as usize;
    let (start, end, inserted) = match random.below(8) {
        0 | 1 => {
            let end_column = (column as usize + 1 + random.below(4)).min(length) as u32;
            ((line, column), (line, end_column), String::new())
        }
        2 | 3 => ((line, column), (line, column), random.pick(&["a", "_", ":", " ", "{", "}", "[", ",", "\"", "1", "\n"]).to_string()),
        4 | 5 if !names.is_empty() => {
            let name = random.pick(names);
            match lines[line as usize].find(name.as_str()) {
                Some(at) => ((line, at as u32), (line, (at + name.len()) as u32), random.pick(names).clone()),
                None => ((line, column), (line, column), String::new()),
            }
        }
        _ => {
            let original_lines: Vec<&str> = original.split('\n').collect();
            let replacement = original_lines.get(line as usize).copied().unwrap_or("").to_string();
            ((line, 0), (line, length as u32), replacement)
        }
    };
    let (start_offset, end_offset) = (offset(start.0, start.1), offset(end.0, end.1));
    let mut next = text.to_string();
    next.replace_range(start_offset..end_offset, &inserted);
    ((start.0, start.1, end.0, end.1, inserted), next)
}

#[test]
fn after_random_edits_through_the_server_its_diagnostics_equal_a_fresh_check() {
    let mut client = server();
    let root = TempProject::empty();
    client.initialize(root.path());
    for seed in 0..4u64 {
        let directory = root.path().join(format!("case{seed}"));
        let generated = GeneratedProject::generate(seed, 8);
        let spec_path = generated.write(&directory);
        let original = std::fs::read_to_string(&spec_path).unwrap();
        let names: Vec<String> =
            generated.sources.iter().map(|source| source.name.clone()).chain(generated.views.keys().cloned()).collect();
        let uri = file_uri(&spec_path);
        client.open(&uri, &original);
        let mut text = original.clone();
        let mut random = Random::new(seed * 7919 + 1);
        let mut version = 1;
        for step in 0..30 {
            version += 1;
            let ((start_line, start_character, end_line, end_character, inserted), next) =
                random_edit(&mut random, &text, &original, &names);
            client.change(&uri, version, &[(start_line, start_character, end_line, end_character, inserted.as_str())]);
            text = next;
            if step % 10 == 9 {
                let server_diagnostics = published(&client.diagnostics_of_version(&uri, version));
                std::fs::write(&spec_path, &text).unwrap();
                assert_eq!(server_diagnostics, fresh_check(&spec_path), "seed {seed}, step {step}, text:\n{text}");
            }
        }
        // An unclosed flow mapping at the end (the compiler holds its inputs meanwhile), then
        // repaired: both agree with a fresh check.
        let last_line = text.split('\n').count() as u32 - 1;
        let last_length = text.split('\n').next_back().unwrap_or("").len() as u32;
        for (inserted, removed) in [("\nx: {", false), ("", true)] {
            version += 1;
            if removed {
                client.change(&uri, version, &[(last_line, last_length, last_line + 1, 4, "")]);
                text.truncate(text.len() - 5);
            } else {
                client.change(&uri, version, &[(last_line, last_length, last_line, last_length, inserted)]);
                text.push_str(inserted);
            }
            let server_diagnostics = published(&client.diagnostics_of_version(&uri, version));
            std::fs::write(&spec_path, &text).unwrap();
            assert_eq!(server_diagnostics, fresh_check(&spec_path), "seed {seed}, syntax error {}, text:\n{text}", !removed);
            if !removed {
                assert!(server_diagnostics.iter().any(|diagnostic| diagnostic.0 == "V0001"), "{server_diagnostics:?}");
            }
        }
    }
    assert!(client.shutdown());
}

fn schema_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/schemas").join(viewdag_ir::spec_schema::SPEC_SCHEMA_FILE_NAME)
}

/// `UPDATE_EXPECT=1` rewrites the committed schema.
#[test]
fn the_committed_spec_schema_is_current_and_describes_what_the_parser_reads() {
    let text = viewdag_ir::spec_schema::spec_json_schema_text();
    crate::support::assert_snapshot_file(&schema_path(), &text);
    let schema: Value = serde_json::from_str(&text).unwrap();
    let keys = |value: &Value| -> Vec<String> { value.as_object().expect("an object").keys().cloned().collect() };
    assert_eq!(keys(&schema["properties"]), ["version", "sources", "views", "outputs", "profile"]);
    assert_eq!(schema["additionalProperties"], false, "unknown top-level keys are errors");
    let view = &schema["definitions"]["RawViewSpec"];
    let mut transforms = viewdag_ir::TRANSFORM_KEYS.map(String::from).to_vec();
    transforms.extend(["materialize", "tags", "expect", "refresh"].map(String::from));
    assert_eq!(keys(&view["properties"]), transforms);
    assert_eq!(view["additionalProperties"], false);
    let join_kinds: Vec<String> =
        schema["definitions"]["JoinKind"]["enum"].as_array().unwrap().iter().map(|kind| kind.as_str().unwrap().to_string()).collect();
    assert_eq!(join_kinds, ["inner", "left", "right", "full", "semi", "anti"]);
    // The example spec names only properties the schema declares.
    let example: Value = serde_yaml_ng::from_str(&shop_spec()).unwrap();
    for (name, view) in example["views"].as_object().unwrap() {
        for key in keys(view) {
            assert!(view_has(&schema, &key), "view `{name}` key `{key}` is in the schema");
        }
    }
}

fn view_has(schema: &Value, key: &str) -> bool {
    schema["definitions"]["RawViewSpec"]["properties"].get(key).is_some()
}

/// What the server relies on while the YAML is half-typed: the compiler holds the last
/// readable inputs, answers the unreadable text with exactly its parse's diagnostics, keeps
/// every schema, and the repairing edit re-validates no view.
#[test]
fn holding_inputs_while_unreadable_keeps_schemas_and_the_repair_re_validates_nothing() {
    let project = TempProject::with_shop_data();
    let path = project.write_spec("spec.yaml", &shop_spec());
    let mut compiler = viewdag_driver::Compiler::new().unwrap();
    compiler.set_hold_inputs_while_unreadable(true);
    let text = shop_spec();
    assert!(!compiler.check_text(&path, &text).has_errors());
    let broken = text.replacen("input: orders, predicate", "input: orders, predicate: {", 1);
    let response = compiler.check_text(&path, &broken);
    let fresh = viewdag_driver::Compiler::new().unwrap().check_text(&path, &broken);
    assert_eq!(response.diagnostics, fresh.diagnostics);
    assert_eq!(crate::support::codes(&response), ["V0001"]);
    assert!(response.views.is_empty() && fresh.views.is_empty());
    assert_eq!(compiler.snapshot().relation_schema("paid_orders").map(|schema| schema.fields().len()), Some(5), "schemas are held");
    assert_eq!(compiler.parsed_spec().map(|parsed| parsed.views.len()), Some(0), "the parse is the unreadable text's");
    let repaired = compiler.check_text(&path, &text);
    assert!(!repaired.has_errors());
    assert_eq!(repaired.executed("view_signature", None), 0, "{:?}", repaired.executions);
    assert_eq!(repaired.views.len(), 12);
}

/// Requests at places that do not exist, about documents never opened, with parameters of
/// the wrong shape, over empty, binary-ish and oversized-line texts: answers (`null`, empty
/// lists or an error response), never a crash.
#[test]
fn odd_requests_are_answered_and_the_server_keeps_running() {
    let project = TempProject::empty();
    let uri = file_uri(&project.path().join("spec.yaml"));
    let mut client = server();
    client.initialize(project.path());
    assert_eq!(client.request("textDocument/hover", at(&uri, (0, 0))), Value::Null, "not open");
    for (version, text) in
        [(1, ""), (2, "\u{1F600}: [\"\u{e9}"), (3, "views:\n  v:\n    filter: { input: v, predicate: \"v\" }\n"), (4, "\t\0{{{{")]
    {
        if version == 1 {
            client.open(&uri, text);
        } else {
            client.notify(
                "textDocument/didChange",
                json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] }),
            );
        }
        let diagnostics = client.diagnostics_of_version(&uri, version);
        assert!(codes(&diagnostics).iter().all(|code| code.starts_with('V')), "{diagnostics:?}");
        for position in [(0, 0), (0, 3), (2, 25), (999, 999)] {
            client.request("textDocument/hover", at(&uri, position));
            client.request("textDocument/definition", at(&uri, position));
            client.request("textDocument/completion", at(&uri, position));
            client.request(
                "textDocument/references",
                json!({ "textDocument": { "uri": uri }, "position": { "line": position.0, "character": position.1 }, "context": { "includeDeclaration": true } }),
            );
        }
        client.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": uri } }));
        client.request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": uri }, "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 999, "character": 0 } }, "context": { "diagnostics": [] } }),
        );
    }
    // A range past the end of the text is clamped to it, not a panic.
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 5 }, "contentChanges": [{ "text": "views: {}\n" }] }),
    );
    assert_eq!(codes(&client.diagnostics_of_version(&uri, 5)), ["V0003"], "no version yet");
    client.change(&uri, 6, &[(50, 3, 60, 0, "version: 1\n")]);
    assert_eq!(codes(&client.diagnostics_of_version(&uri, 6)), Vec::<String>::new(), "`version: 1` appended at the end");
    // Wrong parameters and unknown methods are error responses.
    assert!(
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| client.request("textDocument/hover", json!({ "nonsense": 1 })))).is_err()
    );
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| client.request("viewdag/unknown", json!({})))).is_err());
    assert!(client.shutdown(), "still running, and exits cleanly");
}

/// The 0-based line of the second line of `entry` (its transform) in `text`, and that
/// line's text with its line end.
fn transform_line<'a>(text: &'a str, entry: &str) -> (u32, &'a str) {
    let line = position_of(text, entry, 0).0 + 1;
    (line, text.split_inclusive('\n').nth(line as usize).expect("the line exists"))
}

/// A 2,000-view project opened in a server, its first check published (no diagnostics).
fn opened_synthetic_project() -> (SyntheticProject, LspClient, String) {
    let project = SyntheticProject::create(DagShape::Transforms, 2000);
    let uri = file_uri(&project.spec_path);
    let mut client = server();
    client.initialize(project.directory.path());
    client.open(&uri, &project.text);
    assert_eq!(client.diagnostics_of_version(&uri, 1), Vec::<Value>::new());
    (project, client, uri)
}

/// Issue 24 #3: every message was handled in order on one thread, so a hover after an edit
/// waited for that edit's whole-project check. Now the edit's inputs are set on the loop and
/// its check runs on a thread of its own: the hover is answered (about the edited text)
/// before the check's diagnostics are published. The edit renames the source every view
/// reads from (all views re-checked, every one of them now failing or blocked), so the
/// check is long and the order does not depend on timing.
#[test]
fn a_hover_after_an_edit_is_answered_before_that_edits_whole_project_check() {
    let (project, mut client, uri) = opened_synthetic_project();
    let (line, character) = position_of(&project.text, "facts:", 0);
    client.change(&uri, 2, &[(line, character, line, character + "facts".len() as u32, "renamed_facts")]);
    let hover = client.request("textDocument/hover", at(&uri, (line, character + 2)));
    assert!(
        !client.received_diagnostics_of_version(&uri, 2),
        "the hover waited for the whole-project check: its diagnostics arrived before the hover's answer"
    );
    let text = hover["contents"]["value"].as_str().unwrap_or_else(|| panic!("a hover: {hover}"));
    assert!(text.starts_with("**source** `renamed_facts`"), "the hover describes the edited text: {text}");
    let diagnostics = client.diagnostics_of_version(&uri, 2);
    let codes = codes(&diagnostics);
    assert!(
        codes.iter().any(|code| code == "V0101") && codes.iter().any(|code| code == "V0106"),
        "unknown `facts`, readers blocked: {codes:?}"
    );
    assert!(client.shutdown());
}

/// Replaces `line` (its text `line_text`) by the same line whose `input:` names nothing
/// declared, as `version`; returns the new line.
fn rename_input_to_nothing(client: &mut LspClient, uri: &str, version: i32, (line, line_text): (u32, &str)) -> String {
    let broken = line_text.replacen("input: ", "input: nowhere_", 1);
    client.change(uri, version, &[(line, 0, line + 1, 0, &broken)]);
    broken
}

/// The provisional publication (no version) and then the check's, for `version`.
fn first_then_checked(client: &mut LspClient, uri: &str, version: i32) -> (Vec<Value>, Vec<Value>) {
    let publications = client.publications_until(uri, version);
    match publications.as_slice() {
        [(-1, first), (checked_version, checked)] if *checked_version == i64::from(version) => (first.clone(), checked.clone()),
        _ => panic!("a provisional publication, then the check's: {publications:?}"),
    }
}

/// Issue 24 #3: 50 edits in a burst on a large spec, each naming another unknown column in a
/// leaf filter. A check a newer edit made stale is cancelled or dropped, never published
/// after it: the publications come in increasing versions, each holds exactly its own
/// text's error, and the last one is the last text's, with nothing published after it.
#[test]
fn fifty_rapid_edits_end_in_the_diagnostics_of_the_last_text_only() {
    let (project, mut client, uri) = opened_synthetic_project();
    let leaf = project.dag.leaf_filter().expect("a leaf filter").clone();
    let (line, line_text) = transform_line(&project.text, &leaf.yaml);
    assert!(line_text.contains(" > "), "{line_text}");
    let unknown = |version: i32| format!("missing_{version}_column");
    let last = 51;
    for version in 2..=last {
        let edited = line_text.replacen(" > ", &format!(" > {} + ", unknown(version)), 1);
        client.change(&uri, version, &[(line, 0, line + 1, 0, &edited)]);
    }
    let publications = client.publications_until(&uri, last);
    // Checks' publications carry the version they checked; the provisional ones (the edited
    // view first, no version) each name one text's column too.
    let versions: Vec<i64> = publications.iter().map(|(version, _)| *version).filter(|version| *version >= 0).collect();
    assert!(versions.windows(2).all(|pair| pair[0] < pair[1]), "a stale check was published after a newer one: {versions:?}");
    for (version, diagnostics) in &publications {
        let messages: Vec<&str> = diagnostics.iter().filter_map(|diagnostic| diagnostic["message"].as_str()).collect();
        let named: Vec<i32> = (2..=last).filter(|other| messages.iter().any(|message| message.contains(&unknown(*other)))).collect();
        match *version {
            -1 => assert_eq!(named.len(), 1, "a provisional publication names several texts' columns: {messages:?}"),
            version => assert_eq!(named, [version as i32], "version {version}'s diagnostics name other texts' columns: {messages:?}"),
        }
        assert_eq!(codes(diagnostics), ["V0203"], "version {version}: {diagnostics:?}");
    }
    // Nothing arrives after the last text's diagnostics (a request is the barrier).
    let published = client.published_count(&uri);
    client.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": uri } }));
    assert_eq!(client.published_count(&uri), published, "diagnostics were published after the last text's");
    assert!(client.shutdown());
}

/// Issue 24 #3: the edited entry's diagnostics first. Breaking a mid-DAG projection (its
/// input renamed to nothing declared) publishes at once, without a version, the
/// projection's own error; then its whole check, with the text's version, adds what the
/// edit caused elsewhere (its reader blocked). The order is the server's, not a race: the
/// first publication is sent before the check starts.
#[test]
fn the_edited_views_diagnostics_are_published_before_the_whole_check() {
    let (project, mut client, uri) = opened_synthetic_project();
    let projection = project.dag.mid_projection().expect("a mid-DAG projection").clone();
    rename_input_to_nothing(&mut client, &uri, 2, transform_line(&project.text, &projection.yaml));
    let (first, checked) = first_then_checked(&mut client, &uri, 2);
    let (first, checked) = (&first, &checked);
    assert_eq!(codes(first), ["V0101"], "the edited view's own error, first: {first:?}");
    assert_eq!(range_of(&first[0]), range_of(&checked[0]), "{first:?} {checked:?}");
    let checked_codes = codes(checked);
    assert!(
        checked_codes.contains(&"V0101".to_string()) && checked_codes.contains(&"V0106".to_string()),
        "then its reader blocked: {checked_codes:?}"
    );
    assert!(client.shutdown());
}

/// Issue 24 #3: the edited entry's diagnostics first, without reading the
/// project's structure when the edit keeps what every view reads (verifying the structure
/// visits every view). What the structure said of the edited view — here its unknown input,
/// from the previous edit — is then the last check's, and is kept: the first publication
/// equals the whole check's, which follows it.
#[test]
fn an_edit_keeping_what_views_read_publishes_first_what_the_last_check_said_of_their_structure() {
    let (project, mut client, uri) = opened_synthetic_project();
    let leaf = project.dag.leaf_filter().expect("a leaf filter").clone();
    let (line, line_text) = transform_line(&project.text, &leaf.yaml);
    // Reading nothing declared: the structure's error (the view is broken).
    let broken = rename_input_to_nothing(&mut client, &uri, 2, (line, line_text));
    assert_eq!(codes(&client.diagnostics_of_version(&uri, 2)), ["V0101"]);
    // Its predicate edited: it still reads the same (unknown) relation.
    let edited = broken.replacen(" > ", " > 1 + ", 1);
    assert_ne!(edited, broken);
    client.change(&uri, 3, &[(line, 0, line + 1, 0, &edited)]);
    let (first, checked) = first_then_checked(&mut client, &uri, 3);
    assert_eq!(codes(&first), ["V0101"], "the structure's error is kept: {first:?}");
    assert_eq!(first, checked, "the first publication is the whole check's");
    assert!(client.shutdown());
}

/// The hover's "reads / read by" come from a copy of the structure's DAG that the server
/// keeps across edits keeping what every view reads (re-verifying the structure after each
/// keystroke visits every view) and drops when an edit changes what a view reads: a view's
/// readers follow the text.
#[test]
fn the_hovers_readers_follow_edits_that_change_what_views_read() {
    let project = TempProject::with_shop_data();
    let text = shop_spec();
    let spec_path = project.write_spec("spec.yaml", &text);
    let uri = file_uri(&spec_path);
    let mut client = server();
    client.initialize(project.path());
    client.open(&uri, &text);
    client.diagnostics_of_version(&uri, 1);
    let hover_text = |client: &mut LspClient, name: &str| {
        let hover = client.request("textDocument/hover", at(&uri, position_of(&text, &format!("{name}:"), 0)));
        hover["contents"]["value"].as_str().unwrap_or_else(|| panic!("a hover on `{name}`: {hover}")).to_string()
    };
    assert!(hover_text(&mut client, "paid_orders").contains("read by `order_lines`"));
    // `order_lines` reads `orders` instead: the shape changed.
    let (line, character) = position_of(&text, "left: paid_orders", 0);
    let name = (character + "left: ".len() as u32, character + "left: paid_orders".len() as u32);
    client.change(&uri, 2, &[(line, name.0, line, name.1, "orders")]);
    let paid_orders = hover_text(&mut client, "paid_orders");
    assert!(paid_orders.contains("read by nothing"), "{paid_orders}");
    client.diagnostics_of_version(&uri, 2);
    // A keystroke in a measure keeps the shape: the same readers.
    let (line, character) = position_of(&text, "count(*)\"", 0);
    client.change(&uri, 3, &[(line, character, line, character + "count".len() as u32, "COUNT")]);
    let paid_orders = hover_text(&mut client, "paid_orders");
    assert!(paid_orders.contains("read by nothing"), "{paid_orders}");
    let orders = hover_text(&mut client, "orders");
    assert!(orders.contains("read by `paid_orders`, `order_lines`"), "{orders}");
    client.diagnostics_of_version(&uri, 3);
    assert!(client.shutdown());
}
