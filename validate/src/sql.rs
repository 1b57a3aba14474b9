//! SQL views: a `sql` view is exactly one `SELECT` query reading declared relations by name.
//!
//! DDL, DML, `COPY`, `SET`, `EXPLAIN` and the like are rejected, and so are table functions
//! that read files (`read_parquet(...)`, anything named `read_*`: `V0402`). Row-generating
//! table functions (`generate_series`, `range`) only where `profile.surface.table_functions`
//! allows them (`V0404`), and never with literal bounds that generate more than
//! [`MAX_GENERATED_ROWS`] rows (`V0205`, at the call; bounds DataFusion folds from
//! expressions, and cross joins of generators, are counted after planning by `lower`'s SQL
//! transform). Identifiers are case-sensitive (no normalization), like every name in a
//! spec.

use std::ops::ControlFlow;

use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::resolve::resolve_table_references;
use datafusion::sql::sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, TableFactor, UnaryOperator, Value, Visit, Visitor};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use viewdag_ir::{Code, Diagnostic, FieldPath, SpecLocation};

/// The most rows a row-generating table function may produce with literal bounds.
pub const MAX_GENERATED_ROWS: f64 = 1e9;

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
/// `allowed_table_functions` are the row-generating functions the profile allows.
pub fn analyze_sql_view(view: &str, query: &str, allowed_table_functions: &[String]) -> SqlAnalysis {
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
    for call in &functions.called {
        if let Some(diagnostic) = table_function_diagnostic(view, query, call, allowed_table_functions) {
            analysis.diagnostics.push(diagnostic);
        }
    }
    match resolve_table_references(statement, false) {
        Ok((tables, _ctes)) => {
            let called: Vec<&str> = functions.called.iter().map(|call| call.name.as_str()).collect();
            let mut relations: Vec<String> =
                tables.iter().map(|table| table.to_string()).filter(|table| !called.contains(&table.as_str())).collect();
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

/// Why a SQL view may not call this table function, if it may not.
fn table_function_diagnostic(view: &str, query: &str, call: &TableFunctionCall, allowed: &[String]) -> Option<Diagnostic> {
    let name = call.name.as_str();
    let mut at = location(view);
    if let Some(offset) = query.find(name) {
        at = at.with_range(offset, offset + name.len());
    }
    let lowered = name.to_ascii_lowercase();
    let generates_rows = ["generate_series", "range"].contains(&lowered.as_str());
    if !generates_rows {
        return Some(
            Diagnostic::new(
                Code::SqlForbiddenFunction,
                at,
                format!("SQL of view `{view}` calls table function `{name}`; views may not read files directly"),
            )
            .with_suggestion("declare the file as a source and read it by name"),
        );
    }
    if !allowed.iter().any(|allowed| allowed.eq_ignore_ascii_case(name)) {
        return Some(
            Diagnostic::new(
                Code::SqlTableFunctionNotAllowed,
                at,
                format!("SQL of view `{view}` calls table function `{name}`, which `profile.surface.table_functions` does not allow"),
            )
            .with_suggestion(format!("allow it: `profile: {{ surface: {{ table_functions: [{lowered}] }} }}`")),
        );
    }
    let rows = generated_rows(&lowered, &call.literal_arguments)?;
    (rows > MAX_GENERATED_ROWS).then(|| {
        Diagnostic::new(
            Code::InvalidLimit,
            at,
            format!("SQL of view `{view}` calls `{name}` with bounds that generate about {rows:.3e} rows; at most {MAX_GENERATED_ROWS:.0e} are allowed"),
        )
    })
}

/// How many rows `range`/`generate_series` generate for literal arguments (`None` when an
/// argument is not a number literal).
fn generated_rows(function: &str, arguments: &[Option<f64>]) -> Option<f64> {
    let numbers: Vec<f64> = arguments.iter().copied().collect::<Option<_>>()?;
    let (start, end, step) = match numbers.as_slice() {
        [end] => (0.0, *end, 1.0),
        [start, end] => (*start, *end, 1.0),
        [start, end, step] => (*start, *end, *step),
        _ => return None,
    };
    if step == 0.0 {
        return None;
    }
    let inclusive = if function == "generate_series" { 1.0 } else { 0.0 };
    Some(((end - start) / step + inclusive).max(0.0))
}

/// A table function a query calls, with its arguments when they are number literals.
struct TableFunctionCall {
    name: String,
    literal_arguments: Vec<Option<f64>>,
}

#[derive(Default)]
struct TableFunctionFinder {
    called: Vec<TableFunctionCall>,
}

impl Visitor for TableFunctionFinder {
    type Break = ();
    fn pre_visit_table_factor(&mut self, table_factor: &TableFactor) -> ControlFlow<()> {
        let called = match table_factor {
            TableFactor::Table { name, args: Some(args), .. } => Some((name.to_string(), args.args.iter().map(literal_argument).collect())),
            TableFactor::Function { name, args, .. } => Some((name.to_string(), args.iter().map(literal_argument).collect())),
            TableFactor::TableFunction { expr, .. } => Some((expr.to_string().split('(').next().unwrap_or("").to_string(), Vec::new())),
            _ => None,
        };
        if let Some((name, literal_arguments)) = called {
            self.called.push(TableFunctionCall { name, literal_arguments });
        }
        ControlFlow::Continue(())
    }
}

/// A function argument's value if it is a number literal (possibly negated).
fn literal_argument(argument: &FunctionArg) -> Option<f64> {
    let (FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) | FunctionArg::Named { arg: FunctionArgExpr::Expr(expr), .. }) = argument else {
        return None;
    };
    literal_number(expr)
}

fn literal_number(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Value(value) => match &value.value {
            Value::Number(text, _) => text.parse().ok(),
            _ => None,
        },
        Expr::UnaryOp { op: UnaryOperator::Minus, expr } => literal_number(expr).map(|number| -number),
        Expr::Nested(inner) => literal_number(inner),
        _ => None,
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
        let analysis = analyze_sql_view("v", "WITH c AS (SELECT * FROM a) SELECT * FROM c JOIN b ON c.x = b.x", &[]);
        assert_eq!(analysis.relations, vec!["a", "b"]);
        assert!(analysis.diagnostics.is_empty());
        for forbidden in ["DROP TABLE a", "SET datafusion.execution.batch_size = 1", "COPY a TO 'x.csv'", "INSERT INTO a VALUES (1)"] {
            let analysis = analyze_sql_view("v", forbidden, &[]);
            assert_eq!(analysis.diagnostics[0].code, Code::SqlForbiddenStatement, "{forbidden}");
        }
        let analysis = analyze_sql_view("v", "SELECT * FROM read_parquet('x.parquet')", &[]);
        assert_eq!(analysis.diagnostics[0].code, Code::SqlForbiddenFunction);
        // Only row generators can be allowed: reading files never is.
        let analysis = analyze_sql_view("v", "SELECT * FROM read_csv('x.csv')", &["read_csv".to_string()]);
        assert_eq!(analysis.diagnostics[0].code, Code::SqlForbiddenFunction);
    }

    #[test]
    fn row_generating_functions_need_the_profile_and_sane_bounds() {
        let allowed = ["generate_series".to_string(), "range".to_string()];
        let analysis = analyze_sql_view("v", "SELECT * FROM generate_series(1, 3)", &[]);
        assert_eq!(analysis.diagnostics[0].code, Code::SqlTableFunctionNotAllowed);
        assert!(analyze_sql_view("v", "SELECT * FROM generate_series(1, 3)", &allowed).diagnostics.is_empty());
        assert!(analyze_sql_view("v", "SELECT * FROM range(-5, 1000000, 2)", &allowed).diagnostics.is_empty());
        for huge in ["SELECT * FROM range(1, 1000000000000)", "SELECT * FROM range(1e12)", "SELECT * FROM generate_series(-1000000000, 1)"]
        {
            let analysis = analyze_sql_view("v", huge, &allowed);
            assert_eq!(
                analysis.diagnostics.iter().map(|diagnostic| diagnostic.code).collect::<Vec<_>>(),
                vec![Code::InvalidLimit],
                "{huge}"
            );
        }
        // Bounds that are not literals are DataFusion's to evaluate.
        assert!(analyze_sql_view("v", "SELECT * FROM range(1, 10 * 10)", &allowed).diagnostics.is_empty());
        let analysis = analyze_sql_view("v", "SELECT * FROM (", &[]);
        assert_eq!(analysis.diagnostics[0].code, Code::SqlSyntax);
    }
}
