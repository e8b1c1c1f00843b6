//! QUIC v1 long header packets: split a datagram into its coalesced
//! packets ([`packets`], RFC 9000 §12.2), read a long header
//! ([`Header::parse`], §17.2), and unprotect an Initial in place
//! ([`decrypt_initial`], RFC 9001 §5): header protection off, then
//! AES-128-GCM. [`protect_initial`] does the reverse, for tests, the fuzz
//! target and labs that need a client's Initial.
//!
//! ```text
//!  removing protection (RFC 9001 §5.4.1, §5.4.3, §5.3)
//!  sample = packet[pn_offset + 4 .. pn_offset + 20]
//!  mask   = AES-128-ECB(hp, sample)
//!  first ^= mask[0] & 0x0f          -> packet number length (low 2 bits)
//!  pn    ^= mask[1 ..= pn_len]
//!  nonce  = iv XOR pn (62 bits, right-aligned in 12 bytes)
//!  AAD    = header, first byte to packet number, unprotected
//!  payload, tag = AES-128-GCM-Open(key, nonce, AAD, rest)
//! ```
//!
//! The packet number is used as it comes (1 to 4 bytes, RFC 9000 §17.1):
//! with no packet received yet the expected number is 0 and the decoding
//! of RFC 9000 §A.3 returns the truncated value itself.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use super::error::QuicError;
use super::keys::InitialKeys;
use super::kind::PacketType;
use crate::reader::Reader;
use aes::cipher::BlockCipherEncrypt;
use aes_gcm::aead::AeadInOut;
use core::ops::Range;

/// QUIC version 1 (RFC 9000 §15).
pub const VERSION_1: u32 = 0x0000_0001;

/// The longest connection ID version 1 allows (RFC 9000 §17.2).
pub const MAX_CID_LEN: usize = 20;

/// The smallest UDP payload a client's datagram with an Initial may have
/// (RFC 9000 §14.1: a server MUST discard a smaller one). Not checked
/// here: the caller has the datagram.
pub const MIN_INITIAL_DATAGRAM: usize = 1200;

/// The AEAD tag's length (AES-128-GCM).
const TAG_LEN: usize = 16;
/// The header protection sample's length (RFC 9001 §5.4.2).
const SAMPLE_LEN: usize = 16;

/// Form bit: 1 for a long header.
const FORM_LONG: u8 = 0x80;
/// Fixed bit: 1 in version 1.
const FIXED_BIT: u8 = 0x40;
/// Reserved bits of a long header, 0 once unprotected.
const RESERVED_BITS: u8 = 0x0c;
/// Packet number length - 1.
const PN_LEN_BITS: u8 = 0x03;
/// The bits header protection masks in a long header (RFC 9001 §5.4.1).
const PROTECTED_BITS: u8 = 0x0f;

/// The unprotected fields of a version 1 long header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// Initial, 0-RTT, Handshake or Retry.
    pub packet_type: PacketType,
    /// The first byte as sent (its low 4 bits protected, except in Retry).
    pub first: u8,
    /// Destination Connection ID (0 to 20 bytes).
    pub dcid: &'a [u8],
    /// Source Connection ID (0 to 20 bytes).
    pub scid: &'a [u8],
    /// The Initial's token, the Retry Token of a Retry; empty otherwise.
    pub token: &'a [u8],
    /// Offset of the (protected) packet number; a Retry's length.
    pub pn_offset: usize,
    /// The packet's length: up to the end of its Length field's span (the
    /// datagram's end for a Retry).
    pub packet_len: usize,
}

/// Where a long header's fields lie.
struct Layout {
    packet_type: PacketType,
    first: u8,
    dcid: Range<usize>,
    scid: Range<usize>,
    token: Range<usize>,
    pn_offset: usize,
    packet_len: usize,
}

