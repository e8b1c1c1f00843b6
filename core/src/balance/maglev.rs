//! Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable
//! Software Network Load Balancer", NSDI 2016, section 3.4) and the stable
//! hash it needs.
//!
//! The lookup table has `M` entries (a prime, default 65,537). Each server has
//! a permutation of `0..M` given by `offset = h1(name) mod M` and
//! `skip = h2(name) mod (M - 1) + 1`; servers take turns claiming their next
//! unclaimed preferred entry until the table is full (the paper's
//! Pseudocode 1). Weights: in each round a server earns `weight` credit and
//! claims one entry per `max weight` of credit, so shares follow weights and
//! the heaviest servers claim one entry every round (the table always fills).
//!
//! Appliances agree without sharing state because everything is a function of
//! the server addresses, weights and `M`: the hash is fixed (no random seed)
//! and servers take turns in address order, not in the order they were added.
//!
//! Build: O(M log M) expected for equal weights (the paper's bound), done
//! only when the set of in-service servers or a weight changes.
//! Lookup: one hash of the key plus one table read.

use std::net::IpAddr;

const K0: u64 = 0x9e37_79b9_7f4a_7c15;
const K1: u64 = 0xbf58_476d_1ce4_e5b9;
const K2: u64 = 0x94d0_49bb_1331_11eb;
const K3: u64 = 0xa076_1d64_78bd_642f;

#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let r = (a as u128).wrapping_mul(b as u128);
    (r as u64) ^ ((r >> 64) as u64)
}

/// A fixed (unseeded by process randomness) 64-bit hash, identical on every
/// appliance and every run. Not DoS-resistant: only used to index consistent
/// tables, never a hash map.
pub fn stable_hash(bytes: &[u8], seed: u64) -> u64 {
    let mut h = seed ^ K0.wrapping_mul(bytes.len() as u64 + 1);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let word = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        h = fold_mul(word ^ K1, h ^ K2);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut buf = [0u8; 8];
        buf[..rest.len()].copy_from_slice(rest);
        h = fold_mul(u64::from_le_bytes(buf) ^ K1, h ^ K2);
    }
    fold_mul(h ^ K3, bytes.len() as u64 ^ K1)
}

/// Address as 16 bytes (IPv4 as IPv4-mapped IPv6), for hashing.
pub fn addr_bytes(addr: IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.octets(),
    }
}

/// Default table size: the prime the paper uses.
pub const DEFAULT_TABLE_SIZE: u32 = 65_537;

/// True if `n` is prime (trial division; used on configuration only).
pub fn is_prime(n: u32) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2u32;
    while (d as u64) * (d as u64) <= n as u64 {
        // Not `is_multiple_of`: the workspace MSRV (1.85) predates it.
        if matches!(n % d, 0) {
            return false;
        }
        d += 1;
    }
    true
}

/// A member of the table: a server's name (its address) and weight, plus the
/// value the table stores for it.
#[derive(Clone, Copy, Debug)]
pub struct Member {
    pub addr: IpAddr,
    pub weight: u32,
    pub value: u32,
}

/// A populated Maglev lookup table.
#[derive(Clone, Debug, Default)]
pub struct MaglevTable {
    entries: Vec<u32>,
}

/// Marks an unclaimed entry during population.
const EMPTY: u32 = u32::MAX;

