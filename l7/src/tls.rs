//! The TLS ClientHello (RFC 8446 §4.1.2; TLS 1.0–1.2 ClientHellos share its
//! layout, RFC 5246 §7.4.1.2): the server name (SNI, RFC 6066 §3) and the
//! application protocols (ALPN, RFC 7301) a client asks for, read from the
//! first bytes of its TCP stream. No allocation, no panic on any input.
//!
//! ```text
//!  record header (RFC 8446 §5.1)        handshake header (§4)
//! +------+---------+---------+         +------+-----------------+
//! | 0x16 | version | length  |  then   | 0x01 | length (24 bit) |  then the body:
//! | hs   | 0301-03 | <= 2^14 |         | CH   |                 |
//! +------+---------+---------+         +------+-----------------+
//!
//!  legacy_version  2   0x0301..=0x0303 (TLS 1.3 sends 0x0303, §4.1.2)
//!  random         32
//!  session_id      1 + 0..=32
//!  cipher_suites   2 + 2..=65534, even
//!  compression     1 + 1..=255
//!  extensions      2 + n, each: type 2, length 2, data   (absent: none, RFC 5246)
//!
//!  server_name (type 0)                 ALPN (type 16)
//!  list length 2                        list length 2
//!  { name_type 1 (0 = host_name),       { length 1 (>= 1), protocol name }+
//!    length 2, HostName }+
//! ```
//!
//! **Segments and records.** The caller hands [`client_hello`] the
//! client's first bytes, the payloads of its first segments put together
//! in order. A post-quantum key share (X25519MLKEM768: 1,216 bytes of
//! ML-KEM key beside the X25519 one) makes a ClientHello of 1.5–1.8 KB,
//! two segments at a 1,500-byte MTU. When the bytes stop short of the
//! record's end the answer is [`TlsError::Incomplete`] with the length to
//! wait for; a record that would end past `max_len` is
//! [`TlsError::TooLong`], so the caller's buffer is bounded. A ClientHello
//! whose handshake message does not fit in its first record (§5.1 lets a
//! sender fragment a handshake message over several records; none of the
//! clients we know do it under 2^14 bytes) is
//! [`TlsError::FragmentedAcrossRecords`]: reassembling it would need a
//! copy, the one thing this reader never makes. Bytes after the
//! ClientHello (in its record or in later records: early data) are not
//! read.
//!
//! **What is checked.** The record header, the handshake type, every
//! length of the ClientHello's structure (each field inside the message,
//! the extensions exactly filling it), and the two extensions read: the
//! server_name list and ALPN list must be well formed, and neither
//! extension may come twice (§4.2 forbids any repeat; a second SNI would
//! make the routing ambiguous). Other extensions are walked, not read;
//! their repeats are not looked for (that would be quadratic in their
//! number).
//!
//! **Server names.** The host_name as sent, checked: 1 to 253 bytes of
//! labels of 1 to 63 bytes, each of ASCII letters, digits, `-` and `_`
//! (the underscore occurs in real names), separated by single dots; no
//! trailing dot (RFC 6066 §3: "without a trailing dot"), no IP literal
//! check (an all-digit name passes; it matches no pattern with a letter).
//! A name breaking these rules is [`TlsError::BadServerName`]: routing on
//! a name no server can hold is refused rather than guessed at. Case is
//! kept as sent; matching ([`crate::names::matches`]) ignores ASCII case. With
//! Encrypted Client Hello (extension 0xfe0d) the name read is the outer
//! ClientHello's public name, the only one visible ([`ClientHello::ech`]
//! tells).
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use crate::reader::Reader;

/// Bytes of a record header: type, version, length.
pub const RECORD_HEADER_LEN: usize = 5;
/// The longest plaintext record fragment (RFC 8446 §5.1: 2^14).
pub const MAX_RECORD_LEN: usize = 1 << 14;
/// Bytes of a handshake message header: type, 24-bit length.
pub const HANDSHAKE_HEADER_LEN: usize = 4;

/// ContentType handshake (RFC 8446 §5.1).
const CONTENT_HANDSHAKE: u8 = 22;
/// HandshakeType client_hello (RFC 8446 §4).
const CLIENT_HELLO: u8 = 1;
/// The ExtensionTypes read (RFC 8446 §4.2, RFC 9849 for ECH).
const EXT_SERVER_NAME: u16 = 0;
const EXT_ALPN: u16 = 16;
const EXT_ECH: u16 = 0xfe0d;
/// NameType host_name (RFC 6066 §3).
const HOST_NAME: u8 = 0;
/// The longest host name (RFC 1035 §2.3.4, without the trailing dot) and
/// label.
const MAX_NAME_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

