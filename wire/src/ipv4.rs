//! IPv4 (RFC 791 §3.1), with options and the fragment fields.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version|  IHL  |   DSCP    |ECN|          Total Length         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Identification        |Flags|      Fragment Offset    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Time to Live |    Protocol   |         Header Checksum       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       Source Address                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Destination Address                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Options (IHL > 5)          |    Padding    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!  Flags: 0, DF (don't fragment), MF (more fragments);
//!  Fragment Offset in units of 8 octets.
//! ```
//!
//! A frame may be longer than the packet (Ethernet pads to 60 bytes): the
//! payload ends at Total Length, not at the end of the buffer.

use core::net::Ipv4Addr;

use crate::checksum;
use crate::{Error, IpProtocol, Result};

/// Field offsets.
pub mod field {
    /// A byte range in a header.
    pub type Field = core::ops::Range<usize>;
    /// Version and IHL.
    pub const VER_IHL: usize = 0;
    /// DSCP and ECN.
    pub const DSCP_ECN: usize = 1;
    /// Total length.
    pub const LENGTH: Field = 2..4;
    /// Identification.
    pub const IDENT: Field = 4..6;
    /// Flags and fragment offset.
    pub const FLG_OFF: Field = 6..8;
    /// Time to live.
    pub const TTL: usize = 8;
    /// Protocol.
    pub const PROTOCOL: usize = 9;
    /// Header checksum.
    pub const CHECKSUM: Field = 10..12;
    /// Source address.
    pub const SRC_ADDR: Field = 12..16;
    /// Destination address.
    pub const DST_ADDR: Field = 16..20;
}

/// Length of the header without options.
pub const HEADER_LEN: usize = field::DST_ADDR.end;
/// Largest header (IHL 15).
pub const MAX_HEADER_LEN: usize = 60;

