//! A store's refusals, recognised in an error: the credentials were refused, the bucket (or
//! container) does not exist, or the endpoint could not be reached. Each has its code, for a
//! source (`V0310`–`V0312`, a diagnostic of the compile) and for a task (`V0910`–`V0912`,
//! its failure in the run).
//!
//! How: object_store's typed errors where they survive (`PermissionDenied`,
//! `Unauthenticated`), else the stores' own error codes in the message, since deltalake
//! turns many errors into text on their way up (`InvalidAccessKeyId`, `SignatureDoesNotMatch`,
//! `AccessDenied`, `NoSuchBucket`, `ContainerNotFound`, a refused connection). A missing
//! bucket is told from a missing key by those codes only: a `NotFound` alone is not one.
//!
//! ## Invariants
//! - Pure: reads an error's text and types, never the network.

use viewdag_ir::Code;

/// Why a store refused an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StorageFailure {
    /// The credentials are missing, unknown, wrong or not allowed the operation.
    AccessDenied,
    /// The bucket or container does not exist.
    BucketNotFound,
    /// The endpoint did not answer (refused connection, unknown host, timeout).
    Unreachable,
}

/// Texts that mean a missing bucket or container (S3, GCS, Azure).
const BUCKET_NOT_FOUND: [&str; 4] = ["NoSuchBucket", "ContainerNotFound", "The specified bucket does not exist", "bucket does not exist"];

/// Texts that mean refused credentials.
const ACCESS_DENIED: [&str; 12] = [
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "Access Denied",
    "AuthorizationFailure",
    "AuthenticationFailed",
    "AuthorizationPermissionMismatch",
    "ExpiredToken",
    "InvalidToken",
    "403 Forbidden",
    "401 Unauthorized",
    "PermissionDenied",
];

/// Texts that mean an endpoint that does not answer.
const UNREACHABLE: [&str; 5] = ["Connection refused", "error trying to connect", "dns error", "tcp connect error", "error sending request"];

impl StorageFailure {
    /// The failure `error` (or an error it wraps) reports, if it is one of these.
    pub fn of_error(error: &(dyn std::error::Error + 'static)) -> Option<StorageFailure> {
        let mut text = String::new();
        let mut typed = None;
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(error) = current {
            if let Some(store_error) = error.downcast_ref::<object_store::Error>() {
                typed = typed.or(match store_error {
                    object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. } => {
                        Some(StorageFailure::AccessDenied)
                    }
                    _ => None,
                });
            }
            text.push_str(&error.to_string());
            text.push('\n');
            current = error.source();
        }
        StorageFailure::of_text(&text).or(typed)
    }

    /// The failure a message reports, if it names one (a missing bucket first: S3 answers a
    /// request to a missing bucket with `NoSuchBucket` whatever the credentials).
    pub fn of_text(text: &str) -> Option<StorageFailure> {
        if BUCKET_NOT_FOUND.iter().any(|marker| text.contains(marker)) {
            Some(StorageFailure::BucketNotFound)
        } else if ACCESS_DENIED.iter().any(|marker| text.contains(marker)) {
            Some(StorageFailure::AccessDenied)
        } else if UNREACHABLE.iter().any(|marker| text.contains(marker)) {
            Some(StorageFailure::Unreachable)
        } else {
            None
        }
    }

    /// Its code when a source cannot be read.
    pub fn source_code(self) -> Code {
        match self {
            StorageFailure::AccessDenied => Code::SourceAccessDenied,
            StorageFailure::BucketNotFound => Code::SourceBucketNotFound,
            StorageFailure::Unreachable => Code::SourceStoreUnreachable,
        }
    }

    /// Its code when a task's table cannot be read or written.
    pub fn task_code(self) -> Code {
        match self {
            StorageFailure::AccessDenied => Code::StorageAccessDenied,
            StorageFailure::BucketNotFound => Code::StorageBucketNotFound,
            StorageFailure::Unreachable => Code::StorageUnreachable,
        }
    }

    /// What happened, in a message.
    pub fn describe(self) -> &'static str {
        match self {
            StorageFailure::AccessDenied => "the object store refused the credentials",
            StorageFailure::BucketNotFound => "the bucket does not exist",
            StorageFailure::Unreachable => "the object store's endpoint does not answer",
        }
    }

    /// What to do about it.
    pub fn suggestion(self) -> &'static str {
        match self {
            StorageFailure::AccessDenied => {
                "check the credentials in the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, … or the variables `profile.storage` names) and that they may read and write the bucket"
            }
            StorageFailure::BucketNotFound => "create the bucket, or correct its name in the URL",
            StorageFailure::Unreachable => "check the endpoint (`AWS_ENDPOINT_URL` or `profile.storage`) and the network",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StorageFailure;

    #[test]
    fn the_stores_own_codes_tell_the_failures_apart() {
        let denied = "403 Forbidden: <Error><Code>InvalidAccessKeyId</Code></Error>";
        assert_eq!(StorageFailure::of_text(denied), Some(StorageFailure::AccessDenied));
        let missing = "404 Not Found: <Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>";
        assert_eq!(StorageFailure::of_text(missing), Some(StorageFailure::BucketNotFound));
        assert_eq!(StorageFailure::of_text("tcp connect error: Connection refused (os error 111)"), Some(StorageFailure::Unreachable));
        assert_eq!(StorageFailure::of_text("Object at location x not found: 404 Not Found: NoSuchKey"), None);
        let typed = object_store::Error::PermissionDenied { path: "x".into(), source: "refused".into() };
        assert_eq!(StorageFailure::of_error(&typed), Some(StorageFailure::AccessDenied));
    }
}
