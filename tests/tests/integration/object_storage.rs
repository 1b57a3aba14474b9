//! Object storage: every test starts its own `moto_server` (a real S3-compatible server, as
//! a process on a free port, `viewdag_tests::s3_server`) with a bucket of its own, and reads
//! back what was written with an independent reader (deltalake and DataFusion configured
//! by the test, not viewdag's run path).

use viewdag_tests::data::{delta_version_at, read_delta_rows_at, write_delta_table_at};
use viewdag_tests::s3_server::{S3Credentials, S3Server};
use viewdag_tests::shop;

/// The harness itself, and the fact the run promises rest on: deltalake commits on S3 with a
/// conditional PUT (`If-None-Match: *`), never a copy or rename into `_delta_log`. Once
/// signatures are required, a key moto does not know and a known key with a wrong secret
/// are refused and write nothing. (moto 5.2.1 also rejects *valid* signatures of list
/// requests whose query holds a `/`, which every Delta log listing has, so a right key cannot
/// be shown to work under authentication: the tests that need writes run without it.)
#[test]
fn the_s3_server_refuses_wrong_credentials_and_deltalake_commits_with_a_conditional_put() {
    let server = S3Server::start();
    server.create_bucket("harness");
    let credentials = server.create_user("writer");
    server.require_signatures();
    let unknown = S3Credentials { access_key_id: "AKIAUNKNOWNKEY000000".to_string(), ..credentials.clone() };
    let refused = write_delta_table_at("s3://harness/refused", &server.environment(&unknown), vec![shop::regions()]).unwrap_err();
    assert!(refused.contains("InvalidAccessKeyId"), "{refused}");
    let wrong_secret = S3Credentials { secret_access_key: "not-the-secret".to_string(), ..credentials.clone() };
    let refused = write_delta_table_at("s3://harness/refused", &server.environment(&wrong_secret), vec![shop::regions()]).unwrap_err();
    assert!(refused.contains("SignatureDoesNotMatch"), "{refused}");
    server.allow_unsigned();
    assert!(server.list_keys("harness", "refused").is_empty(), "nothing was written with wrong credentials");

    let environment = server.environment(&S3Credentials::unchecked());
    server.start_recording();
    write_delta_table_at("s3://harness/regions", &environment, vec![shop::regions()]).expect("the table is written");
    assert_eq!(delta_version_at("s3://harness/regions", &environment), Some(0));
    assert_eq!(read_delta_rows_at("s3://harness/regions", &environment).len(), shop::regions().num_rows());
    let log: Vec<_> =
        server.recorded_requests().into_iter().filter(|request| request.path().starts_with("/harness/regions/_delta_log/")).collect();
    let puts: Vec<_> = log.iter().filter(|request| request.method == "PUT").collect();
    assert_eq!(puts.len(), 1, "one commit: {log:?}");
    assert_eq!(puts[0].path(), "/harness/regions/_delta_log/00000000000000000000.json");
    assert_eq!(puts[0].header("If-None-Match"), Some("*"), "the commit is a conditional PUT: {:?}", puts[0]);
    assert!(log.iter().all(|request| request.header("x-amz-copy-source").is_none()), "no copy (rename) into the log: {log:?}");
    assert_eq!(server.list_keys("harness", "regions/_delta_log/"), vec!["regions/_delta_log/00000000000000000000.json"]);
}