/// A field of the ClientHello, as named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// legacy_version and random (the body's first 34 bytes).
    VersionAndRandom,
    /// legacy_session_id.
    SessionId,
    /// cipher_suites.
    CipherSuites,
    /// legacy_compression_methods.
    CompressionMethods,
    /// The extensions block's length.
    Extensions,
    /// One extension's header or length, at this byte of the block.
    Extension {
        /// Offset in the extensions block.
        at: usize,
    },
}

impl core::fmt::Display for Field {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Field::VersionAndRandom => f.write_str("legacy_version/random"),
            Field::SessionId => f.write_str("legacy_session_id"),
            Field::CipherSuites => f.write_str("cipher_suites"),
            Field::CompressionMethods => f.write_str("legacy_compression_methods"),
            Field::Extensions => f.write_str("extensions"),
            Field::Extension { at } => write!(f, "extension at byte {at} of the block"),
        }
    }
}

/// Why [`client_hello`] gave no ClientHello. [`TlsError::Incomplete`] is
/// no error but a wait; every other one is final for this stream (more
/// bytes would not change it) and a drop to count under
/// [`TlsError::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsError {
    /// The bytes stop before the ClientHello's record ends: wait until the
    /// stream holds `need` bytes (a total, counted from its start), then
    /// call again. Never past `max_len`.
    Incomplete {
        /// The stream length to wait for.
        need: usize,
    },
    /// The ClientHello's record would end at byte `need`, past the
    /// caller's `max_len`.
    TooLong {
        /// Where the record ends.
        need: usize,
    },
    /// The first record is not a handshake record (an SSL 2 ClientHello, a
    /// protocol other than TLS).
    NotHandshake {
        /// Its ContentType byte.
        content_type: u8,
    },
    /// The record's legacy_record_version is not 0x0301..=0x0303.
    BadRecordVersion {
        /// The version as sent.
        version: u16,
    },
    /// The record length is 0 (§5.1 forbids empty handshake fragments) or
    /// over 2^14.
    BadRecordLength {
        /// The length as sent.
        len: usize,
    },
    /// The handshake message is not a ClientHello.
    NotClientHello {
        /// Its HandshakeType.
        msg_type: u8,
    },
    /// The ClientHello's handshake message runs past its first record.
    FragmentedAcrossRecords {
        /// The handshake message's length (with its 4-byte header).
        message_len: usize,
        /// The first record's length.
        record_len: usize,
    },
    /// The ClientHello's legacy_version is not 0x0301..=0x0303.
    BadHelloVersion {
        /// The version as sent.
        version: u16,
    },
    /// A field's length is out of its bounds or runs past the message, or
    /// the extensions do not exactly fill it.
    BadLength {
        /// The field.
        field: Field,
    },
    /// An extension that may come once (server_name, ALPN) came twice.
    DuplicateExtension {
        /// Its type.
        ext_type: u16,
    },
    /// The server_name extension is malformed, holds two host_names, or
    /// its host_name is no valid DNS name (module doc).
    BadServerName,
    /// The ALPN extension is malformed: an empty list, an empty name, or
    /// lengths that do not add up.
    BadAlpn,
}

impl TlsError {
    /// A stable counter name.
    pub const fn as_str(&self) -> &'static str {
        match self {
            TlsError::Incomplete { .. } => "tls_incomplete",
            TlsError::TooLong { .. } => "tls_too_long",
            TlsError::NotHandshake { .. } => "tls_not_handshake",
            TlsError::BadRecordVersion { .. } => "tls_bad_record_version",
            TlsError::BadRecordLength { .. } => "tls_bad_record_length",
            TlsError::NotClientHello { .. } => "tls_not_client_hello",
            TlsError::FragmentedAcrossRecords { .. } => "tls_fragmented_across_records",
            TlsError::BadHelloVersion { .. } => "tls_bad_hello_version",
            TlsError::BadLength { .. } => "tls_bad_length",
            TlsError::DuplicateExtension { .. } => "tls_duplicate_extension",
            TlsError::BadServerName => "tls_bad_server_name",
            TlsError::BadAlpn => "tls_bad_alpn",
        }
    }
}

