//! Plan text made machine-independent.

/// Replaces the spec root's absolute path (and its `file://` URL form) by `$ROOT`.
pub fn normalize_plan_text(text: &str, root: &str) -> String {
    if root.is_empty() {
        return text.to_string();
    }
    let root = root.trim_end_matches('/');
    let without_scheme = root.trim_start_matches('/');
    // Every spelling below contains `without_scheme`: most plan text (logical plans) has none,
    // and is returned after one scan instead of five rewrites.
    if without_scheme.is_empty() || !text.contains(without_scheme) {
        return text.to_string();
    }
    text.replace(&format!("file://{root}"), "$ROOT")
        .replace(root, "$ROOT")
        // Object-store paths drop the leading slash.
        .replace(without_scheme, "$ROOT")
        .replace("$ROOT/$ROOT", "$ROOT")
        .replace("/$ROOT", "$ROOT")
}

#[cfg(test)]
mod tests {
    use super::normalize_plan_text;

    #[test]
    fn replaces_every_spelling_of_the_root() {
        let text = "files=[/work/p/data/a.parquet], url=file:///work/p/data, path=work/p/data/b.parquet";
        assert_eq!(normalize_plan_text(text, "/work/p"), "files=[$ROOT/data/a.parquet], url=$ROOT/data, path=$ROOT/data/b.parquet");
        assert_eq!(normalize_plan_text("Filter: a > 1", "/work/p"), "Filter: a > 1");
        assert_eq!(normalize_plan_text("path=/data/x", "/"), "path=/data/x");
    }
}
