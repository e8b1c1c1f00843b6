//! The full parse of an IP packet and its upper-layer header: the
//! unlabelled path of [`classify`](crate::classify()), and the packet under
//! a label for [`crate::flow`] and [`crate::mss`]. IPv6 neighbour
//! solicitations and advertisements are checked here (RFC 4861 §7.1).
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::drop_reason::DropReason;
use super::frames::{Classified, IpFrame, NdFrame, NdKind, L4};
use crate::bytes::{array_at, u8_at};
use crate::icmpv6::{self, NaFlags};
use crate::ipv6::{self, ExtError};
use crate::{checksum, icmpv4, FlowKey, IpProtocol, IpVersion, TcpFlags};

pub(super) fn ext_reason(e: ExtError) -> DropReason {
    match e {
        ExtError::Truncated => DropReason::TruncatedIpv6Ext,
        ExtError::TooLong => DropReason::Ipv6ExtChainTooLong,
        ExtError::Malformed => DropReason::BadIpv6Ext,
        ExtError::RoutingType0 => DropReason::Ipv6RoutingType0,
    }
}

/// Parse the IP packet at `l3` (and its upper-layer header) fully: the
/// unlabelled path of [`classify`](crate::classify()), and the inner packet for
/// [`crate::flow::extract`] and [`crate::mss::clamp_mss`]. `expect` is the
/// version the EtherType announced (`None`: take the nibble, under a label).
pub(crate) fn parse_l3(
    frame: &[u8],
    l3: usize,
    vlan_tci: Option<u16>,
    expect: Option<IpVersion>,
) -> Result<Classified, DropReason> {
    let first = u8_at(frame, l3);
    let version = match (expect, first.and_then(IpVersion::of_first_byte)) {
        (Some(IpVersion::V4), Some(IpVersion::V4)) | (None, Some(IpVersion::V4)) => IpVersion::V4,
        (Some(IpVersion::V6), Some(IpVersion::V6)) | (None, Some(IpVersion::V6)) => IpVersion::V6,
        (Some(IpVersion::V4), _) if first.is_none() => return Err(DropReason::TruncatedIpv4),
        (Some(IpVersion::V6), _) if first.is_none() => return Err(DropReason::TruncatedIpv6),
        (Some(IpVersion::V4), _) => return Err(DropReason::BadIpv4Version),
        (Some(IpVersion::V6), _) => return Err(DropReason::BadIpv6Version),
        (None, _) if first.is_none() => return Err(DropReason::TruncatedMpls),
        (None, _) => return Err(DropReason::BadInnerIpVersion),
    };
    let pkt = frame.get(l3..).unwrap_or(&[]);
    match version {
        IpVersion::V4 => parse_v4(pkt, l3, vlan_tci),
        IpVersion::V6 => parse_v6(pkt, l3, vlan_tci),
    }
}

fn parse_v4(pkt: &[u8], l3: usize, vlan_tci: Option<u16>) -> Result<Classified, DropReason> {
    parse_v4_ip(pkt, l3, vlan_tci).map(Classified::Ip)
}