impl core::fmt::Display for TlsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TlsError::Incomplete { need } => write!(f, "TLS: incomplete, need {need} bytes"),
            TlsError::TooLong { need } => {
                write!(
                    f,
                    "TLS: ClientHello record ends at byte {need}, past the limit"
                )
            }
            TlsError::NotHandshake { content_type } => {
                write!(
                    f,
                    "TLS: record content type {content_type}, not handshake (22)"
                )
            }
            TlsError::BadRecordVersion { version } => {
                write!(f, "TLS: record version {version:#06x} not 0x0301..=0x0303")
            }
            TlsError::BadRecordLength { len } => {
                write!(f, "TLS: record length {len} not 1..=16384")
            }
            TlsError::NotClientHello { msg_type } => {
                write!(f, "TLS: handshake type {msg_type}, not ClientHello (1)")
            }
            TlsError::FragmentedAcrossRecords {
                message_len,
                record_len,
            } => write!(
                f,
                "TLS: {message_len}-byte ClientHello fragmented past its {record_len}-byte record"
            ),
            TlsError::BadHelloVersion { version } => {
                write!(
                    f,
                    "TLS: ClientHello version {version:#06x} not 0x0301..=0x0303"
                )
            }
            TlsError::BadLength { field } => write!(f, "TLS: ClientHello {field}: bad length"),
            TlsError::DuplicateExtension { ext_type } => {
                write!(f, "TLS: ClientHello extension {ext_type} repeated")
            }
            TlsError::BadServerName => f.write_str("TLS: malformed server_name or host name"),
            TlsError::BadAlpn => f.write_str("TLS: malformed ALPN extension"),
        }
    }
}

impl core::error::Error for TlsError {}

/// A read ClientHello: views into the caller's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientHello<'a> {
    /// legacy_version.
    pub legacy_version: u16,
    /// The 32-byte random.
    pub random: &'a [u8],
    /// legacy_session_id (0 to 32 bytes).
    pub session_id: &'a [u8],
    /// cipher_suites, two bytes each.
    pub cipher_suites: &'a [u8],
    /// The extensions block, without its length (empty when absent).
    pub extensions: &'a [u8],
    /// Bytes of the stream the ClientHello's record takes (header
    /// included): where what follows it begins. From
    /// [`client_hello_message`], the message's length with its header.
    pub record_end: usize,
    server_name: Option<&'a str>,
    /// The ALPN protocol_name_list's contents (checked), empty when absent.
    alpn: &'a [u8],
    ech: bool,
}

impl<'a> ClientHello<'a> {
    /// The host_name of the server_name extension, as sent (module doc:
    /// checked, case kept, no trailing dot). `None` without the extension.
    pub fn server_name(&self) -> Option<&'a str> {
        self.server_name
    }

    /// The ALPN protocol names in the client's order of preference
    /// (RFC 7301 §3.1); none without the extension.
    pub fn alpn(&self) -> Alpn<'a> {
        Alpn { rest: self.alpn }
    }

    /// Whether the client offered `protocol` (as `b"h2"`) by ALPN.
    pub fn offers_alpn(&self, protocol: &[u8]) -> bool {
        self.alpn().any(|p| p == protocol)
    }

    /// Whether the ClientHello carries an Encrypted Client Hello
    /// extension: [`ClientHello::server_name`] is then the outer name.
    pub fn ech(&self) -> bool {
        self.ech
    }

    /// Whether the server name matches `pattern` ([`crate::names::matches`]);
    /// false without one.
    pub fn sni_matches(&self, pattern: &str) -> bool {
        self.server_name
            .is_some_and(|n| crate::names::matches(n, pattern))
    }

    /// The extensions as (type, data), in order.
    pub fn extensions(&self) -> Extensions<'a> {
        Extensions {
            rest: self.extensions,
        }
    }
}

/// The ALPN protocol names of a ClientHello ([`ClientHello::alpn`]).
#[derive(Debug, Clone)]
pub struct Alpn<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Alpn<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let mut r = Reader::new(self.rest);
        let name = r.vec8()?;
        self.rest = r.rest();
        Some(name)
    }
}

/// The extensions of a ClientHello ([`ClientHello::extensions`]).
#[derive(Debug, Clone)]
pub struct Extensions<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Extensions<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        let mut r = Reader::new(self.rest);
        let ext_type = r.u16()?;
        let data = r.vec16()?;
        self.rest = r.rest();
        Some((ext_type, data))
    }
}