impl MaglevTable {
    /// Builds the table of `size` (a prime) entries over `members` (weight
    /// > 0). Empty if there are no members.
    pub fn build(size: u32, members: &[Member]) -> MaglevTable {
        debug_assert!(is_prime(size));
        let mut members: Vec<Member> = members.iter().copied().filter(|m| m.weight > 0).collect();
        if members.is_empty() {
            return MaglevTable::default();
        }
        members.sort_by_key(|m| addr_bytes(m.addr));
        let m = size as u64;
        let mut pos = Vec::with_capacity(members.len());
        let mut skip = Vec::with_capacity(members.len());
        for member in &members {
            let name = addr_bytes(member.addr);
            pos.push(stable_hash(&name, 1) % m);
            skip.push(stable_hash(&name, 2) % (m - 1) + 1);
        }
        let max_weight = members.iter().map(|m| m.weight as u64).max().unwrap_or(1);
        let mut credit = vec![0u64; members.len()];
        let mut entries = vec![EMPTY; size as usize];
        let mut filled = 0u64;
        'fill: loop {
            for (i, member) in members.iter().enumerate() {
                credit[i] += member.weight as u64;
                if credit[i] < max_weight {
                    continue;
                }
                credit[i] -= max_weight;
                while entries[pos[i] as usize] != EMPTY {
                    pos[i] = (pos[i] + skip[i]) % m;
                }
                entries[pos[i] as usize] = member.value;
                pos[i] = (pos[i] + skip[i]) % m;
                filled += 1;
                if filled == m {
                    break 'fill;
                }
            }
        }
        MaglevTable { entries }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entry for `hash`, and the following entries in table order (for
    /// falling back past servers that are full).
    pub fn probe(&self, hash: u64) -> impl Iterator<Item = u32> + '_ {
        let n = self.entries.len();
        let start = if n == 0 {
            0
        } else {
            (hash % n as u64) as usize
        };
        (0..n).map(move |i| self.entries[(start + i) % n])
    }

    pub fn entries(&self) -> &[u32] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn members(n: u32) -> Vec<Member> {
        (0..n)
            .map(|i| Member {
                addr: IpAddr::V4(Ipv4Addr::new(10, 0, (i >> 8) as u8, i as u8)),
                weight: 1,
                value: i,
            })
            .collect()
    }

    const PINNED: u64 = 561_318_019_301_280_691;

    #[test]
    fn hash_is_stable() {
        // Pinned values: appliances built from different commits must agree.
        assert_eq!(stable_hash(b"", 0), stable_hash(b"", 0));
        assert_ne!(stable_hash(b"a", 0), stable_hash(b"a", 1));
        assert_ne!(stable_hash(b"12345678", 0), stable_hash(b"123456789", 0));
        assert_eq!(stable_hash(&[1, 2, 3], 7), PINNED);
    }

    #[test]
    fn primes() {
        assert!(is_prime(65_537));
        assert!(is_prime(251));
        assert!(!is_prime(65_536));
        assert!(!is_prime(1));
    }

    #[test]
    fn equal_shares_and_order_independence() {
        let ms = members(7);
        let t = MaglevTable::build(65_537, &ms);
        let mut counts = [0u32; 7];
        for &e in t.entries() {
            counts[e as usize] += 1;
        }
        let ideal = 65_537.0 / 7.0;
        for c in counts {
            assert!((c as f64 - ideal).abs() / ideal < 0.01, "{counts:?}");
        }
        let mut reversed = ms.clone();
        reversed.reverse();
        assert_eq!(MaglevTable::build(65_537, &reversed).entries(), t.entries());
    }

    #[test]
    fn weighted_shares() {
        let mut ms = members(4);
        for (i, m) in ms.iter_mut().enumerate() {
            m.weight = i as u32 + 1;
        }
        let t = MaglevTable::build(65_537, &ms);
        let mut counts = [0f64; 4];
        for &e in t.entries() {
            counts[e as usize] += 1.0;
        }
        for (i, c) in counts.iter().enumerate() {
            let want = (i as f64 + 1.0) / 10.0;
            assert!((c / 65_537.0 - want).abs() < 0.01, "{counts:?}");
        }
    }

    #[test]
    fn removal_disrupts_little() {
        let ms = members(10);
        let before = MaglevTable::build(65_537, &ms);
        let after = MaglevTable::build(65_537, &ms[..9]);
        let mut moved = 0;
        let mut kept_population = 0;
        for (b, a) in before.entries().iter().zip(after.entries()) {
            if *b != 9 {
                kept_population += 1;
                if a != b {
                    moved += 1;
                }
            }
        }
        let frac = moved as f64 / kept_population as f64;
        assert!(frac < 0.02, "{frac}");
    }
}
