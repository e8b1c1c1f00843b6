//! Per-service access lists: allow and deny lists of IPv4 and IPv6
//! prefixes, checked once per new session at admission (never for a packet
//! of an existing session, which does not reach the scheduler's admission).
//!
//! A list is one hash set of masked prefixes per prefix length present, and
//! the lengths present in descending order. A lookup masks the client
//! address once per length present and probes that length's set: at most
//! 33 probes for IPv4 and 129 for IPv6, whatever the number of prefixes, so
//! a list of 10,000 prefixes costs what a list of 10 does when they share
//! the same few lengths (the usual case: /24, /32, /48, /64). Membership is
//! all admission needs (no longest match), so the first hit answers.

use std::net::IpAddr;

use hashbrown::HashSet;

use crate::admission::Refusal;

/// A set of IPv4 and IPv6 prefixes with lookup cost independent of its
/// size.
#[derive(Clone, Debug, Default)]
pub struct PrefixSet {
    v4: Lengths<u32>,
    v6: Lengths<u128>,
}

#[derive(Clone, Debug)]
struct Lengths<T> {
    /// (prefix length, masked prefixes of that length), longest first.
    by_len: Vec<(u8, HashSet<T>)>,
}

impl<T> Default for Lengths<T> {
    fn default() -> Self {
        Lengths { by_len: Vec::new() }
    }
}

fn mask4(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    }
}

fn mask6(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    }
}

impl<T: Copy + Eq + std::hash::Hash> Lengths<T> {
    fn insert(&mut self, len: u8, masked: T) {
        match self.by_len.binary_search_by(|(l, _)| len.cmp(l)) {
            Ok(i) => {
                self.by_len[i].1.insert(masked);
            }
            Err(i) => {
                let mut set = HashSet::new();
                set.insert(masked);
                self.by_len.insert(i, (len, set));
            }
        }
    }

    fn contains(&self, addr: T, mask: impl Fn(T, u8) -> T) -> bool {
        self.by_len
            .iter()
            .any(|(len, set)| set.contains(&mask(addr, *len)))
    }

    fn len(&self) -> usize {
        self.by_len.iter().map(|(_, s)| s.len()).sum()
    }
}

impl PrefixSet {
    /// An empty set.
    pub fn new() -> PrefixSet {
        PrefixSet::default()
    }

    /// Adds `addr/len` (host bits are ignored; `len` is clamped to the
    /// family's width).
    pub fn insert(&mut self, addr: IpAddr, len: u8) {
        match addr {
            IpAddr::V4(a) => {
                let len = len.min(32);
                self.v4.insert(len, u32::from(a) & mask4(len));
            }
            IpAddr::V6(a) => {
                let len = len.min(128);
                self.v6.insert(len, u128::from(a) & mask6(len));
            }
        }
    }

    /// Whether a prefix of the set holds `addr`. An IPv4-mapped IPv6
    /// address is not an IPv4 address here: a session's client address is
    /// of its VIP's family.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => self.v4.contains(u32::from(a), |a, l| a & mask4(l)),
            IpAddr::V6(a) => self.v6.contains(u128::from(a), |a, l| a & mask6(l)),
        }
    }

    /// Distinct prefixes held.
    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    pub fn is_empty(&self) -> bool {
        self.v4.by_len.is_empty() && self.v6.by_len.is_empty()
    }

    /// Distinct prefix lengths held (the number of probes of a lookup is
    /// at most this, per family).
    pub fn lengths(&self) -> usize {
        self.v4.by_len.len() + self.v6.by_len.len()
    }
}

impl FromIterator<(IpAddr, u8)> for PrefixSet {
    fn from_iter<I: IntoIterator<Item = (IpAddr, u8)>>(iter: I) -> Self {
        let mut s = PrefixSet::new();
        for (a, l) in iter {
            s.insert(a, l);
        }
        s
    }
}

/// A service's access lists. The deny list is checked first: a client in
/// both is denied. An empty allow list allows every client that is not
/// denied; a non-empty one allows only its prefixes.
#[derive(Clone, Debug, Default)]
pub struct AccessLists {
    pub allow: PrefixSet,
    pub deny: PrefixSet,
}

impl AccessLists {
    /// No lists: every client is admitted (as far as the lists go).
    pub fn none() -> AccessLists {
        AccessLists::default()
    }

