//! Layer-7 readers for delayed binding (issue 17, claim 2's analysis "from
//! the third to the seventh layer"): what a client's first data asks for,
//! read before slbd picks a server pool. Pure Rust, zero-copy views over
//! the bytes the scheduler holds, no panic on any input (each module denies
//! indexing, unwrap and panic), fuzzed (`l7/fuzz`, `scripts/fuzz`).
//!
//! Nothing on the data path calls these yet: the scheduler's buffering of
//! a session's first data, which calls [`rules`], is issue 17's next part.
//!
//! - [`http`]: an HTTP/1.x request head (method, target, Host, fields).
//! - [`dns`]: the question of a DNS query over UDP (name, type, class).
//! - [`names`]: host-name patterns (`example.com`, `*.example.com`), one
//!   reading for HTTP's Host and TLS's server name.
//! - [`tls`]: the TLS ClientHello's server name (SNI, exact and wildcard
//!   matching) and ALPN, over a stream of several segments.
//! - [`quic`]: QUIC v1 Initials (RFC 9000, RFC 9001): the Initial keys from
//!   the client's DCID, header protection removed, decrypted, the CRYPTO
//!   frames reassembled to the ClientHello.
//! - [`rules`]: a service's layer-7 rules, and which one a session's first
//!   data (a TCP stream's first bytes, a UDP session's first datagrams)
//!   matches, read with the modules above.

pub mod dns;
pub mod http;
pub mod names;
pub mod quic;
mod reader;
pub mod rules;
pub mod tls;
