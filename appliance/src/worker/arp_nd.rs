//! ARP (RFC 826) and IPv6 neighbour discovery (RFC 4861): answering for
//! slbd's addresses and VIPs in place, and building the requests slbd sends
//! to resolve its neighbours.

use slb_wire::classify::{ArpFrame, NdFrame};
use slb_wire::icmpv6::{self, NaFlags};
use slb_wire::{arp, ethernet, ipv6, IpProtocol, MacAddr};
use std::net::{Ipv4Addr, Ipv6Addr};

fn l2_len(vlan: Option<u16>) -> usize {
    if vlan.is_some() {
        18
    } else {
        14
    }
}

/// Turns an ARP request (already classified) into the reply `our_mac` owns
/// `a.target_ip`, in place. False if the frame is too short.
pub fn arp_reply_in_place(frame: &mut [u8], a: &ArpFrame, our_mac: [u8; 6]) -> bool {
    let off = l2_len(a.vlan_tci);
    let Some(body) = frame.get_mut(off..off + 28) else {
        return false;
    };
    let repr = arp::Repr {
        operation: arp::Operation::Reply,
        source_hardware_addr: MacAddr(our_mac),
        source_protocol_addr: a.target_ip,
        target_hardware_addr: a.sender_mac,
        target_protocol_addr: a.sender_ip,
    };
    repr.emit(&mut arp::Packet::new_unchecked(body));
    ethernet::rewrite_macs(frame, MacAddr(our_mac), a.sender_mac).is_ok()
}

/// Length of a neighbour advertisement with a target link-layer option,
/// after the L2 header: IPv6 (40) + NA (24) + option (8).
pub const NA_L3_LEN: usize = 40 + 32;

/// Turns a neighbour solicitation into the advertisement that `our_mac`
/// owns `n.target`, in place. The caller sets the frame's length to
/// `n.l3_offset + NA_L3_LEN` first. False if the frame is too short.
pub fn na_in_place(frame: &mut [u8], n: &NdFrame, our_mac: [u8; 6], eth_src: MacAddr) -> bool {
    let off = n.l3_offset;
    let Some(l3) = frame.get_mut(off..off + NA_L3_LEN) else {
        return false;
    };
    let (ip, icmp) = l3.split_at_mut(40);
    let repr = ipv6::Repr {
        src_addr: n.target,
        dst_addr: n.src,
        next_header: IpProtocol::Icmpv6,
        payload_len: 32,
        hop_limit: 255,
    };
    repr.emit(&mut ipv6::Packet::new_unchecked(ip));
    let na = icmpv6::Repr::NeighborAdvert {
        flags: NaFlags {
            router: false,
            solicited: true,
            override_: true,
        },
        target: n.target,
        lladdr: Some(MacAddr(our_mac)),
    };
    let mut p = icmpv6::Packet::new_unchecked(icmp);
    na.emit(&mut p);
    p.fill_checksum(n.target, n.src);
    let dst = n.lladdr.unwrap_or(eth_src);
    ethernet::rewrite_macs(frame, MacAddr(our_mac), dst).is_ok()
}

/// An ARP request from `(our_mac, our_ip)` for `target` (broadcast).
pub fn arp_request(our_mac: [u8; 6], our_ip: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    let mut f = vec![0u8; 60];
    ethernet::Repr {
        src_addr: MacAddr(our_mac),
        dst_addr: MacAddr::BROADCAST,
        ethertype: ethernet::EtherType::Arp,
    }
    .emit(&mut ethernet::Frame::new_unchecked(&mut f[..]));
    arp::Repr {
        operation: arp::Operation::Request,
        source_hardware_addr: MacAddr(our_mac),
        source_protocol_addr: our_ip,
        target_hardware_addr: MacAddr::ZERO,
        target_protocol_addr: target,
    }
    .emit(&mut arp::Packet::new_unchecked(&mut f[14..42]));
    f
}

/// A neighbour solicitation from `(our_mac, our_ip)` for `target`, to its
/// solicited-node multicast address (RFC 4861 §7.2.2).
pub fn neighbour_solicitation(our_mac: [u8; 6], our_ip: Ipv6Addr, target: Ipv6Addr) -> Vec<u8> {
    let t = target.octets();
    let snm = Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(t[13]),
        u16::from_be_bytes([t[14], t[15]]),
    );
    let s = snm.octets();
    let mac = [0x33, 0x33, s[12], s[13], s[14], s[15]];
    let mut f = vec![0u8; 14 + 40 + 32];
    ethernet::Repr {
        src_addr: MacAddr(our_mac),
        dst_addr: MacAddr(mac),
        ethertype: ethernet::EtherType::Ipv6,
    }
    .emit(&mut ethernet::Frame::new_unchecked(&mut f[..]));
    ipv6::Repr {
        src_addr: our_ip,
        dst_addr: snm,
        next_header: IpProtocol::Icmpv6,
        payload_len: 32,
        hop_limit: 255,
    }
    .emit(&mut ipv6::Packet::new_unchecked(&mut f[14..54]));
    let mut p = icmpv6::Packet::new_unchecked(&mut f[54..]);
    icmpv6::Repr::NeighborSolicit {
        target,
        lladdr: Some(MacAddr(our_mac)),
    }
    .emit(&mut p);
    p.fill_checksum(our_ip, snm);
    f
}
