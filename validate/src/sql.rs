//! SQL views: a `sql` view is exactly one `SELECT` query reading declared relations by name.
//!
//! DDL, DML, `COPY`, `SET`, `EXPLAIN` and the like are rejected, and so are table functions
//! that read files (`read_parquet(...)`, anything named `read_*`). Identifiers are
//! case-sensitive (no normalization), like every name in a spec.

use std::ops::ControlFlow;

use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::resolve::resolve_table_references;
use datafusion::sql::sqlparser::ast::{TableFactor, Visit, Visitor};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use viewdag_ir::{Code, Diagnostic, FieldPath, SpecLocation};

/// Table functions a SQL view may call: they generate rows and read nothing.
const ALLOWED_TABLE_FUNCTIONS: [&str; 2] = ["generate_series", "range"];

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SqlAnalysis {
    /// Relation names the query reads, sorted, CTE names excluded.
    pub relations: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
}

fn location(view: &str) -> SpecLocation {
    SpecLocation::view(view).with_field(FieldPath::from(["sql"]))
}

/// Parses a SQL view's query, checks it is a single SELECT, and lists what it reads.
pub fn analyze_sql_view(view: &str, query: &str) -> SqlAnalysis {
    let mut analysis = SqlAnalysis::default();
    if let Some(diagnostic) = crate::checks::expression_too_complex::check_sql(query, &location(view)) {
        analysis.diagnostics.push(diagnostic);
        return analysis;
    }
    let statements = match DFParser::parse_sql_with_dialect(query, &GenericDialect {}) {
        Ok(statements) => statements,
        Err(error) => {
            let message = error.strip_backtrace();
            let mut at = location(view);
            if let Some(offset) = error_offset(query, &message) {
                at = at.with_range(offset, offset + 1);
            }
            analysis.diagnostics.push(Diagnostic::new(Code::SqlSyntax, at, format!("SQL of view `{view}` does not parse: {message}")));
            return analysis;
        }
    };
    if statements.len() != 1 {
        analysis.diagnostics.push(Diagnostic::new(
            Code::SqlForbiddenStatement,
            location(view),
            format!("SQL of view `{view}` has {} statements; a `sql` view is exactly one SELECT", statements.len()),
        ));
        return analysis;
    }
    let statement = &statements[0];
    let is_query =
        matches!(statement, Statement::Statement(inner) if matches!(**inner, datafusion::sql::sqlparser::ast::Statement::Query(_)));
    if !is_query {
        let kind = match statement {
            Statement::CreateExternalTable(_) => "CREATE EXTERNAL TABLE".to_string(),
            Statement::CopyTo(_) => "COPY".to_string(),
            Statement::Explain(_) => "EXPLAIN".to_string(),
            Statement::Reset(_) => "RESET".to_string(),
            Statement::Statement(inner) => inner.to_string().split_whitespace().take(2).collect::<Vec<_>>().join(" "),
        };
        analysis.diagnostics.push(
            Diagnostic::new(
                Code::SqlForbiddenStatement,
                location(view),
                format!("SQL of view `{view}` is a `{kind}` statement; a `sql` view may only be a SELECT query"),
            )
            .with_note("DDL, DML, COPY, SET and EXPLAIN are not allowed: a view only reads declared sources and views"),
        );
        return analysis;
    }
    let mut functions = TableFunctionFinder::default();
    if let Statement::Statement(inner) = statement {
        let _ = inner.visit(&mut functions);
    }
    for function in functions.forbidden {
        let mut at = location(view);
        if let Some(offset) = query.find(&function) {
            at = at.with_range(offset, offset + function.len());
        }
        analysis.diagnostics.push(
            Diagnostic::new(
                Code::SqlForbiddenFunction,
                at,
                format!("SQL of view `{view}` calls table function `{function}`; views may not read files directly"),
            )
            .with_suggestion("declare the file as a source and read it by name"),
        );
    }
    match resolve_table_references(statement, false) {
        Ok((tables, _ctes)) => {
            let mut relations: Vec<String> =
                tables.iter().filter(|table| !functions.called.contains(&table.to_string())).map(|table| table.to_string()).collect();
            relations.sort();
            relations.dedup();
            analysis.relations = relations;
        }
        Err(error) => analysis.diagnostics.push(Diagnostic::new(
            Code::SqlSyntax,
            location(view),
            format!("SQL of view `{view}`: {}", error.strip_backtrace()),
        )),
    }
    analysis
}

#[derive(Default)]
struct TableFunctionFinder {
    called: Vec<String>,
    forbidden: Vec<String>,
}

impl Visitor for TableFunctionFinder {
    type Break = ();
    fn pre_visit_table_factor(&mut self, table_factor: &TableFactor) -> ControlFlow<()> {
        let called = match table_factor {
            TableFactor::Table { name, args: Some(_), .. } => Some(name.to_string()),
            TableFactor::Function { name, .. } => Some(name.to_string()),
            TableFactor::TableFunction { expr, .. } => Some(expr.to_string().split('(').next().unwrap_or("").to_string()),
            _ => None,
        };
        if let Some(called) = called {
            let lowered = called.to_ascii_lowercase();
            if !ALLOWED_TABLE_FUNCTIONS.contains(&lowered.as_str()) {
                self.forbidden.push(called.clone());
            }
            self.called.push(called);
        }
        ControlFlow::Continue(())
    }
}

/// Finds "Line: L, Column: C" in a parser message and turns it into a byte offset in `text`.
pub fn error_offset(text: &str, message: &str) -> Option<usize> {
    let after_line = message.split("Line: ").nth(1)?;
    let line: usize = after_line.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()?;
    let after_column = after_line.split("Column: ").nth(1)?;
    let column: usize = after_column.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()?;
    let line_start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    let line_text = text[line_start..].lines().next().unwrap_or("");
    let in_line: usize = line_text.chars().take(column.saturating_sub(1)).map(char::len_utf8).sum();
    Some((line_start + in_line).min(text.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_relations_and_rejects_statements() {
        let analysis = analyze_sql_view("v", "WITH c AS (SELECT * FROM a) SELECT * FROM c JOIN b ON c.x = b.x");
        assert_eq!(analysis.relations, vec!["a", "b"]);
        assert!(analysis.diagnostics.is_empty());
        for forbidden in ["DROP TABLE a", "SET datafusion.execution.batch_size = 1", "COPY a TO 'x.csv'", "INSERT INTO a VALUES (1)"] {
            let analysis = analyze_sql_view("v", forbidden);
            assert_eq!(analysis.diagnostics[0].code, Code::SqlForbiddenStatement, "{forbidden}");
        }
        let analysis = analyze_sql_view("v", "SELECT * FROM read_parquet('x.parquet')");
        assert_eq!(analysis.diagnostics[0].code, Code::SqlForbiddenFunction);
        let analysis = analyze_sql_view("v", "SELECT * FROM generate_series(1, 3)");
        assert!(analysis.diagnostics.is_empty());
        let analysis = analyze_sql_view("v", "SELECT * FROM (");
        assert_eq!(analysis.diagnostics[0].code, Code::SqlSyntax);
    }
}
