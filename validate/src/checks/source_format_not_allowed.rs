//! `V0306 source-format-not-allowed`: a source declares a format that
//! `profile.surface.formats` leaves out (a team may allow only Delta, say).
//!
//! Invariants: the driver runs this check before it loads a source, so a refused source is
//! never opened and its readers are blocked.

use viewdag_ir::{Code, Diagnostic, FieldPath, ProfileSpec, SourceSpec, SpecLocation};

/// Why `source` may not be loaded, or `None` when its format is allowed.
pub fn check(source: &str, spec: &SourceSpec, profile: &ProfileSpec) -> Option<Diagnostic> {
    if profile.surface.allows_format(spec.format) {
        return None;
    }
    let allowed: Vec<&str> = profile.surface.formats.iter().flatten().map(|format| format.as_str()).collect();
    Some(
        Diagnostic::new(
            Code::SourceFormatNotAllowed,
            SpecLocation::source(source).with_field(FieldPath::from(["format"])),
            format!("source `{source}` is `format: {}`, which `profile.surface.formats` does not allow", spec.format.as_str()),
        )
        .with_note(format!("allowed formats: {}", if allowed.is_empty() { "none".to_string() } else { allowed.join(", ") })),
    )
}

#[cfg(test)]
mod tests {
    use viewdag_ir::{ProfileSpec, SourceFormat, SourceSpec, SurfaceProfile};

    #[test]
    fn only_the_listed_formats_are_allowed() {
        let csv = SourceSpec { format: SourceFormat::Csv, path: "r.csv".into(), schema: None, version: None };
        assert!(super::check("r", &csv, &ProfileSpec::default()).is_none(), "every format by default");
        let profile = ProfileSpec {
            surface: SurfaceProfile { formats: Some(vec![SourceFormat::Delta]), ..SurfaceProfile::default() },
            ..ProfileSpec::default()
        };
        let refused = super::check("r", &csv, &profile).expect("csv is not allowed");
        assert_eq!(refused.code, viewdag_ir::Code::SourceFormatNotAllowed);
        assert!(refused.notes.iter().any(|note| note.contains("delta")), "{refused:?}");
    }
}
