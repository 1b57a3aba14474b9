//! The stdio transport: JSON-RPC frames (`Content-Length` headers, then a JSON body) read
//! on a thread of their own into an unbounded queue, and written by another.
//!
//! Why not `lsp_server::Connection::stdio`: its reader hands each message over a
//! rendezvous channel, so the message loop never finds a burst of edits queued and checks
//! every keystroke's text; it allocates whatever `Content-Length` says (`10^12` aborts the
//! process, `2^64 - 1` panics it) and ends the connection on the first body that is not
//! JSON.
//!
//! ## Invariants
//! - Every frame the client has sent is queued as soon as it is read: the loop sees a
//!   burst of messages at once and can coalesce it.
//! - Memory per frame is bounded by [`MAX_FRAME_BYTES`] (and a header line by
//!   [`MAX_HEADER_LINE_BYTES`]): a larger body is read and dropped in small pieces, and
//!   answered with an `InvalidRequest` error; the connection goes on.
//! - A body that is not JSON is answered with a `ParseError` (−32700) and an `id` of
//!   `null`, as JSON-RPC says; JSON that is no LSP message with `InvalidRequest` (−32600).
//!   The connection goes on.
//! - Only a header that cannot be framed (no `Content-Length`, a line over the limit, a
//!   length that is no number) ends the connection: nothing after it can be found. It
//!   ends like a closed stdin, never with a panic.
//! - After the `exit` notification nothing more is read.

use std::io::{self, BufRead, Read, Write};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use lsp_server::{Connection, ErrorCode, Message};
use serde_json::{Value, json};
use viewdag_ir::parse::MAX_SPEC_BYTES;

/// The largest frame body read: room for the largest spec the parser accepts, escaped as a
/// JSON string (control characters cost six bytes each), and the message around it.
pub const MAX_FRAME_BYTES: usize = 6 * MAX_SPEC_BYTES + (1 << 20);

/// The longest header line read.
pub const MAX_HEADER_LINE_BYTES: usize = 8 * 1024;

/// Why the reader stopped before the client closed its end.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// A header that cannot be framed: what follows cannot be found.
    #[error("malformed message header: {0}")]
    Header(String),
    /// Reading stdin or writing stdout failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// The transport's two threads.
pub struct TransportThreads {
    reader: JoinHandle<Result<(), TransportError>>,
    writer: JoinHandle<io::Result<()>>,
}

impl TransportThreads {
    /// Waits for both threads (the writer ends once every sender of the connection is
    /// dropped). The reader's error comes first.
    pub fn join(self) -> Result<(), TransportError> {
        let read = self.reader.join().unwrap_or_else(|_| Err(TransportError::Header("the reader thread panicked".to_string())));
        let written = self.writer.join().unwrap_or_else(|_| Err(io::Error::other("the writer thread panicked")));
        read?;
        written.map_err(TransportError::Io)
    }
}

/// A connection over the process's stdin and stdout.
pub fn stdio() -> (Connection, TransportThreads) {
    over(io::BufReader::new(io::stdin()), io::stdout())
}

/// A connection reading frames from `input` and writing them to `output`.
pub fn over(input: impl BufRead + Send + 'static, output: impl Write + Send + 'static) -> (Connection, TransportThreads) {
    let (to_loop, from_reader) = crossbeam_channel::unbounded::<Message>();
    let (to_writer, from_loop) = crossbeam_channel::unbounded::<Message>();
    let (error_replies, error_replies_to_write) = crossbeam_channel::unbounded::<Value>();
    let reader = std::thread::Builder::new()
        .name("viewdag-lsp-reader".to_string())
        .spawn(move || read_frames(input, MAX_FRAME_BYTES, &to_loop, &error_replies))
        .expect("the reader thread starts");
    let writer = std::thread::Builder::new()
        .name("viewdag-lsp-writer".to_string())
        .spawn(move || write_frames(output, &from_loop, &error_replies_to_write))
        .expect("the writer thread starts");
    (Connection { sender: to_writer, receiver: from_reader }, TransportThreads { reader, writer })
}

/// What one frame held.
enum Frame {
    /// The client closed its end.
    End,
    /// A body within the limit.
    Body(Vec<u8>),
    /// A body over the limit, not read yet.
    TooLarge { length: u64 },
}

