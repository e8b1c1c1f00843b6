//! slb's session core. Pure Rust, no DPDK.
