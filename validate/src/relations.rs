//! Stage 1, names: which relation a name denotes and what each view reads.

use rustc_hash::FxHashMap;

use viewdag_ir::{FieldPath, ProjectInput, SourceInput, SpecLocation, Transform, ViewInput};

use crate::Db;
use crate::sql::analyze_sql_view;
use viewdag_ir::sql_text::{code_ranges, relation_range};

/// Name → input, for sources and views. The first declaration of a name wins (a repeated
/// name is reported by the duplicate-name check). Only looked up, never iterated in an
/// order that could reach a result (hash maps).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RelationIndex {
    pub sources: FxHashMap<String, SourceInput>,
    pub views: FxHashMap<String, ViewInput>,
}

impl RelationIndex {
    pub fn contains(&self, name: &str) -> bool {
        self.sources.contains_key(name) || self.views.contains_key(name)
    }

    /// The index of the project's sources and views, as declared.
    pub fn build(db: &dyn Db, project: ProjectInput) -> RelationIndex {
        let (sources, views) = (project.sources(db), project.views(db));
        let mut index = RelationIndex {
            sources: FxHashMap::with_capacity_and_hasher(sources.len(), Default::default()),
            views: FxHashMap::with_capacity_and_hasher(views.len(), Default::default()),
        };
        for source in sources {
            index.sources.entry(source.name(db).clone()).or_insert(*source);
        }
        for view in views {
            let name = view.name(db);
            if !index.sources.contains_key(name) {
                index.views.entry(name.clone()).or_insert(*view);
            }
        }
        index
    }
}

pub use crate::reads::{Read, ViewReads};

#[salsa::tracked(returns(ref))]
pub fn view_reads(db: &dyn Db, view: ViewInput) -> ViewReads {
    let name = view.name(db);
    let Some(definition) = view.definition(db) else {
        return ViewReads { unparsed: true, ..ViewReads::default() };
    };
    let transform_key = definition.transform.key();
    match &definition.transform {
        Transform::Sql(sql) => {
            let table_functions = allowed_table_functions(db, ProjectInput::get(db));
            let compute = || sql_view_reads(name, &sql.query, table_functions);
            match db.reads_memo() {
                Some(memo) => crate::reads_memo::memoized_sql_reads(memo, name, &sql.query, table_functions, compute),
                None => compute(),
            }
        }
        transform => ViewReads {
            reads: transform
                .named_inputs()
                .into_iter()
                .map(|(input, field)| Read {
                    name: input.to_string(),
                    location: SpecLocation::view(name).with_field(FieldPath::from([transform_key]).join(&field)),
                })
                .collect(),
            diagnostics: Vec::new(),
            unparsed: false,
        },
    }
}

/// What the `sql` view `name` with SQL text `query` reads, `table_functions` allowed: a
/// function of these alone (what `crate::reads_memo` keys it by).
fn sql_view_reads(name: &str, query: &str, table_functions: &[String]) -> ViewReads {
    let analysis = analyze_sql_view(name, query, table_functions);
    let code = code_ranges(query);
    ViewReads {
        reads: analysis
            .relations
            .into_iter()
            .map(|relation| Read { location: Read::sql_location(name, relation_range(query, &code, &relation)), name: relation })
            .collect(),
        diagnostics: analysis.diagnostics,
        unparsed: false,
    }
}

/// The row-generating table functions `profile.surface.table_functions` allows: a narrow
/// projection of the profile, so editing another profile setting re-analyses no SQL view.
#[salsa::tracked(returns(ref))]
pub fn allowed_table_functions(db: &dyn Db, project: ProjectInput) -> Vec<String> {
    project.profile(db).surface.table_functions.clone()
}
