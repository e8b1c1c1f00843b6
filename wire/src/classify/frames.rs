//! What [`classify`](crate::classify()) returns: [`Classified`] and the
//! frame types it holds.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::icmpv6::{self, NaFlags};
use crate::mpls::Lse;
use crate::{arp, icmpv4, FlowKey, IpVersion, MacAddr, TcpFlags};

/// A labelled frame (EtherType 0x8847) that passed the label checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelledFrame {
    /// Raw 802.1Q TCI if tagged.
    pub vlan_tci: Option<u16>,
    /// The (only) label stack entry: label >= 16, S = 1, TTL >= 1.
    pub lse: Lse,
    /// Offset of the label stack entry (14 or 18).
    pub lse_offset: usize,
    /// Offset of the inner IP header (`lse_offset + 4`).
    pub inner_offset: usize,
    /// Inner IP version.
    pub inner_version: IpVersion,
    /// Inner source address (checked by the worker against the session's
    /// client on client-to-server labels).
    pub inner_src: IpAddr,
    /// Inner TCP flags, when the inner packet is TCP (and not a non-first
    /// fragment).
    pub tcp_flags: Option<TcpFlags>,
}

/// An ARP packet (Ethernet / IPv4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpFrame {
    /// Raw 802.1Q TCI if tagged.
    pub vlan_tci: Option<u16>,
    /// Operation.
    pub operation: arp::Operation,
    /// Sender MAC.
    pub sender_mac: MacAddr,
    /// Sender IPv4.
    pub sender_ip: Ipv4Addr,
    /// Target MAC.
    pub target_mac: MacAddr,
    /// Target IPv4.
    pub target_ip: Ipv4Addr,
}

/// Neighbour solicitation or advertisement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NdKind {
    /// NS (type 135).
    Solicit,
    /// NA (type 136) with its flags.
    Advert(NaFlags),
}

/// An IPv6 neighbour discovery NS / NA that passed the RFC 4861 §7.1 checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NdFrame {
    /// Raw 802.1Q TCI if tagged.
    pub vlan_tci: Option<u16>,
    /// Offset of the IPv6 header.
    pub l3_offset: usize,
    /// IPv6 source (`::` for duplicate address detection).
    pub src: Ipv6Addr,
    /// IPv6 destination.
    pub dst: Ipv6Addr,
    /// NS or NA.
    pub kind: NdKind,
    /// Target address.
    pub target: Ipv6Addr,
    /// Source (NS) or target (NA) link-layer address option.
    pub lladdr: Option<MacAddr>,
}

/// What follows the IP header(s) of an unlabelled frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4 {
    /// TCP with its flags.
    Tcp {
        /// Flags.
        flags: TcpFlags,
    },
    /// UDP.
    Udp,
    /// ICMP (for IPv4).
    Icmpv4 {
        /// Type.
        msg: icmpv4::Message,
        /// Code.
        code: u8,
    },
    /// ICMPv6 other than NS / NA.
    Icmpv6 {
        /// Type.
        msg: icmpv6::Message,
        /// Code.
        code: u8,
    },
    /// Any other protocol (ports in the flow key are 0).
    Other,
}

/// An unlabelled IPv4 / IPv6 packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpFrame {
    /// Raw 802.1Q TCI if tagged.
    pub vlan_tci: Option<u16>,
    /// Offset of the IP header.
    pub l3_offset: usize,
    /// Version.
    pub version: IpVersion,
    /// (protocol, source, source port, destination, destination port);
    /// ports 0 for protocols without ports.
    pub flow: FlowKey,
    /// TTL / hop limit.
    pub ttl: u8,
    /// Offset of the upper-layer header.
    pub l4_offset: usize,
    /// End of the IP packet in the frame (Ethernet padding excluded).
    pub l3_end: usize,
    /// What the upper layer is.
    pub l4: L4,
    /// First fragment of a fragmented packet (MF = 1, offset 0).
    pub first_fragment: bool,
}

/// The outcome of [`classify`](crate::classify()).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Classified {
    /// MPLS unicast with one valid label: switch by label.
    Labelled(LabelledFrame),
    /// ARP.
    Arp(ArpFrame),
    /// IPv6 NS / NA.
    Nd(NdFrame),
    /// Unlabelled IPv4 / IPv6 (TCP, UDP, ICMP, other).
    Ip(IpFrame),
    /// Another EtherType (LLDP, MPLS multicast, QinQ, ...).
    Other {
        /// Raw 802.1Q TCI if tagged.
        vlan_tci: Option<u16>,
        /// The EtherType.
        ethertype: u16,
    },
}
