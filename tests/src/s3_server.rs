//! A real S3-compatible server for tests: `moto_server` (Python `moto[server]` 5.x, which
//! honours `If-None-Match` on PUT, as Delta commits on S3 need) started as a process on a
//! free port, with buckets, IAM users and request recording through its HTTP APIs. No
//! client is mocked: viewdag talks to it through object_store and deltalake like to S3.
//!
//! ## Invariants
//! - [`S3Server::start`] returns once the server answers HTTP; a server that does not start
//!   (a port taken meanwhile) is retried on another port, and a missing `moto_server` is a
//!   panic that says how to install it (never a skipped test).
//! - Dropping the server kills and reaps the process: no server outlives its test.
//! - Authentication is off until [`S3Server::require_signatures`] (moto accepts any
//!   credentials then); after it, a request signed with a key moto does not know, or with a
//!   known key ([`S3Server::create_user`]) and a wrong secret, is refused with 403, and
//!   [`S3Server::allow_unsigned`] turns it off again. moto 5.2.1 also refuses *valid*
//!   signatures of list requests whose query holds a `/` (it encodes the query twice when it
//!   recomputes them), so tests that need writes to succeed run without authentication.
//!
//! The administrative calls (create a bucket, an IAM user, recording) speak plain HTTP/1.1
//! over a `TcpStream`: a handful of requests, no client library needed.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The AWS region every test uses (moto accepts any).
pub const REGION: &str = "us-east-1";

/// An access key pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl S3Credentials {
    /// Credentials for a server that does not check signatures.
    pub fn unchecked() -> S3Credentials {
        S3Credentials { access_key_id: "viewdag-test".to_string(), secret_access_key: "viewdag-test-secret".to_string() }
    }
}

/// One request the server received while recording.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// The full URL (`http://127.0.0.1:PORT/bucket/key?query`).
    pub url: String,
    pub headers: std::collections::BTreeMap<String, String>,
}

impl RecordedRequest {
    /// The header `name`, in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    /// The request's path below the host (`/bucket/key`), without the query.
    pub fn path(&self) -> &str {
        let after_scheme = self.url.split_once("://").map_or(self.url.as_str(), |(_, rest)| rest);
        let path = after_scheme.find('/').map_or("/", |start| &after_scheme[start..]);
        path.split('?').next().unwrap_or(path)
    }
}

/// A running `moto_server`.
pub struct S3Server {
    process: Child,
    port: u16,
    /// Holds the server's request recording and log.
    directory: tempfile::TempDir,
}

/// The `moto_server` executable: `$MOTO_SERVER`, else `moto_server` on the `PATH`.
fn moto_server_program() -> PathBuf {
    std::env::var_os("MOTO_SERVER").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("moto_server"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).map(|address| address.port()).expect("a free port")
}

impl S3Server {
    /// Starts a server on a free port and waits until it answers (up to a minute).
    pub fn start() -> S3Server {
        let mut last_problem = String::new();
        for _attempt in 0..5 {
            match S3Server::start_on(free_port()) {
                Ok(server) => return server,
                Err(problem) => last_problem = problem,
            }
        }
        panic!("moto_server did not start: {last_problem}");
    }

