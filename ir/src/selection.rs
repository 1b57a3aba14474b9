//! Node selection: dbt's selector grammar over the view DAG.
//!
//! ```text
//! selection  := term ( ' ' term )*          union
//! term       := atom ( ',' atom )*          intersection
//! atom       := [ N? '+' ] method [ '+' N? ]  ancestors / descendants (N edges at most)
//! method     := NAME | 'tag:' TAG | 'path:' PATH | 'state:modified'
//! ```
//!
//! `NAME` is a view (the view itself, its materialization and every output writing it), or
//! an output (that output alone: `run --select OUTPUT` runs that output's task, not its
//! view's other outputs; `--exclude OUTPUT` leaves out that output's task and nothing else).
//! A name that is both a view and an output denotes the view. `path:P` selects the outputs
//! whose path is `P` or lies under it (those outputs alone). `+` and `N+` around an output
//! reach the ancestors/descendants of the view it writes, which are selected whole. `state:modified` selects
//! the views whose definition digest differs from a previous compile's (or that it did not
//! have); since definition digests are Merkle digests, that is the edited views and
//! everything downstream of them. Several `--select` values are one union; `--exclude`
//! removes its own selection from it.
//!
//! ## Invariants
//! - Pure: parsing is a function of the text, resolving of the DAG and the facts handed in
//!   ([`SelectionUniverse`]); no I/O.
//! - Results hold views and outputs only (sources are never selected); the views of a
//!   result, in declaration order, are the views selected whole and those of the outputs
//!   selected ([`SelectedUnits::views`]).
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

    /// The views and outputs this selector denotes.
    pub fn resolve(&self, universe: &SelectionUniverse) -> Result<BTreeSet<SelectedUnit>, SelectionError> {
        let mut selected = BTreeSet::new();
        for term in &self.terms {
            let mut intersection: Option<BTreeSet<SelectedUnit>> = None;
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

/// One thing a selection holds: a view itself (its own task, the materialization) or one
/// output (its task).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SelectedUnit {
    /// The view (checked, graphed, materialized when it is).
    View(String),
    /// The output of this name (its task writes its table).
    Output(String),
}

/// What `--select` minus `--exclude` holds: views and outputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectedUnits {
    /// Every selected unit.
    pub units: BTreeSet<SelectedUnit>,
    /// The views shown (checked, graphed, compiled), in declaration order: those selected
    /// themselves and those of the selected outputs.
    pub views: Vec<String>,
}

impl SelectedUnits {
    /// Whether the view's own task (its materialization) is selected.
    pub fn has_view(&self, view: &str) -> bool {
        self.units.contains(&SelectedUnit::View(view.to_string()))
    }

    /// Whether the output's task is selected.
    pub fn has_output(&self, output: &str) -> bool {
        self.units.contains(&SelectedUnit::Output(output.to_string()))
    }
}

/// `--select` minus `--exclude`: the units selected, and their views in declaration order.
/// No `--select` means every view and output.
pub fn select_units(select: &Selector, exclude: &Selector, universe: &SelectionUniverse) -> Result<SelectedUnits, SelectionError> {
    let selected = if select.is_empty() {
        universe
            .dag
            .nodes()
            .into_iter()
            .filter(|node| node.kind == RelationKind::View)
            .flat_map(|node| whole_view(&node.name, universe))
            .collect()
    } else {
        select.resolve(universe)?
    };
    let excluded = exclude.resolve(universe)?;
    let units: BTreeSet<SelectedUnit> = selected.difference(&excluded).cloned().collect();
    let shown: BTreeSet<&str> = units
        .iter()
        .filter_map(|unit| match unit {
            SelectedUnit::View(view) => Some(view.as_str()),
            SelectedUnit::Output(output) => universe.outputs.iter().find(|(name, _, _)| name == output).map(|(_, view, _)| view.as_str()),
        })
        .collect();
    let views = universe
        .dag
        .nodes()
        .into_iter()
        .filter(|node| node.kind == RelationKind::View && shown.contains(node.name.as_str()))
        .map(|node| node.name.clone())
        .collect();
    Ok(SelectedUnits { units, views })
}

/// `--select` minus `--exclude`: the views shown, in declaration order ([`select_units`]).
pub fn select_views(select: &Selector, exclude: &Selector, universe: &SelectionUniverse) -> Result<Vec<String>, SelectionError> {
    Ok(select_units(select, exclude, universe)?.views)
}

