//! Next hops: where a switched frame goes (claim 5 in docs/claims.md: "line card and port"):
//! an out port and the MAC of the neighbour behind it. A shared table of
//! `AtomicU64` words (MAC in the low 48 bits, port in the next 8, a valid
//! bit), written by the scheduler, read by every worker with one load, so
//! a MAC change is seen whole or not at all.

use std::sync::atomic::{AtomicU64, Ordering};

const VALID: u64 = 1 << 63;

/// A resolved next hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextHop {
    /// Index of the out port in slbd's port list.
    pub port: u8,
    pub mac: [u8; 6],
}

impl NextHop {
    fn encode(&self) -> u64 {
        let m = self.mac;
        let mac = u64::from_be_bytes([0, 0, m[0], m[1], m[2], m[3], m[4], m[5]]);
        VALID | (u64::from(self.port) << 48) | mac
    }

    fn decode(w: u64) -> Option<NextHop> {
        if w & VALID == 0 {
            return None;
        }
        let b = w.to_be_bytes();
        Some(NextHop {
            port: (w >> 48) as u8,
            mac: [b[2], b[3], b[4], b[5], b[6], b[7]],
        })
    }
}

/// The table. Index 0 is never used, so an entry's 0 means "none".
pub struct NextHops {
    slots: Box<[AtomicU64]>,
}

impl NextHops {
    pub fn new(capacity: usize) -> NextHops {
        NextHops {
            slots: (0..capacity.clamp(2, 1 << 16))
                .map(|_| AtomicU64::new(0))
                .collect(),
        }
    }

    #[inline]
    pub fn get(&self, index: u16) -> Option<NextHop> {
        NextHop::decode(self.slots.get(index as usize)?.load(Ordering::Acquire))
    }

    pub fn set(&self, index: u16, nh: NextHop) {
        if index != 0 {
            if let Some(s) = self.slots.get(index as usize) {
                s.store(nh.encode(), Ordering::Release);
            }
        }
    }

    pub fn clear(&self, index: u16) {
        if let Some(s) = self.slots.get(index as usize) {
            s.store(0, Ordering::Release);
        }
    }

    pub fn capacity(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_hops_round_trip_and_zero_is_none() {
        let t = NextHops::new(8);
        let nh = NextHop {
            port: 1,
            mac: [0x02, 0, 0, 0, 0x01, 0x11],
        };
        t.set(3, nh);
        assert_eq!(t.get(3), Some(nh));
        t.set(0, nh);
        assert_eq!(t.get(0), None);
        assert_eq!(t.get(100), None);
        t.clear(3);
        assert_eq!(t.get(3), None);
    }
}