#[inline(always)]
pub(super) fn parse_v4_ip(
    pkt: &[u8],
    l3: usize,
    vlan_tci: Option<u16>,
) -> Result<IpFrame, DropReason> {
    let first = u8_at(pkt, 0).ok_or(DropReason::TruncatedIpv4)?;
    let header: [u8; 20] = array_at(pkt, 0).ok_or(DropReason::TruncatedIpv4)?;
    let hl = usize::from(first & 0x0f) * 4;
    if hl < 20 {
        return Err(DropReason::BadIpv4Ihl);
    }
    let total = usize::from(u16::from_be_bytes([header[2], header[3]]));
    if total < hl {
        return Err(DropReason::BadIpv4Length);
    }
    let whole = pkt.get(..total).ok_or(DropReason::TruncatedIpv4)?;
    let hdr = whole.get(..hl).ok_or(DropReason::TruncatedIpv4)?;
    // The usual 20-byte header is summed from the fixed-size copy: the
    // compiler unrolls it to five loads and adds.
    let hsum = if hl == 20 {
        checksum::sum(&header)
    } else {
        checksum::sum(hdr)
    };
    if hsum != 0xffff {
        return Err(DropReason::BadIpv4Checksum);
    }
    let frag = u16::from_be_bytes([header[6], header[7]]);
    if frag & 0x1fff != 0 {
        return Err(DropReason::NonFirstFragment);
    }
    let first_fragment = frag & 0x2000 != 0;
    let [_, _, _, _, _, _, _, _, ttl, proto, _, _, s0, s1, s2, s3, d0, d1, d2, d3] = header;
    let src = IpAddr::V4(Ipv4Addr::new(s0, s1, s2, s3));
    let dst = IpAddr::V4(Ipv4Addr::new(d0, d1, d2, d3));
    let l4_off = l3 + hl;
    let l3_end = l3 + total;
    let seg = whole.get(hl..).unwrap_or(&[]);
    let protocol = IpProtocol::from(proto);
    let (l4, sport, dport) = parse_l4(protocol, seg, first_fragment)?;
    Ok(IpFrame {
        vlan_tci,
        l3_offset: l3,
        version: IpVersion::V4,
        flow: FlowKey {
            protocol,
            src,
            src_port: sport,
            dst,
            dst_port: dport,
        },
        ttl,
        l4_offset: l4_off,
        l3_end,
        l4,
        first_fragment,
    })
}

fn parse_v6(pkt: &[u8], l3: usize, vlan_tci: Option<u16>) -> Result<Classified, DropReason> {
    let header: [u8; 40] = array_at(pkt, 0).ok_or(DropReason::TruncatedIpv6)?;
    let pl = usize::from(u16::from_be_bytes([header[4], header[5]]));
    let whole = pkt
        .get(..ipv6::HEADER_LEN + pl)
        .ok_or(DropReason::TruncatedIpv6)?;
    let w = ipv6::walk_ext(whole).map_err(ext_reason)?;
    if w.fragment.is_some_and(|f| f.offset != 0) {
        return Err(DropReason::NonFirstFragment);
    }
    let first_fragment = w.fragment.is_some_and(|f| f.more);
    let src = array_at::<16>(&header, 8)
        .map(Ipv6Addr::from)
        .unwrap_or(Ipv6Addr::UNSPECIFIED);
    let dst = array_at::<16>(&header, 24)
        .map(Ipv6Addr::from)
        .unwrap_or(Ipv6Addr::UNSPECIFIED);
    let hop_limit = u8_at(&header, 7).unwrap_or(0);
    let seg = whole.get(w.offset..).unwrap_or(&[]);
    if w.protocol == IpProtocol::Icmpv6 {
        if let Some(&t) = seg.first() {
            if t == 135 || t == 136 {
                return parse_nd(seg, l3, vlan_tci, src, dst, hop_limit).map(Classified::Nd);
            }
        }
    }
    let (l4, sport, dport) = parse_l4(w.protocol, seg, first_fragment)?;
    Ok(Classified::Ip(IpFrame {
        vlan_tci,
        l3_offset: l3,
        version: IpVersion::V6,
        flow: FlowKey {
            protocol: w.protocol,
            src: IpAddr::V6(src),
            src_port: sport,
            dst: IpAddr::V6(dst),
            dst_port: dport,
        },
        ttl: hop_limit,
        l4_offset: l3 + w.offset,
        l3_end: l3 + whole.len(),
        l4,
        first_fragment,
    }))
}

