//! Address forms the configuration uses: IPv4 / IPv6 interface addresses
//! with a prefix length (CIDR, RFC 4632 / RFC 4291 section 2.3) and
//! Ethernet MAC addresses.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An IPv4 interface address with its prefix length: `198.18.0.1/24` is
/// the address 198.18.0.1 on the subnet 198.18.0.0/24.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ipv4Cidr {
    pub address: Ipv4Addr,
    /// 0..=32.
    pub prefix_len: u8,
}

impl Ipv4Cidr {
    /// `None` when `prefix_len > 32`.
    pub fn new(address: Ipv4Addr, prefix_len: u8) -> Option<Ipv4Cidr> {
        (prefix_len <= 32).then_some(Ipv4Cidr {
            address,
            prefix_len,
        })
    }

    pub fn mask(&self) -> u32 {
        u32::MAX
            .checked_shl(32 - u32::from(self.prefix_len))
            .unwrap_or(0)
    }

    /// The subnet's first address (all host bits zero).
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.address) & self.mask())
    }

    /// The subnet's last address (all host bits one).
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.address) | !self.mask())
    }

    /// Whether `address` is on this subnet.
    pub fn contains(&self, address: Ipv4Addr) -> bool {
        u32::from(address) & self.mask() == u32::from(self.network())
    }

    /// Whether the two subnets share any address.
    pub fn overlaps(&self, other: &Ipv4Cidr) -> bool {
        self.contains(other.network()) || other.contains(self.network())
    }

    /// Parses `a.b.c.d/len`; the error is a reason for a message.
    pub fn parse(s: &str) -> Result<Ipv4Cidr, String> {
        let (address, len) = split_cidr(s)?;
        let address: Ipv4Addr = address
            .parse()
            .map_err(|_| format!("`{address}` is not an IPv4 address"))?;
        match len.parse::<u8>() {
            Ok(len) if len <= 32 => Ok(Ipv4Cidr {
                address,
                prefix_len: len,
            }),
            _ => Err(format!("prefix length must be 0 to 32 (got `{len}`)")),
        }
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

/// An IPv6 interface address with its prefix length: `2001:db8::1/64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ipv6Cidr {
    pub address: Ipv6Addr,
    /// 0..=128.
    pub prefix_len: u8,
}

impl Ipv6Cidr {
    /// `None` when `prefix_len > 128`.
    pub fn new(address: Ipv6Addr, prefix_len: u8) -> Option<Ipv6Cidr> {
        (prefix_len <= 128).then_some(Ipv6Cidr {
            address,
            prefix_len,
        })
    }

    pub fn mask(&self) -> u128 {
        u128::MAX
            .checked_shl(128 - u32::from(self.prefix_len))
            .unwrap_or(0)
    }

    /// The subnet's first address (the subnet-router anycast address).
    pub fn network(&self) -> Ipv6Addr {
        Ipv6Addr::from(u128::from(self.address) & self.mask())
    }

    /// Whether `address` is on this subnet.
    pub fn contains(&self, address: Ipv6Addr) -> bool {
        u128::from(address) & self.mask() == u128::from(self.network())
    }

    /// Whether the two subnets share any address.
    pub fn overlaps(&self, other: &Ipv6Cidr) -> bool {
        self.contains(other.network()) || other.contains(self.network())
    }

    /// Parses `addr/len`; the error is a reason for a message.
    pub fn parse(s: &str) -> Result<Ipv6Cidr, String> {
        let (address, len) = split_cidr(s)?;
        let address: Ipv6Addr = address
            .parse()
            .map_err(|_| format!("`{address}` is not an IPv6 address"))?;
        match len.parse::<u8>() {
            Ok(len) if len <= 128 => Ok(Ipv6Cidr {
                address,
                prefix_len: len,
            }),
            _ => Err(format!("prefix length must be 0 to 128 (got `{len}`)")),
        }
    }
}

impl fmt::Display for Ipv6Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

/// A network prefix of an access list (`allow` / `deny`):
/// `198.18.0.0/24`, `2001:db8::/32`, or a lone address (a /32 or /128).
/// Host bits must be zero: `198.18.0.1/24` is an interface address, not a
/// network, and is refused rather than silently widened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Prefix {
    pub network: IpAddr,
    /// 0..=32 (IPv4) or 0..=128 (IPv6).
    pub len: u8,
}