impl<'a> Header<'a> {
    /// Read the version 1 long header at the start of `buf`; bytes after
    /// the packet (`packet_len`) are the datagram's next packets.
    pub fn parse(buf: &'a [u8]) -> Result<Header<'a>, QuicError> {
        let l = layout(buf)?;
        let field = |r: Range<usize>, name| buf.get(r).ok_or(QuicError::Truncated { field: name });
        Ok(Header {
            packet_type: l.packet_type,
            first: l.first,
            dcid: field(l.dcid, "dcid")?,
            scid: field(l.scid, "scid")?,
            token: field(l.token, "token")?,
            pn_offset: l.pn_offset,
            packet_len: l.packet_len,
        })
    }
}

/// The invariant fields (RFC 8999 §5.1): the first byte and the version,
/// or which kind of packet runs to the end of the datagram.
fn version_of(buf: &[u8]) -> Result<(u8, u32), QuicError> {
    let mut r = Reader::new(buf);
    let first = r.u8().ok_or(QuicError::Truncated {
        field: "first byte",
    })?;
    if first & FORM_LONG == 0 {
        return Err(QuicError::ShortHeader);
    }
    let version = r.u32().ok_or(QuicError::Truncated { field: "version" })?;
    match version {
        0 => Err(QuicError::VersionNegotiation),
        VERSION_1 => Ok((first, version)),
        v => Err(QuicError::UnsupportedVersion { version: v }),
    }
}

/// A version 1 long header's first byte and type.
fn long_type(buf: &[u8]) -> Result<(u8, PacketType), QuicError> {
    let (first, _) = version_of(buf)?;
    if first & FIXED_BIT == 0 {
        return Err(QuicError::FixedBitClear);
    }
    let packet_type = match (first >> 4) & 0x03 {
        0 => PacketType::Initial,
        1 => PacketType::ZeroRtt,
        2 => PacketType::Handshake,
        _ => PacketType::Retry,
    };
    Ok((first, packet_type))
}

/// An Initial's first byte, or why the packet is not one.
fn initial_first(buf: &[u8]) -> Result<u8, QuicError> {
    match long_type(buf)? {
        (first, PacketType::Initial) => Ok(first),
        (_, packet_type) => Err(QuicError::NotInitial { packet_type }),
    }
}

fn layout(buf: &[u8]) -> Result<Layout, QuicError> {
    let (first, packet_type) = long_type(buf)?;
    let mut r = Reader::new(buf);
    r.bytes(5)
        .ok_or(QuicError::Truncated { field: "version" })?;
    let dcid = cid(&mut r, "dcid")?;
    let scid = cid(&mut r, "scid")?;
    let token = match packet_type {
        PacketType::Initial => {
            let n = r.varint().ok_or(QuicError::Truncated {
                field: "token length",
            })?;
            span(&mut r, n, "token")?
        }
        PacketType::Retry => {
            // Retry Token, then the 16-byte Retry Integrity Tag (§17.2.5).
            let n = r
                .remaining()
                .checked_sub(TAG_LEN)
                .ok_or(QuicError::Truncated {
                    field: "retry integrity tag",
                })?;
            let token = span(&mut r, n as u64, "token")?;
            return Ok(Layout {
                packet_type,
                first,
                dcid,
                scid,
                token,
                pn_offset: buf.len(),
                packet_len: buf.len(),
            });
        }
        _ => r.pos()..r.pos(),
    };
    let length = r.varint().ok_or(QuicError::Truncated { field: "length" })?;
    let pn_offset = r.pos();
    let available = r.remaining();
    if length > available as u64 {
        return Err(QuicError::LengthPastDatagram { length, available });
    }
    if length < (4 + SAMPLE_LEN) as u64 {
        return Err(QuicError::TooShortForSample { length });
    }
    Ok(Layout {
        packet_type,
        first,
        dcid,
        scid,
        token,
        pn_offset,
        // length <= available, so this is within the buffer.
        packet_len: pn_offset + length as usize,
    })
}

/// A connection ID: its length byte, at most 20, and the bytes.
fn cid(r: &mut Reader<'_>, name: &'static str) -> Result<Range<usize>, QuicError> {
    let len = r.u8().ok_or(QuicError::Truncated { field: name })?;
    if usize::from(len) > MAX_CID_LEN {
        return Err(QuicError::CidTooLong { len });
    }
    span(r, u64::from(len), name)
}

fn span(r: &mut Reader<'_>, n: u64, name: &'static str) -> Result<Range<usize>, QuicError> {
    let start = r.pos();
    let n = usize::try_from(n).map_err(|_| QuicError::Truncated { field: name })?;
    r.bytes(n).ok_or(QuicError::Truncated { field: name })?;
    Ok(start..r.pos())
}

/// One packet of a datagram.
#[derive(Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    /// What it is.
    pub packet_type: PacketType,
    /// Its bytes, for [`decrypt_initial`] when it is an Initial.
    pub bytes: &'a mut [u8],
}

