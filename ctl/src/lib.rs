//! slbctl's library side:
//! - [`client`]: a small blocking client for slbd's control socket, typed
//!   ([`slb_proto::Request`] in, [`slb_proto::Reply`] out) or raw JSON;
//! - [`render`]: the text slbctl prints for each result.
//!
//! The protocol itself is the `slb-proto` crate, shared with slbd.

pub mod client;
pub mod render;
