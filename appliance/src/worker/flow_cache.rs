//! A worker's flow cache: plain clients' 5-tuples to their sessions'
//! client-to-server labels.

use hashbrown::HashTable;
use slb_wire::FlowKey;
use std::net::IpAddr;

/// A worker's flow cache: client 5-tuple -> client-to-server label, for
/// plain clients. One entry is 16 bytes, key and label together (the cache
/// was a `HashMap<FlowKey, u32>` before: 44-byte entries, the key hashed
/// field by field), so it costs ~17 bytes per bucket with hashbrown's
/// control byte, and a lookup hashes two words.
///
/// Entry `[w0, w1]`, label in bits 8..28 of `w1`, tag in bits 28..32:
/// - IPv4 (tag 4): exact. `w0 = src << 32 | dst`,
///   `w1 = sport << 48 | dport << 32 | 4 << 28 | label << 8 | protocol`.
///   Two different IPv4 5-tuples never share a key, so a frame can only be
///   pushed onto the label of its own flow: no collision to reason about.
/// - IPv6 (tag 6): a 104-bit fingerprint of the 5-tuple (w0 and the high
///   32 and low 8 bits of w1): SipHash-1-3 (std's keyed hasher, a PRF)
///   under a secret random 128-bit key per worker. A sender that does not
///   know the key has no better way to hit one of `F` cached flows than
///   guessing: `F / 2^104` per frame (2^20 flows, 10^9 frames/s: 10^8
///   years for an even chance). And a pushed frame must still pass the
///   session's client address check (`FastPath::unlabelled`), so a
///   collision would also need the victim's source address, with which an
///   attacker could hit the real 5-tuple far more cheaply (a 16-bit port).
///
/// Buckets are placed by hashbrown's default hasher (foldhash, seeded at
/// random per process) over the key words, so crafted IPv4 tuples cannot
/// pile into one bucket.
pub struct FlowCache {
    table: HashTable<[u64; 2]>,
    hasher: hashbrown::DefaultHashBuilder,
    v6key: std::hash::RandomState,
}

const FLOW_LABEL_SHIFT: u32 = 8;
const FLOW_LABEL_BITS: u64 = 0xf_ffff << FLOW_LABEL_SHIFT;

impl FlowCache {
    pub fn with_capacity(n: usize) -> FlowCache {
        FlowCache {
            table: HashTable::with_capacity(n),
            hasher: hashbrown::DefaultHashBuilder::default(),
            v6key: std::hash::RandomState::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The key words of a flow (label bits 0).
    #[inline(always)]
    fn key(&self, k: &FlowKey) -> [u64; 2] {
        match (k.src, k.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => [
                (u64::from(u32::from(s)) << 32) | u64::from(u32::from(d)),
                (u64::from(k.src_port) << 48)
                    | (u64::from(k.dst_port) << 32)
                    | (4 << 28)
                    | u64::from(u8::from(k.protocol)),
            ],
            _ => self.fingerprint(k),
        }
    }

    #[cold]
    #[inline(never)]
    fn fingerprint(&self, k: &FlowKey) -> [u64; 2] {
        use std::hash::BuildHasher;
        // Two domain-separated PRF outputs: 64 + 40 bits kept.
        let a = self.v6key.hash_one((0u8, k));
        let b = self.v6key.hash_one((1u8, k));
        [a, (b & 0xffff_ffff_0000_00ff) | (6 << 28)]
    }

    #[inline(always)]
    fn hash(hasher: &hashbrown::DefaultHashBuilder, key: [u64; 2]) -> u64 {
        use std::hash::BuildHasher;
        hasher.hash_one(key)
    }

    #[inline(always)]
    fn key_of(e: &[u64; 2]) -> [u64; 2] {
        [e[0], e[1] & !FLOW_LABEL_BITS]
    }

    /// The client-to-server label of `k`'s session, if cached.
    #[inline]
    pub fn get(&self, k: &FlowKey) -> Option<u32> {
        let key = self.key(k);
        self.table
            .find(Self::hash(&self.hasher, key), |e| Self::key_of(e) == key)
            .map(|e| ((e[1] & FLOW_LABEL_BITS) >> FLOW_LABEL_SHIFT) as u32)
    }

    /// Caches (or replaces) `k -> label` (labels are 20 bits; anything
    /// else is not cached).
    pub fn insert(&mut self, k: &FlowKey, label: u32) {
        if label > 0xf_ffff {
            return;
        }
        let key = self.key(k);
        let hasher = &self.hasher;
        let v = [key[0], key[1] | (u64::from(label) << FLOW_LABEL_SHIFT)];
        match self.table.entry(
            Self::hash(hasher, key),
            |e| Self::key_of(e) == key,
            |e| Self::hash(hasher, Self::key_of(e)),
        ) {
            hashbrown::hash_table::Entry::Occupied(mut o) => *o.get_mut() = v,
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert(v);
            }
        }
    }

    pub fn remove(&mut self, k: &FlowKey) {
        let key = self.key(k);
        if let Ok(o) = self
            .table
            .find_entry(Self::hash(&self.hasher, key), |e| Self::key_of(e) == key)
        {
            o.remove();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slb_wire::IpProtocol;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn k4(src: u32, sport: u16, proto: IpProtocol) -> FlowKey {
        FlowKey {
            protocol: proto,
            src: IpAddr::V4(Ipv4Addr::from(src)),
            src_port: sport,
            dst: IpAddr::V4(Ipv4Addr::new(198, 18, 100, 1)),
            dst_port: 80,
        }
    }

    #[test]
    fn exact_for_ipv4_and_keyed_for_ipv6() {
        let mut c = FlowCache::with_capacity(16);
        let a = k4(0xc612_0001, 1024, IpProtocol::Tcp);
        let b = k4(0xc612_0001, 1024, IpProtocol::Udp);
        let d = k4(0xc612_0001, 1025, IpProtocol::Tcp);
        c.insert(&a, 0xf_ffff);
        c.insert(&b, 17);
        assert_eq!(c.get(&a), Some(0xf_ffff));
        assert_eq!(c.get(&b), Some(17));
        assert_eq!(c.get(&d), None);
        c.insert(&a, 19); // replaces
        assert_eq!((c.get(&a), c.len()), (Some(19), 2));
        c.remove(&a);
        assert_eq!((c.get(&a), c.get(&b), c.len()), (None, Some(17), 1));
        c.insert(&d, 0x10_0000); // not a label: not cached
        assert_eq!(c.get(&d), None);
        let v6 = FlowKey {
            protocol: IpProtocol::Tcp,
            src: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7)),
            src_port: 1024,
            dst: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 1, 1)),
            dst_port: 80,
        };
        let mut v6b = v6;
        v6b.src_port = 1025;
        c.insert(&v6, 21);
        assert_eq!((c.get(&v6), c.get(&v6b)), (Some(21), None));
        c.remove(&v6);
        assert_eq!(c.get(&v6), None);
        // Many flows: all found, none confused.
        for i in 0..50_000u32 {
            c.insert(
                &k4(
                    0x0a00_0000 + i / 1000,
                    (i % 1000) as u16 + 1,
                    IpProtocol::Tcp,
                ),
                16 + i,
            );
        }
        for i in 0..50_000u32 {
            assert_eq!(
                c.get(&k4(
                    0x0a00_0000 + i / 1000,
                    (i % 1000) as u16 + 1,
                    IpProtocol::Tcp
                )),
                Some(16 + i)
            );
        }
    }
}
