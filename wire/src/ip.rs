//! Types shared by IPv4 and IPv6: the version, the protocol / next header
//! numbers (IANA "Assigned Internet Protocol Numbers"), and the flow key
//! ([`FlowKey`], the 5-tuple; [`crate::flow`] reads it from a frame).

use core::net::IpAddr;

/// IP version, from the first nibble of the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpVersion {
    /// IPv4 (RFC 791).
    V4,
    /// IPv6 (RFC 8200).
    V6,
}

impl IpVersion {
    /// The version of the IP packet that starts with `first_byte`, if 4 or 6.
    #[inline]
    pub fn of_first_byte(first_byte: u8) -> Option<IpVersion> {
        match first_byte >> 4 {
            4 => Some(IpVersion::V4),
            6 => Some(IpVersion::V6),
            _ => None,
        }
    }

    /// The Ethernet type that carries this version.
    pub fn ethertype(self) -> crate::EtherType {
        match self {
            IpVersion::V4 => crate::EtherType::Ipv4,
            IpVersion::V6 => crate::EtherType::Ipv6,
        }
    }
}

/// IPv4 protocol / IPv6 next header. Unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IpProtocol {
    /// IPv6 hop-by-hop options (0).
    HopByHop,
    /// ICMP for IPv4 (1).
    Icmp,
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
    /// IPv6 routing header (43).
    Ipv6Route,
    /// IPv6 fragment header (44).
    Ipv6Frag,
    /// ESP (50).
    Esp,
    /// AH (51).
    Ah,
    /// ICMPv6 (58).
    Icmpv6,
    /// IPv6 "no next header" (59).
    Ipv6NoNxt,
    /// IPv6 destination options (60).
    Ipv6Opts,
    /// Anything else.
    Unknown(u8),
}

impl From<u8> for IpProtocol {
    fn from(v: u8) -> Self {
        match v {
            0 => IpProtocol::HopByHop,
            1 => IpProtocol::Icmp,
            6 => IpProtocol::Tcp,
            17 => IpProtocol::Udp,
            43 => IpProtocol::Ipv6Route,
            44 => IpProtocol::Ipv6Frag,
            50 => IpProtocol::Esp,
            51 => IpProtocol::Ah,
            58 => IpProtocol::Icmpv6,
            59 => IpProtocol::Ipv6NoNxt,
            60 => IpProtocol::Ipv6Opts,
            other => IpProtocol::Unknown(other),
        }
    }
}

impl From<IpProtocol> for u8 {
    fn from(p: IpProtocol) -> u8 {
        match p {
            IpProtocol::HopByHop => 0,
            IpProtocol::Icmp => 1,
            IpProtocol::Tcp => 6,
            IpProtocol::Udp => 17,
            IpProtocol::Ipv6Route => 43,
            IpProtocol::Ipv6Frag => 44,
            IpProtocol::Esp => 50,
            IpProtocol::Ah => 51,
            IpProtocol::Icmpv6 => 58,
            IpProtocol::Ipv6NoNxt => 59,
            IpProtocol::Ipv6Opts => 60,
            IpProtocol::Unknown(v) => v,
        }
    }
}

/// A 5-tuple as seen on the wire (source = sender of this packet).
///
/// Addresses are `core::net::IpAddr` so `slb-core` can key its session table
/// on them directly. Ports are 0 for protocols without ports.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_roundtrip_keeps_unknown() {
        for v in 0..=255u8 {
            assert_eq!(u8::from(IpProtocol::from(v)), v);
        }
        assert_eq!(IpProtocol::from(132), IpProtocol::Unknown(132));
    }

    #[test]
    fn version_nibble() {
        assert_eq!(IpVersion::of_first_byte(0x45), Some(IpVersion::V4));
        assert_eq!(IpVersion::of_first_byte(0x60), Some(IpVersion::V6));
        assert_eq!(IpVersion::of_first_byte(0x00), None);
    }
}
