//! The view DAG: sources and views as nodes, an edge `a → b` when `b` reads `a`.
//!
//! Built from names only (no schemas, no plans). Unknown references have no edge (the
//! validator reports them); a repeated name keeps its first declaration. Cycles are found
//! and listed; [`ViewDag::topological_order`] then leaves out every view on or behind one.
//! All orders are deterministic: ties are broken by declaration order, never by hashing.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use rustc_hash::FxHashMap;

use petgraph::Direction;
use petgraph::algo::kosaraju_scc;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::NodeFiltered;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelationKind {
    Source,
    View,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DagNode {
    pub name: String,
    pub kind: RelationKind,
    /// Position in the spec (sources first, then views), used to break ties.
    pub declaration_index: usize,
}

/// A relation and the names it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationReads {
    pub name: String,
    pub kind: RelationKind,
    pub reads: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ViewDag {
    graph: StableDiGraph<DagNode, ()>,
    /// Only looked up, never iterated.
    index: FxHashMap<String, NodeIndex>,
    topological: Vec<String>,
    /// The nodes of `topological`, position by position.
    topological_nodes: Vec<NodeIndex>,
    /// Each node's position in `topological` (by node index; `None` on or behind a cycle, or
    /// for an index no node holds).
    positions: Vec<Option<usize>>,
    cycles: Vec<Vec<String>>,
}

impl PartialEq for ViewDag {
    fn eq(&self, other: &Self) -> bool {
        self.topological == other.topological
            && self.cycles == other.cycles
            && self.declarations() == other.declarations()
            && self.edges() == other.edges()
            && self.index.len() == other.index.len()
            && self.index.keys().all(|name| other.index.contains_key(name))
    }
}
impl Eq for ViewDag {}

impl ViewDag {
    pub fn build(relations: &[RelationReads]) -> ViewDag {
        let mut graph = StableDiGraph::with_capacity(relations.len(), relations.len());
        let mut index = FxHashMap::with_capacity_and_hasher(relations.len(), Default::default());
        for (declaration_index, relation) in relations.iter().enumerate() {
            if index.contains_key(&relation.name) {
                continue;
            }
            let node = graph.add_node(DagNode { name: relation.name.clone(), kind: relation.kind, declaration_index });
            index.insert(relation.name.clone(), node);
        }
        let mut upstreams = Vec::new();
        for (declaration_index, relation) in relations.iter().enumerate() {
            let Some(&reader) = index.get(&relation.name) else { continue };
            // A repeated name keeps its first declaration's reads only.
            if graph[reader].declaration_index != declaration_index {
                continue;
            }
            upstreams.clear();
            upstreams.extend(relation.reads.iter().filter_map(|read| index.get(read).copied()));
            upstreams.sort_unstable();
            upstreams.dedup();
            for upstream in &upstreams {
                graph.add_edge(*upstream, reader, ());
            }
        }
        let (topological_nodes, positions) = deterministic_topological_order(&graph);
        let topological = topological_nodes.iter().map(|node| graph[*node].name.clone()).collect();
        // Kahn's algorithm leaves out exactly the nodes on a cycle or downstream of one: the
        // components are looked for among those alone (none, in a valid project).
        let left_out = NodeFiltered::from_fn(&graph, |node: NodeIndex| positions[node.index()].is_none());
        let mut cycles: Vec<Vec<String>> = kosaraju_scc(&left_out)
            .into_iter()
            .filter(|component| component.len() > 1 || graph.contains_edge(component[0], component[0]))
            .map(|component| {
                let mut names: Vec<(usize, String)> =
                    component.iter().map(|node| (graph[*node].declaration_index, graph[*node].name.clone())).collect();
                names.sort();
                names.into_iter().map(|(_, name)| name).collect()
            })
            .collect();
        cycles.sort();
        ViewDag { graph, index, topological, topological_nodes, positions, cycles }
    }

    /// Every relation in dependency order (inputs before readers), sources included.
    /// Relations on a cycle, or downstream of one, are left out.
    pub fn topological_order(&self) -> &[String] {
        &self.topological
    }

    /// `name`'s position in [`ViewDag::topological_order`] (`None` if it is not there).
    pub fn topological_position(&self, name: &str) -> Option<usize> {
        self.positions[self.index.get(name)?.index()]
    }

    /// Each cycle's members, in declaration order.
    pub fn cycles(&self) -> &[Vec<String>] {
        &self.cycles
    }

    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// `name`'s node in [`ViewDag::graph`].
    pub fn node_index(&self, name: &str) -> Option<NodeIndex> {
        self.index.get(name).copied()
    }

    /// The nodes of [`ViewDag::topological_order`], position by position.
    pub fn topological_nodes(&self) -> &[NodeIndex] {
        &self.topological_nodes
    }

    /// `name`'s position among the relations as declared (sources first).
    pub fn declaration_index(&self, name: &str) -> Option<usize> {
        self.index.get(name).map(|node| self.graph[*node].declaration_index)
    }

    pub fn kind(&self, name: &str) -> Option<RelationKind> {
        self.index.get(name).map(|node| self.graph[*node].kind)
    }

    /// The relations `name` reads, in declaration order.
    pub fn reads(&self, name: &str) -> Vec<String> {
        self.neighbors(name, Direction::Incoming)
    }

    /// The relations that read `name`, in declaration order.
    pub fn readers(&self, name: &str) -> Vec<String> {
        self.neighbors(name, Direction::Outgoing)
    }

    fn neighbors(&self, name: &str, direction: Direction) -> Vec<String> {
        let Some(&node) = self.index.get(name) else { return Vec::new() };
        let mut nodes: Vec<&DagNode> = self.graph.neighbors_directed(node, direction).map(|other| &self.graph[other]).collect();
        nodes.sort_by_key(|node| node.declaration_index);
        nodes.into_iter().map(|node| node.name.clone()).collect()
    }

    /// Every relation downstream of `name` (not including it), in topological order.
    pub fn downstream(&self, name: &str) -> Vec<String> {
        let mut reached = BTreeSet::new();
        let mut stack = vec![name.to_string()];
        while let Some(current) = stack.pop() {
            for reader in self.readers(&current) {
                if reached.insert(reader.clone()) {
                    stack.push(reader);
                }
            }
        }
        self.topological.iter().filter(|name| reached.contains(*name)).cloned().collect()
    }

    /// Every relation `name` reads, directly or not, at most `max_depth` edges away (all of
    /// them when `None`), not including `name`; sorted by declaration order.
    pub fn ancestors_within(&self, name: &str, max_depth: Option<usize>) -> Vec<String> {
        self.walk_within(name, max_depth, Direction::Incoming)
    }

    /// Every relation that reads `name`, directly or not, at most `max_depth` edges away
    /// (all of them when `None`), not including `name`; sorted by declaration order.
    pub fn descendants_within(&self, name: &str, max_depth: Option<usize>) -> Vec<String> {
        self.walk_within(name, max_depth, Direction::Outgoing)
    }

    /// Breadth-first, so each relation is first met at its shortest distance.
    fn walk_within(&self, name: &str, max_depth: Option<usize>, direction: Direction) -> Vec<String> {
        let Some(&start) = self.index.get(name) else { return Vec::new() };
        let mut reached: BTreeSet<NodeIndex> = BTreeSet::from([start]);
        let mut frontier = vec![start];
        let mut depth = 0;
        while !frontier.is_empty() && max_depth.is_none_or(|max| depth < max) {
            depth += 1;
            let mut next = Vec::new();
            for node in frontier {
                for neighbor in self.graph.neighbors_directed(node, direction) {
                    if reached.insert(neighbor) {
                        next.push(neighbor);
                    }
                }
            }
            frontier = next;
        }
        reached.remove(&start);
        let mut nodes: Vec<&DagNode> = reached.into_iter().map(|node| &self.graph[node]).collect();
        nodes.sort_by_key(|node| node.declaration_index);
        nodes.into_iter().map(|node| node.name.clone()).collect()
    }

    /// Edges as `(upstream, reader)` name pairs, sorted.
    pub fn edges(&self) -> Vec<(String, String)> {
        let mut edges: Vec<(String, String)> = self
            .graph
            .edge_indices()
            .filter_map(|edge| self.graph.edge_endpoints(edge))
            .map(|(from, to)| (self.graph[from].name.clone(), self.graph[to].name.clone()))
            .collect();
        edges.sort();
        edges
    }

    /// Nodes in declaration order.
    pub fn nodes(&self) -> Vec<&DagNode> {
        let mut nodes: Vec<&DagNode> = self.graph.node_weights().collect();
        nodes.sort_by_key(|node| node.declaration_index);
        nodes
    }

    pub fn graph(&self) -> &StableDiGraph<DagNode, ()> {
        &self.graph
    }

    /// Every node's declaration index, kind and name, in declaration order.
    fn declarations(&self) -> Vec<(usize, RelationKind, &str)> {
        self.nodes().into_iter().map(|node| (node.declaration_index, node.kind, node.name.as_str())).collect()
    }
}

/// Patching: the DAG after an edit, in place, equal to a build of the edited relations.
///
/// Only edits of relations nothing reads are patched — a relation added that no one reads
/// yet, one removed that no one reads any more — and only in a DAG without cycles: Kahn's
/// algorithm takes a ready node only when its declaration index is the least ready, and a
/// node no one reads makes no other node ready, so adding it only inserts it where it first
/// is the least ready, and removing it only takes it out. Every other edit is a new build.
impl ViewDag {
    /// Whether `name` is a relation that nothing reads, in a DAG without cycles: one that
    /// [`ViewDag::remove_unread`] can remove.
    pub fn is_unread(&self, name: &str) -> bool {
        self.cycles.is_empty()
            && self.index.get(name).is_some_and(|node| self.graph.neighbors_directed(*node, Direction::Outgoing).next().is_none())
    }

    /// Removes `name`, which nothing reads (see [`ViewDag::is_unread`]; otherwise nothing
    /// changes and `false` is returned). Declaration indexes are left as they were: renumber
    /// them after the edit ([`ViewDag::renumber`]).
    pub fn remove_unread(&mut self, name: &str) -> bool {
        if !self.is_unread(name) {
            return false;
        }
        let node = self.index.remove(name).expect("an unread relation is a node");
        let position = self.positions[node.index()].take().expect("a DAG without cycles orders every node");
        self.topological.remove(position);
        self.topological_nodes.remove(position);
        for later in &self.topological_nodes[position..] {
            if let Some(at) = &mut self.positions[later.index()] {
                *at -= 1;
            }
        }
        self.graph.remove_node(node);
        true
    }

    /// Gives every node the declaration index `renumbered(its index)`, a function that keeps
    /// their order (the positions after an edit that added or removed relations elsewhere).
    pub fn renumber(&mut self, renumbered: impl Fn(usize) -> usize) {
        for node in self.graph.node_weights_mut() {
            node.declaration_index = renumbered(node.declaration_index);
        }
    }

    /// Adds `name`, which nothing reads yet, reading `reads` (names that are no node get no
    /// edge), with a declaration index no node has. Returns `false` and changes nothing if
    /// `name` is already a node, its index is taken, or the DAG has a cycle.
    pub fn insert_unread<'a>(
        &mut self,
        name: &str,
        kind: RelationKind,
        declaration_index: usize,
        reads: impl IntoIterator<Item = &'a str>,
    ) -> bool {
        if !self.cycles.is_empty()
            || self.index.contains_key(name)
            || self.graph.node_weights().any(|node| node.declaration_index == declaration_index)
        {
            return false;
        }
        let mut upstreams: Vec<NodeIndex> = reads.into_iter().filter_map(|read| self.index.get(read).copied()).collect();
        upstreams.sort_unstable();
        upstreams.dedup();
        // Ready once its last input is taken; taken at the first step after that where the
        // node the build took has a greater declaration index.
        let ready_after = upstreams.iter().filter_map(|upstream| self.positions[upstream.index()]).max();
        let search_from = ready_after.map_or(0, |position| position + 1);
        let position = self.topological_nodes[search_from..]
            .iter()
            .position(|other| self.graph[*other].declaration_index > declaration_index)
            .map_or(self.topological_nodes.len(), |offset| search_from + offset);
        let node = self.graph.add_node(DagNode { name: name.to_string(), kind, declaration_index });
        for upstream in upstreams {
            self.graph.add_edge(upstream, node, ());
        }
        self.index.insert(name.to_string(), node);
        for later in &self.topological_nodes[position..] {
            if let Some(at) = &mut self.positions[later.index()] {
                *at += 1;
            }
        }
        if self.positions.len() <= node.index() {
            self.positions.resize(node.index() + 1, None);
        }
        self.positions[node.index()] = Some(position);
        self.topological.insert(position, name.to_string());
        self.topological_nodes.insert(position, node);
        true
    }
}