/// The upper layer: kind, source port, destination port.
fn parse_l4(
    proto: IpProtocol,
    seg: &[u8],
    first_fragment: bool,
) -> Result<(L4, u16, u16), DropReason> {
    match proto {
        IpProtocol::Tcp => {
            let h: [u8; 20] = array_at(seg, 0).ok_or(DropReason::TruncatedTcp)?;
            let hl = usize::from(h[12] >> 4) * 4;
            if hl < 20 {
                return Err(DropReason::BadTcpOffset);
            }
            if hl > seg.len() {
                return Err(DropReason::TruncatedTcp);
            }
            let sport = u16::from_be_bytes([h[0], h[1]]);
            let dport = u16::from_be_bytes([h[2], h[3]]);
            Ok((
                L4::Tcp {
                    flags: TcpFlags(h[13]),
                },
                sport,
                dport,
            ))
        }
        IpProtocol::Udp => {
            let h: [u8; 8] = array_at(seg, 0).ok_or(DropReason::TruncatedUdp)?;
            let len = usize::from(u16::from_be_bytes([h[4], h[5]]));
            if len < 8 || (len > seg.len() && !first_fragment) {
                return Err(DropReason::BadUdpLength);
            }
            let sport = u16::from_be_bytes([h[0], h[1]]);
            let dport = u16::from_be_bytes([h[2], h[3]]);
            Ok((L4::Udp, sport, dport))
        }
        IpProtocol::Icmp => {
            let h: [u8; 8] = array_at(seg, 0).ok_or(DropReason::TruncatedIcmp)?;
            Ok((
                L4::Icmpv4 {
                    msg: icmpv4::Message::from(h[0]),
                    code: h[1],
                },
                0,
                0,
            ))
        }
        IpProtocol::Icmpv6 => {
            let h: [u8; 8] = array_at(seg, 0).ok_or(DropReason::TruncatedIcmp)?;
            Ok((
                L4::Icmpv6 {
                    msg: icmpv6::Message::from(h[0]),
                    code: h[1],
                },
                0,
                0,
            ))
        }
        _ => Ok((L4::Other, 0, 0)),
    }
}

