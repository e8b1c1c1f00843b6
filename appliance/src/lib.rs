//! slbd, the slb appliance: the thin DPDK layer and the data path.
//!
//! - [`dpdk`]: safe wrappers over EAL, mempools, mbufs, ports, rings, lcores.
//! - [`worker`]: the run-to-completion poll loop every worker lcore runs.
//! - [`forward`]: `--mode forward`, the baseline that moves packets between
//!   port pairs untouched (the physical limit the real path is compared to).
//! - [`stop`]: the process-wide stop flag that SIGINT/SIGTERM raise.

pub mod dpdk;
pub mod forward;
pub mod stop;
pub mod worker;