fn read_frames(
    mut input: impl BufRead,
    max_body: usize,
    messages: &Sender<Message>,
    error_replies: &Sender<Value>,
) -> Result<(), TransportError> {
    loop {
        match read_frame(&mut input, max_body)? {
            Frame::End => return Ok(()),
            Frame::TooLarge { length } => {
                // Answered at once; the body is then skipped as it arrives, never held.
                let message = format!("a message of {length} bytes is over the limit of {max_body} bytes; it is dropped");
                let _ = error_replies.send(error_reply(Value::Null, ErrorCode::InvalidRequest, &message));
                if io::copy(&mut (&mut input).take(length), &mut io::sink())? < length {
                    return Ok(());
                }
            }
            Frame::Body(body) => match decode(&body) {
                Ok(message) => {
                    let exit = matches!(&message, Message::Notification(notification) if notification.method == "exit");
                    if messages.send(message).is_err() || exit {
                        return Ok(());
                    }
                }
                Err(reply) => {
                    let _ = error_replies.send(reply);
                }
            },
        }
    }
}

/// Reads one frame: its headers, then its body (over `max_body` bytes: not yet).
fn read_frame(input: &mut impl BufRead, max_body: usize) -> Result<Frame, TransportError> {
    let mut length: Option<u64> = None;
    let mut first_line = true;
    loop {
        let Some(line) = read_header_line(input)? else {
            // The end of the input between frames is the client closing; inside one, too.
            return Ok(Frame::End);
        };
        if line.is_empty() {
            if first_line {
                // Tolerate blank lines between frames.
                continue;
            }
            break;
        }
        first_line = false;
        let Some((name, value)) = line.split_once(':') else {
            return Err(TransportError::Header(format!("not `name: value`: {:?}", abbreviated(&line))));
        };
        if name.trim().eq_ignore_ascii_case("Content-Length") {
            let value = value.trim();
            length = Some(value.parse::<u64>().map_err(|_| TransportError::Header(format!("Content-Length {:?}", abbreviated(value))))?);
        }
    }
    let Some(length) = length else { return Err(TransportError::Header("no Content-Length".to_string())) };
    if length > max_body as u64 {
        return Ok(Frame::TooLarge { length });
    }
    let mut body = Vec::new();
    input.take(length).read_to_end(&mut body)?;
    if (body.len() as u64) < length {
        return Ok(Frame::End);
    }
    Ok(Frame::Body(body))
}

/// One header line without its line end, never longer than [`MAX_HEADER_LINE_BYTES`];
/// `None` at the end of the input.
fn read_header_line(input: &mut impl BufRead) -> Result<Option<String>, TransportError> {
    let mut line = Vec::new();
    let read = input.take(MAX_HEADER_LINE_BYTES as u64 + 1).read_until(b'\n', &mut line)?;
    if read == 0 {
        return Ok(None);
    }
    if !line.ends_with(b"\n") {
        if line.len() > MAX_HEADER_LINE_BYTES {
            return Err(TransportError::Header(format!("a header line over {MAX_HEADER_LINE_BYTES} bytes")));
        }
        return Ok(None);
    }
    line.pop();
    if line.ends_with(b"\r") {
        line.pop();
    }
    String::from_utf8(line).map(Some).map_err(|_| TransportError::Header("a header line that is not UTF-8".to_string()))
}

fn abbreviated(text: &str) -> String {
    text.chars().take(64).collect()
}

/// The message a body holds, or the error reply it gets.
fn decode(body: &[u8]) -> Result<Message, Value> {
    if let Ok(message) = serde_json::from_slice::<Message>(body) {
        return Ok(message);
    }
    match serde_json::from_slice::<Value>(body) {
        Err(error) => Err(error_reply(Value::Null, ErrorCode::ParseError, &format!("the message is not JSON: {error}"))),
        Ok(value) => {
            let id = match value.get("id") {
                Some(id @ (Value::Number(_) | Value::String(_))) => id.clone(),
                _ => Value::Null,
            };
            Err(error_reply(id, ErrorCode::InvalidRequest, "the message is JSON but not a JSON-RPC request, response or notification"))
        }
    }
}

/// A JSON-RPC error response (its `id` may be `null`, which `lsp_server::Response` cannot say).
fn error_reply(id: Value, code: ErrorCode, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code as i32, "message": message } })
}

