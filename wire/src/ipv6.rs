//! IPv6 (RFC 8200 §3) and a bounded walk over its extension headers
//! (RFC 8200 §4: hop-by-hop options, routing, fragment, destination options).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version| Traffic Class |           Flow Label                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Payload Length        |  Next Header  |   Hop Limit   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! +                     Source Address (128 bits)                 +
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! +                  Destination Address (128 bits)               +
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Extension headers (hop-by-hop, routing, destination options; RFC 8200
//! §4.3-4.6) share the first two bytes; the fragment header (§4.5) is 8
//! bytes:
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Next Header  |  Hdr Ext Len  |  (Hdr Ext Len + 1) * 8 bytes  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//!
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         Identification                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! Jumbograms (payload length 0 with a jumbo option, RFC 2675) are not
//! supported: a payload length of 0 means an empty payload.

use core::net::Ipv6Addr;

use crate::bytes::{u16_at, u32_at, u8_at};
use crate::{Error, IpProtocol, Result};

/// Field offsets.
pub mod field {
    /// A byte range in a header.
    pub type Field = core::ops::Range<usize>;
    /// Version, traffic class, flow label.
    pub const VER_TC_FLOW: Field = 0..4;
    /// Payload length.
    pub const LENGTH: Field = 4..6;
    /// Next header.
    pub const NXT_HDR: usize = 6;
    /// Hop limit.
    pub const HOP_LIMIT: usize = 7;
    /// Source address.
    pub const SRC_ADDR: Field = 8..24;
    /// Destination address.
    pub const DST_ADDR: Field = 24..40;
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

/// Largest number of extension headers the walk follows before giving up
/// (`ipv6_ext_chain_too_long`). RFC 8200 §4.1's recommended order has at
/// most six (HbH, DestOpt, Routing, Fragment, AH, DestOpt); real traffic to
/// a service has zero or one.
pub const MAX_EXT_HEADERS: usize = 6;

/// A view over an IPv6 packet.
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
    /// `Truncated` if shorter than 40 bytes plus Payload Length.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN || len < HEADER_LEN + usize::from(self.payload_len()) {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }
    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    fn word0(&self) -> u32 {
        let b = &self.b()[field::VER_TC_FLOW];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }
    /// Version (6).
    pub fn version(&self) -> u8 {
        (self.word0() >> 28) as u8
    }
    /// Traffic class.
    pub fn traffic_class(&self) -> u8 {
        (self.word0() >> 20) as u8
    }
    /// Flow label (20 bits).
    pub fn flow_label(&self) -> u32 {
        self.word0() & 0x000f_ffff
    }
    /// Payload length.
    pub fn payload_len(&self) -> u16 {
        let b = &self.b()[field::LENGTH];
        u16::from_be_bytes([b[0], b[1]])
    }
    /// Next header (of the fixed header).
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.b()[field::NXT_HDR])
    }
    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.b()[field::HOP_LIMIT]
    }
    /// Source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        addr(&self.b()[field::SRC_ADDR])
    }
    /// Destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        addr(&self.b()[field::DST_ADDR])
    }
    /// The payload (extension headers included), up to Payload Length.
    pub fn payload(&self) -> &[u8] {
        &self.b()[HEADER_LEN..HEADER_LEN + usize::from(self.payload_len())]
    }
}

fn addr(b: &[u8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(b);
    Ipv6Addr::from(a)
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Set version, traffic class and flow label.
    pub fn set_ver_tc_flow(&mut self, version: u8, tc: u8, flow: u32) {
        let w = (u32::from(version) << 28) | (u32::from(tc) << 20) | (flow & 0x000f_ffff);
        self.buffer.as_mut()[field::VER_TC_FLOW].copy_from_slice(&w.to_be_bytes())
    }
    /// Set payload length.
    pub fn set_payload_len(&mut self, v: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&v.to_be_bytes())
    }
    /// Set next header.
    pub fn set_next_header(&mut self, p: IpProtocol) {
        self.buffer.as_mut()[field::NXT_HDR] = p.into()
    }
    /// Set hop limit.
    pub fn set_hop_limit(&mut self, v: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = v
    }
    /// Set source address.
    pub fn set_src_addr(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&a.octets())
    }
    /// Set destination address.
    pub fn set_dst_addr(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&a.octets())
    }
    /// Mutable payload.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = HEADER_LEN + usize::from(self.payload_len());
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

/// Parsed fixed IPv6 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Source.
    pub src_addr: Ipv6Addr,
    /// Destination.
    pub dst_addr: Ipv6Addr,
    /// Next header of the fixed header.
    pub next_header: IpProtocol,
    /// Payload length.
    pub payload_len: usize,
    /// Hop limit.
    pub hop_limit: u8,
}

