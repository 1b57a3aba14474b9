//! The import graph between the files of one crate, and its cycles.
//!
//! A file imports another when it names an item defined there: a `use` (not a `pub use`,
//! which only re-exports) or a path in code (`crate::a::f()`, `super::g`, `child::h`),
//! resolved through the module tree (`src/a.rs`, `src/a/mod.rs`, inline `mod x { … }`)
//! and through re-exports (`pub use a::Item` and `pub use a::*` lead to `a`'s file). A
//! `mod` declaration is containment, not an import.
//!
//! Invariants: resolution reads only the crate's own files (never `cargo`); a path that does
//! not resolve to a module of the crate (another crate, a local variable) is no edge; a cycle
//! is reported as the files of a strongly connected component, each with the lines that
//! import the next, so the fix can start from the message.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;

use crate::rust_tokens::{Token, TokenKind, tokenize};

/// A module path from the crate root (`[]` is the root, `["checks", "wrong_arity"]` …).
type ModulePath = Vec<String>;

/// One file of the crate, tokenized.
struct SourceFile {
    /// Relative to the crate directory (`src/checks/wrong_arity.rs`).
    relative: PathBuf,
    module: ModulePath,
    tokens: Vec<Token>,
}

/// Where a module lives: its file and, for an inline module, nothing more (its items are
/// that file's).
struct Module {
    file: usize,
    /// `pub use` aliases: the name they export and the path they name, relative to the
    /// module.
    reexports: BTreeMap<String, Vec<String>>,
    /// `pub use path::*` prefixes, relative to the module.
    glob_reexports: Vec<Vec<String>>,
    /// Names of items the module defines itself (`fn`, `struct`, `mod`, …).
    definitions: BTreeSet<String>,
}

/// An import from one file of the crate to another.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileImport {
    pub from: PathBuf,
    pub to: PathBuf,
    /// The line of the first path in `from` that names an item of `to`.
    pub line: usize,
}

/// The files of a crate and which imports which.
pub struct ImportGraph {
    files: Vec<PathBuf>,
    /// `(from, to) → first line`, `from != to`.
    edges: BTreeMap<(usize, usize), usize>,
}

impl ImportGraph {
    /// Reads every `.rs` file under `crate_dir/src` (a crate with a `src/lib.rs` or
    /// `src/main.rs` root; `src/bin/*` files are roots of their own and skipped).
    pub fn of_crate(crate_dir: &Path) -> std::io::Result<ImportGraph> {
        let src = crate_dir.join("src");
        let mut paths = Vec::new();
        collect_rust_files(&src, &mut paths)?;
        paths.sort();
        let mut files = Vec::new();
        for path in paths {
            let relative_to_src = path.strip_prefix(&src).expect("under src").to_path_buf();
            if relative_to_src.starts_with("bin") {
                continue;
            }
            let Some(module) = module_path_of(&relative_to_src) else { continue };
            let text = std::fs::read_to_string(&path)?;
            files.push(SourceFile {
                relative: path.strip_prefix(crate_dir).expect("under the crate").to_path_buf(),
                module,
                tokens: tokenize(&text),
            });
        }
        Ok(ImportGraph::build(&files))
    }

    fn build(files: &[SourceFile]) -> ImportGraph {
        let mut modules: BTreeMap<ModulePath, Module> = BTreeMap::new();
        for (index, file) in files.iter().enumerate() {
            for scope in scopes(&file.tokens, &file.module) {
                let module = modules.entry(scope.module.clone()).or_insert_with(|| Module {
                    file: index,
                    reexports: BTreeMap::new(),
                    glob_reexports: Vec::new(),
                    definitions: BTreeSet::new(),
                });
                module.definitions.extend(scope.definitions);
                for use_item in scope.uses.iter().filter(|use_item| use_item.public) {
                    match use_item.path.last().map(String::as_str) {
                        Some("*") => module.glob_reexports.push(use_item.path[..use_item.path.len() - 1].to_vec()),
                        Some(_) => {
                            module.reexports.insert(use_item.exported_name.clone(), use_item.path.clone());
                        }
                        None => {}
                    }
                }
            }
        }
        let resolver = Resolver { modules: &modules };
        let mut edges: BTreeMap<(usize, usize), usize> = BTreeMap::new();
        for (index, file) in files.iter().enumerate() {
            for scope in scopes(&file.tokens, &file.module) {
                let private_uses = scope.uses.iter().filter(|use_item| !use_item.public).map(|use_item| (&use_item.path, use_item.line));
                let code_paths = scope.code_paths.iter().map(|(path, line)| (path, *line));
                for (path, line) in private_uses.chain(code_paths) {
                    if let Some(target) = resolver.resolve(&scope.module, path, 0)
                        && target != index
                    {
                        edges.entry((index, target)).or_insert(line);
                    }
                }
            }
        }
        ImportGraph { files: files.iter().map(|file| file.relative.clone()).collect(), edges }
    }

