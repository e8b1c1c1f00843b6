//! The control protocol's line types and error codes, now in `slb-proto`
//! (which also holds the typed requests and results). Re-exported here
//! under their old names for the code that still says
//! `slb_ctl::protocol`: `Request` is the untyped request line
//! ([`slb_proto::RawRequest`]).

pub use slb_proto::RawRequest as Request;
pub use slb_proto::{code, ErrorBody, Response, COMMANDS, DEFAULT_SOCKET, MAX_REQUEST};
