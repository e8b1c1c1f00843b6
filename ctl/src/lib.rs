//! slbctl's library side:
//! - [`client`]: a small blocking client for slbd's control socket, typed
//!   ([`slb_proto::Request`] in, [`slb_proto::Reply`] out) or raw JSON;
//! - [`render`]: the text slbctl prints for each result;
//! - [`protocol`]: the protocol's line types and error codes under their
//!   old path (the protocol itself is the `slb-proto` crate).

pub mod client;
pub mod protocol;
pub mod render;
