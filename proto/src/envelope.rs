//! The lines themselves: a request line before its command is decoded,
//! and the response line.

use crate::error::{code, ErrorBody};
use crate::request::Request;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Largest request line slbd reads (bytes, newline excluded). A longer
/// line gets `request_too_large` and the connection is closed.
pub const MAX_REQUEST: usize = 64 * 1024;

/// Where slbd listens unless configured otherwise.
pub const DEFAULT_SOCKET: &str = "/run/slbd.sock";

/// A request line as read: `{"id": .., "command": .., "args": ..}`, its
/// command not yet decoded ([`RawRequest::decode`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RawRequest {
    /// Echoed in the response; any JSON value (slbctl sends integers).
    #[serde(default)]
    pub id: Value,
    pub command: String,
    #[serde(default)]
    pub args: Value,
}

impl RawRequest {
    /// Reads one line (newline excluded). If it is not a request, the
    /// answer is `parse_error`, with the line's `id` when it has one.
    pub fn from_line(line: &[u8]) -> Result<RawRequest, (Value, ErrorBody)> {
        let v: Value = serde_json::from_slice(line).map_err(|e| {
            (
                Value::Null,
                ErrorBody::new(code::PARSE_ERROR, format!("not JSON: {e}")),
            )
        })?;
        let id = v.get("id").cloned().unwrap_or(Value::Null);
        serde_json::from_value(v).map_err(|e| {
            (
                id,
                ErrorBody::new(
                    code::PARSE_ERROR,
                    format!("not a request ({{\"id\", \"command\", \"args\"}}): {e}"),
                ),
            )
        })
    }

    /// The typed request (see [`Request::decode`]).
    pub fn decode(&self) -> Result<Request, ErrorBody> {
        Request::decode(&self.command, &self.args)
    }
}

/// Decodes one request line all the way: the id to answer with (null
/// when the line could not be read), and the request or the error to
/// answer.
pub fn decode_line(line: &[u8]) -> (Value, Result<Request, ErrorBody>) {
    match RawRequest::from_line(line) {
        Ok(raw) => {
            let r = raw.decode();
            (raw.id, r)
        }
        Err((id, e)) => (id, Err(e)),
    }
}

/// A response line: the request's id and its `result` or `error`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Response {
    pub id: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

impl Response {
    pub fn ok(id: Value, result: Value) -> Response {
        Response {
            id,
            result: Some(result),
            error: None,
        }
    }

    pub fn err(id: Value, e: ErrorBody) -> Response {
        Response {
            id,
            result: None,
            error: Some(e),
        }
    }

    /// The answer to `id`: a result (any of [`crate::result`]'s types)
    /// or an error.
    pub fn answer<T: Serialize>(id: Value, r: Result<T, ErrorBody>) -> Response {
        match r.and_then(|v| {
            serde_json::to_value(v).map_err(|e| ErrorBody::new(code::INTERNAL, e.to_string()))
        }) {
            Ok(v) => Response::ok(id, v),
            Err(e) => Response::err(id, e),
        }
    }

    pub fn into_result(self) -> Result<Value, ErrorBody> {
        match (self.result, self.error) {
            (_, Some(e)) => Err(e),
            (Some(r), None) => Ok(r),
            (None, None) => Ok(Value::Null),
        }
    }
}
