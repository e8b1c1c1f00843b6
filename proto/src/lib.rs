//! The control protocol of slbd: newline-delimited JSON over a Unix
//! socket, shared by slbd (which serves it) and slbctl (which speaks it).
//! `docs/operations.md` documents it for people.
//!
//! One request per line, one response per line, in order, on any number of
//! connections:
//!
//! ```text
//! -> {"id": 1, "command": "servers.drain", "args": {"service": "web", "server": "s1"}}
//! <- {"id": 1, "result": {"changed": true, "changes": ["service web: server s1: state Up -> Drain"], "done": "server s1 of service web: drain"}}
//! <- {"id": 2, "error": {"code": "unknown_server", "message": "service web has no server s9"}}
//! ```
//!
//! Modules:
//! - [`envelope`]: the lines ([`RawRequest`], [`Response`]), the line
//!   limit, the default socket;
//! - [`request`]: [`Request`], one variant per command with its
//!   arguments, decoded with the errors slbd answers; the arguments of
//!   the read-only commands are in [`view_args`], those of the changes in
//!   [`change_args`];
//! - [`result`]: one struct per command's result ([`Reply`]);
//! - [`drops`]: the `drops` command's arguments and result (the drop
//!   trace);
//! - [`rules`]: the `rules.show` result (a service's layer-7 rules) and
//!   the pools `services.list` shows;
//! - [`protocol`]: [`Protocol`], TCP or UDP;
//! - [`error`]: [`ErrorBody`] and the stable error [`code`]s (messages
//!   are for people).
//! - `args` (private): reading `args` with messages that name the
//!   argument.

mod args;
pub mod change_args;
pub mod drops;
pub mod envelope;
pub mod error;
pub mod protocol;
pub mod request;
pub mod result;
pub mod rules;
pub mod view_args;

pub use change_args::*;
pub use drops::*;
pub use envelope::{decode_line, RawRequest, Response, DEFAULT_SOCKET, MAX_REQUEST};
pub use error::{code, ErrorBody};
pub use request::*;
pub use result::*;
pub use rules::*;
pub use view_args::*;