/// A view over an IPv4 packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap without checking.
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }
    /// Wrap untrusted input: after this, no accessor panics.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }
    /// `Truncated` if the buffer is shorter than 20 bytes, the IHL or the
    /// Total Length; `Malformed` if IHL < 5 or Total Length < IHL * 4.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let hlen = usize::from(self.header_len());
        if hlen < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if hlen > len {
            return Err(Error::Truncated);
        }
        let total = usize::from(self.total_len());
        if total < hlen {
            return Err(Error::Malformed);
        }
        if total > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    fn u16(&self, f: field::Field) -> u16 {
        let b = &self.b()[f];
        u16::from_be_bytes([b[0], b[1]])
    }
    /// Version (4 for IPv4).
    pub fn version(&self) -> u8 {
        self.b()[field::VER_IHL] >> 4
    }
    /// Header length in bytes (IHL * 4).
    pub fn header_len(&self) -> u8 {
        (self.b()[field::VER_IHL] & 0x0f) * 4
    }
    /// DSCP.
    pub fn dscp(&self) -> u8 {
        self.b()[field::DSCP_ECN] >> 2
    }
    /// ECN.
    pub fn ecn(&self) -> u8 {
        self.b()[field::DSCP_ECN] & 3
    }
    /// Total length.
    pub fn total_len(&self) -> u16 {
        self.u16(field::LENGTH)
    }
    /// Identification.
    pub fn ident(&self) -> u16 {
        self.u16(field::IDENT)
    }
    /// DF flag.
    pub fn dont_frag(&self) -> bool {
        self.u16(field::FLG_OFF) & 0x4000 != 0
    }
    /// MF flag.
    pub fn more_frags(&self) -> bool {
        self.u16(field::FLG_OFF) & 0x2000 != 0
    }
    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        (self.u16(field::FLG_OFF) & 0x1fff) << 3
    }
    /// A fragment (MF set or offset non-zero).
    pub fn is_fragment(&self) -> bool {
        self.u16(field::FLG_OFF) & 0x3fff != 0
    }
    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.b()[field::TTL]
    }
    /// Protocol.
    pub fn protocol(&self) -> IpProtocol {
        IpProtocol::from(self.b()[field::PROTOCOL])
    }
    /// Header checksum.
    pub fn checksum(&self) -> u16 {
        self.u16(field::CHECKSUM)
    }
    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        let b = &self.b()[field::SRC_ADDR];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }
    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        let b = &self.b()[field::DST_ADDR];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }
    /// The options (between byte 20 and IHL * 4).
    pub fn options(&self) -> &[u8] {
        &self.b()[HEADER_LEN..usize::from(self.header_len())]
    }
    /// Whether the header checksum verifies (RFC 791 §3.1).
    pub fn verify_checksum(&self) -> bool {
        checksum::sum(&self.b()[..usize::from(self.header_len())]) == 0xffff
    }
    /// The payload, up to Total Length.
    pub fn payload(&self) -> &[u8] {
        &self.b()[usize::from(self.header_len())..usize::from(self.total_len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn bm(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }
    fn set_u16(&mut self, f: field::Field, v: u16) {
        self.bm()[f].copy_from_slice(&v.to_be_bytes())
    }
    /// Set version.
    pub fn set_version(&mut self, v: u8) {
        let b = &mut self.bm()[field::VER_IHL];
        *b = (*b & 0x0f) | (v << 4);
    }
    /// Set header length in bytes (a multiple of 4, 20..=60).
    pub fn set_header_len(&mut self, len: u8) {
        let b = &mut self.bm()[field::VER_IHL];
        *b = (*b & 0xf0) | ((len / 4) & 0x0f);
    }
    /// Set DSCP and ECN.
    pub fn set_dscp_ecn(&mut self, dscp: u8, ecn: u8) {
        self.bm()[field::DSCP_ECN] = (dscp << 2) | (ecn & 3);
    }
    /// Set total length.
    pub fn set_total_len(&mut self, v: u16) {
        self.set_u16(field::LENGTH, v)
    }
    /// Set identification.
    pub fn set_ident(&mut self, v: u16) {
        self.set_u16(field::IDENT, v)
    }
    /// Set DF, MF and the fragment offset in bytes (a multiple of 8).
    pub fn set_frag(&mut self, dont_frag: bool, more_frags: bool, offset: u16) {
        let v =
            (u16::from(dont_frag) << 14) | (u16::from(more_frags) << 13) | ((offset >> 3) & 0x1fff);
        self.set_u16(field::FLG_OFF, v)
    }
    /// Set time to live.
    pub fn set_ttl(&mut self, v: u8) {
        self.bm()[field::TTL] = v
    }
    /// Set protocol.
    pub fn set_protocol(&mut self, p: IpProtocol) {
        self.bm()[field::PROTOCOL] = p.into()
    }
    /// Set the checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        self.set_u16(field::CHECKSUM, v)
    }
    /// Set source address.
    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        self.bm()[field::SRC_ADDR].copy_from_slice(&a.octets())
    }
    /// Set destination address.
    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        self.bm()[field::DST_ADDR].copy_from_slice(&a.octets())
    }
    /// Mutable options.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = usize::from(self.header_len());
        &mut self.bm()[HEADER_LEN..end]
    }
    /// Compute and store the header checksum.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let end = usize::from(self.header_len());
        let c = checksum::finish(checksum::sum(&self.b()[..end]));
        self.set_checksum(c)
    }
    /// Mutable payload, up to Total Length.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (s, e) = (
            usize::from(self.header_len()),
            usize::from(self.total_len()),
        );
        &mut self.bm()[s..e]
    }
}

/// Parsed IPv4 header (options are not represented: use the view).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Source.
    pub src_addr: Ipv4Addr,
    /// Destination.
    pub dst_addr: Ipv4Addr,
    /// Protocol.
    pub protocol: IpProtocol,
    /// Payload length (Total Length - header length).
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// Identification.
    pub ident: u16,
    /// DF.
    pub dont_frag: bool,
}