    /// Every import between two different files.
    pub fn imports(&self) -> Vec<FileImport> {
        self.edges
            .iter()
            .map(|((from, to), line)| FileImport { from: self.files[*from].clone(), to: self.files[*to].clone(), line: *line })
            .collect()
    }

    /// The import cycles: each strongly connected component of more than one file, as the
    /// imports inside it, sorted.
    pub fn cycles(&self) -> Vec<Vec<FileImport>> {
        let mut graph: DiGraph<usize, ()> = DiGraph::new();
        let nodes: Vec<_> = (0..self.files.len()).map(|index| graph.add_node(index)).collect();
        for (from, to) in self.edges.keys() {
            graph.add_edge(nodes[*from], nodes[*to], ());
        }
        let mut cycles: Vec<Vec<FileImport>> = tarjan_scc(&graph)
            .into_iter()
            .filter(|component| component.len() > 1)
            .map(|component| {
                let members: BTreeSet<usize> = component.iter().map(|node| graph[*node]).collect();
                self.edges
                    .iter()
                    .filter(|((from, to), _)| members.contains(from) && members.contains(to))
                    .map(|((from, to), line)| FileImport { from: self.files[*from].clone(), to: self.files[*to].clone(), line: *line })
                    .collect()
            })
            .collect();
        cycles.sort();
        cycles
    }
}

/// Module path of a file relative to `src/`: `lib.rs`/`main.rs` → root, `a/mod.rs` and
/// `a.rs` → `a`, `a/b.rs` → `a::b`.
fn module_path_of(relative_to_src: &Path) -> Option<ModulePath> {
    let mut segments: Vec<String> = relative_to_src.iter().map(|part| part.to_string_lossy().into_owned()).collect();
    let file = segments.pop()?;
    let stem = file.strip_suffix(".rs")?;
    if !(segments.is_empty() && (stem == "lib" || stem == "main") || stem == "mod") {
        segments.push(stem.to_string());
    }
    Some(segments)
}

/// Every `.rs` file below `dir`, recursively, appended to `into`.
pub fn collect_rust_files(dir: &Path, into: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_rust_files(&path, into)?;
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            into.push(path);
        }
    }
    Ok(())
}

/// One `use` leaf: `use a::{b, c as d}` gives `a::b` (exported as `b`) and `a::c` (as `d`).
struct UseItem {
    path: Vec<String>,
    exported_name: String,
    public: bool,
    line: usize,
}

/// What one module (a file, or an inline `mod x { … }` in it) holds.
struct Scope {
    module: ModulePath,
    uses: Vec<UseItem>,
    /// Paths in code with at least one `::`, with their line.
    code_paths: Vec<(Vec<String>, usize)>,
    definitions: BTreeSet<String>,
}

const DEFINING_KEYWORDS: [&str; 9] = ["fn", "struct", "enum", "trait", "type", "const", "static", "mod", "union"];

