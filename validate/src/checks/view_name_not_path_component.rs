//! `V0108 view-name-not-path-component`: a view's name is not a valid single path component.
//!
//! A materialized view is written to `.viewdag/tables/<view>` next to the spec, so its name
//! becomes a directory name. A name with `/` or `\` creates nested folders or climbs out of
//! the table store (`../../data/orders` would overwrite a source); `.`/`..` name the store or
//! its parent; a leading `.` hides the table (and `.tmp`-style names collide with tool files);
//! NUL cannot be passed to the operating system; names over 255 bytes exceed every common
//! file system's limit and fail only at `run`. The rule applies to every view, ephemeral or
//! not, so switching `materialize` never turns a valid spec invalid.
//!
//! Invariant: purely lexical (no file-system access). The view is broken, so its readers are
//! blocked like behind any structural error.

use viewdag_ir::{Code, Diagnostic, SpecLocation};

use super::CheckContext;

/// The longest name a directory entry may have on common file systems (ext4, APFS, NTFS in
/// UTF-16 units, which a UTF-8 byte bound also keeps below).
pub const MAX_VIEW_NAME_BYTES: usize = 255;

/// Why `name` is not a valid single path component, or `None` if it is.
pub fn path_component_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".to_string());
    }
    if name == "." || name == ".." {
        return Some(format!("`{name}` names a directory, not a table"));
    }
    if let Some(separator) = name.chars().find(|character| matches!(character, '/' | '\\')) {
        return Some(format!("it contains the path separator `{separator}`"));
    }
    if name.contains('\0') {
        return Some("it contains a NUL character".to_string());
    }
    if name.starts_with('.') {
        return Some("it starts with `.` (a hidden directory)".to_string());
    }
    if name.len() > MAX_VIEW_NAME_BYTES {
        return Some(format!("it is {} bytes long; the limit is {MAX_VIEW_NAME_BYTES}", name.len()));
    }
    None
}

pub fn check(context: &CheckContext) -> Vec<Diagnostic> {
    context.project_views.iter().filter_map(|view| check_name(view)).collect()
}

/// The diagnostic for a view named `view`, if its name cannot name a table directory.
pub fn check_name(view: &str) -> Option<Diagnostic> {
    let problem = path_component_problem(view)?;
    let escaped = view.escape_debug().to_string();
    let shown = match escaped.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &escaped[..cut]),
        None => escaped,
    };
    Some(
        Diagnostic::new(
            Code::ViewNameNotPathComponent,
            SpecLocation::view(view),
            format!("view name \"{shown}\" cannot name a table directory: {problem}"),
        )
        .with_note("a materialized view is written to `.viewdag/tables/<view>`, so a view name must be a single file name")
        .with_suggestion("use letters, digits and `_`, e.g. `paid_orders`"),
    )
}

#[cfg(test)]
mod tests {
    use super::path_component_problem;

    #[test]
    fn only_single_plain_components_pass() {
        for good in ["paid_orders", "a", "x.y", "ünïcode", "a-b", &"x".repeat(255)] {
            assert_eq!(path_component_problem(good), None, "{good}");
        }
        for bad in ["", ".", "..", "../../data/orders", "a/b", "a\\b", "a\0b", ".hidden", &"x".repeat(256)] {
            assert!(path_component_problem(bad).is_some(), "{bad:?}");
        }
    }
}
