//! Which sessions carried traffic: one byte per label pair per worker,
//! set by the worker on every switched or pushed frame, swept by the
//! scheduler, which restarts the session's idle timer. Without it a busy
//! session switched only by workers would look idle to the session core
//! and expire.
//!
//! The worker's store is a relaxed load and, only when the byte is still
//! 0, a relaxed store: no read-modify-write, and the cache line is written
//! once per sweep, not once per packet.

use std::sync::atomic::{AtomicU8, Ordering};

pub struct Activity {
    first_c2s: u32,
    slots: Box<[AtomicU8]>,
}

impl Activity {
    /// For labels `first..=last`.
    pub fn new(first: u32, last: u32) -> Activity {
        let first_c2s = first | 1;
        let pairs = if last > first_c2s { (last - first_c2s).div_ceil(2) as usize } else { 0 };
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

    /// Worker side: `label`'s session carried a frame.
    #[inline]
    pub fn mark(&self, label: u32) {
        if let Some(s) = self.slots.get(self.index(label)) {
            if s.load(Ordering::Relaxed) == 0 {
                s.store(1, Ordering::Relaxed);
            }
        }
    }

    /// Scheduler side: whether pair `index` was marked since the last take.
    #[inline]
    pub fn take(&self, index: usize) -> bool {
        match self.slots.get(index) {
            Some(s) if s.load(Ordering::Relaxed) != 0 => {
                s.store(0, Ordering::Relaxed);
                true
            }
            _ => false,
        }
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
        assert!(a.take(0));
        assert!(!a.take(0));
        a.mark(29);
        assert!(a.take(6));
        assert_eq!(a.c2s(6), 29);
        a.mark(1_000_000); // outside: ignored
        a.mark(3);
    }
}
