//! Ready-made neighbour resolution frames: ARP request and reply, IPv6
//! neighbour solicitation and advertisement, and the multicast addresses
//! they go to.

use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use super::l2_frame;
use crate::icmpv6::{self, NaFlags};
use crate::{arp, ipv6, EtherType, IpProtocol, MacAddr};

/// An ARP request "who has `target_ip`? tell `sender_ip`", broadcast.
pub fn arp_request(sender_mac: MacAddr, sender_ip: Ipv4Addr, target_ip: Ipv4Addr) -> Vec<u8> {
    arp_frame(
        MacAddr::BROADCAST,
        arp::Repr {
            operation: arp::Operation::Request,
            source_hardware_addr: sender_mac,
            source_protocol_addr: sender_ip,
            target_hardware_addr: MacAddr::ZERO,
            target_protocol_addr: target_ip,
        },
    )
}

/// An ARP reply from `sender` to `target`, unicast.
pub fn arp_reply(
    sender_mac: MacAddr,
    sender_ip: Ipv4Addr,
    target_mac: MacAddr,
    target_ip: Ipv4Addr,
) -> Vec<u8> {
    arp_frame(
        target_mac,
        arp::Repr {
            operation: arp::Operation::Reply,
            source_hardware_addr: sender_mac,
            source_protocol_addr: sender_ip,
            target_hardware_addr: target_mac,
            target_protocol_addr: target_ip,
        },
    )
}

fn arp_frame(dst: MacAddr, r: arp::Repr) -> Vec<u8> {
    let mut b = [0u8; arp::PACKET_LEN];
    r.emit(&mut arp::Packet::new_unchecked(&mut b[..]));
    l2_frame(r.source_hardware_addr, dst, None, EtherType::Arp, &[], &b)
}

/// The solicited-node multicast address of `a` (RFC 4291 §2.7.1).
pub fn solicited_node(a: Ipv6Addr) -> Ipv6Addr {
    let o = a.octets();
    Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(o[13]),
        u16::from_be_bytes([o[14], o[15]]),
    )
}

/// The multicast MAC of an IPv6 multicast address (RFC 2464 §7).
pub fn multicast_mac(a: Ipv6Addr) -> MacAddr {
    let o = a.octets();
    MacAddr([0x33, 0x33, o[12], o[13], o[14], o[15]])
}

/// A neighbour solicitation for `target` from `src_ip`, to its
/// solicited-node group, hop limit 255, with the source link-layer option.
pub fn nd_solicit(src_mac: MacAddr, src_ip: Ipv6Addr, target: Ipv6Addr) -> Vec<u8> {
    let dst = solicited_node(target);
    nd_frame(
        src_mac,
        multicast_mac(dst),
        src_ip,
        dst,
        icmpv6::Repr::NeighborSolicit {
            target,
            lladdr: Some(src_mac),
        },
    )
}

/// A solicited neighbour advertisement (S and O set) for `target`, with the
/// target link-layer option `src_mac`.
pub fn nd_advert(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src_ip: Ipv6Addr,
    dst_ip: Ipv6Addr,
    target: Ipv6Addr,
) -> Vec<u8> {
    let flags = NaFlags {
        router: false,
        solicited: true,
        override_: true,
    };
    nd_frame(
        src_mac,
        dst_mac,
        src_ip,
        dst_ip,
        icmpv6::Repr::NeighborAdvert {
            flags,
            target,
            lladdr: Some(src_mac),
        },
    )
}

fn nd_frame(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    r: icmpv6::Repr,
) -> Vec<u8> {
    let mut m = alloc::vec![0u8; r.buffer_len()];
    let mut p = icmpv6::Packet::new_unchecked(&mut m[..]);
    r.emit(&mut p);
    p.fill_checksum(src, dst);
    let mut ip = alloc::vec![0u8; ipv6::HEADER_LEN + m.len()];
    let mut p = ipv6::Packet::new_unchecked(&mut ip[..]);
    ipv6::Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: IpProtocol::Icmpv6,
        payload_len: m.len(),
        hop_limit: 255,
    }
    .emit(&mut p);
    p.payload_mut().copy_from_slice(&m);
    l2_frame(src_mac, dst_mac, None, EtherType::Ipv6, &[], &ip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::checksums_valid;
    use crate::classify::{classify, Classified, NdKind};

    /// RFC 4291 §2.7.1 / RFC 2464 §7: the solicited-node group of
    /// 4037::1:800:200e:8c6c is ff02::1:ff0e:8c6c, whose MAC is
    /// 33:33:ff:0e:8c:6c.
    #[test]
    fn solicited_node_group_and_mac() {
        let a: Ipv6Addr = "4037::1:800:200e:8c6c".parse().unwrap();
        let group = solicited_node(a);
        assert_eq!(group, "ff02::1:ff0e:8c6c".parse::<Ipv6Addr>().unwrap());
        assert_eq!(
            multicast_mac(group),
            MacAddr([0x33, 0x33, 0xff, 0x0e, 0x8c, 0x6c])
        );
    }

    #[test]
    fn solicitation_goes_to_the_group_with_hop_limit_255() {
        let mac = MacAddr([2, 0, 0, 0, 0, 1]);
        let src: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let target: Ipv6Addr = "2001:db8::2".parse().unwrap();
        let f = nd_solicit(mac, src, target);
        assert!(checksums_valid(&f));
        assert_eq!(&f[0..6], &multicast_mac(solicited_node(target)).0);
        assert_eq!(f[14 + 7], 255);
        match classify(&f) {
            Ok(Classified::Nd(n)) => {
                assert_eq!(
                    (n.kind, n.target, n.lladdr),
                    (NdKind::Solicit, target, Some(mac))
                );
                assert_eq!(n.dst, solicited_node(target));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn arp_request_is_broadcast_and_reply_unicast() {
        let (a, b) = (MacAddr([2, 0, 0, 0, 0, 1]), MacAddr([2, 0, 0, 0, 0, 2]));
        let (ia, ib) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
        let req = arp_request(a, ia, ib);
        assert_eq!(&req[0..6], &MacAddr::BROADCAST.0);
        let rep = arp_reply(b, ib, a, ia);
        assert_eq!(&rep[0..6], &a.0);
        match classify(&rep) {
            Ok(Classified::Arp(r)) => {
                assert_eq!(r.operation, arp::Operation::Reply);
                assert_eq!((r.sender_mac, r.sender_ip, r.target_ip), (b, ib, ia));
            }
            other => panic!("{other:?}"),
        }
    }
}