/// Read the ClientHello at the start of `stream`, the client's first
/// bytes; `max_len` caps how far its record may end (module doc).
pub fn client_hello(stream: &[u8], max_len: usize) -> Result<ClientHello<'_>, TlsError> {
    // Each check runs as soon as its bytes are there, so a stream that
    // can never be TLS is refused from its first bytes.
    let wait = |need: usize| {
        if need > max_len {
            TlsError::TooLong { need }
        } else {
            TlsError::Incomplete { need }
        }
    };
    let mut r = Reader::new(stream);
    let content_type = r.u8().ok_or(wait(RECORD_HEADER_LEN))?;
    if content_type != CONTENT_HANDSHAKE {
        return Err(TlsError::NotHandshake { content_type });
    }
    if let Some(&major) = stream.get(1) {
        let minor = stream.get(2).copied().unwrap_or(1);
        let version = u16::from_be_bytes([major, minor]);
        if !(0x0301..=0x0303).contains(&version) {
            return Err(TlsError::BadRecordVersion { version });
        }
    }
    let mut r = Reader::new(stream.get(3..).unwrap_or_default());
    let record_len = usize::from(r.u16().ok_or(wait(RECORD_HEADER_LEN))?);
    if record_len == 0 || record_len > MAX_RECORD_LEN {
        return Err(TlsError::BadRecordLength { len: record_len });
    }
    let record_end = RECORD_HEADER_LEN + record_len;
    if let Some(&msg_type) = stream.get(RECORD_HEADER_LEN) {
        if msg_type != CLIENT_HELLO {
            return Err(TlsError::NotClientHello { msg_type });
        }
    }
    let Some(fragment) = stream.get(RECORD_HEADER_LEN..record_end) else {
        return Err(wait(record_end));
    };
    if record_end > max_len {
        return Err(TlsError::TooLong { need: record_end });
    }
    let mut r = Reader::new(fragment);
    let body_len = r.u8().and_then(|_| r.u24());
    let body = body_len.and_then(|n| r.bytes(n));
    let Some(body) = body else {
        return Err(TlsError::FragmentedAcrossRecords {
            message_len: body_len.map_or(0, |n| n + HANDSHAKE_HEADER_LEN),
            record_len,
        });
    };
    parse_body(body, record_end)
}

/// Read a bare ClientHello handshake message, `msg` starting with its
/// 4-byte handshake header (type 1, 24-bit length) and no record header:
/// QUIC carries the TLS handshake in CRYPTO frames, not in records (RFC
/// 9001 §4), and [`crate::quic::CryptoReassembly::client_hello`] gives
/// exactly this. [`ClientHello::record_end`] is then the message's length
/// with its header; bytes after it are not read. `Incomplete` when `msg`
/// stops short of the length its header gives (`need` counted from its
/// start); the body is checked as [`client_hello`]'s.
pub fn client_hello_message(msg: &[u8]) -> Result<ClientHello<'_>, TlsError> {
    let mut r = Reader::new(msg);
    let header = TlsError::Incomplete {
        need: HANDSHAKE_HEADER_LEN,
    };
    let msg_type = r.u8().ok_or(header)?;
    if msg_type != CLIENT_HELLO {
        return Err(TlsError::NotClientHello { msg_type });
    }
    let len = r.u24().ok_or(header)?;
    let end = HANDSHAKE_HEADER_LEN + len;
    let body = r.bytes(len).ok_or(TlsError::Incomplete { need: end })?;
    parse_body(body, end)
}

