//! A worker's flow cache: plain clients' 5-tuples to their sessions'
//! client-to-server labels.

use crate::shared::label_table::prefetch_read;
use slb_wire::FlowKey;
use std::hash::BuildHasher;
use std::net::IpAddr;

/// A worker's flow cache: client 5-tuple -> client-to-server label, for
/// plain clients: a bucketed cuckoo table whose buckets can be prefetched
/// before they are read (the worker's staged burst, `fast_path.rs`).
///
/// **Layout.** A bucket is one 64-byte cache line of four 16-byte
/// entries. A key has two candidate buckets, both computed from one keyed
/// hash of its key words (`foldhash`, seeded at random per worker, so
/// crafted tuples cannot pile into chosen buckets). A lookup reads at most
/// those two lines, and [`FlowCache::prefetch`] can start loading both as
/// soon as the hash is known: the probe sequence does not depend on the
/// table's contents, which is what hashbrown's control bytes prevented.
///
/// **Entries** `[w0, w1]`, label in bits 8..28 of `w1`, tag in bits 28..32
/// (an empty slot is `w1 == 0`: every entry has a tag):
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
/// **Full buckets.** An insert whose two buckets are full moves residents
/// to their other bucket (cuckoo displacement), at most [`MAX_KICKS`]
/// moves. If the walk ends on full buckets, the entry it holds last is
/// evicted: exactly one flow leaves the cache, and
/// [`FlowCache::insert`] says so (the worker counts it). Nothing is lost with it: the
/// evicted flow's next frame misses, goes to the scheduler, which finds
/// the session by its 5-tuple and installs the entry again. The table is
/// sized so this does not happen in normal use (at most [`MAX_LOAD`] of
/// the slots for the configured capacity), and it never grows: no
/// allocation after start.
pub struct FlowCache {
    buckets: Box<[Bucket]>,
    len: usize,
    /// Which slot the next displacement takes (rotates, so a walk does
    /// not bounce between the same two entries).
    kick: usize,
    hasher: hashbrown::DefaultHashBuilder,
    v6key: std::hash::RandomState,
}

/// Entries per bucket: 4 x 16 bytes, one cache line.
const SLOTS: usize = 4;

/// Most displacements one insert makes before it evicts.
pub const MAX_KICKS: usize = 256;

/// The table holds its capacity in at most this share of its slots
/// (bucketed cuckoo tables with two choices and four slots fill past 95 %
/// before inserts start to fail). Measured: 524,279 flows into a table
/// for 524,281, 20 times: no eviction (at 85 % load and 32 moves, one or
/// two per fill; with 8 moves, ~270).
pub const MAX_LOAD: f64 = 0.8;

#[repr(C, align(64))]
#[derive(Clone, Copy, Default)]
struct Bucket([[u64; 2]; SLOTS]);

const FLOW_LABEL_SHIFT: u32 = 8;
const FLOW_LABEL_BITS: u64 = 0xf_ffff << FLOW_LABEL_SHIFT;

/// A flow's key words and its two buckets: what a lookup needs, computed
/// once per frame (and early, so the buckets can be prefetched).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Probe {
    key: [u64; 2],
    b1: u32,
    b2: u32,
}

