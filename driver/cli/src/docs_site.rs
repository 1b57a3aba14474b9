//! `viewdag docs SPEC --out DIR`: a static HTML site of the project that needs no server
//! (open `DIR/index.html`): the view DAG (Cytoscape.js, vendored under `driver/cli/assets/docs/`,
//! with zoom and search) and, per view, its definition, schema, column lineage (filter and
//! join edges highlighted), P0/P1/P2, pass trace, pushdown report, cost estimate,
//! expectations and the last run's results (`.viewdag/last-run.json`, saved by `run`; the data itself is `viewdag_driver::docs_data`'s).
//!
//! ## Invariants
//! - Every view is planned (`Planning::AllViews`); the site's data is the views' plan
//!   bundles, so it shows exactly what `compile --out` would write.
//! - The files are a pure function of the compile and the last run's report: views in
//!   declaration order, no time, no absolute path. Data travels as a script (`data.js`),
//!   so the page works from `file://`.

use std::path::Path;

use viewdag_driver::{CompileRequest, Compiler, DriverError, Planning};

const INDEX_HTML: &str = include_str!("../assets/docs/index.html");
const SITE_JS: &str = include_str!("../assets/docs/viewdag-docs.js");
const CYTOSCAPE_JS: &str = include_str!("../assets/docs/cytoscape.min.js");

/// Writes the site; returns the exit code and how many views it shows (exit 2, nothing
/// written, when `out` is refused: see `Snapshot::docs_out_refusal`).
pub fn write_docs_site(spec: &Path, out: &Path) -> Result<(i32, usize), DriverError> {
    let mut compiler = Compiler::new()?;
    let response = compiler.compile(&CompileRequest::new(spec).with_planning(Planning::AllViews))?;
    // Never into a source, a task's table or `.viewdag` (issue 21 #23), like an output path.
    let snapshot = compiler.snapshot();
    if let Some(refusal) = snapshot.docs_out_refusal(out) {
        eprintln!("error: {refusal}");
        return Ok((2, 0));
    }
    let data = snapshot.docs_data(&response);
    let views = data.views.len();
    std::fs::create_dir_all(out).map_err(DriverError::write(out))?;
    let text = format!("window.VIEWDAG_DATA = {};\n", serde_json::to_string_pretty(&data).expect("JSON serializes"));
    for (name, contents) in
        [("index.html", INDEX_HTML), ("viewdag-docs.js", SITE_JS), ("cytoscape.min.js", CYTOSCAPE_JS), ("data.js", &text)]
    {
        let path = out.join(name);
        std::fs::write(&path, contents).map_err(DriverError::write(&path))?;
    }
    Ok((if response.has_errors() { 1 } else { 0 }, views))
}