/// A view selected whole: itself and every output writing it.
fn whole_view(view: &str, universe: &SelectionUniverse) -> Vec<SelectedUnit> {
    std::iter::once(SelectedUnit::View(view.to_string()))
        .chain(universe.outputs.iter().filter(|(_, written, _)| written == view).map(|(output, _, _)| SelectedUnit::Output(output.clone())))
        .collect()
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

fn resolve_atom(atom: &SelectorAtom, universe: &SelectionUniverse) -> Result<BTreeSet<SelectedUnit>, SelectionError> {
    let is_view = |name: &str| universe.dag.kind(name) == Some(RelationKind::View);
    let views = || universe.dag.nodes().into_iter().filter(|node| node.kind == RelationKind::View).map(|node| node.name.clone());
    let selector = || atom_text(atom);
    // The outputs selected alone, and the views selected whole; `+` reaches from the views
    // of both.
    let (outputs, whole): (Vec<(String, String)>, BTreeSet<String>) = match &atom.method {
        SelectorMethod::Name(name) if is_view(name) => (Vec::new(), BTreeSet::from([name.clone()])),
        SelectorMethod::Name(name) => {
            let writes: Vec<(String, String)> = universe
                .outputs
                .iter()
                .filter(|(output, _, _)| output == name)
                .map(|(output, view, _)| (output.clone(), view.clone()))
                .collect();
            if writes.is_empty() {
                return Err(SelectionError::UnknownName { selector: selector(), name: name.clone() });
            }
            (writes, BTreeSet::new())
        }
        SelectorMethod::Tag(tag) => (Vec::new(), views().filter(|view| (universe.tags)(view).iter().any(|found| found == tag)).collect()),
        SelectorMethod::Path(path) => {
            let wanted = normalized_path(path);
            let under = universe
                .outputs
                .iter()
                .filter(|(_, _, output_path)| {
                    let output_path = normalized_path(output_path);
                    output_path == wanted || output_path.starts_with(&format!("{wanted}/"))
                })
                .map(|(output, view, _)| (output.clone(), view.clone()))
                .collect();
            (under, BTreeSet::new())
        }
        SelectorMethod::StateModified => match universe.modified {
            Some(modified) => (Vec::new(), modified.clone()),
            None => return Err(SelectionError::NoState { selector: selector() }),
        },
    };
    let roots: BTreeSet<String> = whole.iter().cloned().chain(outputs.iter().map(|(_, view)| view.clone())).collect();
    let mut reached = whole;
    for root in &roots {
        if let Some(depth) = atom.ancestors {
            reached.extend(universe.dag.ancestors_within(root, depth).into_iter().filter(|name| is_view(name)));
        }
        if let Some(depth) = atom.descendants {
            reached.extend(universe.dag.descendants_within(root, depth).into_iter().filter(|name| is_view(name)));
        }
    }
    let mut found: BTreeSet<SelectedUnit> = outputs.into_iter().map(|(output, _)| SelectedUnit::Output(output)).collect();
    for view in &reached {
        found.extend(whole_view(view, universe));
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
        assert_eq!(select("report", "", None).unwrap(), ["c"], "an output shows its view");
    }

    fn units(select: &str, exclude: &str) -> SelectedUnits {
        let dag = dag();
        let tags = |_: &str| Vec::new();
        let outputs = vec![
            ("report".to_string(), "c".to_string(), "out/finance/report".to_string()),
            ("archive".to_string(), "c".to_string(), "out/archive".to_string()),
            ("dump".to_string(), "d".to_string(), "out/dump".to_string()),
        ];
        let universe = SelectionUniverse { dag: &dag, tags: &tags, outputs: &outputs, modified: None };
        select_units(&Selector::parse(&[select.to_string()]).unwrap(), &Selector::parse(&[exclude.to_string()]).unwrap(), &universe)
            .unwrap()
    }

    /// Issue 21, item 4: an output selects (or excludes) its own task, not its view's others.
    #[test]
    fn an_output_selects_and_excludes_itself_alone() {
        let report = units("report", "");
        assert!(report.has_output("report") && !report.has_output("archive") && !report.has_view("c"), "{report:?}");
        assert_eq!(report.views, ["c"]);
        let all_but_report = units("", "report");
        assert!(all_but_report.has_view("c") && all_but_report.has_output("archive") && !all_but_report.has_output("report"));
        assert_eq!(all_but_report.views, ["a", "b", "c", "d"]);
        let whole = units("c", "");
        assert!(whole.has_view("c") && whole.has_output("report") && whole.has_output("archive"));
        let path = units("path:out/archive", "");
        assert!(path.has_output("archive") && !path.has_output("report") && !path.has_view("c"));
        let upstream = units("+report", "");
        assert!(upstream.has_view("a") && upstream.has_view("b") && !upstream.has_view("c") && !upstream.has_output("archive"));
        assert_eq!(upstream.views, ["a", "b", "c"]);
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
