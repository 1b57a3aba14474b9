//! `V0218 unnamed-group-key`: a group key that is an expression rather than a column needs
//! `AS name`, because it becomes an output column.

use datafusion::logical_expr::Expr;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

/// The key's output name: its alias, or the column it is.
pub fn check(group_key: &Expr, alias: Option<&str>, text: &str, location: &SpecLocation) -> Result<String, Diagnostic> {
    match (alias, group_key) {
        (Some(alias), _) => Ok(alias.to_string()),
        (None, Expr::Column(column)) => Ok(column.name.clone()),
        (None, _) => {
            Err(Diagnostic::new(Code::UnnamedGroupKey, location.clone(), format!("group key `{text}` is an expression without a name"))
                .with_suggestion(format!("write `{text} AS name`")))
        }
    }
}
