//! QUIC v1 Initials (RFC 9000, RFC 9001): what a client's first datagram
//! says, read without the server. The client's Initial packets are
//! protected with keys anyone can derive from the Destination Connection
//! ID they carry (RFC 9001 §5.2): slbd derives them ([`InitialKeys`]),
//! removes header protection and decrypts ([`decrypt_initial`]), then puts
//! the CRYPTO frames back in order ([`CryptoReassembly`]) until it holds
//! the whole TLS ClientHello, which the `tls` module reads (SNI, ALPN).
//!
//! ```text
//!  UDP datagram (RFC 9000 §12.2: packets coalesced, each long header one
//!  sized by its Length field; a short header packet runs to the end)
//! +---------------------------+-------------------+------------------+
//! | Initial                   | Handshake / 0-RTT | (more, or short) |
//! +---------------------------+-------------------+------------------+
//!   |                           skipped by CryptoReassembly::feed_datagram
//!   v
//!  Initial packet (RFC 9000 §17.2.2), `*` protected by header protection
//! +-+-+-+-+-+-+-+-+
//! |1|1|0 0|R R|P P|*  first byte: long form, fixed bit, type 0 (Initial),
//! +-+-+-+-+-+-+-+-+      reserved bits (0), packet number length - 1
//! | Version (32) = 0x00000001                                |
//! | DCID Len (8) | Destination Connection ID (0..160)        |
//! | SCID Len (8) | Source Connection ID (0..160)             |
//! | Token Length (i) | Token (..)                            |
//! | Length (i): packet number + payload + 16-byte AEAD tag   |
//! | Packet Number (8..32) *  | Payload: frames, AES-128-GCM  |
//! +----------------------------------------------------------+
//!                            |<- 4 ->|<- sample: 16 bytes ->|
//!                            pn_offset (RFC 9001 §5.4.2)
//! ```
//!
//! Only QUIC version 1 (0x00000001) is read. Version 2 (RFC 9369) changes
//! the salt, the labels and the packet type numbers; a v2 or other version
//! packet is [`QuicError::UnsupportedVersion`], a Version Negotiation packet
//! (version 0, sent by servers) [`QuicError::VersionNegotiation`]. The
//! caller then balances the datagram by its 5-tuple, as it does the rest of
//! a QUIC connection: QUIC connections stay on their server by 5-tuple
//! (connection migration, RFC 9000 §9, is not followed).
//!
//! Cost: no heap allocation. Deriving the keys is one HKDF-Extract and four
//! HKDF-Expands (a few dozen SHA-256 blocks); decrypting is one AES block
//! for the mask and AES-GCM over the packet. This is scheduler-side work,
//! once per new flow, not a worker's per-packet path.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod error;
mod frames;
mod keys;
mod kind;
mod packet;
mod varint;

pub use error::QuicError;
pub use frames::{CryptoReassembly, Frame, Frames, CRYPTO_CAPACITY};
pub use keys::{InitialKeys, Secrets, INITIAL_SALT_V1};
pub use kind::PacketType;
pub use packet::{
    decrypt_initial, packets, protect_initial, Header, Initial, Packet, Packets, MAX_CID_LEN,
    MIN_INITIAL_DATAGRAM, VERSION_1,
};

#[cfg(test)]
pub(crate) mod rfc9001_vectors;