impl FlowCache {
    /// A cache for up to `n` flows without eviction (in normal use).
    pub fn with_capacity(n: usize) -> FlowCache {
        let slots = ((n.max(1) as f64 / MAX_LOAD).ceil() as usize).max(SLOTS);
        let nbuckets = slots.div_ceil(SLOTS).min(u32::MAX as usize);
        FlowCache {
            buckets: zeroed_buckets(nbuckets),
            len: 0,
            kick: 0,
            hasher: hashbrown::DefaultHashBuilder::default(),
            v6key: std::hash::RandomState::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The number of flows the table holds in its slots (4 per bucket).
    pub fn slots(&self) -> usize {
        self.buckets.len() * SLOTS
    }

    /// The key words of a flow (label bits 0).
    #[inline(always)]
    fn key(&self, k: &FlowKey) -> [u64; 2] {
        match (k.src, k.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => v4_key(
                u32::from(s),
                u32::from(d),
                k.src_port,
                k.dst_port,
                u8::from(k.protocol),
            ),
            _ => self.fingerprint(k),
        }
    }

    #[cold]
    #[inline(never)]
    fn fingerprint(&self, k: &FlowKey) -> [u64; 2] {
        // Two domain-separated PRF outputs: 64 + 40 bits kept.
        let a = self.v6key.hash_one((0u8, k));
        let b = self.v6key.hash_one((1u8, k));
        [a, (b & 0xffff_ffff_0000_00ff) | (6 << 28)]
    }

    /// A key's two buckets: the hash's halves scaled to the bucket count
    /// (multiply-shift, no power of two needed).
    #[inline(always)]
    fn probe_key(&self, key: [u64; 2]) -> Probe {
        let h = self.hasher.hash_one(key);
        let n = self.buckets.len() as u64;
        Probe {
            key,
            b1: (((h & 0xffff_ffff) * n) >> 32) as u32,
            b2: (((h >> 32) * n) >> 32) as u32,
        }
    }

    /// Hashes `k` and finds its buckets (no memory read of the table).
    #[inline(always)]
    pub fn probe(&self, k: &FlowKey) -> Probe {
        self.probe_key(self.key(k))
    }

    /// The probe of an IPv4 5-tuple given as numbers (the worker's quick
    /// read of a frame; the same probe as [`FlowCache::probe`]'s).
    #[inline(always)]
    pub fn probe_v4(&self, src: u32, dst: u32, sport: u16, dport: u16, protocol: u8) -> Probe {
        self.probe_key(v4_key(src, dst, sport, dport, protocol))
    }

    /// Whether `p` was made for `k` (the key words match). Only IPv4
    /// probes are made ahead, so an IPv6 flow (whose key is a keyed hash,
    /// not worth computing twice) answers no.
    #[inline(always)]
    pub fn probe_is_for(&self, p: &Probe, k: &FlowKey) -> bool {
        match (k.src, k.dst) {
            (IpAddr::V4(_), IpAddr::V4(_)) => p.key == self.key(k),
            _ => false,
        }
    }

    /// Starts loading `p`'s two buckets into the cache.
    #[inline(always)]
    pub fn prefetch(&self, p: &Probe) {
        if let Some(b) = self.buckets.get(p.b1 as usize) {
            prefetch_read(b as *const Bucket as *const u8);
        }
        if let Some(b) = self.buckets.get(p.b2 as usize) {
            prefetch_read(b as *const Bucket as *const u8);
        }
    }

    #[inline(always)]
    fn key_of(e: &[u64; 2]) -> [u64; 2] {
        [e[0], e[1] & !FLOW_LABEL_BITS]
    }

    #[inline(always)]
    fn slot_in(&self, b: u32, key: [u64; 2]) -> Option<usize> {
        let bucket = self.buckets.get(b as usize)?;
        bucket.0.iter().position(|e| Self::key_of(e) == key)
    }

    /// The label `p`'s flow is cached with, if any.
    #[inline(always)]
    pub fn find(&self, p: &Probe) -> Option<u32> {
        for b in [p.b1, p.b2] {
            if let Some(bucket) = self.buckets.get(b as usize) {
                for e in &bucket.0 {
                    // The first word alone tells most entries apart.
                    if e[0] == p.key[0] && e[1] & !FLOW_LABEL_BITS == p.key[1] {
                        return Some(((e[1] & FLOW_LABEL_BITS) >> FLOW_LABEL_SHIFT) as u32);
                    }
                }
            }
        }
        None
    }

    /// The client-to-server label of `k`'s session, if cached.
    #[inline]
    pub fn get(&self, k: &FlowKey) -> Option<u32> {
        self.find(&self.probe(k))
    }

    /// Caches (or replaces) `k -> label` (labels are 20 bits; anything
    /// else is not cached). With both buckets full, displaces residents
    /// and, past [`MAX_KICKS`], evicts one flow: then it returns true.
    #[must_use = "an eviction is counted by the caller"]
    pub fn insert(&mut self, k: &FlowKey, label: u32) -> bool {
        if label > 0xf_ffff {
            return false;
        }
        let p = self.probe(k);
        let v = [p.key[0], p.key[1] | (u64::from(label) << FLOW_LABEL_SHIFT)];
        for b in [p.b1, p.b2] {
            if let Some(i) = self.slot_in(b, p.key) {
                self.buckets[b as usize].0[i] = v;
                return false;
            }
        }
        self.len += 1;
        if self.place(p.b1, v) || self.place(p.b2, v) {
            return false;
        }
        // Both full: push a resident of b1 to its other bucket, and so on.
        let mut held = v;
        let mut at = p.b1 as usize;
        for _ in 0..MAX_KICKS {
            self.kick = (self.kick + 1) % SLOTS;
            std::mem::swap(&mut held, &mut self.buckets[at].0[self.kick]);
            let q = self.probe_key(Self::key_of(&held));
            let other = if q.b1 as usize == at { q.b2 } else { q.b1 };
            if self.place(other, held) {
                return false;
            }
            at = other as usize;
        }
        // The walk ended on full buckets: `held` leaves the cache.
        self.len -= 1;
        true
    }

    /// Puts `v` in an empty slot of bucket `b`, if it has one.
    #[inline]
    fn place(&mut self, b: u32, v: [u64; 2]) -> bool {
        let Some(bucket) = self.buckets.get_mut(b as usize) else {
            return false;
        };
        match bucket.0.iter_mut().find(|e| e[1] == 0) {
            Some(e) => {
                *e = v;
                true
            }
            None => false,
        }
    }

    pub fn remove(&mut self, k: &FlowKey) {
        let p = self.probe(k);
        for b in [p.b1, p.b2] {
            if let Some(i) = self.slot_in(b, p.key) {
                self.buckets[b as usize].0[i] = [0, 0];
                self.len -= 1;
                return;
            }
        }
    }
}

/// An IPv4 flow's exact key words (tag 4, label bits 0).
#[inline(always)]
fn v4_key(src: u32, dst: u32, sport: u16, dport: u16, protocol: u8) -> [u64; 2] {
    [
        (u64::from(src) << 32) | u64::from(dst),
        (u64::from(sport) << 48) | (u64::from(dport) << 32) | (4 << 28) | u64::from(protocol),
    ]
}

/// `n` empty buckets, allocated zeroed: the pages are the kernel's zero
/// pages until a flow is written into them, so a large table costs
/// memory only as it fills.
fn zeroed_buckets(n: usize) -> Box<[Bucket]> {
    let n = n.max(1);
    // A size past the address space is an allocation failure like any
    // other (what `Vec` does): abort, never a panic. `with_capacity`
    // keeps `n` below 2^32 buckets, so on 64 bits this cannot happen.
    let Ok(layout) = std::alloc::Layout::array::<Bucket>(n) else {
        std::alloc::handle_alloc_error(std::alloc::Layout::new::<Bucket>());
    };
    // SAFETY: the layout has a non-zero size (n >= 1, Bucket is 64 bytes);
    // an all-zero `Bucket` is a valid value (plain integers: every slot
    // empty); the pointer, checked for null, comes from the global
    // allocator with this exact layout, which is what `Box<[Bucket]>`
    // frees it with, and it holds `n` initialised buckets.
    unsafe {
        let p = std::alloc::alloc_zeroed(layout) as *mut Bucket;
        if p.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use slb_wire::IpProtocol;
    use std::collections::HashMap;
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

    fn k6(src: u16, sport: u16) -> FlowKey {
        FlowKey {
            protocol: IpProtocol::Tcp,
            src: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, src)),
            src_port: sport,
            dst: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 1, 1)),
            dst_port: 80,
        }
    }

    #[test]
    fn exact_for_ipv4_and_keyed_for_ipv6() {
        let mut c = FlowCache::with_capacity(60_000);
        let a = k4(0xc612_0001, 1024, IpProtocol::Tcp);
        let b = k4(0xc612_0001, 1024, IpProtocol::Udp);
        let d = k4(0xc612_0001, 1025, IpProtocol::Tcp);
        assert!(!c.insert(&a, 0xf_ffff));
        assert!(!c.insert(&b, 17));
        assert_eq!(c.get(&a), Some(0xf_ffff));
        assert_eq!(c.get(&b), Some(17));
        assert_eq!(c.get(&d), None);
        assert!(!c.insert(&a, 19)); // replaces
        assert_eq!((c.get(&a), c.len()), (Some(19), 2));
        c.remove(&a);
        assert_eq!((c.get(&a), c.get(&b), c.len()), (None, Some(17), 1));
        assert!(!c.insert(&d, 0x10_0000)); // not a label: not cached
        assert_eq!(c.get(&d), None);
        let v6 = k6(7, 1024);
        let v6b = k6(7, 1025);
        assert!(!c.insert(&v6, 21));
        assert_eq!((c.get(&v6), c.get(&v6b)), (Some(21), None));
        c.remove(&v6);
        assert_eq!(c.get(&v6), None);
        // Many flows, up to the capacity: all found, none confused, none
        // evicted.
        let flows = |i: u32| {
            k4(
                0x0a00_0000 + i / 1000,
                (i % 1000) as u16 + 1,
                IpProtocol::Tcp,
            )
        };
        for i in 0..59_999u32 {
            assert!(!c.insert(&flows(i), 16 + i));
        }
        for i in 0..59_999u32 {
            assert_eq!(c.get(&flows(i)), Some(16 + i));
        }
        assert_eq!(c.len(), 60_000);
    }

    #[test]
    fn sized_for_its_capacity_and_a_probe_is_for_its_key() {
        let c = FlowCache::with_capacity(524_279);
        assert!(c.slots() as f64 * MAX_LOAD >= 524_279.0);
        assert!(c.slots() < 524_279 * 2, "{} slots", c.slots());
        assert_eq!(std::mem::size_of::<Bucket>(), 64);
        let a = k4(0xc612_0001, 1024, IpProtocol::Tcp);
        let p = c.probe(&a);
        assert!(c.probe_is_for(&p, &a));
        assert!(!c.probe_is_for(&p, &k4(0xc612_0001, 1025, IpProtocol::Tcp)));
        assert!((p.b1 as usize) < c.buckets.len() && (p.b2 as usize) < c.buckets.len());
    }

    #[test]
    fn a_full_table_evicts_exactly_one_flow_per_insert_and_counts_it() {
        // 8 buckets, 32 slots: insert far more flows than fit.
        let mut c = FlowCache::with_capacity(25);
        assert_eq!(c.slots(), 32);
        let mut model: HashMap<FlowKey, u32> = HashMap::new();
        let mut evictions = 0;
        for i in 0..200u32 {
            let k = k4(0xc612_0000 + i, 1000 + i as u16, IpProtocol::Udp);
            let evicted = c.insert(&k, 16 + i);
            model.insert(k, 16 + i);
            let gone: Vec<FlowKey> = model
                .iter()
                .filter(|(k, _)| c.get(k).is_none())
                .map(|(k, _)| *k)
                .collect();
            assert_eq!(gone.len(), usize::from(evicted), "insert {i}");
            if evicted {
                evictions += 1;
                model.remove(&gone[0]);
            }
            assert_eq!(c.len(), model.len());
        }
        assert!(evictions >= 200 - 32, "{evictions} evictions");
        assert!(c.len() <= 32);
        for (k, v) in &model {
            assert_eq!(c.get(k), Some(*v));
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16, u32),
        Remove(u16),
        Get(u16),
    }

    fn key_of(i: u16) -> FlowKey {
        // A mix of IPv4 and IPv6 flows, some sharing addresses.
        if i.is_multiple_of(5) {
            k6(i % 7, i)
        } else {
            k4(0xc612_0000 + u32::from(i % 13), i, IpProtocol::Tcp)
        }
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u16..400, 16u32..0x10_0000).prop_map(|(k, l)| Op::Insert(k, l)),
            1 => (0u16..400).prop_map(Op::Remove),
            2 => (0u16..400).prop_map(Op::Get),
        ]
    }

    proptest! {
        /// The cache agrees with a reference map under random inserts,
        /// removes and lookups, small enough that buckets fill and flows
        /// are evicted: a lookup finds the label last inserted or, for a
        /// flow the cache reports evicted, nothing; never another label.
        #[test]
        fn agrees_with_a_reference_map(cap in 4usize..120, ops in prop::collection::vec(op(), 1..600)) {
            let mut c = FlowCache::with_capacity(cap);
            let mut model: HashMap<FlowKey, u32> = HashMap::new();
            for o in ops {
                match o {
                    Op::Insert(i, l) => {
                        let k = key_of(i);
                        let evicted = c.insert(&k, l);
                        model.insert(k, l);
                        // Exactly one flow gone when it says so, none else.
                        let gone: Vec<FlowKey> = model.keys().filter(|k| c.get(k).is_none()).copied().collect();
                        prop_assert_eq!(gone.len(), usize::from(evicted));
                        if evicted {
                            model.remove(&gone[0]);
                        }
                    }
                    Op::Remove(i) => {
                        let k = key_of(i);
                        c.remove(&k);
                        model.remove(&k);
                        prop_assert_eq!(c.get(&k), None);
                    }
                    Op::Get(i) => {
                        let k = key_of(i);
                        prop_assert_eq!(c.get(&k), model.get(&k).copied());
                    }
                }
                prop_assert_eq!(c.len(), model.len());
            }
            for (k, v) in &model {
                prop_assert_eq!(c.get(k), Some(*v));
            }
        }
    }
}