/// The packets of a datagram, in order ([`packets`]).
#[derive(Debug)]
pub struct Packets<'a> {
    rest: &'a mut [u8],
    failed: bool,
}

/// Split a UDP datagram into its coalesced QUIC packets (RFC 9000 §12.2):
/// a version 1 Initial, 0-RTT or Handshake packet ends where its Length
/// field says; anything else (Retry, Version Negotiation, another version,
/// a short header packet, trailing padding) runs to the end. A packet
/// whose header cannot be read yields its error and ends the iteration.
pub fn packets(datagram: &mut [u8]) -> Packets<'_> {
    Packets {
        rest: datagram,
        failed: false,
    }
}

impl<'a> Iterator for Packets<'a> {
    type Item = Result<Packet<'a>, QuicError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let len = match version_of(self.rest) {
            Ok(_) => match layout(self.rest) {
                Ok(l) => Ok((l.packet_type, l.packet_len)),
                Err(e) => Err(e),
            },
            Err(QuicError::ShortHeader) => Ok((PacketType::Short, self.rest.len())),
            Err(QuicError::VersionNegotiation) => {
                Ok((PacketType::VersionNegotiation, self.rest.len()))
            }
            Err(QuicError::UnsupportedVersion { version }) => {
                Ok((PacketType::OtherVersion(version), self.rest.len()))
            }
            Err(e) => Err(e),
        };
        let rest = core::mem::take(&mut self.rest);
        let split = len.and_then(|(t, n)| {
            rest.split_at_mut_checked(n)
                .map(|(p, r)| (t, p, r))
                .ok_or(QuicError::Truncated { field: "length" })
        });
        match split {
            Ok((packet_type, bytes, rest)) => {
                self.rest = rest;
                Some(Ok(Packet { packet_type, bytes }))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// A client Initial, decrypted in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Initial<'a> {
    /// Destination Connection ID.
    pub dcid: &'a [u8],
    /// Source Connection ID.
    pub scid: &'a [u8],
    /// Token (from a Retry or NEW_TOKEN; empty on a first contact).
    pub token: &'a [u8],
    /// The packet number.
    pub packet_number: u64,
    /// The plaintext frames (read them with [`super::Frames::new`]).
    pub payload: &'a [u8],
    /// Bytes of the buffer the packet took (a coalesced packet may follow).
    pub packet_len: usize,
}

/// The header protection mask (RFC 9001 §5.4.3): AES-128 of the sample.
fn mask(keys: &InitialKeys, packet: &[u8], pn_offset: usize) -> Result<[u8; 16], QuicError> {
    let start = pn_offset + 4;
    let sample = packet
        .get(start..start + SAMPLE_LEN)
        .ok_or(QuicError::Truncated { field: "sample" })?;
    let mut block = aes::Block::default();
    block.copy_from_slice(sample);
    keys.hp.encrypt_block(&mut block);
    Ok(block.into())
}

/// The AEAD nonce: the IV XOR the packet number (RFC 9001 §5.3).
fn nonce(keys: &InitialKeys, pn: u64) -> aes_gcm::Nonce<aes_gcm::aead::consts::U12> {
    let mut n = keys.secrets().iv;
    for (b, p) in n.iter_mut().rev().zip(pn.to_be_bytes().iter().rev()) {
        *b ^= p;
    }
    n.into()
}

/// Associated data, payload, tag: [`sealed`].
type Sealed<'a> = (&'a mut [u8], &'a mut [u8], &'a mut [u8]);

/// The first `packet_len` bytes of `packet` as AEAD sees them: the header
/// up to `pn_end` (the associated data), the payload, and the 16-byte tag
/// after it; `no_tag` when there is no room for the tag.
fn sealed(
    packet: &mut [u8],
    packet_len: usize,
    pn_end: usize,
    no_tag: QuicError,
) -> Result<Sealed<'_>, QuicError> {
    let whole = packet
        .get_mut(..packet_len)
        .ok_or(QuicError::Truncated { field: "payload" })?;
    let (aad, body) = whole
        .split_at_mut_checked(pn_end)
        .ok_or(QuicError::Truncated { field: "payload" })?;
    let text_len = body.len().checked_sub(TAG_LEN).ok_or(no_tag)?;
    let (text, tag) = body.split_at_mut_checked(text_len).ok_or(no_tag)?;
    Ok((aad, text, tag))
}

