//! slbd, the slb appliance: the thin DPDK layer and the data path.
//!
//! - [`dpdk`]: safe wrappers over EAL, mempools, mbufs, ports, rings, lcores.
//! - [`worker`]: the run-to-completion poll loop every worker lcore runs.
//! - [`forward`]: `--mode forward`, the baseline that moves packets between
//!   port pairs untouched (the physical limit the real path is compared to).
//! - [`stop`]: the process-wide stop flag that SIGINT/SIGTERM raise.

pub mod activity;
pub mod arp_nd;
pub mod commands;
pub mod control;
pub mod counters;
pub mod datapath;
pub mod dpdk;
pub mod fast_path;
pub mod forward;
pub mod frame;
pub mod health;
pub mod label_table;
pub mod neighbour;
pub mod nexthop;
pub mod ports;
pub mod reset;
pub mod sched_lcore;
pub mod scheduler;
pub mod stop;
pub mod worker;