/// Kahn's algorithm, always taking the ready node declared first: every node not on a cycle
/// nor downstream of one, in dependency order, and each node's position in that order by
/// node index (`None` on or behind a cycle; the graph has no removed nodes).
fn deterministic_topological_order(graph: &StableDiGraph<DagNode, ()>) -> (Vec<NodeIndex>, Vec<Option<usize>>) {
    let mut remaining = vec![0usize; graph.node_count()];
    let mut ready = BinaryHeap::new();
    for node in graph.node_indices() {
        let incoming = graph.neighbors_directed(node, Direction::Incoming).count();
        if incoming == 0 {
            ready.push(Reverse((graph[node].declaration_index, node)));
        }
        remaining[node.index()] = incoming;
    }
    let mut order = Vec::with_capacity(graph.node_count());
    let mut positions = vec![None; graph.node_count()];
    while let Some(Reverse((_, node))) = ready.pop() {
        positions[node.index()] = Some(order.len());
        order.push(node);
        for reader in graph.neighbors_directed(node, Direction::Outgoing) {
            let count = &mut remaining[reader.index()];
            *count -= 1;
            if *count == 0 {
                ready.push(Reverse((graph[reader].declaration_index, reader)));
            }
        }
    }
    (order, positions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(name: &str, reads: &[&str]) -> RelationReads {
        RelationReads { name: name.into(), kind: RelationKind::View, reads: reads.iter().map(|r| r.to_string()).collect() }
    }

    #[test]
    fn orders_and_finds_cycles() {
        let relations = vec![
            RelationReads { name: "s".into(), kind: RelationKind::Source, reads: vec![] },
            view("c", &["b"]),
            view("b", &["s"]),
            view("x", &["y"]),
            view("y", &["x"]),
            view("z", &["x"]),
        ];
        let dag = ViewDag::build(&relations);
        assert_eq!(dag.topological_order(), &["s", "b", "c"]);
        let positions: Vec<Option<usize>> = ["s", "b", "c", "unknown"].iter().map(|name| dag.topological_position(name)).collect();
        assert_eq!(positions, [Some(0), Some(1), Some(2), None]);
        assert_eq!(dag.cycles(), &[vec!["x".to_string(), "y".to_string()]]);
        assert_eq!(dag.downstream("s"), vec!["b", "c"]);
        assert_eq!(dag.descendants_within("s", Some(1)), vec!["b"]);
        assert_eq!(dag.descendants_within("s", None), vec!["c", "b"]);
        assert_eq!(dag.ancestors_within("c", Some(1)), vec!["b"]);
        assert_eq!(dag.ancestors_within("c", None), vec!["s", "b"]);
        assert!(dag.ancestors_within("c", Some(0)).is_empty());
    }

    mod patching {
        use proptest::prelude::*;

        use super::*;

        /// A project: two sources, then views each reading up to three names — relations of
        /// a lower rank (a random order, not the declaration order), or an unknown name.
        fn project() -> impl Strategy<Value = Vec<(String, Vec<String>)>> {
            let view = (0usize..1000, proptest::collection::vec(0usize..1000, 0..3));
            proptest::collection::vec(view, 0..24).prop_map(|views| {
                let rank = |at: usize| (views[at].0, at);
                (0..views.len())
                    .map(|at| {
                        let lower: Vec<String> = ["s0".to_string(), "s1".to_string()]
                            .into_iter()
                            .chain((0..views.len()).filter(|other| rank(*other) < rank(at)).map(|other| format!("v{other}")))
                            .collect();
                        let reads =
                            views[at].1.iter().map(|read| lower.get(read % (lower.len() + 1)).cloned().unwrap_or_else(|| "unknown".into()));
                        (format!("v{at}"), reads.collect())
                    })
                    .collect()
            })
        }

        /// The relations of `views`, sources `s0` and `s1` first.
        fn relations(views: &[(String, Vec<String>)]) -> Vec<RelationReads> {
            let mut relations: Vec<RelationReads> = ["s0", "s1"]
                .iter()
                .map(|name| RelationReads { name: name.to_string(), kind: RelationKind::Source, reads: vec![] })
                .collect();
            relations.extend(views.iter().map(|(name, reads)| RelationReads {
                name: name.clone(),
                kind: RelationKind::View,
                reads: reads.clone(),
            }));
            relations
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

            /// Removing views nothing reads and adding views nothing reads (each reading
            /// relations declared before it) patches the DAG into the build of the edited
            /// relations.
            #[test]
            fn a_patch_equals_a_build(views in project(), removals in proptest::collection::vec(0usize..1000, 0..4),
                                      additions in proptest::collection::vec((0usize..1000, proptest::collection::vec(0usize..1000, 0..3)), 0..4)) {
                let before = views;
                let mut dag = ViewDag::build(&relations(&before));
                // Remove leaves, one at a time.
                let mut after = before.clone();
                for removal in removals {
                    let leaves: Vec<String> = after.iter().map(|(name, _)| name.clone()).filter(|name| dag.is_unread(name)).collect();
                    if leaves.is_empty() { break; }
                    let name = leaves[removal % leaves.len()].clone();
                    prop_assert!(dag.remove_unread(&name));
                    after.retain(|(view, _)| *view != name);
                }
                // Insert views at random places, each reading any relation (or an unknown name).
                let mut inserted = Vec::new();
                for (serial, (at, reads)) in additions.into_iter().enumerate() {
                    let at = at % (after.len() + 1);
                    let known: Vec<String> = ["s0".to_string(), "s1".to_string()].into_iter().chain(after.iter().map(|(name, _)| name.clone())).collect();
                    let reads: Vec<String> = reads.into_iter().map(|read| known.get(read % (known.len() + 1)).cloned().unwrap_or_else(|| "unknown".into())).collect();
                    let name = format!("new{serial}");
                    after.insert(at, (name.clone(), reads));
                    inserted.push(name);
                }
                let position: HashMap<&str, usize> = after.iter().enumerate().map(|(at, (name, _))| (name.as_str(), at + 2)).collect();
                let old_names: Vec<&str> = ["s0", "s1"].into_iter().chain(before.iter().map(|(name, _)| name.as_str())).collect();
                dag.renumber(|old| position.get(old_names[old]).copied().unwrap_or(old));
                // In the order they were made: each after the added views it reads.
                for name in &inserted {
                    let reads = &after.iter().find(|(view, _)| view == name).expect("inserted").1;
                    prop_assert!(dag.insert_unread(name, RelationKind::View, position[name.as_str()], reads.iter().map(String::as_str)));
                }
                let built = ViewDag::build(&relations(&after));
                prop_assert!(built.cycles().is_empty());
                prop_assert_eq!(dag.topological_order(), built.topological_order());
                prop_assert!(dag == built);
                for (name, _) in &after {
                    prop_assert_eq!(dag.topological_position(name), built.topological_position(name));
                }
            }
        }

        use std::collections::HashMap;
    }
}
