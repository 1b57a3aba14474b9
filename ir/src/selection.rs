//! Node selection: dbt's selector grammar over the view DAG.
//!
//! ```text
//! selection  := term ( ' ' term )*          union
//! term       := atom ( ',' atom )*          intersection
//! atom       := [ N? '+' ] method [ '+' N? ]  ancestors / descendants (N edges at most)
//! method     := NAME | 'tag:' TAG | 'path:' PATH | 'state:modified'
//! ```
//!
//! `NAME` is a view, or an output (which stands for the view it writes). `path:P` selects
//! the views of the outputs whose path is `P` or lies under it. `state:modified` selects
//! the views whose definition digest differs from a previous compile's (or that it did not
//! have); since definition digests are Merkle digests, that is the edited views and
//! everything downstream of them. Several `--select` values are one union; `--exclude`
//! removes its own selection from it.
//!
//! ## Invariants
//! - Pure: parsing is a function of the text, resolving of the DAG and the facts handed in
//!   ([`SelectionUniverse`]); no I/O.
//! - Results hold views only (sources are never selected), in declaration order.
//! - A name that denotes nothing, an unknown method or `state:` without a previous state is
//!   an error, never an empty selection.

use std::collections::BTreeSet;

use crate::dag::{RelationKind, ViewDag};

/// A parsed selection: a union of intersections of atoms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub terms: Vec<Vec<SelectorAtom>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorAtom {
    pub method: SelectorMethod,
    /// `+name` (`Some(None)`: every ancestor) or `2+name` (`Some(Some(2))`).
    pub ancestors: Option<Option<usize>>,
    /// `name+` or `name+2`.
    pub descendants: Option<Option<usize>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectorMethod {
    Name(String),
    Tag(String),
    Path(String),
    StateModified,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    #[error("selector `{selector}`: {problem}")]
    Syntax { selector: String, problem: String },
    #[error("selector `{selector}`: no view or output is named `{name}`")]
    UnknownName { selector: String, name: String },
    #[error("selector `{selector}` needs a previous compile to compare with (`--state DIR`)")]
    NoState { selector: String },
}

/// What selectors are resolved against.
pub struct SelectionUniverse<'a> {
    pub dag: &'a ViewDag,
    /// View → its tags.
    pub tags: &'a dyn Fn(&str) -> Vec<String>,
    /// `(output name, view, path)`, in spec order.
    pub outputs: &'a [(String, String, String)],
    /// The modified views, when a previous state was given.
    pub modified: Option<&'a BTreeSet<String>>,
}

