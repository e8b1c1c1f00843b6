//! Zero-copy wire formats for slb (packet layer). Pure Rust, no DPDK.