impl Prefix {
    /// Parses `network/len` or a lone address; the error is a reason for a
    /// message.
    pub fn parse(s: &str) -> Result<Prefix, String> {
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{addr}` is not an IPv4 or IPv6 address"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => max,
            Some(l) => match l.parse::<u8>() {
                Ok(l) if l <= max => l,
                _ => return Err(format!("prefix length must be 0 to {max} (got `{l}`)")),
            },
        };
        let p = Prefix { network, len };
        let masked = p.masked();
        if masked != network {
            return Err(format!(
                "{network}/{len} has host bits set: the network is {masked}/{len}"
            ));
        }
        Ok(p)
    }

    /// The network with its host bits cleared.
    fn masked(&self) -> IpAddr {
        match self.network {
            IpAddr::V4(a) => {
                let m = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
            }
            IpAddr::V6(a) => {
                let m = u128::MAX
                    .checked_shl(128 - u32::from(self.len))
                    .unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(a) & m))
            }
        }
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.len)
    }
}

fn split_cidr(s: &str) -> Result<(&str, &str), String> {
    s.split_once('/')
        .ok_or_else(|| format!("must be address/prefix-length, like 198.18.0.1/24 (got `{s}`)"))
}

/// Whether `address` is on the subnet of `v4` or `v6` (whichever matches
/// its family).
pub(crate) fn on_subnet(v4: Option<Ipv4Cidr>, v6: Option<Ipv6Cidr>, address: IpAddr) -> bool {
    match address {
        IpAddr::V4(a) => v4.is_some_and(|c| c.contains(a)),
        IpAddr::V6(a) => v6.is_some_and(|c| c.contains(a)),
    }
}

/// Parses `02:00:00:00:01:11` (hex digits, either case; `-` also accepted
/// as the separator).
pub fn parse_mac(s: &str) -> Result<[u8; 6], String> {
    let bad = || format!("must be six hex octets like 02:00:00:00:01:11 (got `{s}`)");
    let sep = if s.contains('-') { '-' } else { ':' };
    let mut mac = [0u8; 6];
    let mut parts = s.split(sep);
    for octet in &mut mac {
        let part = parts.next().ok_or_else(bad)?;
        if part.len() != 2 {
            return Err(bad());
        }
        *octet = u8::from_str_radix(part, 16).map_err(|_| bad())?;
    }
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(mac)
}

/// `02:00:00:00:01:11`, lower case.
pub fn format_mac(mac: &[u8; 6]) -> String {
    let [a, b, c, d, e, f] = mac;
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_subnet_arithmetic() {
        let c = Ipv4Cidr::parse("198.18.1.1/24").unwrap();
        assert_eq!(c.network(), Ipv4Addr::new(198, 18, 1, 0));
        assert_eq!(c.broadcast(), Ipv4Addr::new(198, 18, 1, 255));
        assert!(c.contains(Ipv4Addr::new(198, 18, 1, 200)));
        assert!(!c.contains(Ipv4Addr::new(198, 18, 2, 1)));
        assert_eq!(c.to_string(), "198.18.1.1/24");
        let all = Ipv4Cidr::new(Ipv4Addr::new(1, 2, 3, 4), 0).unwrap();
        assert!(all.contains(Ipv4Addr::new(9, 9, 9, 9)));
        let host = Ipv4Cidr::new(Ipv4Addr::new(1, 2, 3, 4), 32).unwrap();
        assert!(host.contains(Ipv4Addr::new(1, 2, 3, 4)));
        assert!(!host.contains(Ipv4Addr::new(1, 2, 3, 5)));
        assert!(c.overlaps(&Ipv4Cidr::parse("198.18.0.0/16").unwrap()));
        assert!(!c.overlaps(&Ipv4Cidr::parse("198.18.0.1/24").unwrap()));
    }

    #[test]
    fn ipv6_subnet_arithmetic() {
        let c = Ipv6Cidr::parse("2001:db8:1::1/64").unwrap();
        assert_eq!(c.network(), "2001:db8:1::".parse::<Ipv6Addr>().unwrap());
        assert!(c.contains("2001:db8:1::11".parse().unwrap()));
        assert!(!c.contains("2001:db8:2::11".parse().unwrap()));
        assert_eq!(c.to_string(), "2001:db8:1::1/64");
    }

    #[test]
    fn cidr_parse_errors() {
        assert!(Ipv4Cidr::parse("198.18.0.1")
            .unwrap_err()
            .contains("address/prefix-length"));
        assert!(Ipv4Cidr::parse("198.18.0.1/33")
            .unwrap_err()
            .contains("0 to 32"));
        assert!(Ipv4Cidr::parse("2001:db8::1/64")
            .unwrap_err()
            .contains("not an IPv4"));
        assert!(Ipv6Cidr::parse("2001:db8::1/129")
            .unwrap_err()
            .contains("0 to 128"));
    }

    #[test]
    fn macs() {
        let mac = parse_mac("02:00:00:00:01:1F").unwrap();
        assert_eq!(mac, [2, 0, 0, 0, 1, 0x1f]);
        assert_eq!(format_mac(&mac), "02:00:00:00:01:1f");
        assert_eq!(parse_mac("02-00-00-00-01-1f").unwrap(), mac);
        for bad in [
            "",
            "02:00:00:00:01",
            "02:00:00:00:01:11:22",
            "2:0:0:0:1:11",
            "zz:00:00:00:01:11",
        ] {
            assert!(parse_mac(bad).is_err(), "{bad}");
        }
    }
}