/// Splits a file's tokens into its module scopes (the file's own, then each inline module).
fn scopes(tokens: &[Token], file_module: &ModulePath) -> Vec<Scope> {
    let new_scope = |module: ModulePath| Scope { module, uses: Vec::new(), code_paths: Vec::new(), definitions: BTreeSet::new() };
    let mut finished = Vec::new();
    // Open scopes with the brace depth at which each inline module's body closes.
    let mut open: Vec<(Scope, usize)> = vec![(new_scope(file_module.clone()), 0)];
    let mut depth = 0;
    let mut index = 0;
    while index < tokens.len() {
        let token = &tokens[index];
        let previous = index.checked_sub(1).and_then(|previous| tokens[previous].ident());
        let scope = &mut open.last_mut().expect("the file's scope stays open").0;
        match &token.kind {
            TokenKind::Punct('{') => {
                depth += 1;
                index += 1;
            }
            TokenKind::Punct('}') => {
                if open.len() > 1 && open.last().is_some_and(|(_, closes_at)| *closes_at == depth) {
                    let (scope, _) = open.pop().expect("an inline module");
                    finished.push(scope);
                }
                depth -= 1;
                index += 1;
            }
            TokenKind::Ident(keyword) if keyword == "use" && previous != Some("macro_rules") => {
                let public = is_public_before(tokens, index);
                let (items, end) = parse_use_tree(tokens, index + 1);
                scope.uses.extend(items.into_iter().map(|(path, exported_name)| UseItem { path, exported_name, public, line: token.line }));
                index = end;
            }
            TokenKind::Ident(keyword) if DEFINING_KEYWORDS.contains(&keyword.as_str()) || keyword == "macro_rules" => {
                let name_at = if keyword == "macro_rules" { index + 2 } else { index + 1 };
                if let Some(name) = tokens.get(name_at).and_then(Token::ident) {
                    scope.definitions.insert(name.to_string());
                    if keyword == "mod" && tokens.get(name_at + 1).is_some_and(|token| token.is_punct('{')) {
                        let mut module = scope.module.clone();
                        module.push(name.to_string());
                        depth += 1;
                        open.push((new_scope(module), depth));
                        index = name_at + 2;
                        continue;
                    }
                }
                index += 1;
            }
            TokenKind::Ident(first) => {
                let mut path = vec![first.clone()];
                let mut cursor = index + 1;
                let preceded_by_separator = index > 0 && tokens[index - 1].kind == TokenKind::PathSeparator;
                while tokens.get(cursor).is_some_and(|token| token.kind == TokenKind::PathSeparator)
                    && let Some(segment) = tokens.get(cursor + 1).and_then(Token::ident)
                {
                    path.push(segment.to_string());
                    cursor += 2;
                }
                if path.len() > 1 && !preceded_by_separator {
                    scope.code_paths.push((path, token.line));
                }
                index = cursor;
            }
            _ => index += 1,
        }
    }
    while let Some((scope, _)) = open.pop() {
        finished.push(scope);
    }
    finished
}

/// Whether the `use` at `index` is `pub use` or `pub(…) use`.
fn is_public_before(tokens: &[Token], index: usize) -> bool {
    match index.checked_sub(1).map(|previous| &tokens[previous]) {
        Some(token) if token.ident() == Some("pub") => true,
        Some(token) if token.is_punct(')') => {
            let mut cursor = index - 1;
            while cursor > 0 && !tokens[cursor].is_punct('(') {
                cursor -= 1;
            }
            cursor > 0 && tokens[cursor - 1].ident() == Some("pub")
        }
        _ => false,
    }
}

/// Parses a use tree starting at `index` up to its `;`: the leaves as (path, exported
/// name), and the index after the `;`.
fn parse_use_tree(tokens: &[Token], index: usize) -> (Vec<(Vec<String>, String)>, usize) {
    let mut leaves = Vec::new();
    let end = parse_tree(tokens, index, &[], &mut leaves);
    let mut cursor = end;
    while cursor < tokens.len() && !tokens[cursor].is_punct(';') {
        cursor += 1;
    }
    (leaves, cursor + 1)
}

/// Parses one tree (`a::b`, `a::{…}`, `a::*`, `a as b`) with `prefix` before it; returns the
/// index after it.
fn parse_tree(tokens: &[Token], mut index: usize, prefix: &[String], leaves: &mut Vec<(Vec<String>, String)>) -> usize {
    let mut path = prefix.to_vec();
    if tokens.get(index).is_some_and(|token| token.kind == TokenKind::PathSeparator) {
        index += 1;
    }
    loop {
        match tokens.get(index) {
            Some(token) if token.is_punct('{') => {
                index += 1;
                loop {
                    if tokens.get(index).is_none_or(|token| token.is_punct('}')) {
                        return index + 1;
                    }
                    index = parse_tree(tokens, index, &path, leaves);
                    if tokens.get(index).is_some_and(|token| token.is_punct(',')) {
                        index += 1;
                    }
                }
            }
            Some(token) if token.is_punct('*') => {
                path.push("*".to_string());
                leaves.push((path, "*".to_string()));
                return index + 1;
            }
            Some(token) if token.ident().is_some() => {
                let segment = token.ident().expect("an identifier").to_string();
                index += 1;
                if segment != "self" || path.is_empty() {
                    path.push(segment);
                }
                if tokens.get(index).is_some_and(|token| token.kind == TokenKind::PathSeparator) {
                    index += 1;
                    continue;
                }
                let mut exported = path.last().cloned().unwrap_or_default();
                if tokens.get(index).and_then(Token::ident) == Some("as")
                    && let Some(alias) = tokens.get(index + 1).and_then(Token::ident)
                {
                    exported = alias.to_string();
                    index += 2;
                }
                leaves.push((path, exported));
                return index;
            }
            _ => return index,
        }
    }
}