/// The ClientHello body (after its handshake header).
fn parse_body(body: &[u8], record_end: usize) -> Result<ClientHello<'_>, TlsError> {
    let bad = |field| TlsError::BadLength { field };
    let mut r = Reader::new(body);
    let legacy_version = r.u16().ok_or(bad(Field::VersionAndRandom))?;
    let random = r.bytes(32).ok_or(bad(Field::VersionAndRandom))?;
    if !(0x0301..=0x0303).contains(&legacy_version) {
        return Err(TlsError::BadHelloVersion {
            version: legacy_version,
        });
    }
    let session_id = r
        .vec8()
        .filter(|s| s.len() <= 32)
        .ok_or(bad(Field::SessionId))?;
    let cipher_suites = r
        .vec16()
        .filter(|s| s.len() >= 2 && s.len().is_multiple_of(2))
        .ok_or(bad(Field::CipherSuites))?;
    r.vec8()
        .filter(|c| !c.is_empty())
        .ok_or(bad(Field::CompressionMethods))?;
    let extensions = if r.is_empty() {
        &[][..]
    } else {
        let e = r.vec16().ok_or(bad(Field::Extensions))?;
        if !r.is_empty() {
            return Err(bad(Field::Extensions));
        }
        e
    };
    let mut hello = ClientHello {
        legacy_version,
        random,
        session_id,
        cipher_suites,
        extensions,
        record_end,
        server_name: None,
        alpn: &[],
        ech: false,
    };
    let (mut seen_sni, mut seen_alpn) = (false, false);
    let mut r = Reader::new(extensions);
    while !r.is_empty() {
        let at = extensions.len() - r.remaining();
        let ext_type = r.u16().ok_or(bad(Field::Extension { at }))?;
        let data = r.vec16().ok_or(bad(Field::Extension { at }))?;
        match ext_type {
            EXT_SERVER_NAME => {
                if seen_sni {
                    return Err(TlsError::DuplicateExtension { ext_type });
                }
                seen_sni = true;
                hello.server_name = Some(server_name(data)?);
            }
            EXT_ALPN => {
                if seen_alpn {
                    return Err(TlsError::DuplicateExtension { ext_type });
                }
                seen_alpn = true;
                hello.alpn = alpn_list(data).ok_or(TlsError::BadAlpn)?;
            }
            EXT_ECH => hello.ech = true,
            _ => {}
        }
    }
    Ok(hello)
}

/// The host_name of a server_name extension's data (RFC 6066 §3). Entries
/// of other name types are skipped, read as length-prefixed as every
/// deployed stack does; exactly one host_name is required.
fn server_name(data: &[u8]) -> Result<&str, TlsError> {
    let mut r = Reader::new(data);
    let list = r.vec16().ok_or(TlsError::BadServerName)?;
    if !r.is_empty() || list.is_empty() {
        return Err(TlsError::BadServerName);
    }
    let mut r = Reader::new(list);
    let mut host = None;
    while !r.is_empty() {
        let name_type = r.u8().ok_or(TlsError::BadServerName)?;
        let name = r.vec16().ok_or(TlsError::BadServerName)?;
        if name_type == HOST_NAME {
            if host.is_some() {
                return Err(TlsError::BadServerName);
            }
            host = Some(name);
        }
    }
    host.and_then(valid_host_name)
        .ok_or(TlsError::BadServerName)
}

/// `name` as a `&str` when it is a valid host name (module doc).
fn valid_host_name(name: &[u8]) -> Option<&str> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return None;
    }
    let label_ok = |l: &[u8]| {
        !l.is_empty()
            && l.len() <= MAX_LABEL_LEN
            && l.iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !name.split(|&b| b == b'.').all(label_ok) {
        return None;
    }
    core::str::from_utf8(name).ok()
}

/// The protocol_name_list of an ALPN extension's data, checked: at least
/// one name, none empty, lengths that add up (RFC 7301 §3.1).
fn alpn_list(data: &[u8]) -> Option<&[u8]> {
    let mut r = Reader::new(data);
    let list = r.vec16()?;
    if !r.is_empty() || list.is_empty() {
        return None;
    }
    let mut r = Reader::new(list);
    while !r.is_empty() {
        if r.vec8()?.is_empty() {
            return None;
        }
    }
    Some(list)
}

