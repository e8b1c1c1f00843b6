//! Flow keys ([`FlowKey`]: protocol, source, source port, destination,
//! destination port) from an unlabelled frame or from the packet under a
//! label. Protocols without ports (ICMP, ICMPv6, others) get ports 0.
//!
//! A **non-first fragment** (IPv4 offset != 0, or an IPv6 fragment
//! header with offset != 0) carries no L4 header: extraction fails with
//! [`DropReason::NonFirstFragment`] (slb does not reassemble; see
//! `docs/packet-layer.md`). A first fragment yields its ports.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use core::net::IpAddr;

use crate::classify::{classify, parse_l3, Classified};
use crate::{DropReason, IpProtocol};

// Defined in `ip` (the classifier's frames hold one, and this module uses
// the classifier); re-exported so that `slb_wire::flow::FlowKey` keeps
// working.
pub use crate::ip::FlowKey;

/// The flow key of a frame: of the IP packet for an unlabelled frame, of the
/// inner packet for a labelled one (which is then fully parsed, unlike in
/// [`classify`]'s fast path). ARP and other EtherTypes give
/// `UnsupportedEthertype`; any drop reason of [`classify`] is passed on.
pub fn extract(frame: &[u8]) -> Result<FlowKey, DropReason> {
    match classify(frame)? {
        Classified::Ip(ip) => Ok(ip.flow),
        Classified::Nd(nd) => Ok(FlowKey {
            protocol: IpProtocol::Icmpv6,
            src: IpAddr::V6(nd.src),
            src_port: 0,
            dst: IpAddr::V6(nd.dst),
            dst_port: 0,
        }),
        Classified::Labelled(l) => match parse_l3(frame, l.inner_offset, l.vlan_tci, None)? {
            Classified::Ip(ip) => Ok(ip.flow),
            Classified::Nd(nd) => Ok(FlowKey {
                protocol: IpProtocol::Icmpv6,
                src: IpAddr::V6(nd.src),
                src_port: 0,
                dst: IpAddr::V6(nd.dst),
                dst_port: 0,
            }),
            _ => Err(DropReason::BadInnerIpVersion),
        },
        Classified::Arp(_) | Classified::Other { .. } => Err(DropReason::UnsupportedEthertype),
    }
}

/// The flow key of a bare IP packet (no L2), version from its first nibble.
pub fn from_ip(packet: &[u8]) -> Result<FlowKey, DropReason> {
    match parse_l3(packet, 0, None, None)? {
        Classified::Ip(ip) => Ok(ip.flow),
        Classified::Nd(nd) => Ok(FlowKey {
            protocol: IpProtocol::Icmpv6,
            src: IpAddr::V6(nd.src),
            src_port: 0,
            dst: IpAddr::V6(nd.dst),
            dst_port: 0,
        }),
        _ => Err(DropReason::BadInnerIpVersion),
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::builder::{arp_request, FrameBuilder};
    use crate::{MacAddr, TcpFlags};
    use core::net::{Ipv4Addr, Ipv6Addr};

    const M: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);

    #[test]
    fn v4_v6_labelled_and_not() {
        let c = Ipv4Addr::new(198, 51, 100, 7);
        let v = Ipv4Addr::new(192, 0, 2, 10);
        let key = FlowKey {
            protocol: IpProtocol::Tcp,
            src: c.into(),
            src_port: 40000,
            dst: v.into(),
            dst_port: 80,
        };
        let b = FrameBuilder::tcp4(M, M, c, v, 40000, 80).flags(TcpFlags::SYN);
        assert_eq!(extract(&b.clone().build()), Ok(key));
        assert_eq!(extract(&b.clone().label(101).build()), Ok(key));
        assert_eq!(extract(&b.clone().vlan(9).label(101).build()), Ok(key));
        assert_eq!(from_ip(&b.build_ip()), Ok(key));
        assert_eq!(key.reversed().reversed(), key);
        assert_eq!(key.reversed().src_port, 80);

        let c6: Ipv6Addr = "2001:db8:1::7".parse().unwrap();
        let v6: Ipv6Addr = "2001:db8::10".parse().unwrap();
        let key6 = FlowKey {
            protocol: IpProtocol::Udp,
            src: v6.into(),
            src_port: 53,
            dst: c6.into(),
            dst_port: 5353,
        };
        let b = FrameBuilder::udp6(M, M, v6, c6, 53, 5353).payload(b"answer");
        assert_eq!(extract(&b.clone().build()), Ok(key6));
        assert_eq!(extract(&b.clone().label(102).build()), Ok(key6));
        assert_eq!(
            extract(&b.ipv6_ext(IpProtocol::HopByHop).label(102).build()),
            Ok(key6)
        );
    }

    #[test]
    fn fragments_and_non_ip() {
        let c = Ipv4Addr::new(198, 51, 100, 7);
        let v = Ipv4Addr::new(192, 0, 2, 10);
        let later = FrameBuilder::raw_ip(M, M, c.into(), v.into(), 17)
            .fragment(8, false)
            .payload(&[0; 8]);
        assert_eq!(
            extract(&later.clone().build()),
            Err(DropReason::NonFirstFragment)
        );
        assert_eq!(
            extract(&later.label(101).build()),
            Err(DropReason::NonFirstFragment)
        );
        let first = FrameBuilder::udp4(M, M, c, v, 1, 2)
            .payload(&[0; 32])
            .fragment(0, true)
            .build();
        assert_eq!(extract(&first).unwrap().src_port, 1);
        assert_eq!(
            extract(&arp_request(M, c, v)),
            Err(DropReason::UnsupportedEthertype)
        );
        let icmp = FrameBuilder::echo_request(M, M, c.into(), v.into(), 1, 1).build();
        let k = extract(&icmp).unwrap();
        assert_eq!(
            (k.protocol, k.src_port, k.dst_port),
            (IpProtocol::Icmp, 0, 0)
        );
    }
}