/// Resolves paths to the files defining what they name.
struct Resolver<'a> {
    modules: &'a BTreeMap<ModulePath, Module>,
}

impl Resolver<'_> {
    /// The file defining what `path`, written in module `context`, names; `None` when it is
    /// not in this crate.
    fn resolve(&self, context: &ModulePath, path: &[String], hops: usize) -> Option<usize> {
        if hops > 16 || path.is_empty() {
            return None;
        }
        let mut module: ModulePath;
        let mut rest = path;
        match path[0].as_str() {
            "crate" => {
                module = Vec::new();
                rest = &path[1..];
            }
            "self" => {
                module = context.clone();
                rest = &path[1..];
            }
            "super" => {
                module = context.clone();
                while rest.first().is_some_and(|segment| segment == "super") {
                    module.pop();
                    rest = &rest[1..];
                }
            }
            first => {
                let mut child = context.clone();
                child.push(first.to_string());
                if !self.modules.contains_key(&child) {
                    return None;
                }
                module = context.clone();
            }
        }
        while let Some(segment) = rest.first() {
            let mut child = module.clone();
            child.push(segment.clone());
            if !self.modules.contains_key(&child) {
                break;
            }
            module = child;
            rest = &rest[1..];
        }
        let here = self.modules.get(&module)?;
        let Some(item) = rest.first().filter(|item| *item != "*") else { return Some(here.file) };
        if here.definitions.contains(item) {
            return Some(here.file);
        }
        if let Some(target) = here.reexports.get(item) {
            return self.resolve(&module, target, hops + 1).or(Some(here.file));
        }
        for glob in &here.glob_reexports {
            let mut candidate = glob.clone();
            candidate.push(item.clone());
            if let Some(file) = self.resolve(&module, &candidate, hops + 1) {
                return Some(file);
            }
        }
        Some(here.file)
    }
}

#[cfg(test)]
mod tests {
    use super::{ImportGraph, SourceFile, module_path_of};
    use crate::rust_tokens::tokenize;
    use std::path::{Path, PathBuf};

    fn file(relative: &str, text: &str) -> SourceFile {
        let relative_to_src = Path::new(relative).strip_prefix("src").expect("under src");
        SourceFile { relative: PathBuf::from(relative), module: module_path_of(relative_to_src).expect("a module"), tokens: tokenize(text) }
    }

    fn cycle_files(files: &[SourceFile]) -> Vec<Vec<String>> {
        ImportGraph::build(files)
            .cycles()
            .into_iter()
            .map(|cycle| cycle.into_iter().map(|import| format!("{}->{}", import.from.display(), import.to.display())).collect())
            .collect()
    }

    #[test]
    fn a_re_export_is_no_import_and_is_followed() {
        let files = [
            file("src/lib.rs", "pub mod a; pub mod b; pub use a::Thing; pub trait Db {}"),
            file("src/a.rs", "use crate::Db; pub struct Thing;"),
            file("src/b.rs", "use crate::Thing; fn f() { crate::a::Thing; }"),
        ];
        let imports: Vec<String> = ImportGraph::build(&files)
            .imports()
            .into_iter()
            .map(|import| format!("{}->{}:{}", import.from.display(), import.to.display(), import.line))
            .collect();
        assert_eq!(imports, ["src/a.rs->src/lib.rs:1", "src/b.rs->src/a.rs:1"]);
        assert!(cycle_files(&files).is_empty());
    }

    #[test]
    fn cycles_through_super_children_and_globs_are_found() {
        let files = [
            file("src/lib.rs", "mod checks; pub use checks::*;"),
            file("src/checks/mod.rs", "mod one; mod two; pub fn shared() { one::check(); }"),
            file("src/checks/one.rs", "use super::{shared, two::helper}; pub fn check() {}"),
            file("src/checks/two.rs", "pub fn helper() {} #[cfg(test)] mod tests { use super::helper; }"),
        ];
        assert_eq!(cycle_files(&files), [["src/checks/mod.rs->src/checks/one.rs", "src/checks/one.rs->src/checks/mod.rs"]]);
    }
}