/// Writes the loop's messages and the reader's error replies, in the order each arrives,
/// until the loop drops its sender.
fn write_frames(mut output: impl Write, messages: &Receiver<Message>, error_replies: &Receiver<Value>) -> io::Result<()> {
    let mut error_replies = Some(error_replies);
    loop {
        let never = crossbeam_channel::never();
        crossbeam_channel::select! {
            recv(messages) -> message => match message {
                Ok(message) => message.write(&mut output)?,
                Err(_) => break,
            },
            recv(error_replies.unwrap_or(&never)) -> reply => match reply {
                Ok(reply) => write_value(&mut output, &reply)?,
                // The reader is done; messages may still come.
                Err(_) => error_replies = None,
            },
        }
    }
    // The loop is done: flush what the reader still queued.
    if let Some(error_replies) = error_replies {
        for reply in error_replies.try_iter() {
            write_value(&mut output, &reply)?;
        }
    }
    output.flush()
}

fn write_value(output: &mut impl Write, value: &Value) -> io::Result<()> {
    let text = serde_json::to_string(value)?;
    write!(output, "Content-Length: {}\r\n\r\n", text.len())?;
    output.write_all(text.as_bytes())?;
    output.flush()
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    fn frames(input: &str) -> (Vec<Message>, Vec<Value>, Result<(), TransportError>) {
        let (messages, received) = crossbeam_channel::unbounded();
        let (replies, replied) = crossbeam_channel::unbounded();
        let result = read_frames(Cursor::new(input.as_bytes().to_vec()), 1024, &messages, &replies);
        (received.try_iter().collect(), replied.try_iter().collect(), result)
    }

    #[test]
    fn a_body_that_is_not_json_gets_a_parse_error_and_reading_goes_on() {
        let input = frame("{not json") + &frame(r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#);
        let (messages, replies, result) = frames(&input);
        assert!(result.is_ok());
        assert_eq!(messages.len(), 1);
        assert_eq!(replies.len(), 1);
        assert_eq!(replies[0]["error"]["code"], -32700);
        assert_eq!(replies[0]["id"], Value::Null);
    }

    #[test]
    fn json_that_is_no_message_gets_an_invalid_request_with_its_id() {
        let (messages, replies, _) = frames(&frame(r#"{"id": 7, "what": 1}"#));
        assert!(messages.is_empty());
        assert_eq!(replies[0]["error"]["code"], -32600);
        assert_eq!(replies[0]["id"], 7);
    }

    #[test]
    fn an_oversized_length_is_refused_without_allocating_it() {
        // Claims 10^12 bytes and ends early: answered, then the reader stops at the end,
        // allocating nothing.
        let (messages, replies, result) = frames("Content-Length: 1000000000000\r\n\r\n{}");
        assert!(result.is_ok() && messages.is_empty());
        assert_eq!(replies[0]["error"]["code"], -32600);
        // 2^64 - 1 likewise; 2^64 is no length at all.
        let (_, _, result) = frames("Content-Length: 18446744073709551615\r\n\r\n{}");
        assert!(result.is_ok());
        let (_, _, result) = frames("Content-Length: 18446744073709551616\r\n\r\n{}");
        assert!(matches!(result, Err(TransportError::Header(_))));
    }

    #[test]
    fn a_whole_body_over_the_limit_is_dropped_and_the_next_frame_read() {
        let big = format!(r#"{{"jsonrpc":"2.0","method":"x","params":"{}"}}"#, "a".repeat(4096));
        let input = frame(&big) + &frame(r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#);
        let (messages, replies, result) = frames(&input);
        assert!(result.is_ok());
        assert_eq!(messages.len(), 1);
        assert_eq!(replies[0]["error"]["code"], -32600);
    }

    #[test]
    fn a_header_line_without_end_is_bounded() {
        let (_, _, result) = frames(&"x".repeat(MAX_HEADER_LINE_BYTES * 4));
        assert!(matches!(result, Err(TransportError::Header(_))));
    }

    #[test]
    fn nothing_is_read_after_exit() {
        let input = frame(r#"{"jsonrpc":"2.0","method":"exit"}"#) + &frame(r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#);
        let (messages, _, _) = frames(&input);
        assert_eq!(messages.len(), 1);
    }
}
