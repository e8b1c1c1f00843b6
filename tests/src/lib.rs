//! Harnesses shared by slb's integration tests.
//!
//! - [`capture`]: tcpdump in a lab namespace, read back as frames.
//! - [`slbd`]: where the slbd binary is and the EAL options every test run
//!   must use.
//! - [`pcap_run`]: the golden packet harness: frames in -> slbd on `net_pcap`
//!   virtual ports -> frames out.
//! - [`golden`]: the deterministic rig (slbd's data path in process) and
//!   the golden table: rows as data, run on the rig and through slbd.
//! - [`l7_rig`]: the rig with layer-7 services in both families, for
//!   hostile first data.

pub mod capture;
pub mod golden;
pub mod hostile;
pub mod l7_rig;
pub mod lab;
pub mod lab_cluster;
pub mod lab_l7_servers;
pub mod lab_tcp;
pub mod pcap_run;
pub mod prometheus;
pub mod slbd;
