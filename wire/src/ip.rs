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

/// True when `a` can never be the source of a client's packet: RFC 1122
/// §3.2.1.3 and RFC 1812 §5.3.7 (a host and a router discard such
/// packets), RFC 6890's special-purpose registries ("Source: False", or
/// not forwardable beyond their link). slbd drops a new session's first
/// packet from such a source before admission (`docs/security.md` lists
/// what is in, what is not, and why).
///
/// IPv4: 0.0.0.0/8 (this network), 127.0.0.0/8 (loopback),
/// 169.254.0.0/16 (link-local, RFC 3927 §2.7: never forwarded),
/// 224.0.0.0/4 (multicast), 240.0.0.0/4 (reserved, with 255.255.255.255).
/// IPv6: `::` and `::1`, `::ffff:0:0/96` (IPv4-mapped, RFC 4291 §2.5.5.2:
/// never on the wire), fe80::/10 (link-local, RFC 4291 §2.5.6), ff00::/8
/// (multicast).
#[inline]
pub fn martian_source(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(a) => {
            let [b0, b1, ..] = a.octets();
            b0 == 0 || b0 == 127 || b0 >= 224 || (b0 == 169 && b1 == 254)
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            let head_zero = s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0;
            (head_zero && s[5] == 0 && s[6] == 0 && s[7] <= 1)
                || (head_zero && s[5] == 0xffff)
                || s[0] & 0xffc0 == 0xfe80
                || s[0] & 0xff00 == 0xff00
        }
    }
}

#[cfg(test)]
mod tests {
    use super::martian_source;

    #[test]
    fn martian_sources() {
        for a in [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.1.1",
            "224.0.0.1",
            "239.255.255.255",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:198.18.0.1",
            "fe80::1",
            "febf::1",
            "ff02::1",
            "ff0e::1",
        ] {
            assert!(martian_source(a.parse().unwrap()), "{a}");
        }
        for a in [
            "1.0.0.0",
            "10.0.0.1",
            "126.255.255.255",
            "128.0.0.1",
            "169.253.0.1",
            "172.16.0.1",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.11",
            "223.255.255.255",
            "::2",
            "64:ff9b::c612:b",
            "2001:db8::11",
            "fc00::1",
            "fec0::1",
            "fe7f::1",
        ] {
            assert!(!martian_source(a.parse().unwrap()), "{a}");
        }
    }
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
