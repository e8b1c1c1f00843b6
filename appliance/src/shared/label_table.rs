//! The label switching table (claims 1 and 5 in docs/claims.md): one replica per worker, a flat
//! array indexed by label, written only by the scheduler, read by its
//! worker without locks.
//!
//! An entry is one `AtomicU64`, so publication is a single store: the
//! scheduler writes a whole entry with `Release`, the worker reads it with
//! `Acquire`, and no reader can ever see half an entry. Withdrawal stores 0
//! (not live) on every replica before the label goes to quarantine, so by
//! the time a label is reused no worker can still switch on the old entry
//! (see `docs/architecture.md`, "Label table protocol").
//!
//! Entry layout (bit 0 is the least significant):
//!
//! ```text
//!  63      56 55          40 39 37 36  35  34  33  32 31                  0
//! +----------+--------------+-----+---+---+---+---+---+---------------------+
//! |  spare   | next hop idx |spare|spl|v6 |rep|pop|liv| client check value  |
//! +----------+--------------+-----+---+---+---+---+---+---------------------+
//! ```
//! - live: the label belongs to a session.
//! - pop: server-to-client label toward a plain client: pop it.
//! - rep: server-to-client label whose session waits for its first reply:
//!   the worker reports the reply to the scheduler (response time, state).
//! - v6 / client check value: for client-to-server labels, the session's
//!   client address (IPv4 as is, IPv6 as a keyed 32-bit fingerprint, see
//!   [`ClientCheck`]); the worker drops a labelled frame whose inner source
//!   does not match. For server-to-client labels, whose client needs no
//!   check, the low 16 bits name the session's server's next-hop slot
//!   ([`Entry::server_slot`]); the worker drops a frame whose source MAC
//!   is not that next hop's.
//! - spl: server-to-client label of a spliced session (delayed binding,
//!   `scheduler/splice.rs`): a SYN-ACK on it is the server's handshake
//!   repeated, kept from the client (the scheduler answers the server).
//! - next hop index: into [`crate::shared::nexthop::NextHops`] (out port and MAC).
//!
//! The direction is the label's parity (odd: client to server, claim 7 in
//! docs/claims.md), so it needs no bit.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

const LIVE: u64 = 1 << 32;
const POP: u64 = 1 << 33;
const WANT_REPLY: u64 = 1 << 34;
const V6: u64 = 1 << 35;
const SPLICED: u64 = 1 << 36;
const NH_SHIFT: u32 = 40;

/// A decoded label table entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Entry {
    pub nexthop: u16,
    pub pop: bool,
    pub want_reply: bool,
    /// Server-to-client label of a spliced session.
    pub spliced: bool,
    /// Client address check for client-to-server labels (0 = none).
    pub client: ClientCheck,
}

/// The client check value carried by an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientCheck {
    pub v6: bool,
    pub value: u32,
}

impl ClientCheck {
    /// The check value of an address. IPv4 is exact; IPv6 is a 32-bit
    /// fingerprint keyed by `key` (random per slbd process), so a sender
    /// that does not know the key cannot pick an address that collides.
    #[inline]
    pub fn of(addr: IpAddr, key: &FingerprintKey) -> ClientCheck {
        match addr {
            IpAddr::V4(a) => ClientCheck {
                v6: false,
                value: u32::from(a),
            },
            IpAddr::V6(a) => ClientCheck {
                v6: true,
                value: key.fingerprint(a.octets()),
            },
        }
    }
}

/// Keys of the IPv6 client fingerprint.
#[derive(Debug, Clone, Copy)]
pub struct FingerprintKey([u64; 4]);

impl FingerprintKey {
    pub fn new(k: [u64; 4]) -> Self {
        // Multipliers must be odd to be invertible.
        FingerprintKey([k[0], k[1] | 1, k[2], k[3] | 1])
    }

    /// A key from the process's random hash state.
    pub fn random() -> Self {
        use std::hash::{BuildHasher, Hasher};
        let s = std::collections::hash_map::RandomState::new();
        let mut k = [0u64; 4];
        for (i, v) in k.iter_mut().enumerate() {
            let mut h = s.build_hasher();
            h.write_usize(i);
            *v = h.finish();
        }
        Self::new(k)
    }

    #[inline]
    pub fn fingerprint(&self, a: [u8; 16]) -> u32 {
        let hi = u64::from_be_bytes([a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]]);
        let lo = u64::from_be_bytes([a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15]]);
        let h = (hi ^ self.0[0]).wrapping_mul(self.0[1]) ^ (lo ^ self.0[2]).wrapping_mul(self.0[3]);
        let h = h ^ (h >> 29);
        (h >> 32) as u32 ^ h as u32
    }
}

impl Entry {
    /// A server-to-client entry: toward the client's next hop
    /// `client_slot`, accepted only from the server's, `server_slot`.
    pub fn s2c(client_slot: u16, pop: bool, want_reply: bool, server_slot: u16) -> Entry {
        Entry {
            nexthop: client_slot,
            pop,
            want_reply,
            spliced: false,
            client: ClientCheck {
                v6: false,
                value: u32::from(server_slot),
            },
        }
    }

    /// Of a server-to-client entry: the next-hop slot of the session's
    /// server (its source MAC is the only one accepted).
    #[inline]
    pub fn server_slot(&self) -> u16 {
        self.client.value as u16
    }

    #[inline]
    pub fn encode(&self) -> u64 {
        let mut w = LIVE | u64::from(self.client.value) | (u64::from(self.nexthop) << NH_SHIFT);
        if self.pop {
            w |= POP;
        }
        if self.want_reply {
            w |= WANT_REPLY;
        }
        if self.client.v6 {
            w |= V6;
        }
        if self.spliced {
            w |= SPLICED;
        }
        w
    }

