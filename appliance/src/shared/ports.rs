//! The data path's view of slbd's ports: role, MAC, MTU, addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Which side of the load balancer a port faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortRole {
    /// Faces the clients: client-to-server labels and unlabelled client
    /// traffic come in here.
    Client,
    /// Faces the servers: server-to-client labels come in here.
    Server,
    /// One-arm: both.
    Both,
}

impl PortRole {
    #[inline]
    pub fn faces_clients(self) -> bool {
        matches!(self, PortRole::Client | PortRole::Both)
    }
    #[inline]
    pub fn faces_servers(self) -> bool {
        matches!(self, PortRole::Server | PortRole::Both)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            PortRole::Client => "client",
            PortRole::Server => "server",
            PortRole::Both => "both",
        }
    }
}

/// One port as the data path sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortInfo {
    pub name: String,
    pub role: PortRole,
    pub mac: [u8; 6],
    /// IP MTU: the largest L3 packet (label included) the port sends.
    pub mtu: u16,
    pub ipv4: Option<(Ipv4Addr, u8)>,
    pub ipv6: Option<(Ipv6Addr, u8)>,
}

impl PortInfo {
    /// A configured port with the MAC its device has.
    pub fn new(p: &slb_config::Port, mac: [u8; 6]) -> PortInfo {
        PortInfo {
            name: p.name.clone(),
            role: match p.role {
                slb_config::Role::Client => PortRole::Client,
                slb_config::Role::Server => PortRole::Server,
                slb_config::Role::Both => PortRole::Both,
            },
            mac,
            mtu: p.mtu,
            ipv4: p.ipv4.map(|c| (c.address, c.prefix_len)),
            ipv6: p.ipv6.map(|c| (c.address, c.prefix_len)),
        }
    }

    /// True when `a` is this port's own address.
    #[inline]
    pub fn owns(&self, a: IpAddr) -> bool {
        match a {
            IpAddr::V4(a) => self.ipv4.is_some_and(|(p, _)| p == a),
            IpAddr::V6(a) => self.ipv6.is_some_and(|(p, _)| p == a),
        }
    }

    /// This port's own address of `a`'s family (the source of what slbd
    /// itself sends toward `a`).
    pub fn address_like(&self, a: IpAddr) -> Option<IpAddr> {
        match a {
            IpAddr::V4(_) => self.ipv4.map(|(p, _)| IpAddr::V4(p)),
            IpAddr::V6(_) => self.ipv6.map(|(p, _)| IpAddr::V6(p)),
        }
    }

    /// True when `a` is on this port's subnet.
    pub fn on_link(&self, a: IpAddr) -> bool {
        match a {
            IpAddr::V4(a) => self.ipv4.is_some_and(|(p, len)| {
                let mask = if len == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(len))
                };
                u32::from(p) & mask == u32::from(a) & mask
            }),
            IpAddr::V6(a) => self.ipv6.is_some_and(|(p, len)| {
                let mask = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - u32::from(len))
                };
                u128::from(p) & mask == u128::from(a) & mask
            }),
        }
    }
}

/// The largest TCP MSS that keeps a labelled frame within `mtu`.
pub fn max_mss(mtu: u16, v6: bool) -> u16 {
    let ip_tcp = if v6 { 60 } else { 40 };
    mtu.saturating_sub(ip_tcp + slb_wire::mpls::LSE_LEN as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_and_mss() {
        let p = PortInfo {
            name: "c".into(),
            role: PortRole::Client,
            mac: [2, 0, 0, 0, 0, 1],
            mtu: 1500,
            ipv4: Some((Ipv4Addr::new(198, 18, 0, 1), 24)),
            ipv6: Some(("2001:db8::1".parse().unwrap(), 64)),
        };
        assert!(p.on_link("198.18.0.200".parse().unwrap()));
        assert!(!p.on_link("198.18.1.1".parse().unwrap()));
        assert!(p.on_link("2001:db8::ffff".parse().unwrap()));
        assert!(!p.on_link("2001:db8:1::1".parse().unwrap()));
        assert!(p.owns("198.18.0.1".parse().unwrap()));
        assert_eq!(max_mss(1500, false), 1456);
        assert_eq!(max_mss(1500, true), 1436);
    }
}