impl Repr {
    /// Parse; `Malformed` for a version other than 6.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Repr> {
        p.check_len()?;
        if p.version() != 6 {
            return Err(Error::Malformed);
        }
        Ok(Repr {
            src_addr: p.src_addr(),
            dst_addr: p.dst_addr(),
            next_header: p.next_header(),
            payload_len: usize::from(p.payload_len()),
            hop_limit: p.hop_limit(),
        })
    }
    /// Header length (40).
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }
    /// Write the fixed header (traffic class and flow label 0).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Packet<T>) {
        p.set_ver_tc_flow(6, 0, 0);
        p.set_payload_len(self.payload_len as u16);
        p.set_next_header(self.next_header);
        p.set_hop_limit(self.hop_limit);
        p.set_src_addr(self.src_addr);
        p.set_dst_addr(self.dst_addr);
    }
}

/// The fragment header's fields (RFC 8200 §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment {
    /// Offset in bytes.
    pub offset: u16,
    /// M flag.
    pub more: bool,
    /// Identification.
    pub ident: u32,
}

/// The end of an extension header walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtWalk {
    /// The upper-layer protocol (or an extension the walk does not follow:
    /// AH, ESP, No Next Header, unknown).
    pub protocol: IpProtocol,
    /// Offset of the upper-layer header from the start of the IPv6 header.
    pub offset: usize,
    /// The fragment header, if one was crossed. When its offset is not 0,
    /// the walk stops there: what follows is not an upper-layer header.
    pub fragment: Option<Fragment>,
    /// Extension headers crossed.
    pub count: usize,
}

/// Why an extension header walk failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtError {
    /// An extension header runs past the payload.
    Truncated,
    /// More than [`MAX_EXT_HEADERS`] extension headers.
    TooLong,
    /// Hop-by-hop options not directly after the fixed header (RFC 8200
    /// §4.1: "MUST appear immediately after").
    Malformed,
    /// A type 0 routing header (RFC 5095 deprecates it: source routing
    /// through any node, an amplification and a filter-evasion tool).
    RoutingType0,
}

