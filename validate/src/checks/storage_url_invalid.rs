//! `V0307 storage-url-invalid`: a text in a place that takes a path or a store is spelled as
//! a URL (`SCHEME://…`) that viewdag cannot use: a scheme that is not an object store it
//! reads and writes (`ftp://`, `file://`, `https://`), no bucket, a `.` or `..` key segment
//! (object stores take them literally), or credentials or parameters in the URL
//! (`s3://KEY:SECRET@bucket`, `?X-Amz-Signature=…`, an Azure SAS). A `profile.storage` key
//! must name a store root (`s3://bucket`), since stores are configured per bucket.
//!
//! Why credentials are refused rather than used: a path reaches plans, bundles, digests,
//! the run state and messages; a secret in it would be written everywhere. Credentials come
//! from the environment (`profile.storage` names the variables).
//!
//! Invariants: lexical (see `viewdag_ir::StorageUrl`); the message never repeats a URL that
//! carries credentials (it names the field, not the text). The driver runs the source check
//! before it loads a source, so a refused source is never opened; the other checks run in
//! the project's path query.

use indexmap::IndexMap;
use viewdag_ir::{Code, Diagnostic, FieldPath, OutputSpec, ProfileSpec, Section, SpecLocation, StorageUrl, StorageUrlProblem};

fn diagnostic(location: SpecLocation, what: &str, problem: &StorageUrlProblem) -> Diagnostic {
    let diagnostic = Diagnostic::new(Code::StorageUrlInvalid, location, format!("{what}: {problem}"));
    match problem {
        StorageUrlProblem::CarriesCredentials { .. } => diagnostic
            .with_note("a path is written into plans, bundles and the run state, so it must never hold a secret")
            .with_suggestion("remove them from the URL; name the environment variables in `profile: { storage: { \"s3://BUCKET\": { OPTION: VARIABLE } } }` or use the standard ones (`AWS_ACCESS_KEY_ID`, …)"),
        _ => diagnostic.with_note("object stores: `s3://bucket/key`, `gs://bucket/key`, `az://container/key`, `abfss://container@account.dfs.core.windows.net/key`"),
    }
}

fn profile_location(field: Vec<String>) -> SpecLocation {
    SpecLocation { section: Section::Profile, ..SpecLocation::root() }.with_field(FieldPath(field))
}

/// The source check, run by the driver before it loads `source`.
pub fn check_source(source: &str, path: &str) -> Option<Diagnostic> {
    let problem = StorageUrl::parse(path).err()?;
    Some(diagnostic(SpecLocation::source(source).with_field(FieldPath::from(["path"])), &format!("source `{source}`'s path"), &problem))
}

/// Every output path, `profile.tables`, `profile.paths.allow` entry and `profile.storage`
/// key that is an unusable URL (or, for a storage key, not a store root).
pub fn check_project(outputs: &IndexMap<String, Option<OutputSpec>>, profile: &ProfileSpec) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (output, spec) in outputs {
        if let Some(spec) = spec
            && let Err(problem) = StorageUrl::parse(&spec.path)
        {
            let location = SpecLocation::output(output).with_field(FieldPath::from(["path"]));
            diagnostics.push(diagnostic(location, &format!("output `{output}`'s path"), &problem));
        }
    }
    if let Some(tables) = &profile.tables
        && let Err(problem) = StorageUrl::parse(tables)
    {
        diagnostics.push(diagnostic(profile_location(vec!["tables".into()]), "`profile.tables`", &problem));
    }
    for (index, allowed) in profile.paths.allow.iter().enumerate() {
        if let Err(problem) = StorageUrl::parse(allowed) {
            let location = profile_location(vec!["paths".into(), "allow".into(), index.to_string()]);
            diagnostics.push(diagnostic(location, &format!("`profile.paths.allow` entry {index}"), &problem));
        }
    }
    for store in profile.storage.keys() {
        let location = profile_location(vec!["storage".into(), store.clone()]);
        match StorageUrl::parse(store) {
            Err(problem) => diagnostics.push(diagnostic(location, "a `profile.storage` key", &problem)),
            Ok(None) => diagnostics.push(
                Diagnostic::new(Code::StorageUrlInvalid, location, format!("`profile.storage` key `{store}` is not an object-store URL"))
                    .with_note("`profile.storage` configures object stores, one per bucket: `s3://bucket`, `gs://bucket`, `az://container`, `abfss://container@account.dfs.core.windows.net`"),
            ),
            Ok(Some(url)) if !url.key().is_empty() => diagnostics.push(
                Diagnostic::new(
                    Code::StorageUrlInvalid,
                    location,
                    format!("`profile.storage` key `{store}` names a prefix inside a bucket; stores are configured per bucket"),
                )
                .with_suggestion(format!("use `{}`", url.store_root())),
            ),
            Ok(Some(_)) => {}
        }
    }
    diagnostics
}

#[cfg(test)]
mod tests {
    use indexmap::IndexMap;
    use viewdag_ir::{OutputSpec, PathsProfile, ProfileSpec, WriteMode};

    use super::{check_project, check_source};

    fn output(path: &str) -> Option<OutputSpec> {
        Some(OutputSpec {
            view: "v".into(),
            path: path.into(),
            mode: WriteMode::Overwrite,
            partition_by: Vec::new(),
            contract: None,
            expect: None,
            unique_key: Vec::new(),
            when_not_matched_by_source: None,
            replace_where: None,
            schema_mode: None,
            refresh: None,
        })
    }

    #[test]
    fn unusable_urls_are_reported_where_they_are_written_and_secrets_are_not_repeated() {
        assert!(check_source("s", "data/x").is_none() && check_source("s", "s3://lake/x").is_none());
        let refused = check_source("s", "s3://AKIDEXAMPLE:wJalrSECRET@lake/x").unwrap();
        assert!(!refused.message.contains("wJalrSECRET") && !refused.message.contains("AKIDEXAMPLE"), "{}", refused.message);
        let outputs = IndexMap::from([("good".to_string(), output("s3://lake/out")), ("bad".to_string(), output("s3://lake/a/../b"))]);
        let profile = ProfileSpec {
            tables: Some("ftp://host/t".into()),
            paths: PathsProfile { allow: vec!["s3://lake".into(), "gs:///x".into()] },
            storage: IndexMap::from([
                ("s3://lake".to_string(), IndexMap::new()),
                ("s3://lake/prefix".to_string(), IndexMap::new()),
                ("lake".to_string(), IndexMap::new()),
            ]),
            ..ProfileSpec::default()
        };
        let fields: Vec<String> = check_project(&outputs, &profile)
            .iter()
            .map(|diagnostic| format!("{:?}/{}", diagnostic.location.entry, diagnostic.location.field.0.join(".")))
            .collect();
        assert_eq!(
            fields,
            vec!["Some(\"bad\")/path", "None/tables", "None/paths.allow.1", "None/storage.s3://lake/prefix", "None/storage.lake"]
        );
    }
}
