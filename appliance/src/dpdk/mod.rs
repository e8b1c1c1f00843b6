//! The thin safe layer over DPDK.
//!
//! Everything `unsafe` about DPDK lives here (and in `slb-dpdk-sys`); the rest
//! of slbd sees owned [`Mbuf`]s, [`Port`]s, [`Ring`]s and lcore launches.
//! Every `unsafe` block says why it holds.

mod batch;
mod eal;
mod error;
pub mod lcore;
mod mbuf;
mod mempool;
mod port;
mod ring;

pub use batch::{Drain, PacketBatch, BURST};
pub use eal::Eal;
pub use error::DpdkError;
pub use mbuf::Mbuf;
pub use mempool::Mempool;
pub use port::{Link, Port, PortConfig, PortStats};
pub use ring::Ring;

/// TSC ticks since an arbitrary point; cheap, no syscall.
#[inline]
pub fn tsc() -> u64 {
    // SAFETY: rte_rdtsc only reads the time-stamp counter.
    unsafe { slb_dpdk_sys::rte_rdtsc() }
}

/// TSC ticks per second, measured by EAL at init.
pub fn tsc_hz() -> u64 {
    // SAFETY: reads a value EAL computed at init; a plain getter.
    unsafe { slb_dpdk_sys::rte_get_tsc_hz() }
}