/// Walk the extension headers of `packet`, which starts at the IPv6 header
/// and ends at the end of its payload (40 + Payload Length; the caller
/// checked that). Follows hop-by-hop, routing, fragment and destination
/// options headers, at most [`MAX_EXT_HEADERS`] of them. Never panics.
pub fn walk_ext(packet: &[u8]) -> core::result::Result<ExtWalk, ExtError> {
    let mut next = IpProtocol::from(u8_at(packet, field::NXT_HDR).ok_or(ExtError::Truncated)?);
    let mut offset = HEADER_LEN;
    let mut fragment = None;
    let mut count = 0;
    loop {
        let len = match next {
            IpProtocol::HopByHop if count > 0 => return Err(ExtError::Malformed),
            IpProtocol::HopByHop | IpProtocol::Ipv6Route | IpProtocol::Ipv6Opts => {
                (usize::from(u8_at(packet, offset + 1).ok_or(ExtError::Truncated)?) + 1) * 8
            }
            IpProtocol::Ipv6Frag => 8,
            _ => break,
        };
        if count == MAX_EXT_HEADERS {
            return Err(ExtError::TooLong);
        }
        if offset + len > packet.len() {
            return Err(ExtError::Truncated);
        }
        let this = next;
        // RFC 5095 §3: RH0 is not processed. slbd drops it whatever its
        // Segments Left (a host would skip one with 0 left; nothing sends
        // that, and firewalls drop RH0 outright, as RFC 5095 §5 suggests).
        if this == IpProtocol::Ipv6Route && u8_at(packet, offset + 2) == Some(0) {
            return Err(ExtError::RoutingType0);
        }
        next = IpProtocol::from(u8_at(packet, offset).ok_or(ExtError::Truncated)?);
        count += 1;
        if this == IpProtocol::Ipv6Frag {
            let off_m = u16_at(packet, offset + 2).ok_or(ExtError::Truncated)?;
            let frag = Fragment {
                offset: off_m & 0xfff8,
                more: off_m & 1 == 1,
                ident: u32_at(packet, offset + 4).ok_or(ExtError::Truncated)?,
            };
            fragment = Some(frag);
            offset += len;
            if frag.offset != 0 {
                break;
            }
        } else {
            offset += len;
        }
    }
    Ok(ExtWalk {
        protocol: next,
        offset,
        fragment,
        count,
    })
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::vec::Vec;

    // Header of a real ICMPv6 echo request, fe80::1 -> ff02::1 (ping -6
    // ff02::1%eth0), 16-byte payload.
    #[rustfmt::skip]
    const HEADER: [u8; 40] = [
        0x60, 0x00, 0x00, 0x00, // version 6, TC 0, flow label 0
        0x00, 0x10,             // payload length 16
        0x3a,                   // next header ICMPv6
        0x01,                   // hop limit 1
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // fe80::1
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // ff02::1
    ];

    fn repr() -> Repr {
        Repr {
            src_addr: "fe80::1".parse().unwrap(),
            dst_addr: "ff02::1".parse().unwrap(),
            next_header: IpProtocol::Icmpv6,
            payload_len: 16,
            hop_limit: 1,
        }
    }

    #[test]
    fn parse() {
        let mut b = HEADER.to_vec();
        b.resize(56, 0);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Repr::parse(&p).unwrap(), repr());
        assert_eq!(p.payload().len(), 16);
        assert_eq!(Packet::new_checked(&b[..55]).err(), Some(Error::Truncated));
        assert_eq!(Packet::new_checked(&b[..39]).err(), Some(Error::Truncated));
    }

    #[test]
    fn emit() {
        let mut b = [0xa5u8; 40];
        repr().emit(&mut Packet::new_unchecked(&mut b[..]));
        assert_eq!(b, HEADER);
    }

    /// An IPv6 header followed by the given chain of (kind, 8-byte
    /// extension) and a TCP kind at the end.
    fn chain(kinds: &[u8], last: u8) -> Vec<u8> {
        let mut b = HEADER.to_vec();
        b[6] = *kinds.first().unwrap_or(&last);
        for (i, _) in kinds.iter().enumerate() {
            let next = *kinds.get(i + 1).unwrap_or(&last);
            b.extend_from_slice(&[next, 0, 1, 4, 0, 0, 0, 0]); // next, len 0, PadN(4)
        }
        b.extend_from_slice(&[0; 20]);
        let pl = (b.len() - 40) as u16;
        b[4..6].copy_from_slice(&pl.to_be_bytes());
        b
    }

    #[test]
    fn walk_none() {
        let b = chain(&[], 6);
        let w = walk_ext(&b).unwrap();
        assert_eq!(
            (w.protocol, w.offset, w.count, w.fragment),
            (IpProtocol::Tcp, 40, 0, None)
        );
    }

    #[test]
    fn walk_hbh_dst_routing() {
        // The routing header's third byte (routing type) is 1 here
        // (`chain` writes PadN, 1, at that place): not type 0.
        let b = chain(&[0, 60, 43], 6);
        assert_eq!(b[40 + 8 + 8 + 2], 1);
        let w = walk_ext(&b).unwrap();
        assert_eq!((w.protocol, w.offset, w.count), (IpProtocol::Tcp, 64, 3));
    }

    #[test]
    fn walk_routing_type0_refused() {
        // RFC 5095: type 0, with or without segments left.
        for segments_left in [0u8, 2] {
            let mut b = chain(&[60, 43], 6);
            b[48 + 2] = 0;
            b[48 + 3] = segments_left;
            assert_eq!(walk_ext(&b), Err(ExtError::RoutingType0));
        }
        // Type 2 (mobile IPv6, RFC 6275) passes.
        let mut b = chain(&[43], 6);
        b[42] = 2;
        assert_eq!(walk_ext(&b).unwrap().protocol, IpProtocol::Tcp);
    }

    #[test]
    fn walk_bound() {
        let ok = chain(&[60; MAX_EXT_HEADERS], 17);
        assert_eq!(walk_ext(&ok).unwrap().count, MAX_EXT_HEADERS);
        let long = chain(&[60; MAX_EXT_HEADERS + 1], 17);
        assert_eq!(walk_ext(&long), Err(ExtError::TooLong));
    }

    #[test]
    fn walk_hbh_not_first() {
        let b = chain(&[60, 0], 6);
        assert_eq!(walk_ext(&b), Err(ExtError::Malformed));
    }

    #[test]
    fn walk_truncated() {
        let b = chain(&[60], 6);
        assert_eq!(walk_ext(&b[..45]), Err(ExtError::Truncated));
        let mut b = chain(&[60], 6);
        b[41] = 200; // claims 1608 bytes
        assert_eq!(walk_ext(&b), Err(ExtError::Truncated));
    }

    #[test]
    fn walk_fragments() {
        // First fragment: offset 0, M=1: the walk continues to TCP.
        let mut b = chain(&[44], 6);
        b[42..44].copy_from_slice(&[0x00, 0x01]);
        b[44..48].copy_from_slice(&0xdead_beefu32.to_be_bytes());
        let w = walk_ext(&b).unwrap();
        assert_eq!(w.protocol, IpProtocol::Tcp);
        assert_eq!(
            w.fragment,
            Some(Fragment {
                offset: 0,
                more: true,
                ident: 0xdead_beef
            })
        );
        // Later fragment: offset 1448, the walk stops.
        b[42..44].copy_from_slice(&(1448u16 | 1).to_be_bytes());
        let w = walk_ext(&b).unwrap();
        assert_eq!(w.fragment.unwrap().offset, 1448);
        assert_eq!(w.offset, 48);
    }
}
