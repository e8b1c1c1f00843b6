//! Why a datagram yields no ClientHello: each is a drop (or a fall back to
//! balancing by 5-tuple) to count under [`QuicError::as_str`].
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use super::kind::PacketType;

/// Why a QUIC datagram, packet or frame cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuicError {
    /// The bytes end inside the named field.
    Truncated {
        /// The field cut short ("version", "dcid", "token", "length"...).
        field: &'static str,
    },
    /// The first byte's form bit is 0: a short header packet, sent only
    /// once the handshake has keys (RFC 9000 §17.3).
    ShortHeader,
    /// The fixed bit (0x40) of a version 1 long header is 0 (RFC 9000
    /// §17.2; RFC 9287's greasing is only for peers that agreed to it,
    /// which a client's first flight cannot have).
    FixedBitClear,
    /// Version 0: a Version Negotiation packet (RFC 9000 §17.2.1), which
    /// only servers send.
    VersionNegotiation,
    /// A version other than 1 (RFC 9000 §15).
    UnsupportedVersion {
        /// The packet's version field.
        version: u32,
    },
    /// A version 1 long header packet that is not an Initial, given to
    /// [`super::decrypt_initial`].
    NotInitial {
        /// Its type.
        packet_type: PacketType,
    },
    /// A connection ID length over 20 (RFC 9000 §17.2).
    CidTooLong {
        /// The length byte.
        len: u8,
    },
    /// The Length field runs past the datagram.
    LengthPastDatagram {
        /// Length field value.
        length: u64,
        /// Bytes after the Length field.
        available: usize,
    },
    /// The Length field is under 20: too short for a packet number and
    /// the 16-byte header protection sample (RFC 9001 §5.4.2).
    TooShortForSample {
        /// Length field value.
        length: u64,
    },
    /// The AEAD tag does not verify: not a client Initial for these keys,
    /// or altered on the way.
    Decrypt,
    /// A reserved bit (0x0c) of the first byte is set once header
    /// protection is removed (RFC 9000 §17.2: PROTOCOL_VIOLATION).
    ReservedBits {
        /// The first byte, unprotected.
        first: u8,
    },
    /// The buffer cannot take the AEAD tag ([`super::protect_initial`]).
    NoRoomForTag,
    /// An Initial with no frames (RFC 9000 §12.4: PROTOCOL_VIOLATION).
    NoFrames,
    /// A frame that ends before its fields do (RFC 9000 §19:
    /// FRAME_ENCODING_ERROR).
    FrameTruncated {
        /// The frame's type.
        frame_type: u64,
    },
    /// A frame an Initial may not carry (RFC 9000 §12.4, table 3: only
    /// PADDING, PING, ACK, CRYPTO and CONNECTION_CLOSE of type 0x1c).
    FrameNotAllowed {
        /// The frame's type.
        frame_type: u64,
    },
    /// A CRYPTO frame whose offset plus length passes 2^62 - 1 (RFC 9000
    /// §19.6: FRAME_ENCODING_ERROR).
    CryptoOffsetOverflow,
    /// Two CRYPTO frames give different bytes for one offset.
    CryptoMismatch {
        /// The first offset where they differ.
        offset: u64,
    },
    /// CRYPTO data past what [`super::CryptoReassembly`] holds
    /// ([`super::CRYPTO_CAPACITY`] bytes).
    CryptoPastCapacity {
        /// The end offset of the frame's data.
        end: u64,
    },
    /// CRYPTO data past the end of the ClientHello: a client's Initials
    /// carry nothing after it.
    CryptoPastClientHello {
        /// The end offset of the data.
        end: u64,
        /// The ClientHello's end (its length plus its 4-byte header).
        hello_end: usize,
    },
    /// The CRYPTO stream does not start with a ClientHello (handshake type
    /// 1, RFC 8446 §4).
    NotClientHello {
        /// The handshake message type.
        msg_type: u8,
    },
    /// A ClientHello longer than [`super::CRYPTO_CAPACITY`] (with its
    /// 4-byte header).
    ClientHelloTooLarge {
        /// Its length field.
        len: usize,
    },
}

