//! Flow keys: `(protocol, source, source port, destination, destination
//! port)` from an unlabelled frame or from the packet under a label.
//!
//! Addresses are `core::net::IpAddr` so `slb-core` can key its session table
//! on them directly. Protocols without ports (ICMP, ICMPv6, others) get
//! ports 0. A **non-first fragment** (IPv4 offset != 0, or an IPv6 fragment
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

/// A 5-tuple as seen on the wire (source = sender of this packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    /// IPv4 protocol / IPv6 upper-layer next header.
    pub protocol: IpProtocol,
    /// Source address.
    pub src: IpAddr,
    /// Source port (0 without ports).
    pub src_port: u16,
    /// Destination address.
    pub dst: IpAddr,
    /// Destination port (0 without ports).
    pub dst_port: u16,
}

impl FlowKey {
    /// The key of the opposite direction.
    pub const fn reversed(&self) -> FlowKey {
        FlowKey {
            protocol: self.protocol,
            src: self.dst,
            src_port: self.dst_port,
            dst: self.src,
            dst_port: self.src_port,
        }
    }
}

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