    /// Whether there is nothing to check.
    pub fn is_empty(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }

    /// `Err(Refusal::Denied)` when a deny prefix holds `client`,
    /// `Err(Refusal::NotAllowed)` when the allow list is not empty and no
    /// prefix of it holds `client`.
    pub fn check(&self, client: IpAddr) -> Result<(), Refusal> {
        if self.deny.contains(client) {
            return Err(Refusal::Denied);
        }
        if !self.allow.is_empty() && !self.allow.contains(client) {
            return Err(Refusal::NotAllowed);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn set(prefixes: &[(&str, u8)]) -> PrefixSet {
        prefixes.iter().map(|(a, l)| (ip(a), *l)).collect()
    }

    #[test]
    fn prefixes_of_every_length_and_both_families() {
        let s = set(&[
            ("198.18.0.0", 24),
            ("198.19.7.7", 32),
            ("10.0.0.0", 8),
            ("2001:db8:1::", 48),
            ("2001:db8::5", 128),
        ]);
        assert_eq!((s.len(), s.lengths()), (5, 5));
        for a in ["198.18.0.0", "198.18.0.255", "198.19.7.7", "10.255.1.2"] {
            assert!(s.contains(ip(a)), "{a}");
        }
        for a in ["198.18.1.0", "198.19.7.6", "11.0.0.0", "0.0.0.0"] {
            assert!(!s.contains(ip(a)), "{a}");
        }
        for a in ["2001:db8:1::1", "2001:db8:1:ffff::1", "2001:db8::5"] {
            assert!(s.contains(ip(a)), "{a}");
        }
        for a in ["2001:db8:2::1", "2001:db8::6", "::ffff:198.18.0.1"] {
            assert!(!s.contains(ip(a)), "{a}");
        }
        // Host bits are ignored; /0 holds its whole family only.
        let all4 = set(&[("1.2.3.4", 0)]);
        assert!(all4.contains(ip("255.255.255.255")));
        assert!(!all4.contains(ip("::1")));
        assert_eq!(set(&[("198.18.0.9", 24), ("198.18.0.0", 24)]).len(), 1);
    }

    #[test]
    fn deny_first_then_allow() {
        let mut acl = AccessLists::none();
        assert!(acl.is_empty());
        assert_eq!(acl.check(ip("198.18.0.1")), Ok(()));
        acl.deny = set(&[("198.18.0.66", 32)]);
        assert_eq!(acl.check(ip("198.18.0.1")), Ok(()));
        assert_eq!(acl.check(ip("198.18.0.66")), Err(Refusal::Denied));
        acl.allow = set(&[("198.18.0.0", 24)]);
        assert_eq!(acl.check(ip("198.18.0.1")), Ok(()));
        assert_eq!(acl.check(ip("198.18.0.66")), Err(Refusal::Denied));
        assert_eq!(acl.check(ip("198.18.9.1")), Err(Refusal::NotAllowed));
        // An allow list of one family refuses the other family.
        assert_eq!(acl.check(ip("2001:db8::1")), Err(Refusal::NotAllowed));
    }

    /// Thousands of prefixes: the answer matches a linear scan, and a
    /// lookup probes no more sets than there are distinct lengths.
    #[test]
    fn large_lists_agree_with_a_linear_scan() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let lens = [16u8, 20, 24, 28, 32];
        let prefixes: Vec<(u32, u8)> = (0..5000)
            .map(|_| {
                let l = lens[(next() % 5) as usize];
                ((next() as u32) & mask4(l), l)
            })
            .collect();
        let s: PrefixSet = prefixes
            .iter()
            .map(|&(a, l)| (IpAddr::V4(a.into()), l))
            .collect();
        assert_eq!(s.lengths(), 5);
        for i in 0..20_000u32 {
            // Half near a listed prefix, half random.
            let a = if i % 2 == 0 {
                prefixes[(i as usize / 2) % prefixes.len()].0 | (next() as u32 & 0xff)
            } else {
                next() as u32
            };
            let linear = prefixes.iter().any(|&(p, l)| a & mask4(l) == p);
            assert_eq!(s.contains(IpAddr::V4(a.into())), linear, "{a:#x}");
        }
    }
}
