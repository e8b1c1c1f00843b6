//! A blocking client: one connection, requests in order.

use serde_json::Value;
use slb_proto::{ErrorBody, RawRequest, Reply, Request, Response};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    next_id: u64,
}

/// What can go wrong talking to slbd.
#[derive(Debug)]
pub enum CallError {
    /// Connecting, writing or reading failed.
    Io(std::io::Error),
    /// slbd answered with an error.
    Remote(ErrorBody),
    /// slbd's answer was not a response.
    Protocol(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Io(e) => write!(f, "{e}"),
            CallError::Remote(e) => write!(f, "{}: {}", e.code, e.message),
            CallError::Protocol(m) => write!(f, "bad response from slbd: {m}"),
        }
    }
}

impl std::error::Error for CallError {}

impl Client {
    pub fn connect(path: &Path) -> Result<Client, CallError> {
        let s = UnixStream::connect(path).map_err(|e| {
            CallError::Io(std::io::Error::new(
                e.kind(),
                format!("cannot connect to {}: {e}", path.display()),
            ))
        })?;
        s.set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(CallError::Io)?;
        let writer = s.try_clone().map_err(CallError::Io)?;
        Ok(Client {
            reader: BufReader::new(s),
            writer,
            next_id: 1,
        })
    }

    /// Sends a typed request and decodes its result.
    pub fn request(&mut self, req: &Request) -> Result<Reply, CallError> {
        let v = self.send(req)?;
        decode_reply(req, v)
    }

    /// Sends a typed request; its result as slbd wrote it.
    pub fn send(&mut self, req: &Request) -> Result<Value, CallError> {
        let id = self.take_id();
        self.exchange(req.to_line(id))
    }

    /// Sends any command with JSON arguments (unchecked: slbd checks
    /// them) and waits for its result.
    pub fn call(&mut self, command: &str, args: Value) -> Result<Value, CallError> {
        let req = RawRequest {
            id: self.take_id().into(),
            command: command.into(),
            args,
        };
        let line = serde_json::to_string(&req).map_err(|e| CallError::Protocol(e.to_string()))?;
        self.exchange(line)
    }

    fn take_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id - 1
    }

    fn exchange(&mut self, mut line: String) -> Result<Value, CallError> {
        line.push('\n');
        self.writer
            .write_all(line.as_bytes())
            .map_err(CallError::Io)?;
        let resp = self.read_response()?;
        resp.into_result().map_err(CallError::Remote)
    }

    /// Sends raw bytes (tests of malformed input) and reads one response.
    pub fn raw(&mut self, bytes: &[u8]) -> Result<Response, CallError> {
        self.writer.write_all(bytes).map_err(CallError::Io)?;
        self.read_response()
    }

    fn read_response(&mut self) -> Result<Response, CallError> {
        let mut buf = String::new();
        let n = self.reader.read_line(&mut buf).map_err(CallError::Io)?;
        if n == 0 {
            return Err(CallError::Io(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "slbd closed the connection",
            )));
        }
        serde_json::from_str(&buf).map_err(|e| CallError::Protocol(format!("{e}: {buf}")))
    }
}

/// `result`, the answer to `req`, as its type; a result that does not fit
/// (a field missing or of another type) is a protocol error.
pub fn decode_reply(req: &Request, result: Value) -> Result<Reply, CallError> {
    req.reply(result)
        .map_err(|e| CallError::Protocol(format!("{} result: {e}", req.command())))
}
