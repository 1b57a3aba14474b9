//! Keeping credentials out of messages. A store's error can quote what it was sent or
//! refused (S3's `SignatureDoesNotMatch` names the access key id; a configuration error can
//! repeat a value), and messages reach the terminal, the run report, the docs site and logs.
//! Every message made from a store's or deltalake's error passes through a [`Redactor`].
//!
//! ## Invariants
//! - Every occurrence of every credential value is replaced by `***`, longest first (so a
//!   secret that contains another is removed whole); values shorter than
//!   [`MINIMUM_SECRET_LENGTH`] are not credentials and are left alone (`true`, `1`).
//! - `Debug` prints how many values it removes, never the values.

/// Values shorter than this are settings, not credentials.
pub const MINIMUM_SECRET_LENGTH: usize = 6;

/// What replaces a credential in a message.
pub const REDACTED: &str = "***";

/// Removes known credential values from texts.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Redactor {
    /// Longest first, without duplicates.
    secrets: Vec<String>,
}

impl Redactor {
    /// Removes these values (those long enough to be credentials).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Redactor {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|secret| secret.chars().count() >= MINIMUM_SECRET_LENGTH).collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Redactor { secrets }
    }

    /// `text` with every credential value replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut redacted = text.to_string();
        for secret in &self.secrets {
            if redacted.contains(secret.as_str()) {
                redacted = redacted.replace(secret.as_str(), REDACTED);
            }
        }
        redacted
    }
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Redactor").field("secrets", &self.secrets.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::Redactor;

    #[test]
    fn every_occurrence_goes_longest_first_and_short_values_stay() {
        let redactor = Redactor::new(["AKIAEXAMPLE".to_string(), "AKIAEXAMPLE/secret".to_string(), "true".to_string()]);
        assert_eq!(
            redactor.redact("<AWSAccessKeyId>AKIAEXAMPLE</AWSAccessKeyId> AKIAEXAMPLE/secret allow_http=true"),
            "<AWSAccessKeyId>***</AWSAccessKeyId> *** allow_http=true"
        );
        assert_eq!(format!("{redactor:?}"), "Redactor { secrets: 2 }");
    }
}
