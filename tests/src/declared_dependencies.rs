//! Declared dependencies that no source file names (what `cargo machete` reports, without
//! installing it).
//!
//! The packages and their dependencies come from `cargo metadata --no-deps`; a dependency is
//! used when a Rust file of its package names its crate (`name::…`, `use name`, `extern
//! crate name`, renames honored). Normal and build dependencies count in every file but the
//! package's `tests/` directory; dev-dependencies count anywhere in the package. A dependency
//! kept for its features alone is listed, with a comment saying why, under
//! `[package.metadata.cargo-machete] ignored = […]`, the key `cargo machete` reads too.
//!
//! Invariant: the check reads manifests and sources only; it never builds or downloads.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::rust_tokens::{TokenKind, tokenize};

/// A dependency one package declares and none of its files names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnusedDependency {
    pub package: String,
    /// As declared (`viewdag-ir`, or the rename).
    pub dependency: String,
    /// `normal`, `dev` or `build`.
    pub kind: String,
}

/// `cargo metadata --no-deps` of the workspace at `workspace_root`.
fn workspace_metadata(workspace_root: &Path) -> Result<Value, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--no-deps", "--offline", "--format-version", "1"])
        .current_dir(workspace_root)
        .output()
        .map_err(|error| format!("cannot run cargo metadata: {error}"))?;
    if !output.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    serde_json::from_slice(&output.stdout).map_err(|error| format!("cargo metadata's output: {error}"))
}

/// Every package of the workspace at `workspace_root`: its name and directory, in the
/// order `cargo metadata` lists them.
pub fn workspace_packages(workspace_root: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let metadata = workspace_metadata(workspace_root)?;
    metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|package| {
            let name = package["name"].as_str().unwrap_or_default().to_string();
            let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap_or_default());
            let directory = manifest.parent().ok_or_else(|| format!("{name}: a manifest without a directory"))?.to_path_buf();
            Ok((name, directory))
        })
        .collect()
}

/// The unused dependencies of every package of the workspace at `workspace_root`.
pub fn unused_dependencies(workspace_root: &Path) -> Result<Vec<UnusedDependency>, String> {
    let metadata = workspace_metadata(workspace_root)?;
    let mut unused = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let name = package["name"].as_str().unwrap_or_default().to_string();
        let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap_or_default());
        let package_dir = manifest.parent().ok_or_else(|| format!("{name}: a manifest without a directory"))?;
        let ignored: Vec<&str> =
            package["metadata"]["cargo-machete"]["ignored"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let named_everywhere = crates_named(package_dir, false).map_err(|error| format!("{name}: {error}"))?;
        let named_outside_tests = crates_named(package_dir, true).map_err(|error| format!("{name}: {error}"))?;
        for dependency in package["dependencies"].as_array().into_iter().flatten() {
            let declared = dependency["rename"].as_str().or(dependency["name"].as_str()).unwrap_or_default().to_string();
            let kind = dependency["kind"].as_str().unwrap_or("normal").to_string();
            let crate_name = declared.replace('-', "_");
            let named = if kind == "dev" { &named_everywhere } else { &named_outside_tests };
            if !named.contains(&crate_name) && !ignored.contains(&declared.as_str()) {
                unused.push(UnusedDependency { package: name.clone(), dependency: declared, kind });
            }
        }
    }
    unused.sort();
    unused.dedup();
    Ok(unused)
}

/// Every identifier used as a crate name (`x::`, `use x`, `extern crate x`) in the package's
/// Rust files (without `target/`, and without `tests/` when `skip_tests`).
fn crates_named(package_dir: &Path, skip_tests: bool) -> std::io::Result<std::collections::BTreeSet<String>> {
    let mut files = Vec::new();
    collect(package_dir, package_dir, skip_tests, &mut files)?;
    let mut names = std::collections::BTreeSet::new();
    for file in files {
        let tokens = tokenize(&std::fs::read_to_string(&file)?);
        for (index, token) in tokens.iter().enumerate() {
            let Some(name) = token.ident() else { continue };
            let before = index.checked_sub(1).and_then(|previous| tokens[previous].ident());
            let follows_separator = index > 0 && tokens[index - 1].kind == TokenKind::PathSeparator;
            let precedes_separator = tokens.get(index + 1).is_some_and(|next| next.kind == TokenKind::PathSeparator);
            if (precedes_separator && !follows_separator) || matches!(before, Some("use" | "crate")) {
                names.insert(name.to_string());
            }
        }
    }
    Ok(names)
}

fn collect(package_dir: &Path, dir: &Path, skip_tests: bool, into: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            let relative = path.strip_prefix(package_dir).unwrap_or(&path);
            let skipped = relative == Path::new("target") || (skip_tests && relative == Path::new("tests"));
            // A nested package (a directory with its own manifest) is not this package's.
            if !skipped && !path.join("Cargo.toml").exists() {
                collect(package_dir, &path, skip_tests, into)?;
            }
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            into.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::crates_named;

    #[test]
    fn crate_names_come_from_paths_uses_and_extern_crates_only() {
        let package = tempfile::tempdir().expect("a temporary directory");
        std::fs::create_dir_all(package.path().join("src")).expect("src");
        std::fs::create_dir_all(package.path().join("tests")).expect("tests");
        let source = "use alpha::Thing;\nextern crate beta;\nfn f() { gamma::run(); local.delta(); outer::inner::epsilon(); }\n// zeta::hidden\nconst S: &str = \"eta::hidden\";\n";
        std::fs::write(package.path().join("src/lib.rs"), source).expect("lib.rs");
        std::fs::write(package.path().join("tests/t.rs"), "use theta;\n").expect("t.rs");
        let outside_tests = crates_named(package.path(), true).expect("readable");
        let expected = ["alpha", "beta", "gamma", "outer"].map(str::to_string);
        assert_eq!(outside_tests.into_iter().collect::<Vec<_>>(), expected);
        assert!(crates_named(package.path(), false).expect("readable").contains("theta"));
    }
}