impl QuicError {
    /// A stable counter name.
    pub const fn as_str(&self) -> &'static str {
        match self {
            QuicError::Truncated { .. } => "quic_truncated",
            QuicError::ShortHeader => "quic_short_header",
            QuicError::FixedBitClear => "quic_fixed_bit_clear",
            QuicError::VersionNegotiation => "quic_version_negotiation",
            QuicError::UnsupportedVersion { .. } => "quic_unsupported_version",
            QuicError::NotInitial { .. } => "quic_not_initial",
            QuicError::CidTooLong { .. } => "quic_cid_too_long",
            QuicError::LengthPastDatagram { .. } => "quic_length_past_datagram",
            QuicError::TooShortForSample { .. } => "quic_too_short_for_sample",
            QuicError::Decrypt => "quic_decrypt_failed",
            QuicError::ReservedBits { .. } => "quic_reserved_bits",
            QuicError::NoRoomForTag => "quic_no_room_for_tag",
            QuicError::NoFrames => "quic_no_frames",
            QuicError::FrameTruncated { .. } => "quic_frame_truncated",
            QuicError::FrameNotAllowed { .. } => "quic_frame_not_allowed",
            QuicError::CryptoOffsetOverflow => "quic_crypto_offset_overflow",
            QuicError::CryptoMismatch { .. } => "quic_crypto_mismatch",
            QuicError::CryptoPastCapacity { .. } => "quic_crypto_past_capacity",
            QuicError::CryptoPastClientHello { .. } => "quic_crypto_past_client_hello",
            QuicError::NotClientHello { .. } => "quic_not_client_hello",
            QuicError::ClientHelloTooLarge { .. } => "quic_client_hello_too_large",
        }
    }
}

impl core::fmt::Display for QuicError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            QuicError::Truncated { field } => write!(f, "QUIC: packet ends inside its {field}"),
            QuicError::ShortHeader => f.write_str("QUIC: short header packet, not an Initial"),
            QuicError::FixedBitClear => f.write_str("QUIC: fixed bit is 0"),
            QuicError::VersionNegotiation => f.write_str("QUIC: Version Negotiation packet"),
            QuicError::UnsupportedVersion { version } => {
                write!(f, "QUIC: version {version:#010x} is not version 1")
            }
            QuicError::NotInitial { packet_type } => {
                write!(f, "QUIC: {packet_type:?} packet, not an Initial")
            }
            QuicError::CidTooLong { len } => {
                write!(f, "QUIC: connection ID length {len} over 20")
            }
            QuicError::LengthPastDatagram { length, available } => write!(
                f,
                "QUIC: Length field {length} past the datagram ({available} bytes left)"
            ),
            QuicError::TooShortForSample { length } => write!(
                f,
                "QUIC: Length field {length} under 20, too short for the header protection sample"
            ),
            QuicError::Decrypt => f.write_str("QUIC: Initial's AEAD tag does not verify"),
            QuicError::ReservedBits { first } => {
                write!(f, "QUIC: reserved bits set in first byte {first:#04x}")
            }
            QuicError::NoRoomForTag => f.write_str("QUIC: no room for the AEAD tag"),
            QuicError::NoFrames => f.write_str("QUIC: Initial without frames"),
            QuicError::FrameTruncated { frame_type } => {
                write!(f, "QUIC: frame of type {frame_type:#x} truncated")
            }
            QuicError::FrameNotAllowed { frame_type } => {
                write!(
                    f,
                    "QUIC: frame type {frame_type:#x} not allowed in an Initial"
                )
            }
            QuicError::CryptoOffsetOverflow => {
                f.write_str("QUIC: CRYPTO frame offset plus length over 2^62 - 1")
            }
            QuicError::CryptoMismatch { offset } => {
                write!(f, "QUIC: CRYPTO frames disagree at offset {offset}")
            }
            QuicError::CryptoPastCapacity { end } => {
                write!(f, "QUIC: CRYPTO data up to offset {end}, past the buffer")
            }
            QuicError::CryptoPastClientHello { end, hello_end } => write!(
                f,
                "QUIC: CRYPTO data up to offset {end}, past the ClientHello's end {hello_end}"
            ),
            QuicError::NotClientHello { msg_type } => {
                write!(
                    f,
                    "QUIC: CRYPTO stream starts with handshake type {msg_type}, not a ClientHello"
                )
            }
            QuicError::ClientHelloTooLarge { len } => {
                write!(f, "QUIC: ClientHello of {len} bytes, over the buffer")
            }
        }
    }
}

impl core::error::Error for QuicError {}
