//! ICMP messages slbd writes itself, in place over the frame that called
//! for them, and the packet an incoming ICMP error quotes.
//!
//! - [`echo_reply_in_place`]: an echo request (ICMPv4 type 8, ICMPv6 type
//!   128) becomes its echo reply (RFC 792 "Echo or Echo Reply Message",
//!   RFC 4443 §4.2): addresses swapped, identifier, sequence number and
//!   data kept.
//! - [`too_big_in_place`]: a packet too big for the egress becomes ICMPv4
//!   "fragmentation needed and DF set" (type 3 code 4, the next-hop MTU of
//!   RFC 1191 §4) or ICMPv6 "packet too big" (type 2, RFC 4443 §3.2),
//!   quoting the start of the packet:
//!
//! ```text
//!  IPv4 (RFC 792, RFC 1812 §4.3.2.3: as much as fits in 576 bytes)
//! +----------------+------+-------------------------------------------+
//! | IPv4 header 20 | ICMP | quoted IP header + data, <= 548 bytes     |
//! | src = old dst  | 3/4  |                                           |
//! +----------------+------+-------------------------------------------+
//!  IPv6 (RFC 4443 §2.4 (c): as much as fits in the minimum MTU, 1280)
//! +----------------+------+-------------------------------------------+
//! | IPv6 header 40 | ICMP | quoted packet, <= 1232 bytes              |
//! | src = old dst  | 2/0  |                                           |
//! +----------------+------+-------------------------------------------+
//! ```
//!
//! - [`quoted_flow`]: the 5-tuple of the packet an ICMP error quotes (its
//!   IP header and at least the 8 bytes after it, RFC 792), in the quoted
//!   packet's own direction.
//!
//! The frame's L2 header is the caller's (swap the MACs with
//! [`crate::ethernet::rewrite_macs`]); lengths are the caller's too (the
//! functions say how long the frame must be, and how long it is after).

use crate::bytes::{array_at, u16_at, u8_at};
use crate::checksum;
use crate::ip::{FlowKey, IpProtocol};
use crate::{icmpv4, icmpv6, ipv4, ipv6, Error, Result};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// TTL / hop limit of what slbd sends itself.
pub const TTL: u8 = 64;
/// Most of the offending packet an ICMPv4 error quotes: 576 - 20 - 8.
pub const V4_QUOTE_MAX: usize = 576 - ipv4::HEADER_LEN - icmpv4::HEADER_LEN;
/// Most of the offending packet an ICMPv6 error quotes: 1280 - 40 - 8.
pub const V6_QUOTE_MAX: usize = 1280 - ipv6::HEADER_LEN - icmpv6::HEADER_LEN;

/// The IP version nibble of the packet at `l3`.
fn version(frame: &[u8], l3: usize) -> Option<u8> {
    u8_at(frame, l3).map(|b| b >> 4)
}

fn v4_addrs(frame: &[u8], l3: usize) -> Option<(Ipv4Addr, Ipv4Addr)> {
    let s: [u8; 4] = array_at(frame, l3 + 12)?;
    let d: [u8; 4] = array_at(frame, l3 + 16)?;
    Some((Ipv4Addr::from(s), Ipv4Addr::from(d)))
}

fn v6_addrs(frame: &[u8], l3: usize) -> Option<(Ipv6Addr, Ipv6Addr)> {
    let s: [u8; 16] = array_at(frame, l3 + 8)?;
    let d: [u8; 16] = array_at(frame, l3 + 24)?;
    Some((Ipv6Addr::from(s), Ipv6Addr::from(d)))
}