impl Repr {
    /// Parse and verify: `Malformed` for a version other than 4, `Checksum`
    /// for a bad header checksum, `Unsupported` for a fragment.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Repr> {
        p.check_len()?;
        if p.version() != 4 {
            return Err(Error::Malformed);
        }
        if !p.verify_checksum() {
            return Err(Error::Checksum);
        }
        if p.is_fragment() {
            return Err(Error::Unsupported);
        }
        Ok(Repr {
            src_addr: p.src_addr(),
            dst_addr: p.dst_addr(),
            protocol: p.protocol(),
            payload_len: usize::from(p.total_len()) - usize::from(p.header_len()),
            ttl: p.ttl(),
            ident: p.ident(),
            dont_frag: p.dont_frag(),
        })
    }
    /// Header length when emitted (no options).
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }
    /// Write a 20-byte header with its checksum (DSCP/ECN 0, not a fragment
    /// beyond DF).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Packet<T>) {
        p.set_version(4);
        p.set_header_len(HEADER_LEN as u8);
        p.set_dscp_ecn(0, 0);
        p.set_total_len((HEADER_LEN + self.payload_len) as u16);
        p.set_ident(self.ident);
        p.set_frag(self.dont_frag, false, 0);
        p.set_ttl(self.ttl);
        p.set_protocol(self.protocol);
        p.set_src_addr(self.src_addr);
        p.set_dst_addr(self.dst_addr);
        p.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    // The header of a real UDP datagram, 192.168.0.1 -> 192.168.0.199, the
    // classic worked checksum example (checksum 0xb861, verified below by
    // recomputation).
    #[rustfmt::skip]
    const HEADER: [u8; 20] = [
        0x45,       // version 4, IHL 5
        0x00,       // DSCP 0, ECN 0
        0x00, 0x73, // total length 115
        0x00, 0x00, // identification 0
        0x40, 0x00, // flags DF, offset 0
        0x40,       // TTL 64
        0x11,       // protocol UDP
        0xb8, 0x61, // header checksum
        0xc0, 0xa8, 0x00, 0x01, // 192.168.0.1
        0xc0, 0xa8, 0x00, 0xc7, // 192.168.0.199
    ];

    fn packet() -> Vec<u8> {
        let mut v = HEADER.to_vec();
        v.resize(115, 0x00);
        v
    }

    fn repr() -> Repr {
        Repr {
            src_addr: Ipv4Addr::new(192, 168, 0, 1),
            dst_addr: Ipv4Addr::new(192, 168, 0, 199),
            protocol: IpProtocol::Udp,
            payload_len: 95,
            ttl: 64,
            ident: 0,
            dont_frag: true,
        }
    }

    #[test]
    fn parse() {
        let buf = packet();
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(p.checksum(), 0xb861);
        assert!(!p.is_fragment());
        assert!(p.options().is_empty());
        assert_eq!(p.payload().len(), 95);
        assert_eq!(Repr::parse(&p).unwrap(), repr());
    }

    #[test]
    fn emit() {
        let mut buf = [0xa5u8; 115];
        let mut p = Packet::new_unchecked(&mut buf[..]);
        repr().emit(&mut p);
        assert_eq!(&buf[..20], &HEADER);
    }

    #[test]
    fn ethernet_padding_is_not_payload() {
        let mut buf = HEADER.to_vec();
        buf[2..4].copy_from_slice(&28u16.to_be_bytes()); // total 28
        buf.resize(46, 0); // padded to the Ethernet minimum
        let p = Packet::new_unchecked(&mut buf[..]);
        let mut p = p;
        p.fill_checksum();
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.payload().len(), 8);
    }

    #[test]
    fn bad_lengths() {
        let buf = packet();
        assert_eq!(
            Packet::new_checked(&buf[..19]).err(),
            Some(Error::Truncated)
        );
        assert_eq!(
            Packet::new_checked(&buf[..114]).err(),
            Some(Error::Truncated)
        );
        let mut b = packet();
        b[0] = 0x44; // IHL 4
        assert_eq!(Packet::new_checked(&b[..]).err(), Some(Error::Malformed));
        let mut b = packet();
        b[0] = 0x4f; // IHL 15 = 60 bytes, fine in 115 bytes
        assert!(Packet::new_checked(&b[..]).is_ok());
        assert_eq!(Packet::new_checked(&b[..40]).err(), Some(Error::Truncated));
        let mut b = packet();
        b[2..4].copy_from_slice(&19u16.to_be_bytes()); // total < header
        assert_eq!(Packet::new_checked(&b[..]).err(), Some(Error::Malformed));
        let mut b = packet();
        b[10] ^= 1;
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Repr::parse(&p), Err(Error::Checksum));
    }

    // A header with a Record Route option (RFC 791 §3.1, type 7): IHL 6,
    // option 07 03 04 00 (length 3, pointer 4, then End of Options).
    #[test]
    fn options_and_fragments() {
        let mut b = Vec::new();
        b.extend_from_slice(&[0x46, 0, 0, 32, 0x12, 0x34, 0x20, 0x03, 64, 6, 0, 0]);
        b.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        b.extend_from_slice(&[0x07, 0x03, 0x04, 0x00]); // RR, len 3, ptr 4, EOL
        b.extend_from_slice(&[0; 8]);
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.fill_checksum();
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.options(), &[0x07, 0x03, 0x04, 0x00]);
        assert!(p.more_frags());
        assert!(!p.dont_frag());
        assert_eq!(p.frag_offset(), 24); // 3 * 8
        assert!(p.verify_checksum());
        assert_eq!(Repr::parse(&p), Err(Error::Unsupported));
    }
}
