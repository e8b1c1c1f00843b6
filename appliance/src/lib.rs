//! slbd, the slb appliance: the thin DPDK layer and the data path, grouped
//! by the thread that runs the code. `docs/architecture.md` draws the
//! threads, the per-packet path and the new-session path.
//!
//! | module | run by | holds |
//! |---|---|---|
//! | [`worker`] | worker lcores | the poll loop, the per-packet [`worker::fast_path`], the flow cache, in-place ARP/ND answers, the `forward` baseline |
//! | [`scheduler`] | the scheduler lcore | admission and label install, session ends and withdrawal, neighbours, health probes, resets, its poll loop |
//! | [`control`] | the control thread (socket, metrics) and the scheduler lcore (views, apply) | the control protocol server, read-only views, configuration apply and reload, Prometheus text |
//! | [`announce`] | the control plane (a thread of its own in slbd, and requests) | the VIPs the routing daemon announces: blackhole routes in `cluster.announce_table`, the instance drain |
//! | [`shared`] | written by the scheduler, read by workers | label tables, next hops, activity marks, ports, next-hop slots |
//! | [`channels`] | crossed by every thread | punts, reports, worker ops, control commands |
//! | [`state_file`] | (pure) | the planned-restart state file: format, checks, atomic save |
//! | [`restart`] | the scheduler (snapshot) and the main thread at start-up (restore) | saving and restoring sessions, label quarantine and runtime changes (`slbd --save-state`, `--restore`) |
//! | [`datapath`] | the main thread at start-up (and the golden rig) | assembles the data path: an empty one, then the configuration applied to it |
//! | [`counters`] | written by workers and scheduler, read by control | drop and event counters |
//! | [`frame`] | all | the frame abstraction over mbufs and test vectors |
//! | [`dpdk`] | all | safe wrappers over EAL, mempools, mbufs, ports, rings, lcores |
//! | [`stop`] | all | the process-wide stop flag that SIGINT/SIGTERM raise |
//!
//! The binary's own modules (`src/slbd/`: options, EAL and port bring-up,
//! lcore launch, the exit report) run on the main thread.

pub mod announce;
pub mod channels;
pub mod control;
pub mod counters;
pub mod datapath;
pub mod dpdk;
pub mod frame;
pub mod restart;
pub mod scheduler;
pub mod shared;
pub mod state_file;
pub mod stop;
pub mod worker;