/// Turns the echo request at `frame[l3..l3_end]` (its ICMP message at
/// `l4`) into the echo reply, and returns the frame's new length (shorter
/// when the request had IPv4 options or IPv6 extension headers, which the
/// reply leaves out: RFC 1122 §3.2.2.6 lets a host drop a request's
/// options but Record Route and timestamps, which slbd does not keep).
/// The request's ICMP checksum must verify (`Checksum`); anything but a
/// code-0 echo request is `Unsupported`.
pub fn echo_reply_in_place(frame: &mut [u8], l3: usize, l4: usize, l3_end: usize) -> Result<usize> {
    if l4 < l3 || l3_end < l4 + icmpv4::HEADER_LEN || frame.len() < l3_end {
        return Err(Error::Truncated);
    }
    let msg_len = l3_end - l4;
    match version(frame, l3) {
        Some(4) => {
            let (src, dst) = v4_addrs(frame, l3).ok_or(Error::Truncated)?;
            let ident = u16_at(frame, l3 + 4).ok_or(Error::Truncated)?;
            let msg = &frame[l4..l3_end];
            if msg[..2] != [8, 0] {
                return Err(Error::Unsupported);
            }
            if checksum::sum(msg) != 0xffff {
                return Err(Error::Checksum);
            }
            let at = l3 + ipv4::HEADER_LEN;
            frame.copy_within(l4..l3_end, at);
            let mut icmp = icmpv4::Packet::new_unchecked(&mut frame[at..at + msg_len]);
            icmp.set_msg_type(icmpv4::Message::EchoReply);
            icmp.fill_checksum();
            let repr = ipv4::Repr {
                src_addr: dst,
                dst_addr: src,
                protocol: IpProtocol::Icmp,
                payload_len: msg_len,
                ttl: TTL,
                ident,
                dont_frag: false,
            };
            repr.emit(&mut ipv4::Packet::new_unchecked(&mut frame[l3..at]));
            Ok(at + msg_len)
        }
        Some(6) => {
            let (src, dst) = v6_addrs(frame, l3).ok_or(Error::Truncated)?;
            let msg = &frame[l4..l3_end];
            if msg[..2] != [128, 0] {
                return Err(Error::Unsupported);
            }
            if checksum::l4_v6(src, dst, 58, msg) != 0 {
                return Err(Error::Checksum);
            }
            let at = l3 + ipv6::HEADER_LEN;
            frame.copy_within(l4..l3_end, at);
            let mut icmp = icmpv6::Packet::new_unchecked(&mut frame[at..at + msg_len]);
            icmp.set_msg_type(icmpv6::Message::EchoReply);
            icmp.fill_checksum(dst, src);
            let repr = ipv6::Repr {
                src_addr: dst,
                dst_addr: src,
                next_header: IpProtocol::Icmpv6,
                payload_len: msg_len,
                hop_limit: TTL,
            };
            repr.emit(&mut ipv6::Packet::new_unchecked(&mut frame[l3..at]));
            Ok(at + msg_len)
        }
        _ => Err(Error::Malformed),
    }
}

/// How long the frame is once [`too_big_in_place`] has written the error
/// for the packet at `frame[l3..l3_end]` (IPv6 if `v6`). The caller grows
/// the frame to at least this before the call when it is shorter.
pub fn too_big_len(l3: usize, l3_end: usize, v6: bool) -> usize {
    let packet = l3_end.saturating_sub(l3);
    if v6 {
        l3 + ipv6::HEADER_LEN + icmpv6::HEADER_LEN + packet.min(V6_QUOTE_MAX)
    } else {
        l3 + ipv4::HEADER_LEN + icmpv4::HEADER_LEN + packet.min(V4_QUOTE_MAX)
    }
}

