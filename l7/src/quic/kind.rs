//! What kind of packet a datagram holds (RFC 9000 §17).
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

/// What one packet of a datagram is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketType {
    /// Version 1 long header, type 0 (RFC 9000 §17.2.2).
    Initial,
    /// Version 1 long header, type 1 (§17.2.3).
    ZeroRtt,
    /// Version 1 long header, type 2 (§17.2.4).
    Handshake,
    /// Version 1 long header, type 3 (§17.2.5): no Length field, runs to
    /// the end of the datagram.
    Retry,
    /// Long header with version 0 (§17.2.1): runs to the end.
    VersionNegotiation,
    /// Long header of another version: runs to the end, unread (only the
    /// version-independent fields, RFC 8999, are known).
    OtherVersion(u32),
    /// Short header (§17.3): runs to the end, unread.
    Short,
}
