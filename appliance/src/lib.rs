//! slbd library: the thin DPDK layer and the data path.
