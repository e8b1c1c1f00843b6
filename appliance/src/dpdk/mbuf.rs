use slb_dpdk_sys as sys;
use std::ptr::NonNull;

/// An owned packet buffer. Frees itself on drop.
///
/// Data accessors cover the first segment; slbd configures ports so that a
/// frame up to the port MTU fits one segment, and [`Mbuf::is_contiguous`]
/// tells when it does not.
#[repr(transparent)]
pub struct Mbuf(NonNull<sys::rte_mbuf>);

// SAFETY: an Mbuf is the sole owner of its buffer; DPDK mbufs may be freed
// from any thread (mempools are multi-producer/multi-consumer).
unsafe impl Send for Mbuf {}

impl Mbuf {
    /// Takes ownership of a raw mbuf.
    ///
    /// # Safety
    /// `p` must be a valid, non-null mbuf that nothing else owns or frees.
    #[inline]
    pub unsafe fn from_raw(p: *mut sys::rte_mbuf) -> Mbuf {
        debug_assert!(!p.is_null());
        // SAFETY: the caller guarantees p is non-null.
        Mbuf(unsafe { NonNull::new_unchecked(p) })
    }

    /// Gives up ownership (e.g. to a TX queue or a ring).
    #[inline]
    pub fn into_raw(self) -> *mut sys::rte_mbuf {
        let p = self.0.as_ptr();
        std::mem::forget(self);
        p
    }

    #[inline]
    fn raw(&self) -> &sys::rte_mbuf {
        // SAFETY: we own a valid mbuf for as long as self lives.
        unsafe { self.0.as_ref() }
    }

    #[inline]
    fn raw_mut(&mut self) -> &mut sys::rte_mbuf {
        // SAFETY: we own a valid mbuf exclusively (&mut self).
        unsafe { self.0.as_mut() }
    }

    /// Bytes in the first segment.
    #[inline]
    pub fn len(&self) -> usize {
        self.raw().data_len as usize
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes in the whole packet (all segments).
    #[inline]
    pub fn pkt_len(&self) -> usize {
        self.raw().pkt_len as usize
    }

    /// True when the whole packet is in the first segment.
    #[inline]
    pub fn is_contiguous(&self) -> bool {
        self.raw().nb_segs == 1
    }

    /// The port the packet was received on.
    #[inline]
    pub fn port(&self) -> u16 {
        self.raw().port
    }

    /// Free bytes in front of the data.
    #[inline]
    pub fn headroom(&self) -> usize {
        self.raw().data_off as usize
    }

    /// The first segment's data (`rte_pktmbuf_mtod`).
    #[inline]
    pub fn data(&self) -> &[u8] {
        let m = self.raw();
        // SAFETY: buf_addr + data_off .. + data_len lies inside the mbuf's
        // buffer by DPDK's invariants; the slice borrows self.
        unsafe {
            std::slice::from_raw_parts(
                (m.buf_addr as *const u8).add(m.data_off as usize),
                m.data_len as usize,
            )
        }
    }

    /// The first segment's data, writable.
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        let m = self.raw_mut();
        // SAFETY: as in `data`, and &mut self gives exclusive access.
        unsafe {
            std::slice::from_raw_parts_mut(
                (m.buf_addr as *mut u8).add(m.data_off as usize),
                m.data_len as usize,
            )
        }
    }

    /// Grows the packet by `n` bytes at the front (through the headroom) and
    /// returns the whole new data; `None` when the headroom is too small.
    #[inline]
    pub fn prepend(&mut self, n: u16) -> Option<&mut [u8]> {
        // SAFETY: rte_pktmbuf_prepend checks the headroom and returns NULL
        // when it is too small; the mbuf is ours.
        let p = unsafe { sys::rte_pktmbuf_prepend(self.0.as_ptr(), n) };
        if p.is_null() {
            None
        } else {
            Some(self.data_mut())
        }
    }

    /// Removes `n` bytes from the front; false when the first segment is
    /// shorter than `n`.
    #[inline]
    pub fn adj(&mut self, n: u16) -> bool {
        // SAFETY: rte_pktmbuf_adj checks the length; the mbuf is ours.
        !unsafe { sys::rte_pktmbuf_adj(self.0.as_ptr(), n) }.is_null()
    }

    /// Grows the packet by `n` bytes at the end and returns the new tail.
    #[inline]
    pub fn append(&mut self, n: u16) -> Option<&mut [u8]> {
        // SAFETY: rte_pktmbuf_append checks the tailroom; the returned
        // pointer addresses n writable bytes inside the buffer.
        unsafe {
            let p = sys::rte_pktmbuf_append(self.0.as_ptr(), n);
            if p.is_null() {
                None
            } else {
                Some(std::slice::from_raw_parts_mut(p as *mut u8, n as usize))
            }
        }
    }

    /// Removes `n` bytes from the end.
    #[inline]
    pub fn trim(&mut self, n: u16) -> bool {
        // SAFETY: rte_pktmbuf_trim checks the length; the mbuf is ours.
        unsafe { sys::rte_pktmbuf_trim(self.0.as_ptr(), n) == 0 }
    }
}

impl Drop for Mbuf {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: we own the mbuf and nothing uses it after this.
        unsafe { sys::rte_pktmbuf_free(self.0.as_ptr()) }
    }
}