/// Remove the header protection and decrypt the version 1 Initial at the
/// start of `packet`, in place. On success the payload bytes are the
/// plaintext frames; on an error the packet's bytes are unspecified (its
/// header protection may have been removed).
pub fn decrypt_initial<'a>(
    packet: &'a mut [u8],
    keys: &InitialKeys,
) -> Result<Initial<'a>, QuicError> {
    initial_first(packet)?;
    let l = layout(packet)?;
    let mask = mask(keys, packet, l.pn_offset)?;
    let [m0, m @ ..] = mask;
    let first = l.first ^ (m0 & PROTECTED_BITS);
    let pn_len = usize::from(first & PN_LEN_BITS) + 1;
    let pn_end = l.pn_offset + pn_len;
    let pn_bytes = packet
        .get_mut(l.pn_offset..pn_end)
        .ok_or(QuicError::Truncated {
            field: "packet number",
        })?;
    let mut pn = 0u64;
    for (b, m) in pn_bytes.iter_mut().zip(m) {
        *b ^= m;
        pn = (pn << 8) | u64::from(*b);
    }
    if let Some(b) = packet.first_mut() {
        *b = first;
    }
    let (aad, ct, tag) = sealed(
        packet,
        l.packet_len,
        pn_end,
        QuicError::Truncated { field: "tag" },
    )?;
    let ct_len = ct.len();
    let tag = aes_gcm::Tag::try_from(&*tag).map_err(|_| QuicError::Truncated { field: "tag" })?;
    keys.aead
        .decrypt_inout_detached(&nonce(keys, pn), aad, ct.into(), &tag)
        .map_err(|_| QuicError::Decrypt)?;
    // Checked once the packet authenticates (RFC 9000 §17.2).
    if first & RESERVED_BITS != 0 {
        return Err(QuicError::ReservedBits { first });
    }
    let packet: &'a [u8] = packet;
    let field = |r: Range<usize>, name| packet.get(r).ok_or(QuicError::Truncated { field: name });
    Ok(Initial {
        dcid: field(l.dcid, "dcid")?,
        scid: field(l.scid, "scid")?,
        token: field(l.token, "token")?,
        packet_number: pn,
        payload: field(pn_end..pn_end + ct_len, "payload")?,
        packet_len: l.packet_len,
    })
}

/// Protect, in place, the unprotected version 1 Initial at the start of
/// `packet`: its header as sent but unmasked (the packet number length in
/// the first byte's low bits; the reserved bits as given, 0 in a valid
/// packet), the Length field counting
/// the packet number, the payload and 16 bytes for the tag, the plaintext
/// frames, then those 16 bytes (their contents ignored). Encrypts the
/// payload, writes the tag, then applies header protection (RFC 9001
/// §5.4.1: after packet protection).
pub fn protect_initial(packet: &mut [u8], keys: &InitialKeys) -> Result<(), QuicError> {
    initial_first(packet)?;
    let l = layout(packet)?;
    let pn_len = usize::from(l.first & PN_LEN_BITS) + 1;
    let pn_end = l.pn_offset + pn_len;
    let pn = packet
        .get(l.pn_offset..pn_end)
        .ok_or(QuicError::Truncated {
            field: "packet number",
        })?
        .iter()
        .fold(0u64, |pn, &b| (pn << 8) | u64::from(b));
    let (aad, pt, tag_room) = sealed(packet, l.packet_len, pn_end, QuicError::NoRoomForTag)?;
    let tag = keys
        .aead
        .encrypt_inout_detached(&nonce(keys, pn), aad, pt.into())
        .map_err(|_| QuicError::Decrypt)?;
    tag_room.copy_from_slice(&tag);
    let [m0, m @ ..] = mask(keys, packet, l.pn_offset)?;
    if let Some(b) = packet.first_mut() {
        *b ^= m0 & PROTECTED_BITS;
    }
    if let Some(pn_bytes) = packet.get_mut(l.pn_offset..pn_end) {
        for (b, m) in pn_bytes.iter_mut().zip(m) {
            *b ^= m;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "packet_tests.rs"]
pub(crate) mod tests;