fn parse_nd(
    msg: &[u8],
    l3: usize,
    vlan_tci: Option<u16>,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
) -> Result<NdFrame, DropReason> {
    // RFC 4861 §7.1.1 / §7.1.2: hop limit 255 (not forwarded), code 0,
    // ICMP length 24 or more, valid checksum, options with length > 0.
    let head: [u8; 24] = array_at(msg, 0).ok_or(DropReason::BadNd)?;
    if hop_limit != 255 || head[1] != 0 {
        return Err(DropReason::BadNd);
    }
    if checksum::l4_v6(src, dst, 58, msg) != 0 {
        return Err(DropReason::BadIcmpv6Checksum);
    }
    let target = array_at::<16>(&head, 8)
        .map(Ipv6Addr::from)
        .ok_or(DropReason::BadNd)?;
    let options = msg.get(icmpv6::ND_LEN..).unwrap_or(&[]);
    let (kind, opt) = if head[0] == 135 {
        (NdKind::Solicit, icmpv6::nd_option::SOURCE_LL_ADDR)
    } else {
        (
            NdKind::Advert(NaFlags::from_byte(head[4])),
            icmpv6::nd_option::TARGET_LL_ADDR,
        )
    };
    let lladdr = icmpv6::nd_lladdr(options, opt).map_err(|_| DropReason::BadNd)?;
    Ok(NdFrame {
        vlan_tci,
        l3_offset: l3,
        src,
        dst,
        kind,
        target,
        lladdr,
    })
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::super::fixtures::*;
    use crate::builder::{nd_advert, nd_solicit, FrameBuilder};
    use crate::classify::{classify, DropReason, NdKind, L4};
    use crate::{icmpv4, icmpv6, FlowKey, IpProtocol, IpVersion, TcpFlags};
    use core::net::IpAddr;

    /// A real-capture-shaped SYN, written out byte by byte (Ethernet, IPv4,
    /// TCP with MSS 1460), checksums 0x4e87 (IP) and 0x145f (TCP) checked by
    /// recomputation in `checksums_valid` and against the builder.
    #[rustfmt::skip]
    const SYN_FRAME: [u8; 58] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // dst MAC
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // src MAC
        0x08, 0x00,                         // IPv4
        0x45, 0x00, 0x00, 0x2c,             // v4, IHL 5, total 44
        0x00, 0x00, 0x40, 0x00,             // ident 0, DF
        0x40, 0x06, 0x4e, 0x87,             // TTL 64, TCP, checksum
        0xc6, 0x33, 0x64, 0x07,             // 198.51.100.7
        0xc0, 0x00, 0x02, 0x0a,             // 192.0.2.10
        0x9c, 0x40, 0x00, 0x50,             // 40000 -> 80
        0x00, 0x00, 0x00, 0x01,             // seq 1
        0x00, 0x00, 0x00, 0x00,             // ack 0
        0x60, 0x02, 0xfa, 0xf0,             // offset 6, SYN, window 64240
        0x14, 0x5f, 0x00, 0x00,             // checksum, urgent
        0x02, 0x04, 0x05, 0xb4,             // MSS 1460
    ];

    #[test]
    fn golden_syn_bytes_match_builder() {
        let built = syn4().build();
        assert!(crate::builder::checksums_valid(&SYN_FRAME));
        assert_eq!(built, SYN_FRAME);
    }

    #[test]
    fn unlabelled_tcp4() {
        let i = ip(classify(&SYN_FRAME));
        assert_eq!(i.version, IpVersion::V4);
        assert_eq!(i.l3_offset, 14);
        assert_eq!(i.l4_offset, 34);
        assert_eq!(i.l3_end, 58);
        assert_eq!(i.ttl, 64);
        assert_eq!(
            i.l4,
            L4::Tcp {
                flags: TcpFlags::SYN
            }
        );
        assert_eq!(
            i.flow,
            FlowKey {
                protocol: IpProtocol::Tcp,
                src: CLIENT.into(),
                src_port: 40000,
                dst: VIP.into(),
                dst_port: 80
            }
        );
        assert!(!i.first_fragment);
        assert_eq!(i.vlan_tci, None);
    }

    #[test]
    fn unlabelled_tcp6_udp_vlan() {
        let i = ip(classify(&syn6().vlan(100).build()));
        assert_eq!(i.vlan_tci, Some(100));
        assert_eq!(i.l3_offset, 18);
        assert_eq!(i.l4_offset, 58);
        assert_eq!(i.flow.src, IpAddr::V6(c6()));
        assert_eq!(i.flow.dst_port, 443);
        let u = FrameBuilder::udp4(CM, SM, CLIENT, VIP, 5353, 53)
            .payload(b"q")
            .build();
        let i = ip(classify(&u));
        assert_eq!(i.l4, L4::Udp);
        assert_eq!(
            (i.flow.protocol, i.flow.src_port, i.flow.dst_port),
            (IpProtocol::Udp, 5353, 53)
        );
    }

    #[test]
    fn ethernet_padding_ignored() {
        // A 54-byte ACK padded to 60 bytes by the sender's NIC.
        let mut f = FrameBuilder::tcp4(CM, SM, CLIENT, VIP, 1, 2).build();
        assert_eq!(f.len(), 54);
        f.resize(60, 0);
        let i = ip(classify(&f));
        assert_eq!(i.l3_end, 54);
    }

    #[test]
    fn icmp() {
        let f = FrameBuilder::echo_request(CM, SM, CLIENT.into(), VIP.into(), 7, 1)
            .payload(b"ping")
            .build();
        let i = ip(classify(&f));
        assert_eq!(
            i.l4,
            L4::Icmpv4 {
                msg: icmpv4::Message::EchoRequest,
                code: 0
            }
        );
        assert_eq!((i.flow.src_port, i.flow.dst_port), (0, 0));
        let f = FrameBuilder::echo_request(CM, SM, c6().into(), vip6().into(), 7, 1).build();
        assert_eq!(
            ip(classify(&f)).l4,
            L4::Icmpv6 {
                msg: icmpv6::Message::EchoRequest,
                code: 0
            }
        );
        let f = FrameBuilder::raw_ip(CM, SM, CLIENT.into(), VIP.into(), 47)
            .payload(&[0; 8])
            .build();
        assert_eq!(ip(classify(&f)).l4, L4::Other);
        let f = FrameBuilder::echo_request(CM, SM, CLIENT.into(), VIP.into(), 7, 1).build();
        assert_eq!(classify(&f[..f.len() - 1]), Err(DropReason::TruncatedIpv4));
    }

    #[test]
    fn nd() {
        let target = vip6();
        let f = nd_solicit(CM, c6(), target);
        match classify(&f) {
            Ok(Classified::Nd(n)) => {
                assert_eq!(n.kind, NdKind::Solicit);
                assert_eq!(n.target, target);
                assert_eq!(n.lladdr, Some(CM));
                assert_eq!(n.src, c6());
            }
            other => panic!("{other:?}"),
        }
        let f = nd_advert(SM, CM, target, c6(), target);
        match classify(&f) {
            Ok(Classified::Nd(n)) => {
                assert!(
                    matches!(n.kind, NdKind::Advert(fl) if fl.solicited && fl.override_ && !fl.router)
                );
                assert_eq!(n.lladdr, Some(SM));
            }
            other => panic!("{other:?}"),
        }
        // Hop limit not 255: forwarded ND is discarded (RFC 4861 §7.1.1).
        let mut bad = nd_solicit(CM, c6(), target);
        bad[14 + 7] = 64;
        assert_eq!(classify(&bad), Err(DropReason::BadNd));
        // Bad checksum.
        let mut bad = nd_solicit(CM, c6(), target);
        bad[14 + 40 + 2] ^= 0xff;
        assert_eq!(classify(&bad), Err(DropReason::BadIcmpv6Checksum));
        // Too short for a target.
        let f = FrameBuilder::icmp(CM, SM, c6().into(), vip6().into(), 135, 0, [0; 4])
            .ttl(255)
            .build();
        assert_eq!(classify(&f), Err(DropReason::BadNd));
    }

    #[test]
    fn ipv4_header_errors() {
        let f = syn4().build();
        let set = |i: usize, v: u8| {
            let mut b = f.clone();
            b[i] = v;
            b
        };
        assert_eq!(classify(&f[..14 + 19]), Err(DropReason::TruncatedIpv4));
        assert_eq!(classify(&set(14, 0x65)), Err(DropReason::BadIpv4Version));
        assert_eq!(classify(&set(14, 0x44)), Err(DropReason::BadIpv4Ihl));
        assert_eq!(classify(&set(14, 0x4f)), Err(DropReason::BadIpv4Length)); // 60 > total 44
        assert_eq!(classify(&set(17, 10)), Err(DropReason::BadIpv4Length)); // total 10
        assert_eq!(classify(&set(17, 0xff)), Err(DropReason::TruncatedIpv4)); // total 255
        assert_eq!(classify(&set(24, 0)), Err(DropReason::BadIpv4Checksum));
        assert_eq!(classify(&f[..f.len() - 1]), Err(DropReason::TruncatedIpv4));
    }

    #[test]
    fn ipv4_options() {
        // Router Alert (RFC 2113): 94 04 00 00.
        let f = syn4().ipv4_options(&[0x94, 0x04, 0x00, 0x00]).build();
        assert!(crate::builder::checksums_valid(&f));
        let i = ip(classify(&f));
        assert_eq!(i.l4_offset, 14 + 24);
        assert_eq!(i.flow.dst_port, 80);
        assert_eq!(
            i.l4,
            L4::Tcp {
                flags: TcpFlags::SYN
            }
        );
    }

    #[test]
    fn fragments() {
        let first = syn4().fragment(0, true).build();
        let i = ip(classify(&first));
        assert!(i.first_fragment);
        assert_eq!(i.flow.src_port, 40000);
        let later = FrameBuilder::raw_ip(CM, SM, CLIENT.into(), VIP.into(), 6)
            .fragment(1480, false)
            .payload(&[0; 8])
            .build();
        assert_eq!(classify(&later), Err(DropReason::NonFirstFragment));
        // UDP first fragment: the UDP length covers more than this fragment.
        let mut big = FrameBuilder::udp4(CM, SM, CLIENT, VIP, 1, 2)
            .payload(&[7; 64])
            .fragment(0, true)
            .build();
        big.truncate(14 + 20 + 16);
        big[16..18].copy_from_slice(&36u16.to_be_bytes());
        let mut p = crate::ipv4::Packet::new_unchecked(&mut big[14..]);
        p.fill_checksum();
        let i = ip(classify(&big));
        assert!(i.first_fragment);
        assert_eq!(i.l4, L4::Udp);
        // IPv6.
        let first6 = syn6().fragment(0, true).build();
        let i = ip(classify(&first6));
        assert!(i.first_fragment);
        assert_eq!(i.flow.dst_port, 443);
        let later6 = FrameBuilder::raw_ip(CM, SM, c6().into(), vip6().into(), 6)
            .fragment(1448, true)
            .payload(&[0; 8])
            .build();
        assert_eq!(classify(&later6), Err(DropReason::NonFirstFragment));
        // Under a label, a non-first fragment is switched (no flags).
        let mut l = FrameBuilder::raw_ip(CM, SM, CLIENT.into(), VIP.into(), 6)
            .fragment(1480, false)
            .payload(&[0; 8])
            .label(101)
            .build();
        assert_eq!(labelled(classify(&l)).tcp_flags, None);
        l.truncate(38);
        assert!(classify(&l).is_ok());
    }

    #[test]
    fn ipv6_ext_chains() {
        let mut b = syn6();
        for _ in 0..crate::ipv6::MAX_EXT_HEADERS {
            b = b.ipv6_ext(IpProtocol::Ipv6Opts);
        }
        let ok = b.clone().build();
        let i = ip(classify(&ok));
        assert_eq!(i.l4_offset, 14 + 40 + 8 * crate::ipv6::MAX_EXT_HEADERS);
        assert_eq!(i.flow.dst_port, 443);
        let long = b.clone().ipv6_ext(IpProtocol::Ipv6Opts).build();
        assert_eq!(classify(&long), Err(DropReason::Ipv6ExtChainTooLong));
        assert_eq!(
            classify(&long.clone()[..]),
            Err(DropReason::Ipv6ExtChainTooLong)
        );
        let hbh_late = syn6()
            .ipv6_ext(IpProtocol::Ipv6Opts)
            .ipv6_ext(IpProtocol::HopByHop)
            .build();
        assert_eq!(classify(&hbh_late), Err(DropReason::BadIpv6Ext));
        let routed = syn6()
            .ipv6_ext(IpProtocol::HopByHop)
            .ipv6_routing(2, 0)
            .build();
        assert_eq!(ip(classify(&routed)).l4_offset, 14 + 56);
        // RFC 5095: type 0 is dropped, segments left or not.
        for left in [0, 1] {
            let rh0 = syn6()
                .ipv6_ext(IpProtocol::HopByHop)
                .ipv6_routing(0, left)
                .build();
            assert_eq!(classify(&rh0), Err(DropReason::Ipv6RoutingType0));
        }
        // An extension header claiming more than the payload.
        let mut t = syn6().ipv6_ext(IpProtocol::Ipv6Opts).build();
        t[14 + 41] = 50;
        assert_eq!(classify(&t), Err(DropReason::TruncatedIpv6Ext));
    }

    #[test]
    fn ipv6_header_errors() {
        let f = syn6().build();
        assert_eq!(classify(&f[..14 + 39]), Err(DropReason::TruncatedIpv6));
        assert_eq!(classify(&f[..f.len() - 1]), Err(DropReason::TruncatedIpv6));
        let mut b = f.clone();
        b[14] = 0x40;
        assert_eq!(classify(&b), Err(DropReason::BadIpv6Version));
    }

    #[test]
    fn l4_errors() {
        let f = syn4().build();
        let mut b = f.clone();
        b[34 + 12] = 0x40; // data offset 4
        assert_eq!(classify(&b), Err(DropReason::BadTcpOffset));
        let mut b = f.clone();
        b[34 + 12] = 0xf0; // data offset 15 = 60 > 24
        assert_eq!(classify(&b), Err(DropReason::TruncatedTcp));
        // TCP shorter than 20 bytes inside a consistent IPv4 packet.
        let short = FrameBuilder::raw_ip(CM, SM, CLIENT.into(), VIP.into(), 6)
            .payload(&[0; 10])
            .build();
        assert_eq!(classify(&short), Err(DropReason::TruncatedTcp));
        let short = FrameBuilder::raw_ip(CM, SM, CLIENT.into(), VIP.into(), 17)
            .payload(&[0; 7])
            .build();
        assert_eq!(classify(&short), Err(DropReason::TruncatedUdp));
        let mut u = FrameBuilder::udp4(CM, SM, CLIENT, VIP, 1, 2)
            .payload(b"abc")
            .build();
        u[34 + 5] = 200;
        assert_eq!(classify(&u), Err(DropReason::BadUdpLength));
        u[34 + 5] = 4;
        assert_eq!(classify(&u), Err(DropReason::BadUdpLength));
        let short = FrameBuilder::raw_ip(CM, SM, CLIENT.into(), VIP.into(), 1)
            .payload(&[8, 0, 0])
            .build();
        assert_eq!(classify(&short), Err(DropReason::TruncatedIcmp));
    }
}
