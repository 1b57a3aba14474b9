//! A wide and deep project of SQL views, the shape of a warehouse's marts: twelve CSV
//! sources of 40 columns joined on their key into one 469-column view, then a chain of SQL
//! views over it that each keep every column (`SELECT *` with a filter, a computed column, a
//! join back to a source or a `CASE`), so three views in four add a column.
//! Every 25th view is materialized; one output reads the last view.
//!
//! Deterministic: the same `views` give the same files and text.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The sources joined at the base, and their columns (the key `id` included).
pub const SOURCES: usize = 12;
pub const SOURCE_COLUMNS: usize = 40;
const ROWS: usize = 50;

/// A written project: its directory (removed on drop), the spec's path and text, and each
/// view's name and SQL in declaration order (the base first).
pub struct WideSqlChain {
    pub directory: tempfile::TempDir,
    pub spec_path: PathBuf,
    pub text: String,
    pub views: Vec<(String, String)>,
}

impl WideSqlChain {
    /// The base join and a chain of `views` views over it.
    pub fn create(views: usize) -> WideSqlChain {
        let directory = tempfile::tempdir().expect("a temporary directory");
        write_sources(directory.path());
        let views = chain(views);
        let mut text = String::from("version: 1\nsources:\n");
        for table in 0..SOURCES {
            let _ = writeln!(text, "  t{table}: {{ format: csv, path: data/t{table}.csv }}");
        }
        text.push_str("views:\n");
        for (index, (name, sql)) in views.iter().enumerate() {
            let _ = writeln!(text, "  {name}:\n    sql: \"{sql}\"");
            if index % 25 == 24 {
                text.push_str("    materialize: table\n");
            }
        }
        let last = &views.last().expect("the base at least").0;
        let _ = writeln!(text, "outputs:\n  final: {{ view: {last}, path: out/final }}");
        let spec_path = directory.path().join("spec.yaml");
        std::fs::write(&spec_path, &text).expect("the spec is written");
        WideSqlChain { directory, spec_path, text, views }
    }

    /// A DataFusion session with the sources registered under their names (CSV schemas
    /// inferred as viewdag infers them), for references that plan the views by hand.
    pub async fn datafusion_context(&self) -> datafusion::prelude::SessionContext {
        let context = datafusion::prelude::SessionContext::new();
        for table in 0..SOURCES {
            let path = self.directory.path().join(format!("data/t{table}.csv"));
            let options = datafusion::prelude::CsvReadOptions::new();
            context.register_csv(&format!("t{table}"), path.to_str().expect("utf-8"), options).await.expect("registered");
        }
        context
    }
}

/// `t{table}.csv`: `id` then `t{table}_c1..c39`, small integers.
fn write_sources(root: &Path) {
    let data = root.join("data");
    std::fs::create_dir_all(&data).expect("the data directory");
    for table in 0..SOURCES {
        let mut csv = String::from("id");
        for column in 1..SOURCE_COLUMNS {
            let _ = write!(csv, ",t{table}_c{column}");
        }
        csv.push('\n');
        for row in 0..ROWS {
            let _ = write!(csv, "{row}");
            for column in 1..SOURCE_COLUMNS {
                let _ = write!(csv, ",{}", (row * column + table) % 97);
            }
            csv.push('\n');
        }
        std::fs::write(data.join(format!("t{table}.csv")), csv).expect("a source file");
    }
}

/// The base join, then `views` views, each over the one before.
fn chain(views: usize) -> Vec<(String, String)> {
    let columns: Vec<String> =
        (0..SOURCES).flat_map(|table| (1..SOURCE_COLUMNS).map(move |column| format!("t{table}.t{table}_c{column}"))).collect();
    let joins: Vec<String> = (1..SOURCES).map(|table| format!("JOIN t{table} ON t{table}.id = t0.id")).collect();
    let mut chain = vec![("base".to_string(), format!("SELECT t0.id, {} FROM t0 {}", columns.join(", "), joins.join(" ")))];
    for index in 0..views {
        let previous = &chain.last().expect("the base").0;
        let column = format!("t{}_c{}", index % SOURCES, index * 7 % (SOURCE_COLUMNS - 1) + 1);
        let sql = match index % 4 {
            0 => format!("SELECT *, {column} * 2 AS x{index} FROM {previous} WHERE {column} > {}", index % 50),
            1 => format!("SELECT * FROM {previous} WHERE {column} IS NOT NULL"),
            2 => format!("SELECT a.*, b.t0_c1 AS y{index} FROM {previous} AS a JOIN t0 AS b ON a.id = b.id"),
            _ => format!("SELECT *, CASE WHEN {column} > 10 THEN 'hi' ELSE 'lo' END AS z{index} FROM {previous}"),
        };
        chain.push((format!("v{index}"), sql));
    }
    chain
}
