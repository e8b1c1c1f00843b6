//! What the scheduler and every worker share, written by the scheduler
//! only and read by the workers without locks: the label tables, the next
//! hops, the activity marks, the ports, and the next-hop slots with their
//! reference counts.
//!
//! - [`label_table`]: one replica of the label switching table per core.
//! - [`nexthop`]: next-hop words (port, MAC) the label entries point at.
//! - [`activity`]: per-label marks of switched traffic (idle expiry).
//! - [`ports`]: the data-path view of a port (role, MAC, MTU, addresses).
//! - [`slots`]: next-hop slot allocation and the clients' reference counts.
//! - [`drop_trace`]: the opt-in rings of recently dropped frames.
//! - [`exception`]: which frames the routing daemon's kernel interface
//!   gets (cluster).

pub mod activity;
pub mod drop_trace;
pub mod exception;
pub mod label_table;
pub mod nexthop;
pub mod ports;
pub mod slots;

use activity::Activity;
use drop_trace::DropTrace;
use exception::ExceptionPath;
use label_table::{FingerprintKey, LabelTables};
use nexthop::NextHops;
use ports::{max_mss, PortInfo};
use slb_wire::{FlowKey, IpProtocol};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

/// A service as the worker matches it: (protocol, VIP, port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServiceKey {
    pub protocol: IpProtocol,
    pub vip: IpAddr,
    pub port: u16,
}

impl ServiceKey {
    pub fn new(protocol: slb_core::Protocol, vip: IpAddr, port: u16) -> ServiceKey {
        ServiceKey {
            protocol: ip_protocol(protocol),
            vip,
            port,
        }
    }

    /// An IPv4 service as one word: `protocol << 48 | port << 32 | vip`
    /// (exact); None for IPv6.
    #[inline(always)]
    pub fn v4_word(&self) -> Option<u64> {
        match self.vip {
            IpAddr::V4(a) => Some(
                (u64::from(u8::from(self.protocol)) << 48)
                    | (u64::from(self.port) << 32)
                    | u64::from(u32::from(a)),
            ),
            IpAddr::V6(_) => None,
        }
    }
}

/// The IP protocol of a session-core protocol (whose values are the IP
/// protocol numbers).
pub fn ip_protocol(p: slb_core::Protocol) -> IpProtocol {
    IpProtocol::from(p as u8)
}

/// The session-core protocol of an IP protocol: TCP and UDP only.
pub fn core_protocol(p: IpProtocol) -> Option<slb_core::Protocol> {
    match p {
        IpProtocol::Tcp => Some(slb_core::Protocol::Tcp),
        IpProtocol::Udp => Some(slb_core::Protocol::Udp),
        _ => None,
    }
}

/// The client-to-VIP 5-tuple of a session: its flow-cache key.
pub fn client_flow(k: &slb_core::SessionKey) -> FlowKey {
    FlowKey {
        protocol: ip_protocol(k.protocol),
        src: k.client,
        src_port: k.client_port,
        dst: k.vip,
        dst_port: k.vip_port,
    }
}

/// State shared by the scheduler (writer) and every worker (readers).
pub struct Shared {
    pub tables: LabelTables,
    /// Per replica (workers, then the scheduler): sessions that carried
    /// traffic since the scheduler last looked.
    pub activity: Vec<Activity>,
    pub nexthops: NextHops,
    pub ports: Vec<PortInfo>,
    pub fingerprint: FingerprintKey,
    /// Largest TCP MSS that fits a labelled frame on every port.
    pub max_mss_v4: u16,
    pub max_mss_v6: u16,
    /// Recently dropped frames, per replica (off unless asked for).
    pub drops: DropTrace,
    /// The scheduler's clock (ns) at its last round: the workers' coarse
    /// time for their ICMP rate limits (no clock read per frame).
    pub clock: AtomicU64,
    /// The routing daemon's kernel interface, when configured
    /// (`cluster.exception`).
    pub exception: Option<ExceptionPath>,
    /// The session sync UDP port (`cluster.sync.port`), 0 without sync:
    /// the workers punt UDP to slbd's own address on it (set at start: a
    /// change needs a restart).
    pub sync_port: u16,
    /// The SYN cookies' PRF key (`worker/syn_cookie.rs`,
    /// `scheduler/splice.rs`): random at start.
    pub cookie_key: slb_wire::syn_cookie::CookieKey,
    /// Unix time (ms) when [`Shared::clock`] read 0: with it, the clock
    /// gives the SYN cookies' time ([`Shared::wall_ms`]). Set at start
    /// (golden tests set their own).
    wall_epoch_ms: AtomicU64,
}

impl Shared {
    pub fn new(
        workers: usize,
        labels: (u32, u32),
        ports: Vec<PortInfo>,
        nexthops: usize,
    ) -> Shared {
        let min_mtu = ports.iter().map(|p| p.mtu).min().unwrap_or(1500);
        Shared {
            tables: LabelTables::new(workers, labels.0, labels.1),
            activity: (0..workers)
                .map(|_| Activity::new(labels.0, labels.1))
                .collect(),
            nexthops: NextHops::new(nexthops),
            ports,
            fingerprint: FingerprintKey::random(),
            max_mss_v4: max_mss(min_mtu, false),
            max_mss_v6: max_mss(min_mtu, true),
            drops: DropTrace::new(workers, drop_trace::PER_LCORE),
            clock: AtomicU64::new(0),
            exception: None,
            sync_port: 0,
            cookie_key: random_cookie_key(),
            wall_epoch_ms: AtomicU64::new(unix_ms()),
        }
    }

    /// With the exception path (before the data path starts).
    pub fn with_exception(mut self, exception: Option<ExceptionPath>) -> Shared {
        self.exception = exception;
        self
    }

    /// The session sync port, `None` without sync.
    pub fn with_sync_port(mut self, port: Option<u16>) -> Shared {
        self.sync_port = port.unwrap_or(0);
        self
    }

    /// Unix time (ms) at the scheduler's last round, from its clock (no
    /// clock read per frame): the SYN cookies' counter and their
    /// SYN-ACKs' TSval. Before the first round, the time at start.
    #[inline]
    pub fn wall_ms(&self) -> u64 {
        self.wall_epoch_ms.load(Ordering::Relaxed) + self.clock.load(Ordering::Relaxed) / 1_000_000
    }

    /// Sets the Unix time (ms) at which the scheduler's clock reads 0
    /// (golden tests and harnesses: SYN cookies made at a time they
    /// choose).
    pub fn set_wall_epoch_ms(&self, ms: u64) {
        self.wall_epoch_ms.store(ms, Ordering::Relaxed);
    }

    pub fn max_mss(&self, v6: bool) -> u16 {
        if v6 {
            self.max_mss_v6
        } else {
            self.max_mss_v4
        }
    }
}

/// Milliseconds since the Unix epoch (0 on a clock before it).
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// 128 bits from the operating system's generator (`getrandom`), once at
/// start. Without it (no entropy source: never on Linux since 3.17) the
/// process's hash keys, which are random too, stand in.
fn random_cookie_key() -> slb_wire::syn_cookie::CookieKey {
    let mut k = [0u8; 16];
    if getrandom::getrandom(&mut k).is_err() {
        use std::hash::{BuildHasher, Hasher};
        for (i, chunk) in k.chunks_mut(8).enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(i);
            chunk.copy_from_slice(&h.finish().to_le_bytes());
        }
    }
    slb_wire::syn_cookie::CookieKey(k)
}