/// Replaces the packet at `frame[l3..l3_end]` with the ICMP error telling
/// its sender that it is too big for a next hop of `mtu` bytes, from the
/// packet's destination to its source; returns the frame's new length
/// ([`too_big_len`]; `frame` must be at least that long). IPv4: type 3
/// code 4 with the next-hop MTU (RFC 1191 §4), DF set, identification 0
/// (RFC 6864 §4.1: an atomic datagram). IPv6: type 2 (RFC 4443 §3.2).
pub fn too_big_in_place(frame: &mut [u8], l3: usize, l3_end: usize, mtu: u16) -> Result<usize> {
    let v6 = match version(frame, l3) {
        Some(4) => false,
        Some(6) => true,
        _ => return Err(Error::Malformed),
    };
    let len = too_big_len(l3, l3_end, v6);
    let min = l3
        + if v6 {
            ipv6::HEADER_LEN
        } else {
            ipv4::HEADER_LEN
        };
    if l3_end < min || frame.len() < len || frame.len() < l3_end {
        return Err(Error::Truncated);
    }
    let (hdr, quote_max) = if v6 {
        (ipv6::HEADER_LEN, V6_QUOTE_MAX)
    } else {
        (ipv4::HEADER_LEN, V4_QUOTE_MAX)
    };
    let quoted = (l3_end - l3).min(quote_max);
    let icmp_at = l3 + hdr;
    let msg_len = icmpv4::HEADER_LEN + quoted;
    if v6 {
        let (src, dst) = v6_addrs(frame, l3).ok_or(Error::Truncated)?;
        frame.copy_within(l3..l3 + quoted, icmp_at + icmpv6::HEADER_LEN);
        let mut icmp = icmpv6::Packet::new_unchecked(&mut frame[icmp_at..len]);
        icmpv6::Repr::PacketTooBig {
            mtu: u32::from(mtu),
        }
        .emit(&mut icmp);
        icmp.fill_checksum(dst, src);
        ipv6::Repr {
            src_addr: dst,
            dst_addr: src,
            next_header: IpProtocol::Icmpv6,
            payload_len: msg_len,
            hop_limit: TTL,
        }
        .emit(&mut ipv6::Packet::new_unchecked(&mut frame[l3..icmp_at]));
    } else {
        let (src, dst) = v4_addrs(frame, l3).ok_or(Error::Truncated)?;
        frame.copy_within(l3..l3 + quoted, icmp_at + icmpv4::HEADER_LEN);
        let mut icmp = icmpv4::Packet::new_unchecked(&mut frame[icmp_at..len]);
        icmpv4::Repr::DstUnreachable {
            code: icmpv4::UNREACH_FRAG_NEEDED,
            next_hop_mtu: mtu,
        }
        .emit(&mut icmp);
        icmp.fill_checksum();
        ipv4::Repr {
            src_addr: dst,
            dst_addr: src,
            protocol: IpProtocol::Icmp,
            payload_len: msg_len,
            ttl: TTL,
            ident: 0,
            dont_frag: true,
        }
        .emit(&mut ipv4::Packet::new_unchecked(&mut frame[l3..icmp_at]));
    }
    Ok(len)
}

/// Whether an ICMPv4 message of this type quotes a packet slbd may have
/// sent for a session: destination unreachable (port unreachable and
/// fragmentation needed among its codes) and time exceeded. (Redirect and
/// parameter problem are not: slbd is not the sender's router, and a
/// parameter problem needs no action of the server's kernel that a
/// session depends on.)
pub fn v4_error_for_session(msg: icmpv4::Message) -> bool {
    matches!(
        msg,
        icmpv4::Message::DstUnreachable | icmpv4::Message::TimeExceeded
    )
}

/// The ICMPv6 counterpart of [`v4_error_for_session`]: destination
/// unreachable, packet too big, time exceeded (RFC 4443 §3.1-3.3).
pub fn v6_error_for_session(msg: icmpv6::Message) -> bool {
    matches!(
        msg,
        icmpv6::Message::DstUnreachable
            | icmpv6::Message::PacketTooBig
            | icmpv6::Message::TimeExceeded
    )
}