    fn start_on(port: u16) -> Result<S3Server, String> {
        let directory = tempfile::tempdir().map_err(|error| error.to_string())?;
        let log = std::fs::File::create(directory.path().join("moto.log")).map_err(|error| error.to_string())?;
        let program = moto_server_program();
        let process = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_RECORDER_FILEPATH", directory.path().join("recording.jsonl"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|error| error.to_string())?)
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot start {}: {error} (install it with `pip install 'moto[server]'`, or set MOTO_SERVER)", program.display())
            });
        let mut server = S3Server { process, port, directory };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok((200, _)) = server.request("GET", "/moto-api/", &[], b"") {
                return Ok(server);
            }
            if let Ok(Some(status)) = server.process.try_wait() {
                let log = std::fs::read_to_string(server.directory.path().join("moto.log")).unwrap_or_default();
                return Err(format!("exited with {status} on port {port}: {log}"));
            }
            if Instant::now() > deadline {
                return Err(format!("no answer on port {port} within a minute"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The standard environment of a client of this server: endpoint, plain HTTP, region and
    /// the given credentials.
    pub fn environment(&self, credentials: &S3Credentials) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ALLOW_HTTP", "true".to_string()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_ACCESS_KEY_ID", credentials.access_key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", credentials.secret_access_key.clone()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect()
    }

    /// Creates `bucket` (authentication must be off).
    pub fn create_bucket(&self, bucket: &str) {
        let (status, body) = self.s3_request("PUT", &format!("/{bucket}"), b"").expect("the server answers");
        assert_eq!(status, 200, "creating bucket {bucket}: {body}");
    }

    /// The keys under `prefix` in `bucket`, sorted (authentication must be off).
    pub fn list_keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let (status, body) =
            self.s3_request("GET", &format!("/{bucket}?list-type=2&max-keys=100000&prefix={prefix}"), b"").expect("the server answers");
        assert_eq!(status, 200, "listing {bucket}/{prefix}: {body}");
        let mut keys = xml_values(&body, "Key");
        keys.sort();
        keys
    }

    /// Puts one object (authentication must be off): how tests place data in the store without
    /// going through the code under test.
    pub fn put_object(&self, bucket: &str, key: &str, bytes: &[u8]) {
        let (status, body) = self.s3_request("PUT", &format!("/{bucket}/{key}"), bytes).expect("the server answers");
        assert_eq!(status, 200, "putting {bucket}/{key}: {body}");
    }

    /// The bytes of one object (authentication must be off).
    pub fn get_object(&self, bucket: &str, key: &str) -> Vec<u8> {
        let authorization = unchecked_authorization("s3");
        let (status, body) = self
            .request_bytes("GET", &format!("/{bucket}/{key}"), &[("Authorization", authorization.as_str())], b"")
            .expect("the server answers");
        assert_eq!(status, 200, "getting {bucket}/{key}");
        body
    }

    /// Copies every file under the local `directory` to `bucket` under `prefix` (a Delta
    /// table's log names its files relative to the table, so a copied table is the same table).
    pub fn upload_directory(&self, directory: &std::path::Path, bucket: &str, prefix: &str) {
        let mut pending = vec![directory.to_path_buf()];
        while let Some(current) = pending.pop() {
            for entry in std::fs::read_dir(&current).expect("the directory is readable") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    pending.push(path);
                    continue;
                }
                let relative = path.strip_prefix(directory).expect("below the directory");
                let relative: Vec<String> = relative.components().map(|part| part.as_os_str().to_string_lossy().into_owned()).collect();
                let key = if prefix.is_empty() { relative.join("/") } else { format!("{prefix}/{}", relative.join("/")) };
                self.put_object(bucket, &key, &std::fs::read(&path).expect("the file is readable"));
            }
        }
    }

    /// An IAM user allowed every S3 action, and its new access key (authentication must be off).
    pub fn create_user(&self, name: &str) -> S3Credentials {
        self.iam(&[("Action", "CreateUser"), ("UserName", name)]);
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        self.iam(&[("Action", "PutUserPolicy"), ("UserName", name), ("PolicyName", "all-of-s3"), ("PolicyDocument", policy)]);
        let body = self.iam(&[("Action", "CreateAccessKey"), ("UserName", name)]);
        let value = |tag: &str| xml_values(&body, tag).into_iter().next().unwrap_or_else(|| panic!("no {tag} in {body}"));
        S3Credentials { access_key_id: value("AccessKeyId"), secret_access_key: value("SecretAccessKey") }
    }

    /// From now on every request must carry a valid signature of a user's key.
    pub fn require_signatures(&self) {
        self.reset_authentication("0");
    }

    /// From now on no request is authenticated (the default).
    pub fn allow_unsigned(&self) {
        self.reset_authentication("inf");
    }

    fn reset_authentication(&self, initial_unauthenticated_requests: &str) {
        let (status, body) = self
            .request("POST", "/moto-api/reset-auth", &[("Content-Type", "text/plain")], initial_unauthenticated_requests.as_bytes())
            .expect("the server answers");
        assert_eq!(status, 200, "reset-auth: {body}");
    }

    /// Records every request from now on (see [`S3Server::recorded_requests`]).
    pub fn start_recording(&self) {
        let (status, body) = self.request("POST", "/moto-api/recorder/start-recording", &[], b"").expect("the server answers");
        assert_eq!(status, 200, "start-recording: {body}");
    }

    /// The requests received since [`S3Server::start_recording`], in order. moto appends each
    /// request's line from the thread serving it, so requests served at the same moment can
    /// leave a garbled line: those are left out (a test counts what it expects to find).
    pub fn recorded_requests(&self) -> Vec<RecordedRequest> {
        let text = std::fs::read_to_string(self.directory.path().join("recording.jsonl")).unwrap_or_default();
        text.lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .map(|entry| {
                let text = |key: &str| entry.get(key).and_then(serde_json::Value::as_str).unwrap_or_default().to_string();
                let headers = entry
                    .get("headers")
                    .and_then(serde_json::Value::as_object)
                    .map(|headers| {
                        headers.iter().map(|(name, value)| (name.clone(), value.as_str().unwrap_or_default().to_string())).collect()
                    })
                    .unwrap_or_default();
                RecordedRequest { method: text("method"), url: text("url"), headers }
            })
            .collect()
    }

    /// Sends an IAM query-protocol action; moto routes it by the service named in the
    /// credential scope of the `Authorization` header (not checked while authentication is off).
    fn iam(&self, parameters: &[(&str, &str)]) -> String {
        let mut form: Vec<String> = parameters.iter().map(|(key, value)| format!("{key}={}", form_encode(value))).collect();
        form.push("Version=2010-05-08".to_string());
        let authorization = unchecked_authorization("iam");
        let headers = [("Authorization", authorization.as_str()), ("Content-Type", "application/x-www-form-urlencoded")];
        let (status, body) = self.request("POST", "/", &headers, form.join("&").as_bytes()).expect("the server answers");
        assert_eq!(status, 200, "IAM {parameters:?}: {body}");
        body
    }

    /// An S3 request of the harness, with an `Authorization` header moto does not check while
    /// authentication is off (without one, moto treats a request as anonymous and refuses to
    /// read a private object).
    fn s3_request(&self, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, String)> {
        let authorization = unchecked_authorization("s3");
        self.request(method, path, &[("Authorization", authorization.as_str())], body)
    }

    /// One HTTP/1.1 request; returns the status and the body as text.
    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> std::io::Result<(u16, String)> {
        let (status, body) = self.request_bytes(method, path, headers, body)?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// One HTTP/1.1 request (`Connection: close`, the body read to the end); returns the
    /// status and the body.
    fn request_bytes(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        // Generous: moto answers its first requests slowly (it loads its S3 backend lazily), and
        // a loaded CI machine has made it take over 30 s.
        stream.set_read_timeout(Some(Duration::from_secs(180)))?;
        let mut head =
            format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\nConnection: close\r\n", self.port, body.len());
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response)?;
        let head_end = response.windows(4).position(|window| window == b"\r\n\r\n");
        let head = String::from_utf8_lossy(&response[..head_end.unwrap_or(response.len())]).into_owned();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|status| status.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {head}")))?;
        let body = head_end.map(|end| response[end + 4..].to_vec()).unwrap_or_default();
        Ok((status, body))
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// An `Authorization` header naming `service` in its credential scope (moto routes requests
/// by it) with a signature nothing checks while authentication is off.
fn unchecked_authorization(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={}/20260101/{REGION}/{service}/aws4_request, SignedHeaders=host, Signature=0",
        S3Credentials::unchecked().access_key_id
    )
}

/// The texts of every `<tag>…</tag>` in `xml`, in order.
fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open).skip(1).filter_map(|rest| rest.split_once(&close).map(|(value, _)| value.to_string())).collect()
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}
