//! Paths compared lexically: `.` dropped, `..` applied, `/` and `\` both separators, an
//! absolute path's components starting with `/`. No file-system access (symlinks are the
//! driver's business), so two spellings of one directory are one path and a `..` that
//! climbs out of the spec's directory stays visible as a leading `..`.

use viewdag_ir::{StorageUrl, StorageUrlProblem};

/// Where a spec path points, as the checks compare it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A local path, normalized ([`components`]).
    Path(Vec<String>),
    /// An object-store location.
    Url(StorageUrl),
}

impl Place {
    /// `text` as a place; a URL that cannot be used is the problem `V0307` reports.
    pub fn parse(text: &str) -> Result<Place, StorageUrlProblem> {
        Ok(match StorageUrl::parse(text)? {
            Some(url) => Place::Url(url),
            None => Place::Path(components(text)),
        })
    }

    /// The project's own directory (`.`, `""`): a local path with no component.
    pub fn is_project_directory(&self) -> bool {
        matches!(self, Place::Path(path) if path.is_empty())
    }
}

/// `path`'s components with `.` dropped and `..` applied; an absolute path starts with "/",
/// and a `..` that climbs above a relative path's start is kept (leading).
pub fn components(path: &str) -> Vec<String> {
    let start: Vec<String> = if path.starts_with(['/', '\\']) { vec!["/".to_string()] } else { Vec::new() };
    join(start, path)
}

/// `relative` applied to `base` (already normalized), lexically.
fn join(mut parts: Vec<String>, relative: &str) -> Vec<String> {
    for part in relative.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|last| last != "..") => {
                // `/..` is `/`.
                if parts.last().is_some_and(|last| last != "/") {
                    parts.pop();
                }
            }
            other => parts.push(other.to_string()),
        }
    }
    parts
}

/// Whether normalized `path` is absolute.
pub fn is_absolute(path: &[String]) -> bool {
    path.first().is_some_and(|first| first == "/")
}

/// Whether normalized relative `path` climbs above its start (`../x`).
pub fn climbs_out(path: &[String]) -> bool {
    path.first().is_some_and(|first| first == "..")
}

/// Where paths of one spec live: relative paths are relative to the spec's directory,
/// whose absolute form may be known (then relative and absolute paths can be compared).
#[derive(Debug, Clone, Default)]
pub struct PathSpace {
    /// The spec's directory, normalized and absolute, when known.
    pub root: Option<Vec<String>>,
}

impl PathSpace {
    pub fn new(root: Option<&str>) -> Self {
        PathSpace { root: root.filter(|root| root.starts_with('/')).map(components) }
    }

    /// `path` (normalized) as an absolute path, when it is one or the root is known.
    pub fn absolute(&self, path: &[String]) -> Option<Vec<String>> {
        if is_absolute(path) {
            return Some(path.to_vec());
        }
        let root = self.root.clone()?;
        Some(join(root, &path.join("/")))
    }

    /// Both paths in one space (both relative, or both absolute), or `None` if they cannot
    /// be compared.
    pub fn comparable(&self, a: &[String], b: &[String]) -> Option<(Vec<String>, Vec<String>)> {
        if is_absolute(a) == is_absolute(b) && !climbs_out(a) && !climbs_out(b) {
            return Some((a.to_vec(), b.to_vec()));
        }
        Some((self.absolute(a)?, self.absolute(b)?))
    }

    /// Whether `path` lies inside `directory` (or is it).
    pub fn is_inside(&self, path: &[String], directory: &[String]) -> bool {
        if is_absolute(path) == is_absolute(directory) && climbs_out(path) == climbs_out(directory) && path.starts_with(directory) {
            return true;
        }
        self.comparable(path, directory).is_some_and(|(path, directory)| path.starts_with(&directory))
    }

    /// Whether `place` lies inside `directory` (or is it): two local paths as
    /// [`PathSpace::is_inside`], two URLs by store, bucket and key segments, never across.
    pub fn place_is_inside(&self, place: &Place, directory: &Place) -> bool {
        match (place, directory) {
            (Place::Path(path), Place::Path(directory)) => self.is_inside(path, directory),
            (Place::Url(url), Place::Url(directory)) => url.is_inside(directory),
            _ => false,
        }
    }

    /// Whether `place` stays inside the spec's directory (a URL never does).
    pub fn place_inside_project(&self, place: &Place) -> bool {
        match place {
            Place::Path(path) => self.inside_project(path),
            Place::Url(_) => false,
        }
    }

    /// Whether `path` stays inside the spec's directory.
    pub fn inside_project(&self, path: &[String]) -> bool {
        if !is_absolute(path) && !climbs_out(path) {
            return true;
        }
        match (&self.root, self.absolute(path)) {
            (Some(root), Some(absolute)) => absolute.starts_with(root),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{PathSpace, Place, components};

    #[test]
    fn spellings_of_one_directory_are_one_path() {
        assert_eq!(components("out/a"), components("./out//a/"));
        assert_eq!(components("out/x/../a"), components("out/a"));
        assert_eq!(components("../shared/a"), vec!["..", "shared", "a"]);
        assert_eq!(components("a/../../b"), vec!["..", "b"]);
        assert_eq!(components("/abs/a"), vec!["/", "abs", "a"]);
        assert_eq!(components("/../a"), vec!["/", "a"]);
        assert!(components(".").is_empty() && components("").is_empty());
        assert_ne!(components("out/a"), components("out/ab"));
    }

    #[test]
    fn relative_and_absolute_paths_meet_through_the_root() {
        let space = PathSpace::new(Some("/home/p/project"));
        assert!(space.inside_project(&components("out/a")));
        assert!(space.inside_project(&components("../project/out")));
        assert!(!space.inside_project(&components("../other")));
        assert!(space.inside_project(&components("/home/p/project/out")));
        assert!(!space.inside_project(&components("/etc")));
        assert!(space.is_inside(&components("../shared/x"), &components("/home/p/shared")));
        assert!(space.is_inside(&components("/home/p/shared/x"), &components("../shared")));
        let unknown = PathSpace::new(None);
        assert!(unknown.is_inside(&components("../shared/x"), &components("../shared")));
        assert!(!unknown.is_inside(&components("../shared/x"), &components("/home/p/shared")));
    }

    #[test]
    fn urls_meet_only_urls() {
        let space = PathSpace::new(Some("/home/p/project"));
        let place = |text: &str| Place::parse(text).unwrap();
        assert!(space.place_is_inside(&place("s3://lake/a/t"), &place("s3a://lake/a/")));
        assert!(!space.place_is_inside(&place("s3://lake/ab"), &place("s3://lake/a")));
        assert!(!space.place_is_inside(&place("s3://lake/a"), &place(".")));
        assert!(!space.place_is_inside(&place("out"), &place("s3://lake")));
        assert!(!space.place_inside_project(&place("s3://lake/a")));
        assert!(space.place_inside_project(&place("out/a")));
        assert!(place("./").is_project_directory() && !place("s3://lake").is_project_directory());
        assert!(Place::parse("ftp://x/y").is_err());
    }
}