/// The 5-tuple of the TCP or UDP packet quoted in an ICMP error's data
/// (`data` = the ICMP message after its 8-byte header), as that packet
/// went: source, source port, destination, destination port. The quote
/// must hold the IP header and the ports (RFC 792 requires 8 bytes of
/// data, enough for both); the quoted packet must be of `v6`'s family and
/// not a non-first fragment. An IPv6 quote must have TCP or UDP right
/// after the fixed header (slbd's servers send no extension headers).
pub fn quoted_flow(data: &[u8], v6: bool) -> Result<FlowKey> {
    let (protocol, src, dst, l4) = match (version(data, 0), v6) {
        (Some(4), false) => {
            let ihl = usize::from(u8_at(data, 0).ok_or(Error::Truncated)? & 0x0f) * 4;
            if ihl < ipv4::HEADER_LEN {
                return Err(Error::Malformed);
            }
            let frag = u16_at(data, 6).ok_or(Error::Truncated)?;
            if frag & 0x1fff != 0 {
                return Err(Error::Unsupported);
            }
            let (s, d) = v4_addrs(data, 0).ok_or(Error::Truncated)?;
            let p = IpProtocol::from(u8_at(data, 9).ok_or(Error::Truncated)?);
            (p, IpAddr::V4(s), IpAddr::V4(d), ihl)
        }
        (Some(6), true) => {
            let (s, d) = v6_addrs(data, 0).ok_or(Error::Truncated)?;
            let p = IpProtocol::from(u8_at(data, 6).ok_or(Error::Truncated)?);
            (p, IpAddr::V6(s), IpAddr::V6(d), ipv6::HEADER_LEN)
        }
        (None, _) => return Err(Error::Truncated),
        _ => return Err(Error::Malformed),
    };
    if !matches!(protocol, IpProtocol::Tcp | IpProtocol::Udp) {
        return Err(Error::Unsupported);
    }
    let src_port = u16_at(data, l4).ok_or(Error::Truncated)?;
    let dst_port = u16_at(data, l4 + 2).ok_or(Error::Truncated)?;
    Ok(FlowKey {
        protocol,
        src,
        src_port,
        dst,
        dst_port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    // An echo request 198.18.0.10 -> 198.18.0.1, id 0x0042, seq 1, data
    // "slb!", after a 14-byte Ethernet header (left as 0xee).
    #[rustfmt::skip]
    const ECHO4: [u8; 14 + 32] = [
        0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee,
        0x45, 0x00, 0x00, 0x20, // version 4, IHL 5, TOS 0, total length 32
        0x12, 0x34, 0x40, 0x00, // ident 0x1234, DF
        0x40, 0x01, 0x9c, 0x79, // TTL 64, ICMP, header checksum
        198, 18, 0, 10,         // source
        198, 18, 0, 1,          // destination
        0x08, 0x00, 0x22, 0x2f, // echo request, code 0, checksum
        0x00, 0x42, 0x00, 0x01, // identifier, sequence number
        b's', b'l', b'b', b'!', // data
    ];

    // Its reply: addresses swapped, TTL 64, DF clear, ident kept; type 0
    // the ICMP checksum 0x0800 more (type 8 -> 0 in the first word).
    #[rustfmt::skip]
    const REPLY4: [u8; 32] = [
        0x45, 0x00, 0x00, 0x20,
        0x12, 0x34, 0x00, 0x00, // ident kept, no DF
        0x40, 0x01, 0xdc, 0x79, // TTL 64, ICMP, header checksum
        198, 18, 0, 1,
        198, 18, 0, 10,
        0x00, 0x00, 0x2a, 0x2f, // echo reply, checksum
        0x00, 0x42, 0x00, 0x01,
        b's', b'l', b'b', b'!',
    ];

    #[test]
    fn echo_v4_real_bytes() {
        let mut f = ECHO4;
        assert!(ipv4::Packet::new_checked(&f[14..])
            .unwrap()
            .verify_checksum());
        let n = echo_reply_in_place(&mut f, 14, 34, 46).unwrap();
        assert_eq!(n, 46);
        assert_eq!(&f[..14], &[0xee; 14]);
        assert_eq!(f[14..], REPLY4);
        assert!(ipv4::Packet::new_checked(&f[14..])
            .unwrap()
            .verify_checksum());
        assert!(icmpv4::Packet::new_checked(&f[34..])
            .unwrap()
            .verify_checksum());
    }

    #[test]
    fn echo_v4_drops_options_and_refuses_bad_input() {
        // The same request with 4 bytes of options (NOP x4).
        let mut f = Vec::from(&ECHO4[..34]);
        f[14] = 0x46;
        f[17] = 36;
        f.extend_from_slice(&[1, 1, 1, 1]);
        f.extend_from_slice(&ECHO4[34..]);
        let n = echo_reply_in_place(&mut f, 14, 38, 50).unwrap();
        assert_eq!(n, 46);
        assert_eq!(f[14..46], REPLY4);
        // A reply is not answered; a bad checksum is not answered.
        let mut f = ECHO4;
        f[34] = 0;
        assert_eq!(
            echo_reply_in_place(&mut f, 14, 34, 46),
            Err(Error::Unsupported)
        );
        let mut f = ECHO4;
        f[45] ^= 1;
        assert_eq!(
            echo_reply_in_place(&mut f, 14, 34, 46),
            Err(Error::Checksum)
        );
        let mut f = ECHO4;
        assert_eq!(
            echo_reply_in_place(&mut f, 14, 34, 40),
            Err(Error::Truncated)
        );
    }

    fn a6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn echo_v6_checksum_and_addresses() {
        let (c, s) = (a6("2001:db8::10"), a6("2001:db8::1"));
        let mut msg = [0u8; 12];
        let mut p = icmpv6::Packet::new_unchecked(&mut msg[..]);
        icmpv6::Repr::EchoRequest {
            ident: 7,
            seq_no: 9,
        }
        .emit(&mut p);
        p.data_mut().copy_from_slice(b"ping");
        p.fill_checksum(c, s);
        let mut f = std::vec![0xa5u8; 14 + 40];
        ipv6::Repr {
            src_addr: c,
            dst_addr: s,
            next_header: IpProtocol::Icmpv6,
            payload_len: 12,
            hop_limit: 3,
        }
        .emit(&mut ipv6::Packet::new_unchecked(&mut f[14..]));
        f.extend_from_slice(&msg);
        let n = echo_reply_in_place(&mut f, 14, 54, 66).unwrap();
        assert_eq!(n, 66);
        let ip = ipv6::Packet::new_checked(&f[14..]).unwrap();
        assert_eq!((ip.src_addr(), ip.dst_addr(), ip.hop_limit()), (s, c, 64));
        let r = icmpv6::Repr::parse(&icmpv6::Packet::new_checked(&f[54..]).unwrap(), s, c);
        assert_eq!(
            r,
            Ok(icmpv6::Repr::EchoReply {
                ident: 7,
                seq_no: 9
            })
        );
        assert_eq!(&f[62..66], b"ping");
    }

    // A 600-byte TCP segment 198.18.0.10:40000 -> 198.18.1.1:80, DF set;
    // the error quotes its first 548 bytes.
    fn big4() -> Vec<u8> {
        let mut f = std::vec![0xeeu8; 14];
        let mut ip = std::vec![0u8; 600];
        ipv4::Repr {
            src_addr: Ipv4Addr::new(198, 18, 0, 10),
            dst_addr: Ipv4Addr::new(198, 18, 1, 1),
            protocol: IpProtocol::Tcp,
            payload_len: 580,
            ttl: 61,
            ident: 0x5555,
            dont_frag: true,
        }
        .emit(&mut ipv4::Packet::new_unchecked(&mut ip[..]));
        ip[20..24].copy_from_slice(&[0x9c, 0x40, 0x00, 0x50]);
        for (i, b) in ip[24..].iter_mut().enumerate() {
            *b = i as u8;
        }
        f.extend_from_slice(&ip);
        f
    }

    #[test]
    fn frag_needed_real_bytes() {
        let mut f = big4();
        let orig = f.clone();
        assert_eq!(too_big_len(14, f.len(), false), 14 + 576);
        let n = too_big_in_place(&mut f, 14, 614, 1496).unwrap();
        assert_eq!(n, 590);
        #[rustfmt::skip]
        let head: [u8; 28] = [
            0x45, 0x00, 0x02, 0x40, // IPv4, total length 576
            0x00, 0x00, 0x40, 0x00, // ident 0, DF
            0x40, 0x01, 0xab, 0x8d, // TTL 64, ICMP, header checksum
            198, 18, 1, 1,          // from the packet's destination
            198, 18, 0, 10,         // to its source
            0x03, 0x04,             // destination unreachable, fragmentation needed
            0xbb, 0xef,             // checksum
            0x00, 0x00, 0x05, 0xd8, // unused, next-hop MTU 1496
        ];
        assert_eq!(f[14..42], head);
        assert_eq!(f[42..590], orig[14..14 + 548]);
        assert!(ipv4::Packet::new_checked(&f[14..590])
            .unwrap()
            .verify_checksum());
        let icmp = icmpv4::Packet::new_checked(&f[34..590]).unwrap();
        assert!(icmp.verify_checksum());
        assert_eq!(
            icmpv4::Repr::parse(&icmp),
            Ok(icmpv4::Repr::DstUnreachable {
                code: 4,
                next_hop_mtu: 1496
            })
        );
        // Its quote names the offending flow.
        let k = quoted_flow(icmp.data(), false).unwrap();
        assert_eq!((k.src_port, k.dst_port), (40000, 80));
        assert_eq!(k.dst, IpAddr::V4(Ipv4Addr::new(198, 18, 1, 1)));
    }

    #[test]
    fn too_big_grows_a_short_packet_and_v6_quotes_up_to_1232() {
        // A 500-byte IPv4 packet: its error (28 + 500) is longer, and the
        // frame must grow first.
        let mut short = big4();
        short.truncate(14 + 500);
        short[16..18].copy_from_slice(&500u16.to_be_bytes());
        assert_eq!(too_big_len(14, 514, false), 14 + 528);
        assert_eq!(
            too_big_in_place(&mut short, 14, 514, 496),
            Err(Error::Truncated)
        );
        let orig = short.clone();
        short.resize(14 + 528, 0);
        assert_eq!(too_big_in_place(&mut short, 14, 514, 496), Ok(542));
        assert_eq!(short[42..], orig[14..]);

        let (c, v) = (a6("2001:db8::10"), a6("2001:db8:1::80"));
        let mut f = std::vec![0xeeu8; 14];
        let mut ip = std::vec![0u8; 1400];
        ipv6::Repr {
            src_addr: c,
            dst_addr: v,
            next_header: IpProtocol::Udp,
            payload_len: 1360,
            hop_limit: 50,
        }
        .emit(&mut ipv6::Packet::new_unchecked(&mut ip[..]));
        ip[40..44].copy_from_slice(&[0x30, 0x39, 0x00, 0x35]);
        f.extend_from_slice(&ip);
        let orig = f.clone();
        let n = too_big_in_place(&mut f, 14, 1414, 1396).unwrap();
        assert_eq!(n, 14 + 1280);
        let ip = ipv6::Packet::new_checked(&f[14..n]).unwrap();
        assert_eq!((ip.src_addr(), ip.dst_addr()), (v, c));
        assert_eq!((ip.payload_len(), ip.hop_limit()), (1240, 64));
        let icmp = icmpv6::Packet::new_checked(&f[54..n]).unwrap();
        assert_eq!(
            icmpv6::Repr::parse(&icmp, v, c),
            Ok(icmpv6::Repr::PacketTooBig { mtu: 1396 })
        );
        assert_eq!(icmp.data(), &orig[14..14 + 1232]);
        let k = quoted_flow(icmp.data(), true).unwrap();
        assert_eq!(
            (k.protocol, k.src, k.dst),
            (IpProtocol::Udp, IpAddr::V6(c), IpAddr::V6(v))
        );
        assert_eq!((k.src_port, k.dst_port), (12345, 53));
    }

    #[test]
    fn quotes_that_name_no_flow() {
        let f = big4();
        let q = &f[14..];
        assert!(quoted_flow(&q[..24], false).is_ok());
        assert_eq!(quoted_flow(&q[..23], false), Err(Error::Truncated));
        assert_eq!(quoted_flow(&q[..10], false), Err(Error::Truncated));
        assert_eq!(quoted_flow(&[], false), Err(Error::Truncated));
        // The other family, a bad IHL, a non-first fragment, ICMP.
        assert_eq!(quoted_flow(q, true), Err(Error::Malformed));
        let mut b = Vec::from(q);
        b[0] = 0x44;
        assert_eq!(quoted_flow(&b, false), Err(Error::Malformed));
        let mut b = Vec::from(q);
        b[7] = 1;
        assert_eq!(quoted_flow(&b, false), Err(Error::Unsupported));
        let mut b = Vec::from(q);
        b[9] = 1;
        assert_eq!(quoted_flow(&b, false), Err(Error::Unsupported));
    }

    #[test]
    fn error_types_for_sessions() {
        assert!(v4_error_for_session(icmpv4::Message::DstUnreachable));
        assert!(v4_error_for_session(icmpv4::Message::TimeExceeded));
        assert!(!v4_error_for_session(icmpv4::Message::Redirect));
        assert!(!v4_error_for_session(icmpv4::Message::EchoRequest));
        assert!(v6_error_for_session(icmpv6::Message::PacketTooBig));
        assert!(!v6_error_for_session(icmpv6::Message::EchoRequest));
    }
}