    /// None when the word is not live.
    #[inline(always)]
    pub fn decode(w: u64) -> Option<Entry> {
        if w & LIVE == 0 {
            return None;
        }
        Some(Entry {
            nexthop: (w >> NH_SHIFT) as u16,
            pop: w & POP != 0,
            want_reply: w & WANT_REPLY != 0,
            spliced: w & SPLICED != 0,
            client: ClientCheck {
                v6: w & V6 != 0,
                value: w as u32,
            },
        })
    }
}

/// One replica: entries for labels `first..=last` of the configured range.
pub struct LabelTable {
    first: u32,
    entries: Box<[AtomicU64]>,
}

impl LabelTable {
    pub fn new(first: u32, last: u32) -> LabelTable {
        let n = last.saturating_sub(first) as usize + 1;
        LabelTable {
            first,
            entries: (0..n).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    #[inline]
    fn slot(&self, label: u32) -> Option<&AtomicU64> {
        self.entries.get(label.wrapping_sub(self.first) as usize)
    }

    /// The live entry of `label`, if any (worker side: one acquire load).
    /// Always inlined: a call here costs the plain clients' path 24
    /// instructions a packet (callgrind, `fastpath_cost`), which the
    /// compiler's own choice made once the entry grew a bit.
    #[inline(always)]
    pub fn get(&self, label: u32) -> Option<Entry> {
        Entry::decode(self.slot(label)?.load(Ordering::Acquire))
    }

    /// Asks the CPU to bring `label`'s entry into cache (a hint: no load,
    /// no fault, nothing if the label is outside the table). The worker
    /// issues it a few frames ahead, so with a table larger than the
    /// caches the entry's miss overlaps the frames before it.
    #[inline]
    pub fn prefetch(&self, label: u32) {
        if let Some(s) = self.slot(label) {
            prefetch_read(s.as_ptr() as *const u8);
        }
    }

    /// Publishes an entry (scheduler side).
    #[inline]
    pub fn set(&self, label: u32, e: Entry) {
        if let Some(s) = self.slot(label) {
            s.store(e.encode(), Ordering::Release);
        }
    }

    /// Makes a label not live (scheduler side).
    #[inline]
    pub fn clear(&self, label: u32) {
        if let Some(s) = self.slot(label) {
            s.store(0, Ordering::Release);
        }
    }

    /// Bytes this replica occupies.
    pub fn bytes(&self) -> usize {
        std::mem::size_of_val(&*self.entries)
    }
}

/// A read prefetch hint for the cache line holding `p`.
#[inline(always)]
pub fn prefetch_read(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetch never faults and does not dereference in the
    // language's sense; any address is allowed.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Every worker's replica, written together by the scheduler.
pub struct LabelTables {
    replicas: Box<[LabelTable]>,
}

impl LabelTables {
    pub fn new(workers: usize, first: u32, last: u32) -> LabelTables {
        LabelTables {
            replicas: (0..workers).map(|_| LabelTable::new(first, last)).collect(),
        }
    }

    pub fn replica(&self, worker: usize) -> &LabelTable {
        &self.replicas[worker]
    }

    pub fn set(&self, label: u32, e: Entry) {
        for r in self.replicas.iter() {
            r.set(label, e);
        }
    }

    pub fn clear(&self, label: u32) {
        for r in self.replicas.iter() {
            r.clear(label);
        }
    }

    pub fn bytes(&self) -> usize {
        self.replicas.iter().map(LabelTable::bytes).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn entries_round_trip_through_one_word() {
        let key = FingerprintKey::new([1, 2, 3, 4]);
        for client in [
            IpAddr::V4(Ipv4Addr::new(198, 18, 0, 11)),
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x11)),
        ] {
            let e = Entry {
                nexthop: 0xbeef,
                pop: true,
                want_reply: false,
                spliced: true,
                client: ClientCheck::of(client, &key),
            };
            assert_eq!(Entry::decode(e.encode()), Some(e));
        }
        assert_eq!(Entry::decode(0), None);
    }

    #[test]
    fn s2c_entries_name_the_server_slot() {
        let e = Entry::s2c(7, true, true, 0xfffe);
        let d = Entry::decode(e.encode()).unwrap();
        assert_eq!(
            (d.nexthop, d.pop, d.want_reply, d.server_slot(), d.spliced),
            (7, true, true, 0xfffe, false)
        );
        let spliced = Entry { spliced: true, ..e };
        assert_eq!(Entry::decode(spliced.encode()), Some(spliced));
    }

    #[test]
    fn table_covers_exactly_the_range() {
        let t = LabelTable::new(16, 31);
        assert_eq!(t.bytes(), 16 * 8);
        let e = Entry {
            nexthop: 3,
            ..Entry::default()
        };
        t.set(17, e);
        assert_eq!(t.get(17), Some(e));
        t.set(15, e); // outside: ignored
        t.set(32, e);
        assert_eq!(t.get(15), None);
        assert_eq!(t.get(32), None);
        assert_eq!(t.get(u32::MAX), None);
        t.clear(17);
        assert_eq!(t.get(17), None);
    }

    #[test]
    fn ipv6_fingerprints_differ_for_neighbouring_addresses() {
        let key = FingerprintKey::random();
        let mut seen = std::collections::HashSet::new();
        for i in 0..10_000u16 {
            let a = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, i, 1);
            seen.insert(key.fingerprint(a.octets()));
        }
        assert!(seen.len() >= 9_990, "only {} distinct", seen.len());
    }
}
