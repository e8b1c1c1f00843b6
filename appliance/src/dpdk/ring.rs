use super::{DpdkError, Mbuf, PacketBatch};
use slb_dpdk_sys as sys;
use std::ffi::{c_void, CString};

/// A DPDK ring carrying owned mbufs between lcores (e.g. a worker's
/// new-session packets to the scheduler). Lock-free; single producer and
/// single consumer when created so, which is how slbd uses them.
pub struct Ring(*mut sys::rte_ring);

// SAFETY: rte_ring is designed for cross-lcore use; the SP/SC contract is
// kept by giving each end to one lcore only.
unsafe impl Send for Ring {}
// SAFETY: as above.
unsafe impl Sync for Ring {}

impl Ring {
    /// `capacity` is rounded up to a power of two minus one by DPDK rules
    /// (we ask for RING_F_EXACT_SZ so exactly `capacity` entries fit).
    pub fn new(name: &str, capacity: u32) -> Result<Ring, DpdkError> {
        let cname = CString::new(name)
            .map_err(|_| DpdkError::Invalid(format!("ring name {name:?} contains NUL")))?;
        let flags = sys::RING_F_SP_ENQ | sys::RING_F_SC_DEQ | sys::RING_F_EXACT_SZ;
        // SAFETY: valid C string; EAL is up.
        let r =
            unsafe { sys::rte_ring_create(cname.as_ptr(), capacity, sys::SOCKET_ID_ANY, flags) };
        if r.is_null() {
            return Err(DpdkError::from_rte_errno(format!(
                "cannot create ring {name}"
            )));
        }
        Ok(Ring(r))
    }

    /// Enqueues one packet; gives it back when the ring is full.
    #[inline]
    pub fn enqueue(&self, m: Mbuf) -> Result<(), Mbuf> {
        let p = m.into_raw();
        // SAFETY: the ring stores the pointer; ownership passes to the ring
        // on success and comes back to us on failure.
        let rc = unsafe { sys::rte_ring_enqueue(self.0, p as *mut c_void) };
        if rc == 0 {
            Ok(())
        } else {
            // SAFETY: the ring did not take p; we still own it.
            Err(unsafe { Mbuf::from_raw(p) })
        }
    }

    /// Moves up to the batch's free space out of the ring.
    #[inline]
    pub fn dequeue_burst(&self, batch: &mut PacketBatch) -> usize {
        let (ptr, room) = batch.spare_ptr();
        // SAFETY: ptr addresses `room` writable slots; every object in the
        // ring is an owned mbuf put there by `enqueue`.
        let n = unsafe {
            sys::rte_ring_dequeue_burst(
                self.0,
                ptr as *mut *mut c_void,
                room as u32,
                std::ptr::null_mut(),
            )
        } as usize;
        batch.set_filled(n);
        n
    }

    pub fn len(&self) -> usize {
        // SAFETY: read-only query.
        unsafe { sys::rte_ring_count(self.0) as usize }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        let mut batch = PacketBatch::new();
        while self.dequeue_burst(&mut batch) > 0 {
            batch.drain().for_each(drop);
        }
        // SAFETY: the ring is empty and no lcore uses it any more (the owner
        // drops it after joining them).
        unsafe { sys::rte_ring_free(self.0) }
    }
}
