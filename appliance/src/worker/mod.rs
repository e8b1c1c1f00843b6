//! What a worker lcore runs.
//!
//! - [`poll_loop`]: the run-to-completion loop (RX burst, handler, TX
//!   batches) every mode uses, and its counters.
//! - [`fast_path`]: the balance mode's handler: label switching, the plain
//!   clients' push and pop, punts to the scheduler, every drop counted.
//! - [`burst`]: the staged burst: the whole RX burst is looked at (flows
//!   hashed, buckets and label entries prefetched) before its first frame
//!   is handled.
//! - [`flow_cache`]: plain clients' 5-tuples to their labels (a bucketed
//!   cuckoo table whose buckets can be prefetched).
//! - [`arp_nd`]: ARP and ND answers built in place (and the requests the
//!   scheduler sends).
//! - [`forward`]: the `--mode forward` handler, the benchmark baseline.
//! - [`icmp`]: echo answers, ICMP errors to the scheduler, "fragmentation
//!   needed" / "packet too big"; [`icmp_limits`]: their per-lcore rate
//!   limits (token buckets).
//! - [`syn_cookie`]: SYNs to `syn_proxy` services answered with a cookie
//!   SYN-ACK (delayed binding).

pub mod arp_nd;
pub mod burst;
pub mod fast_path;
pub mod flow_cache;
pub mod forward;
pub mod icmp;
pub mod icmp_limits;
pub mod poll_loop;
pub mod syn_cookie;
pub mod to_appliance;

pub use fast_path::FastPath;
pub use poll_loop::{run, Handler, Idle, LoopCounters, LoopSnapshot};
