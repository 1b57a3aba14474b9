//! The environment variables a compile reads storage settings from: the standard ones of
//! each store (`AWS_ACCESS_KEY_ID`, `AWS_ENDPOINT_URL`, `AZURE_STORAGE_ACCOUNT_KEY`, …) and
//! the ones `profile.storage` names.
//!
//! A snapshot, not the live process environment: the command line takes the process's when
//! it starts; an embedder (or a test running several projects in one process) gives each
//! `Compiler` its own with [`Environment::from_variables`].
//!
//! ## Invariants
//! - `Debug` prints the variables' names, never their values.

use std::collections::BTreeMap;

/// A snapshot of environment variables.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Environment {
    variables: BTreeMap<String, String>,
}

impl Environment {
    /// The process's environment now (variables whose name or value is not UTF-8 are left out).
    pub fn from_process() -> Environment {
        Environment::from_variables(
            std::env::vars_os().filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?))),
        )
    }

    /// Exactly these variables.
    pub fn from_variables(variables: impl IntoIterator<Item = (String, String)>) -> Environment {
        Environment { variables: variables.into_iter().collect() }
    }

    /// The value of `name`, when it is set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.variables.get(name).map(String::as_str)
    }

    /// Every variable, by name.
    pub fn variables(&self) -> impl Iterator<Item = (&str, &str)> {
        self.variables.iter().map(|(name, value)| (name.as_str(), value.as_str()))
    }
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Environment").field("variables", &self.variables.keys().collect::<Vec<_>>()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::Environment;

    #[test]
    fn debug_names_variables_and_hides_their_values() {
        let environment = Environment::from_variables([("AWS_SECRET_ACCESS_KEY".to_string(), "s3cr3t-value".to_string())]);
        let printed = format!("{environment:?}");
        assert!(printed.contains("AWS_SECRET_ACCESS_KEY") && !printed.contains("s3cr3t-value"), "{printed}");
        assert_eq!(environment.get("AWS_SECRET_ACCESS_KEY"), Some("s3cr3t-value"));
    }
}
