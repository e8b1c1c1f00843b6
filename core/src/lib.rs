//! slb's session core. Pure Rust, no DPDK.
pub mod labels;
