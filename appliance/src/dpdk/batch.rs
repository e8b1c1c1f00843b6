use super::Mbuf;
use slb_dpdk_sys::rte_mbuf;
use std::marker::PhantomData;

/// Packets moved per RX/TX call. The same for every mode, so the forward
/// baseline and the real worker loop have the same shape.
pub const BURST: usize = 32;

/// A burst of owned mbufs, as raw pointers so DPDK can fill or drain it
/// without copies. Dropping a batch frees what it still holds.
pub struct PacketBatch {
    pkts: [*mut rte_mbuf; BURST],
    len: usize,
}

// SAFETY: the batch owns its mbufs exclusively; moving it to another thread
// moves that ownership (mbufs are not tied to a thread).
unsafe impl Send for PacketBatch {}

impl Default for PacketBatch {
    fn default() -> Self {
        Self::new()
    }
}

impl PacketBatch {
    pub const fn new() -> Self {
        PacketBatch {
            pkts: [std::ptr::null_mut(); BURST],
            len: 0,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    pub fn is_full(&self) -> bool {
        self.len == BURST
    }

    /// Appends a packet; gives it back when the batch is full.
    #[inline]
    pub fn push(&mut self, m: Mbuf) -> Result<(), Mbuf> {
        // One compare serves as the full check and the bounds check.
        match self.pkts.get_mut(self.len) {
            Some(slot) => {
                *slot = m.into_raw();
                self.len += 1;
                Ok(())
            }
            None => Err(m),
        }
    }

    /// Takes the packets out, in order, leaving the batch empty.
    #[inline]
    pub fn drain(&mut self) -> Drain<'_> {
        let len = std::mem::replace(&mut self.len, 0);
        Drain {
            next: self.pkts.as_ptr(),
            left: len,
            _batch: PhantomData,
        }
    }

    /// The free tail for DPDK to fill; follow with [`Self::set_filled`].
    #[inline]
    pub(crate) fn spare_ptr(&mut self) -> (*mut *mut rte_mbuf, u16) {
        // SAFETY (of the pointer arithmetic): len <= BURST, so the result is
        // within or one past the array.
        (
            unsafe { self.pkts.as_mut_ptr().add(self.len) },
            (BURST - self.len) as u16,
        )
    }

    #[inline]
    pub(crate) fn set_filled(&mut self, n: usize) {
        debug_assert!(self.len + n <= BURST);
        self.len += n;
    }

    /// The held packets for DPDK to drain from the front.
    #[inline]
    pub(crate) fn as_mut_ptr(&mut self) -> *mut *mut rte_mbuf {
        self.pkts.as_mut_ptr()
    }

    /// Forgets the first `n` packets (DPDK took them) and moves the rest to
    /// the front.
    #[inline]
    pub(crate) fn consume_front(&mut self, n: usize) {
        let n = n.min(self.len);
        self.pkts.copy_within(n..self.len, 0);
        self.len -= n;
    }
}

impl Drop for PacketBatch {
    fn drop(&mut self) {
        for m in self.drain() {
            drop(m);
        }
    }
}

/// Iterator over the packets taken out of a [`PacketBatch`], with a look
/// at the packets still to come ([`Drain::peek`]) for prefetching.
///
/// A cursor over the batch's slots (a pointer and a count, like a slice
/// iterator): the poll loop takes every packet through it, so each step
/// is one compare, one load and two increments, with no bounds check.
pub struct Drain<'a> {
    /// The next slot to hand out.
    next: *const *mut rte_mbuf,
    /// Slots left from `next` on, each an owned mbuf.
    left: usize,
    /// The batch stays mutably borrowed (its `len` is already 0).
    _batch: PhantomData<&'a mut PacketBatch>,
}

impl Drain<'_> {
    /// The packet `k` places after the next one [`Iterator::next`] will
    /// return (`peek(0)` is that one), if there are that many left.
    #[inline]
    pub fn peek(&self, k: usize) -> Option<&Mbuf> {
        if k >= self.left {
            return None;
        }
        // SAFETY: k < left, so slot next + k lies inside the batch's array
        // and holds an mbuf the drain owns (not handed out yet); `Mbuf` is a
        // `repr(transparent)` non-null pointer, so a non-null
        // `*mut rte_mbuf` slot can be read as one. The borrow ends before
        // the drain can hand that packet out (it borrows self).
        Some(unsafe { &*(self.next.add(k) as *const Mbuf) })
    }
}

impl Iterator for Drain<'_> {
    type Item = Mbuf;

    #[inline]
    fn next(&mut self) -> Option<Mbuf> {
        if self.left == 0 {
            return None;
        }
        // SAFETY: left > 0, so `next` points at a slot inside the batch's
        // array holding an owned mbuf; `drain` reset the batch's len to 0
        // and the cursor moves past the slot, so each pointer is handed out
        // exactly once. The new `next` is within or one past the array.
        let m = unsafe {
            let p = *self.next;
            self.next = self.next.add(1);
            Mbuf::from_raw(p)
        };
        self.left -= 1;
        Some(m)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl Drop for Drain<'_> {
    fn drop(&mut self) {
        // Free whatever the consumer did not take.
        for m in self.by_ref() {
            drop(m);
        }
    }
}