#[cfg(test)]
pub(crate) mod golden;

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::golden::{hex, RFC8448, TLSLITE_MLKEM};
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    /// `n` as a big-endian length of `width` bytes, then `body`.
    fn vec(width: usize, body: &[u8]) -> Vec<u8> {
        let mut v = body.len().to_be_bytes()[8 - width..].to_vec();
        v.extend_from_slice(body);
        v
    }

    /// One extension.
    fn ext(ext_type: u16, data: &[u8]) -> Vec<u8> {
        let mut v = ext_type.to_be_bytes().to_vec();
        v.extend(vec(2, data));
        v
    }

    /// A server_name extension with these (name_type, name) entries.
    fn sni(names: &[(u8, &[u8])]) -> Vec<u8> {
        let mut list = Vec::new();
        for (t, n) in names {
            list.push(*t);
            list.extend(vec(2, n));
        }
        ext(0, &vec(2, &list))
    }

    /// An ALPN extension with these names.
    fn alpn(names: &[&[u8]]) -> Vec<u8> {
        let list: Vec<u8> = names.iter().flat_map(|n| vec(1, n)).collect();
        ext(16, &vec(2, &list))
    }

    /// A ClientHello body: TLS 1.2 version, zero random, session id,
    /// suites, compression, then `tail` as is (the extensions block with
    /// its length, or anything).
    fn body(sid: &[u8], suites: &[u8], comp: &[u8], tail: &[u8]) -> Vec<u8> {
        let mut b = std::vec![3, 3];
        b.extend([0u8; 32]);
        b.extend(vec(1, sid));
        b.extend(vec(2, suites));
        b.extend(vec(1, comp));
        b.extend_from_slice(tail);
        b
    }

    /// `body` as a ClientHello message in one TLS 1.0 record.
    fn record(body: &[u8]) -> Vec<u8> {
        let mut msg = std::vec![CLIENT_HELLO];
        msg.extend(vec(3, body));
        let mut r = std::vec![CONTENT_HANDSHAKE, 3, 1];
        r.extend(vec(2, &msg));
        r
    }

    /// A well-formed ClientHello with these extensions.
    fn hello(exts: &[Vec<u8>]) -> Vec<u8> {
        record(&body(&[], &[0x13, 1], &[0], &vec(2, &exts.concat())))
    }

    #[test]
    fn extensions_absent_duplicate_and_ech() {
        // TLS 1.2 allows a ClientHello without extensions at all.
        let b = record(&body(&[1; 32], &[0, 0x2f], &[0], &[]));
        let h = client_hello(&b, 512).unwrap();
        assert_eq!(
            (h.server_name(), h.alpn().count(), h.session_id.len()),
            (None, 0, 32)
        );
        assert!(!h.sni_matches("*.example.com"));
        // ECH: the outer name is the name read.
        let b = hello(&[sni(&[(0, b"public.example")]), ext(0xfe0d, &[0; 8])]);
        let h = client_hello(&b, 512).unwrap();
        assert!(h.ech() && h.sni_matches("public.example"));
        // Other name types are skipped; a host_name among them is read.
        let b = hello(&[sni(&[(7, b"x"), (0, b"a.b")])]);
        let h = client_hello(&b, 512).unwrap();
        assert_eq!(h.server_name(), Some("a.b"));
        // A 253-byte name of 63-byte labels passes.
        let l = [b'a'; 63];
        let long = [&l[..], b".", &l, b".", &l, b".", &l[..61]].concat();
        assert_eq!(long.len(), 253);
        let b = hello(&[sni(&[(0, &long)])]);
        let h = client_hello(&b, 512).unwrap();
        assert_eq!(h.server_name().unwrap().len(), 253);
    }

    /// Each malformed ClientHello and its error.
    #[test]
    fn malformed_client_hellos_name_their_field() {
        let bad_len = |field| Err(TlsError::BadLength { field });
        let mut rfc = hex(RFC8448);
        let cases: Vec<(&str, Vec<u8>, Result<(), TlsError>)> = std::vec![
            (
                "application data",
                std::vec![23, 3, 3, 0, 1, 0],
                Err(TlsError::NotHandshake { content_type: 23 })
            ),
            (
                "SSL 2 hello",
                std::vec![0x80, 0x2e, 1, 3, 1],
                Err(TlsError::NotHandshake { content_type: 0x80 })
            ),
            (
                "HTTP",
                b"GET / HTTP/1.1\r\n".to_vec(),
                Err(TlsError::NotHandshake { content_type: b'G' })
            ),
            (
                "record version 3.0",
                std::vec![22, 3, 0],
                Err(TlsError::BadRecordVersion { version: 0x0300 })
            ),
            (
                "record version 2.x",
                std::vec![22, 2],
                Err(TlsError::BadRecordVersion { version: 0x0201 })
            ),
            (
                "empty record",
                std::vec![22, 3, 1, 0, 0],
                Err(TlsError::BadRecordLength { len: 0 })
            ),
            (
                "record over 2^14",
                std::vec![22, 3, 1, 0x40, 1],
                Err(TlsError::BadRecordLength { len: 16385 })
            ),
            (
                "ServerHello",
                std::vec![22, 3, 3, 0, 80, 2],
                Err(TlsError::NotClientHello { msg_type: 2 })
            ),
            (
                "fragmented",
                {
                    rfc[3..5].copy_from_slice(&[0, 100]);
                    rfc.truncate(105);
                    rfc
                },
                Err(TlsError::FragmentedAcrossRecords {
                    message_len: 196,
                    record_len: 100
                })
            ),
            (
                "header cut by the record",
                std::vec![22, 3, 1, 0, 2, 1, 0],
                Err(TlsError::FragmentedAcrossRecords {
                    message_len: 0,
                    record_len: 2
                })
            ),
            (
                "hello version 3.4",
                {
                    let mut b = body(&[], &[0, 1], &[0], &[]);
                    b[1] = 4;
                    record(&b)
                },
                Err(TlsError::BadHelloVersion { version: 0x0304 })
            ),
            (
                "no random",
                record(&[3, 3, 0]),
                bad_len(Field::VersionAndRandom)
            ),
            (
                "session id 33",
                record(&body(&[0; 33], &[0, 1], &[0], &[])),
                bad_len(Field::SessionId)
            ),
            (
                "odd suites",
                record(&body(&[], &[0, 1, 2], &[0], &[])),
                bad_len(Field::CipherSuites)
            ),
            (
                "no suites",
                record(&body(&[], &[], &[0], &[])),
                bad_len(Field::CipherSuites)
            ),
            (
                "no compression",
                record(&body(&[], &[0, 1], &[], &[])),
                bad_len(Field::CompressionMethods)
            ),
            (
                "one byte after compression",
                record(&body(&[], &[0, 1], &[0], &[0])),
                bad_len(Field::Extensions)
            ),
            (
                "extensions short of the message",
                record(&body(&[], &[0, 1], &[0], &[0, 4, 0, 5, 0, 0, 9])),
                bad_len(Field::Extensions)
            ),
            (
                "extensions past the message",
                record(&body(&[], &[0, 1], &[0], &[0, 9, 0, 5, 0, 0])),
                bad_len(Field::Extensions)
            ),
            (
                "extension past the block",
                hello(&[ext(5, &[]), std::vec![0, 9, 0, 3, 1]]),
                bad_len(Field::Extension { at: 4 })
            ),
            (
                "extension header cut",
                hello(&[std::vec![0, 9, 0]]),
                bad_len(Field::Extension { at: 0 })
            ),
            (
                "two SNI extensions",
                hello(&[sni(&[(0, b"a")]), sni(&[(0, b"b")])]),
                Err(TlsError::DuplicateExtension { ext_type: 0 })
            ),
            (
                "two ALPN extensions",
                hello(&[alpn(&[b"h2"]), alpn(&[b"h2"])]),
                Err(TlsError::DuplicateExtension { ext_type: 16 })
            ),
            (
                "two host_names",
                hello(&[sni(&[(0, b"a"), (0, b"b")])]),
                Err(TlsError::BadServerName)
            ),
            (
                "no host_name",
                hello(&[sni(&[(1, b"a")])]),
                Err(TlsError::BadServerName)
            ),
            (
                "empty SNI list",
                hello(&[ext(0, &[0, 0])]),
                Err(TlsError::BadServerName)
            ),
            (
                "empty SNI data",
                hello(&[ext(0, &[])]),
                Err(TlsError::BadServerName)
            ),
            (
                "SNI list past the data",
                hello(&[ext(0, &[0, 9, 0, 0, 1, b'a'])]),
                Err(TlsError::BadServerName)
            ),
            (
                "trailing dot",
                hello(&[sni(&[(0, b"example.com.")])]),
                Err(TlsError::BadServerName)
            ),
            (
                "empty label",
                hello(&[sni(&[(0, b"a..com")])]),
                Err(TlsError::BadServerName)
            ),
            (
                "empty name",
                hello(&[sni(&[(0, b"")])]),
                Err(TlsError::BadServerName)
            ),
            (
                "NUL in name",
                hello(&[sni(&[(0, b"a\0.com")])]),
                Err(TlsError::BadServerName)
            ),
            (
                "UTF-8 name",
                hello(&[sni(&[(0, "é.com".as_bytes())])]),
                Err(TlsError::BadServerName)
            ),
            (
                "64-byte label",
                hello(&[sni(&[(0, &[b'a'; 64])])]),
                Err(TlsError::BadServerName)
            ),
            (
                "254-byte name",
                hello(&[sni(&[(
                    0,
                    &[
                        &[b'a'; 63][..],
                        b".",
                        &[b'b'; 63],
                        b".",
                        &[b'c'; 63],
                        b".",
                        &[b'd'; 62]
                    ]
                    .concat()
                )])]),
                Err(TlsError::BadServerName)
            ),
            (
                "wildcard name",
                hello(&[sni(&[(0, b"*.example.com")])]),
                Err(TlsError::BadServerName)
            ),
            (
                "empty ALPN list",
                hello(&[ext(16, &[0, 0])]),
                Err(TlsError::BadAlpn)
            ),
            (
                "empty ALPN name",
                hello(&[alpn(&[b"h2", b""])]),
                Err(TlsError::BadAlpn)
            ),
            (
                "ALPN name past the list",
                hello(&[ext(16, &[0, 3, 5, b'h', b'2'])]),
                Err(TlsError::BadAlpn)
            ),
            (
                "ALPN bytes after the list",
                hello(&[ext(16, &[0, 3, 2, b'h', b'2', 0])]),
                Err(TlsError::BadAlpn)
            ),
        ];
        let mut names = std::collections::HashSet::new();
        for (name, bytes, want) in cases {
            let got = client_hello(&bytes, 16384 + 5).map(|_| ());
            assert_eq!(got, want, "{name}");
            if let Err(e) = got {
                assert!(e.as_str().starts_with("tls_") && !e.to_string().is_empty());
                names.insert(e.as_str());
            }
        }
        // Every error but the two waits is reached above.
        assert_eq!(names.len(), 10);
    }

    /// The issue's other half: what the answer depends on is the bytes,
    /// not how they arrived. A ClientHello built from random parts reads
    /// back as built; every prefix of it waits.
    fn arb_label() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![b'a'..=b'z', b'0'..=b'9', Just(b'-'), Just(b'_')],
            1..20,
        )
    }

    proptest! {
        #[test]
        fn any_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..600), max_len in 0usize..700) {
            match client_hello(&b, max_len) {
                Ok(h) => {
                    prop_assert!(h.record_end <= b.len() && h.record_end <= max_len);
                    let _ = (h.alpn().count(), h.extensions().count(), h.sni_matches("*.a"));
                }
                Err(TlsError::Incomplete { need }) => prop_assert!(need > b.len() && need <= max_len),
                Err(_) => {}
            }
        }

        /// Random bytes after a valid record and handshake header reach
        /// the body's parser.
        #[test]
        fn any_body_never_panics(b in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(h) = client_hello(&record(&b), 512) {
                prop_assert_eq!(h.extensions().map(|(_, d)| d.len() + 4).sum::<usize>(), h.extensions.len());
                if let Some(n) = h.server_name() {
                    prop_assert!(crate::names::matches(n, n));
                }
            }
        }

        #[test]
        fn built_hellos_read_back_and_prefixes_wait(
            labels in proptest::collection::vec(arb_label(), 1..5),
            protos in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..12), 0..4),
            pad in 0usize..3000,
            max_len in 0usize..4000,
        ) {
            let name = labels.join(&b'.');
            let mut exts = std::vec![ext(21, &std::vec![0; pad]), sni(&[(0, &name)])];
            if !protos.is_empty() {
                exts.push(alpn(&protos.iter().map(|p| &p[..]).collect::<Vec<_>>()));
            }
            let b = hello(&exts);
            let len = b.len();
            match client_hello(&b, max_len) {
                Ok(h) => {
                    prop_assert!(len <= max_len);
                    prop_assert_eq!(h.server_name().map(str::as_bytes), Some(&name[..]));
                    prop_assert_eq!(h.alpn().collect::<Vec<_>>(), protos.iter().map(|p| &p[..]).collect::<Vec<_>>());
                }
                Err(e) => prop_assert!(len > max_len && e == TlsError::TooLong { need: len }, "{:?}", e),
            }
            for cut in [0, 1, 4, 5, 6, len / 2, len - 1] {
                let need = if cut < RECORD_HEADER_LEN { RECORD_HEADER_LEN } else { len };
                let want = if need > max_len { TlsError::TooLong { need } } else { TlsError::Incomplete { need } };
                prop_assert_eq!(client_hello(&b[..cut], max_len), Err(want));
            }
        }

        /// Every prefix of the post-quantum capture waits (or is too long
        /// past `max_len`), never an error or a parse.
        #[test]
        fn prefixes_of_the_mlkem_capture_wait(cut in 0usize..1713, max_len in 0usize..2000) {
            let b = hex(TLSLITE_MLKEM);
            let need = if cut < RECORD_HEADER_LEN { RECORD_HEADER_LEN } else { b.len() };
            let want = if need > max_len { TlsError::TooLong { need } } else { TlsError::Incomplete { need } };
            prop_assert_eq!(client_hello(&b[..cut], max_len), Err(want));
        }
    }
}
