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
    /// Each node's position in `topological` (by node index; `None` on or behind a cycle).
    positions: Vec<Option<usize>>,
    cycles: Vec<Vec<String>>,
}

impl PartialEq for ViewDag {
    fn eq(&self, other: &Self) -> bool {
        self.topological == other.topological
            && self.cycles == other.cycles
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
        let (topological, positions) = deterministic_topological_order(&graph);
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
        ViewDag { graph, index, topological, positions, cycles }
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
}

/// Kahn's algorithm, always taking the ready node declared first: every node not on a cycle
/// nor downstream of one, in dependency order, and each node's position in that order by
/// node index (`None` on or behind a cycle; the graph has no removed nodes).
fn deterministic_topological_order(graph: &StableDiGraph<DagNode, ()>) -> (Vec<String>, Vec<Option<usize>>) {
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
        order.push(graph[node].name.clone());
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
}
