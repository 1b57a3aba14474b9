//! The two accepted spellings of a spec, YAML and JSON (a leaf: the parser and the nesting
//! scan both read it).

/// The two accepted spellings of a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecFormat {
    Yaml,
    Json,
}

impl SpecFormat {
    /// `.json` is JSON; everything else is read as YAML.
    pub fn from_path(path: &std::path::Path) -> SpecFormat {
        match path.extension().and_then(|extension| extension.to_str()) {
            Some(extension) if extension.eq_ignore_ascii_case("json") => SpecFormat::Json,
            _ => SpecFormat::Yaml,
        }
    }
}
