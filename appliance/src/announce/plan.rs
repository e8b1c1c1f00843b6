//! What to announce, and what to change to get there: pure functions of
//! the services' health and the drain flag, no netlink.

use std::collections::BTreeSet;
use std::net::IpAddr;

/// One service as the announcer sees it: its VIP, and whether any of its
/// servers takes new sessions (up, healthy, weighted, not being removed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VipHealth {
    pub vip: IpAddr,
    pub serving: bool,
}

/// The VIPs to announce: none while draining, else every VIP with at
/// least one serving service (several services may share a VIP on
/// different ports: one serving is enough).
pub fn desired(services: &[VipHealth], draining: bool) -> BTreeSet<IpAddr> {
    if draining {
        return BTreeSet::new();
    }
    services
        .iter()
        .filter(|s| s.serving)
        .map(|s| s.vip)
        .collect()
}

/// What turns `current` into `desired`: routes to add and to remove, each
/// in address order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub add: Vec<IpAddr>,
    pub remove: Vec<IpAddr>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

pub fn changes(desired: &BTreeSet<IpAddr>, current: &BTreeSet<IpAddr>) -> Changes {
    Changes {
        add: desired.difference(current).copied().collect(),
        remove: current.difference(desired).copied().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn svc(vip: &str, serving: bool) -> VipHealth {
        VipHealth {
            vip: ip(vip),
            serving,
        }
    }

    fn set(v: &[&str]) -> BTreeSet<IpAddr> {
        v.iter().map(|s| ip(s)).collect()
    }

    #[test]
    fn a_vip_is_wanted_while_one_of_its_services_serves() {
        let services = [
            svc("198.18.100.1", false), // web:80, every server down
            svc("198.18.100.1", true),  // web:8080 on the same VIP
            svc("198.18.100.2", false),
            svc("2001:db8:100::1", true),
        ];
        assert_eq!(
            desired(&services, false),
            set(&["198.18.100.1", "2001:db8:100::1"])
        );
        assert_eq!(desired(&[], false), set(&[]));
        assert_eq!(desired(&[svc("198.18.100.2", false)], false), set(&[]));
    }

    #[test]
    fn draining_wants_nothing() {
        let services = [svc("198.18.100.1", true), svc("2001:db8:100::1", true)];
        assert!(desired(&services, true).is_empty());
    }

    #[test]
    fn changes_are_the_differences_only() {
        let c = changes(
            &set(&["198.18.100.1", "198.18.100.3", "2001:db8:100::1"]),
            &set(&["198.18.100.1", "198.18.100.2"]),
        );
        assert_eq!(c.add, [ip("198.18.100.3"), ip("2001:db8:100::1")]);
        assert_eq!(c.remove, [ip("198.18.100.2")]);
        assert!(!c.is_empty());
        let same = set(&["198.18.100.1"]);
        assert!(changes(&same, &same).is_empty());
        assert_eq!(
            changes(&set(&[]), &same),
            Changes {
                add: vec![],
                remove: vec![ip("198.18.100.1")]
            }
        );
    }
}