impl Selector {
    /// Parses `--select`/`--exclude` values: each is split on whitespace, and all the
    /// pieces form one union.
    pub fn parse(values: &[String]) -> Result<Selector, SelectionError> {
        let mut terms = Vec::new();
        for value in values {
            for term in value.split_whitespace() {
                let atoms = term.split(',').map(|atom| parse_atom(term, atom)).collect::<Result<Vec<_>, _>>()?;
                terms.push(atoms);
            }
        }
        Ok(Selector { terms })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The views this selector denotes.
    pub fn resolve(&self, universe: &SelectionUniverse) -> Result<BTreeSet<String>, SelectionError> {
        let mut selected = BTreeSet::new();
        for term in &self.terms {
            let mut intersection: Option<BTreeSet<String>> = None;
            for atom in term {
                let found = resolve_atom(atom, universe)?;
                intersection = Some(match intersection {
                    None => found,
                    Some(previous) => previous.intersection(&found).cloned().collect(),
                });
            }
            selected.extend(intersection.unwrap_or_default());
        }
        Ok(selected)
    }
}

/// `--select` minus `--exclude`, in declaration order. No `--select` means every view.
pub fn select_views(select: &Selector, exclude: &Selector, universe: &SelectionUniverse) -> Result<Vec<String>, SelectionError> {
    let selected = if select.is_empty() { None } else { Some(select.resolve(universe)?) };
    let excluded = exclude.resolve(universe)?;
    Ok(universe
        .dag
        .nodes()
        .into_iter()
        .filter(|node| node.kind == RelationKind::View)
        .map(|node| &node.name)
        .filter(|name| selected.as_ref().is_none_or(|selected| selected.contains(*name)) && !excluded.contains(*name))
        .cloned()
        .collect())
}

fn parse_atom(term: &str, atom: &str) -> Result<SelectorAtom, SelectionError> {
    let syntax = |problem: &str| SelectionError::Syntax { selector: term.to_string(), problem: problem.to_string() };
    let mut rest = atom;
    let mut ancestors = None;
    if let Some(plus) = rest.find('+') {
        let (depth, after) = (&rest[..plus], &rest[plus + 1..]);
        if depth.chars().all(|character| character.is_ascii_digit()) {
            ancestors = Some(if depth.is_empty() { None } else { Some(depth.parse().map_err(|_| syntax("depth is too large"))?) });
            rest = after;
        }
    }
    let mut descendants = None;
    if let Some(plus) = rest.rfind('+') {
        let (before, depth) = (&rest[..plus], &rest[plus + 1..]);
        if depth.chars().all(|character| character.is_ascii_digit()) {
            descendants = Some(if depth.is_empty() { None } else { Some(depth.parse().map_err(|_| syntax("depth is too large"))?) });
            rest = before;
        }
    }
    if rest.is_empty() {
        return Err(syntax("an empty selector"));
    }
    if rest.contains('+') {
        return Err(syntax("`+` belongs at the start or the end of a selector"));
    }
    let method = match rest.split_once(':') {
        None => SelectorMethod::Name(rest.to_string()),
        Some(("tag", tag)) if !tag.is_empty() => SelectorMethod::Tag(tag.to_string()),
        Some(("path", path)) if !path.is_empty() => SelectorMethod::Path(path.to_string()),
        Some(("state", "modified")) => SelectorMethod::StateModified,
        Some(("state", other)) => return Err(syntax(&format!("unknown state `{other}` (only `state:modified`)"))),
        Some((method, _)) => return Err(syntax(&format!("unknown method `{method}:` (tag:, path:, state:)"))),
    };
    Ok(SelectorAtom { method, ancestors, descendants })
}

fn resolve_atom(atom: &SelectorAtom, universe: &SelectionUniverse) -> Result<BTreeSet<String>, SelectionError> {
    let is_view = |name: &str| universe.dag.kind(name) == Some(RelationKind::View);
    let views = || universe.dag.nodes().into_iter().filter(|node| node.kind == RelationKind::View).map(|node| node.name.clone());
    let selector = || atom_text(atom);
    let roots: BTreeSet<String> = match &atom.method {
        SelectorMethod::Name(name) if is_view(name) => BTreeSet::from([name.clone()]),
        SelectorMethod::Name(name) => {
            let writes: BTreeSet<String> =
                universe.outputs.iter().filter(|(output, _, _)| output == name).map(|(_, view, _)| view.clone()).collect();
            if writes.is_empty() {
                return Err(SelectionError::UnknownName { selector: selector(), name: name.clone() });
            }
            writes
        }
        SelectorMethod::Tag(tag) => views().filter(|view| (universe.tags)(view).iter().any(|found| found == tag)).collect(),
        SelectorMethod::Path(path) => {
            let wanted = normalized_path(path);
            universe
                .outputs
                .iter()
                .filter(|(_, _, output_path)| {
                    let output_path = normalized_path(output_path);
                    output_path == wanted || output_path.starts_with(&format!("{wanted}/"))
                })
                .map(|(_, view, _)| view.clone())
                .collect()
        }
        SelectorMethod::StateModified => match universe.modified {
            Some(modified) => modified.clone(),
            None => return Err(SelectionError::NoState { selector: selector() }),
        },
    };
    let mut found = roots.clone();
    for root in &roots {
        if let Some(depth) = atom.ancestors {
            found.extend(universe.dag.ancestors_within(root, depth).into_iter().filter(|name| is_view(name)));
        }
        if let Some(depth) = atom.descendants {
            found.extend(universe.dag.descendants_within(root, depth).into_iter().filter(|name| is_view(name)));
        }
    }
    Ok(found)
}

fn atom_text(atom: &SelectorAtom) -> String {
    let depth = |depth: &Option<usize>| depth.map(|depth| depth.to_string()).unwrap_or_default();
    let method = match &atom.method {
        SelectorMethod::Name(name) => name.clone(),
        SelectorMethod::Tag(tag) => format!("tag:{tag}"),
        SelectorMethod::Path(path) => format!("path:{path}"),
        SelectorMethod::StateModified => "state:modified".to_string(),
    };
    let before = atom.ancestors.as_ref().map(|depth_limit| format!("{}+", depth(depth_limit))).unwrap_or_default();
    let after = atom.descendants.as_ref().map(|depth_limit| format!("+{}", depth(depth_limit))).unwrap_or_default();
    format!("{before}{method}{after}")
}

/// `./out//revenue/` → `out/revenue`.
fn normalized_path(path: &str) -> String {
    path.split('/').filter(|part| !part.is_empty() && *part != ".").collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dag::RelationReads;

    fn dag() -> ViewDag {
        let relation = |name: &str, kind, reads: &[&str]| RelationReads {
            name: name.into(),
            kind,
            reads: reads.iter().map(|read| read.to_string()).collect(),
        };
        // s → a → b → c, and s → d
        ViewDag::build(&[
            relation("s", RelationKind::Source, &[]),
            relation("a", RelationKind::View, &["s"]),
            relation("b", RelationKind::View, &["a"]),
            relation("c", RelationKind::View, &["b"]),
            relation("d", RelationKind::View, &["s"]),
        ])
    }

    fn select(select: &str, exclude: &str, modified: Option<&BTreeSet<String>>) -> Result<Vec<String>, SelectionError> {
        let dag = dag();
        let tags = |view: &str| match view {
            "a" | "d" => vec!["daily".to_string()],
            "c" => vec!["finance".to_string(), "daily".to_string()],
            _ => Vec::new(),
        };
        let outputs = vec![
            ("report".to_string(), "c".to_string(), "out/finance/report".to_string()),
            ("dump".to_string(), "d".to_string(), "out/dump".to_string()),
        ];
        let universe = SelectionUniverse { dag: &dag, tags: &tags, outputs: &outputs, modified };
        select_views(&Selector::parse(&[select.to_string()])?, &Selector::parse(&[exclude.to_string()])?, &universe)
    }

    #[test]
    fn each_operator() {
        assert_eq!(select("", "", None).unwrap(), ["a", "b", "c", "d"]);
        assert_eq!(select("b", "", None).unwrap(), ["b"]);
        assert_eq!(select("+b", "", None).unwrap(), ["a", "b"]);
        assert_eq!(select("b+", "", None).unwrap(), ["b", "c"]);
        assert_eq!(select("a+1", "", None).unwrap(), ["a", "b"]);
        assert_eq!(select("1+c", "", None).unwrap(), ["b", "c"]);
        assert_eq!(select("+c+", "", None).unwrap(), ["a", "b", "c"]);
        assert_eq!(select("tag:daily", "", None).unwrap(), ["a", "c", "d"]);
        assert_eq!(select("path:out/finance", "", None).unwrap(), ["c"]);
        assert_eq!(select("path:./out/", "", None).unwrap(), ["c", "d"]);
        assert_eq!(select("report", "", None).unwrap(), ["c"], "an output stands for its view");
    }

    #[test]
    fn unions_intersections_and_exclusions() {
        assert_eq!(select("b d", "", None).unwrap(), ["b", "d"]);
        assert_eq!(select("tag:daily,a+", "", None).unwrap(), ["a", "c"]);
        assert_eq!(select("tag:daily", "tag:finance", None).unwrap(), ["a", "d"]);
        assert_eq!(select("", "a+", None).unwrap(), ["d"]);
    }

    #[test]
    fn state_modified_needs_a_state() {
        let modified = BTreeSet::from(["b".to_string(), "c".to_string()]);
        assert_eq!(select("state:modified", "", Some(&modified)).unwrap(), ["b", "c"]);
        assert_eq!(select("state:modified+,tag:finance", "", Some(&modified)).unwrap(), ["c"]);
        assert!(matches!(select("state:modified", "", None), Err(SelectionError::NoState { .. })));
    }

    #[test]
    fn bad_selectors_are_errors() {
        assert!(matches!(select("nope", "", None), Err(SelectionError::UnknownName { .. })));
        assert!(matches!(select("s", "", None), Err(SelectionError::UnknownName { .. })), "sources are not selectable");
        assert!(matches!(select("colour:red", "", None), Err(SelectionError::Syntax { .. })));
        assert!(matches!(select("a+b", "", None), Err(SelectionError::Syntax { .. })));
        assert!(matches!(select("+", "", None), Err(SelectionError::Syntax { .. })));
        assert!(matches!(select("state:new", "", None), Err(SelectionError::Syntax { .. })));
    }
}
