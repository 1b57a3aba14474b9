//! `viewdag docs`: the static site of the shop example, loaded in a real headless browser
//! (Debian's `chromium`, which `.ci/run` installs): the page loads with no console error,
//! the graph has every view, and clicking a view's node (mouse events at its position on
//! the canvas, hit-tested by Cytoscape) shows its schema, expectations and last run.

use std::path::Path;
use std::process::Command;

use crate::support::{TempProject, shop_spec};

fn viewdag(args: &[&str]) -> i32 {
    viewdag_cli::main_with_args(std::iter::once("viewdag").chain(args.iter().copied()).map(std::ffi::OsString::from))
}

/// The DOM after the page's scripts ran, and Chromium's stderr.
fn load_in_chromium(page: &Path, fragment: &str, profile: &Path) -> (String, String) {
    let url = format!("file://{}#{fragment}", page.display());
    let output = Command::new("timeout")
        .args(["300", "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--enable-logging=stderr"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--virtual-time-budget=5000", "--dump-dom", &url])
        .output()
        .expect("Debian's `chromium` runs (apt-get install chromium; .ci/run installs it)");
    assert!(output.status.success(), "chromium failed: {}", String::from_utf8_lossy(&output.stderr));
    (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn the_docs_site_loads_in_chromium_shows_every_view_and_a_views_schema() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let spec = spec.to_str().unwrap();
    assert_eq!(viewdag(&["run", spec]), 0);
    let site = project.path().join("site");
    assert_eq!(viewdag(&["docs", spec, "--out", site.to_str().unwrap()]), 0);
    for file in ["index.html", "data.js", "viewdag-docs.js", "cytoscape.min.js"] {
        assert!(site.join(file).is_file(), "{file} is written");
    }
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(!index.contains("http://") && !index.contains("https://"), "no CDN: every script is local");

    let (dom, stderr) = load_in_chromium(&site.join("index.html"), "click=enriched", &project.path().join("chromium-profile"));
    assert!(dom.contains("data-loaded=\"true\""), "the page's script ran:\n{dom}");
    assert!(dom.contains("data-errors=\"0\""), "no console error or uncaught exception:\n{dom}");
    assert!(!stderr.contains("Uncaught"), "{stderr}");
    assert!(dom.contains("data-graph-views=\"12\""), "the graph has every view of the example");
    assert!(dom.contains("<h2 id=\"view-name\">enriched</h2>"), "the click opened the view");
    let schema = dom.split("<div id=\"schema\">").nth(1).expect("a schema section");
    let schema = &schema[..schema.find("</div>").unwrap()];
    for column in ["order_id", "customer", "region", "segment", "amount_eur"] {
        assert!(schema.contains(&format!("<td>{column}</td>")), "{column} in the schema: {schema}");
    }
    assert!(dom.contains("not_null(order_id)"), "the expectations are listed");
    assert!(dom.contains("Last run: written, 15 rows"), "the last run's result is shown");
    assert!(dom.contains("edge-join_key"), "join-key lineage edges are highlighted");
    assert!(dom.contains("P2: physical plan"), "the plans are shown");
}

/// Issue 21, item 23: `docs --out` into a source's directory, a task's table or `.viewdag`
/// (also through a symlink) is refused like an output path: exit 2, nothing written.
#[test]
fn docs_out_into_a_source_a_table_or_the_state_is_refused() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let spec = spec.to_str().unwrap();
    std::os::unix::fs::symlink(project.path().join("data/orders"), project.path().join("linked")).unwrap();
    for refused in ["data/orders/site", "data", ".viewdag/site", "linked/site", "."] {
        let out = project.path().join(refused);
        assert_eq!(viewdag(&["docs", spec, "--out", out.to_str().unwrap()]), 2, "{refused}");
        assert!(!out.join("index.html").exists() && !out.join("data.js").exists(), "{refused}: nothing written");
    }
    assert!(!project.path().join("data/orders/site").exists());
    assert_eq!(viewdag(&["docs", spec, "--out", project.path().join("site").to_str().unwrap()]), 0);
}

/// Issue 21, item 17: the site renders every spec `check` can read — a source named
/// `constructor`, a view named `toString`, a view named `o->v` (which collided with the edge
/// id `o->v`) and an output naming an unknown view (which blanked the graph with an uncaught
/// error) — with no script error, every view in the graph and the broken entry marked.
#[test]
fn the_docs_site_renders_hostile_names_and_broken_entries() {
    let project = TempProject::empty();
    std::fs::create_dir_all(project.path().join("data")).unwrap();
    std::fs::write(project.path().join("data/c.csv"), "id,name\n1,a\n").unwrap();
    let spec = project.write_spec(
        "spec.yaml",
        "version: 1
sources:
  constructor: { format: csv, path: data/c.csv, schema: { id: int64, name: utf8 } }
views:
  o:
    distinct: { input: constructor }
  \"o->v\":
    distinct: { input: o }
  toString:
    distinct: { input: o }
outputs:
  good: { view: \"o->v\", path: out/good }
  broken: { view: nowhere, path: out/broken }
",
    );
    let site = project.path().join("site");
    viewdag(&["docs", spec.to_str().unwrap(), "--out", site.to_str().unwrap()]);
    assert!(site.join("index.html").is_file());
    let (dom, stderr) = load_in_chromium(&site.join("index.html"), "click=toString", &project.path().join("chromium-profile"));
    assert!(dom.contains("data-loaded=\"true\""), "the page's script ran:\n{dom}\n{stderr}");
    assert!(dom.contains("data-errors=\"0\""), "no console error or uncaught exception:\n{dom}");
    assert!(dom.contains("data-graph-views=\"3\""), "every view is in the graph, `o->v` included:\n{dom}");
    assert!(dom.contains("data-view=\"toString\""), "a click on `toString` shows it:\n{dom}");
    assert!(!stderr.contains("Uncaught"), "{stderr}");
}
