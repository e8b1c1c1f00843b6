//! Which sessions carried traffic: one byte per label pair per worker
//! (bit 0: a client-to-server frame, bit 1: a server-to-client frame), set
//! by the worker on every switched or pushed frame. When the session core
//! is about to end a session for inactivity, the scheduler reads (and
//! clears) the session's bytes on every replica: traffic since the last
//! look restarts the timer instead (`Core::expire_unless_recent`). Without
//! it a busy session switched only by workers would look idle to the
//! session core. A session that stops carrying traffic ends at most two
//! idle timeouts later. For a session still waiting for its server's first
//! reply, only server-to-client traffic counts (a client retransmitting
//! its SYN to a dead server must not keep the session alive).
//!
//! The worker's store is a relaxed load and, only when its bit is not yet
//! set, a relaxed store: no read-modify-write, and the cache line is
//! written once per look, not once per packet. (Two workers setting
//! different bits at once may lose one; the next frame sets it again.)

use std::sync::atomic::{AtomicU8, Ordering};

/// Client-to-server traffic seen.
pub const C2S: u8 = 1;
/// Server-to-client traffic seen.
pub const S2C: u8 = 2;

pub struct Activity {
    first_c2s: u32,
    slots: Box<[AtomicU8]>,
}

impl Activity {
    /// For labels `first..=last`.
    pub fn new(first: u32, last: u32) -> Activity {
        let first_c2s = first | 1;
        let pairs = if last > first_c2s {
            (last - first_c2s).div_ceil(2) as usize
        } else {
            0
        };
        Activity {
            first_c2s,
            slots: (0..pairs).map(|_| AtomicU8::new(0)).collect(),
        }
    }

    /// The pair index of a label (either of the pair).
    #[inline]
    pub fn index(&self, label: u32) -> usize {
        // first_c2s is odd: N and N+1 share (N - first_c2s) / 2.
        (label.wrapping_sub(self.first_c2s) / 2) as usize
    }

    /// The client-to-server label of pair `index`.
    #[inline]
    pub fn c2s(&self, index: usize) -> u32 {
        self.first_c2s + 2 * index as u32
    }

    pub fn pairs(&self) -> usize {
        self.slots.len()
    }

    /// Worker side: `label`'s session carried a frame (the label's parity
    /// says in which direction).
    #[inline]
    pub fn mark(&self, label: u32) {
        let bit = if label & 1 == 1 { C2S } else { S2C };
        if let Some(s) = self.slots.get(self.index(label)) {
            let v = s.load(Ordering::Relaxed);
            if v & bit == 0 {
                s.store(v | bit, Ordering::Relaxed);
            }
        }
    }

    /// A cache prefetch hint for `label`'s byte (see
    /// [`crate::shared::label_table::LabelTable::prefetch`]).
    #[inline]
    pub fn prefetch(&self, label: u32) {
        if let Some(s) = self.slots.get(self.index(label)) {
            super::label_table::prefetch_read(s.as_ptr() as *const u8);
        }
    }

    /// Scheduler side: the directions pair `index` carried traffic in since
    /// the last take ([`C2S`] | [`S2C`]), and clears them.
    #[inline]
    pub fn take(&self, index: usize) -> u8 {
        match self.slots.get(index) {
            Some(s) => {
                let v = s.load(Ordering::Relaxed);
                if v != 0 {
                    s.store(0, Ordering::Relaxed);
                }
                v
            }
            None => 0,
        }
    }

    /// Scheduler side: what [`Self::take`] would return, left in place
    /// (session sync: a peer's copy whose frames arrived here).
    #[inline]
    pub fn peek(&self, index: usize) -> u8 {
        self.slots
            .get(index)
            .map_or(0, |s| s.load(Ordering::Relaxed))
    }

    pub fn bytes(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_by_pair_and_takes_once() {
        let a = Activity::new(16, 31); // pairs 17/18 .. 29/30
        assert_eq!(a.pairs(), 7);
        a.mark(18);
        assert_eq!(a.index(17), 0);
        assert_eq!(a.take(0), S2C);
        assert_eq!(a.take(0), 0);
        a.mark(29);
        a.mark(30);
        a.mark(29);
        assert_eq!(a.take(6), C2S | S2C);
        assert_eq!(a.c2s(6), 29);
        a.mark(1_000_000); // outside: ignored
        a.mark(3);
    }
}
