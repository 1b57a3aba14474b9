//! `V0203 unknown-column`: an expression, join key or sort key names a column its input
//! does not have. Suggests the closest existing name and lists the available ones.

use datafusion::common::Column;
use viewdag_ir::suggestion::closest;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

/// The diagnostic for `name` (optionally qualified by `relation`) missing from `valid`.
/// `location` is already narrowed to the name inside its string when that is known.
pub fn diagnostic(name: &str, relation: Option<&str>, valid: &[Column], location: SpecLocation) -> Diagnostic {
    let mut relations: Vec<String> = valid.iter().filter_map(|column| column.relation.as_ref().map(ToString::to_string)).collect();
    relations.dedup();
    let message = match (relation, relations.as_slice()) {
        (Some(relation), _) => format!("column `{name}` not found in `{relation}`"),
        (None, [only]) => format!("column `{name}` not found in `{only}`"),
        _ => format!("column `{name}` not found"),
    };
    let mut names: Vec<&str> = valid.iter().map(|column| column.name.as_str()).collect();
    let mut diagnostic = Diagnostic::new(Code::UnknownColumn, location, message);
    if let Some(suggestion) = closest(name, &names) {
        diagnostic = diagnostic.with_suggestion(format!("did you mean `{suggestion}`?"));
    }
    names.dedup();
    if !names.is_empty() {
        diagnostic = diagnostic.with_note(format!("available columns: {}", names.join(", ")));
    }
    diagnostic
}

/// A join key that is not a column of its side.
pub fn join_key(name: &str, relation: &str, columns: &[&str], location: SpecLocation) -> Diagnostic {
    let mut diagnostic = Diagnostic::new(Code::UnknownColumn, location, format!("join key `{name}` is not a column of `{relation}`"));
    if let Some(suggestion) = closest(name, columns) {
        diagnostic = diagnostic.with_suggestion(format!("did you mean `{suggestion}`?"));
    }
    diagnostic.with_note(format!("`{relation}` has columns: {}", columns.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_column() {
        let valid = vec![Column::new(Some("orders"), "amount"), Column::new(Some("orders"), "status")];
        let diagnostic = diagnostic("amout", None, &valid, SpecLocation::view("v"));
        assert_eq!(diagnostic.message, "column `amout` not found in `orders`");
        assert_eq!(diagnostic.suggestion.as_deref(), Some("did you mean `amount`?"));
        assert_eq!(diagnostic.notes, vec!["available columns: amount, status"]);
    }
}
