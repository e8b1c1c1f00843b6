use super::{DpdkError, Mbuf};
use slb_dpdk_sys as sys;
use std::ffi::CString;

/// A packet-buffer pool. Pools live for the rest of the process, like the
/// ports that fill them, so a handle is a plain copyable pointer.
#[derive(Clone, Copy)]
pub struct Mempool(*mut sys::rte_mempool);

// SAFETY: DPDK mempools are multi-producer/multi-consumer by default; the
// handle is a pointer to a pool that is never freed while the process runs.
unsafe impl Send for Mempool {}
// SAFETY: as above, every operation on the pool is thread-safe.
unsafe impl Sync for Mempool {}

impl Mempool {
    /// Creates a packet mbuf pool of `n` buffers with `data_room` bytes each
    /// (headroom included), and a per-lcore cache of `cache` buffers.
    pub fn new(name: &str, n: u32, cache: u32, data_room: u16) -> Result<Mempool, DpdkError> {
        let cname = CString::new(name)
            .map_err(|_| DpdkError::Invalid(format!("mempool name {name:?} contains NUL")))?;
        // SAFETY: the name is a valid C string for the call; EAL is up
        // (callers hold an Eal), and the pool is never freed afterwards.
        let p = unsafe {
            sys::rte_pktmbuf_pool_create(cname.as_ptr(), n, cache, 0, data_room, sys::SOCKET_ID_ANY)
        };
        if p.is_null() {
            return Err(DpdkError::from_rte_errno(format!(
                "cannot create mempool {name} ({n} mbufs of {data_room} bytes); \
                 with --no-huge raise EAL's -m"
            )));
        }
        Ok(Mempool(p))
    }

    /// One mbuf, empty, with the default headroom.
    #[inline]
    pub fn alloc(&self) -> Option<Mbuf> {
        // SAFETY: the pool is valid; a non-null result is a fresh mbuf we own.
        let m = unsafe { sys::rte_pktmbuf_alloc(self.0) };
        if m.is_null() {
            None
        } else {
            // SAFETY: m is a fresh, non-null mbuf nobody else owns.
            Some(unsafe { Mbuf::from_raw(m) })
        }
    }

    /// Buffers currently free in the pool (approximate under concurrency).
    pub fn available(&self) -> u32 {
        // SAFETY: read-only query on a valid pool.
        unsafe { sys::rte_mempool_avail_count(self.0) }
    }

    pub(crate) fn as_ptr(&self) -> *mut sys::rte_mempool {
        self.0
    }
}
