//! Assembles the data path from a validated configuration: the shared
//! label tables and next hops, the session core, the scheduler, and one
//! [`FastPath`] per worker, then the configuration's services, servers and
//! neighbours through [`crate::control::apply`], the path every reload
//! takes. slbd runs the result on lcores with mbufs; the golden tests run
//! it with vectors.

use crate::channels::Channels;
use crate::control::apply::apply;
use crate::counters::Counters;
use crate::frame::Frame;
use crate::scheduler::Scheduler;
use crate::shared::exception::ExceptionPath;
use crate::shared::ports::PortInfo;
use crate::shared::Shared;
use crate::worker::FastPath;
use slb_config::Config;
use slb_core::Core;
use std::sync::Arc;

/// Queue sizes between workers and the scheduler.
#[derive(Debug, Clone, Copy)]
pub struct QueueSizes {
    pub punts: usize,
    pub reports: usize,
    pub ops: usize,
    /// Flows each worker's flow cache holds without eviction; `None`: one
    /// per label pair of the label range (a worker never needs more: each
    /// plain session has one flow, its own or a peer's), so a full label
    /// range never evicts. The table is allocated once, at start; its pages cost
    /// memory only as flows fill them.
    pub flow_capacity: Option<usize>,
}

impl Default for QueueSizes {
    fn default() -> Self {
        QueueSizes {
            punts: 4096,
            reports: 8192,
            ops: 65536,
            flow_capacity: None,
        }
    }
}

/// Everything the lcores run.
pub struct DataPath<F: Frame> {
    pub shared: Arc<Shared>,
    pub scheduler: Scheduler<F>,
    pub workers: Vec<FastPath<F>>,
    pub worker_counters: Vec<Arc<Counters>>,
    pub scheduler_counters: Arc<Counters>,
}

/// Builds the data path for `workers` workers: an empty one (tables, core,
/// scheduler, one [`FastPath`] per worker), then `cfg` applied to it by
/// the same code as a reload ([`crate::control::apply`]). `port_macs[i]`
/// is the MAC of `cfg.ports[i]`; `alloc` makes frames for the scheduler's
/// own requests.
pub fn assemble<F: Frame>(
    cfg: &Config,
    workers: usize,
    port_macs: &[[u8; 6]],
    queues: QueueSizes,
    alloc: crate::frame::FrameAlloc<F>,
) -> Result<DataPath<F>, String> {
    if workers == 0 || workers > 64 {
        return Err(format!("workers: between 1 and 64 (got {workers})"));
    }
    if port_macs.len() != cfg.ports.len() {
        return Err("one MAC per configured port".into());
    }
    let ports: Vec<PortInfo> = cfg
        .ports
        .iter()
        .zip(port_macs)
        .map(|(p, mac)| PortInfo::new(p, *mac))
        .collect();
    // One label table replica per worker, and one for the scheduler,
    // over the whole label range: in a cluster, this instance assigns
    // from its own slice, and holds other instances' sessions (synced)
    // with their labels.
    let space = (cfg.labels.first, cfg.labels.last);
    let exception = exception_path(cfg)?;
    let shared = Arc::new(
        Shared::new(workers + 1, space, ports, 1 << 16)
            .with_exception(exception)
            .with_sync_port(cfg.cluster.as_ref().and_then(|c| c.sync).map(|s| s.port)),
    );
    let core = Core::new(cfg.into()).map_err(|e| e.to_string())?;
    let chans: Vec<Arc<Channels<F>>> = (0..workers)
        .map(|_| Arc::new(Channels::new(queues.punts, queues.reports, queues.ops)))
        .collect();
    let worker_counters: Vec<Arc<Counters>> = (0..workers)
        .map(|_| Arc::new(Counters::default()))
        .collect();
    let scheduler_counters = Arc::new(Counters::default());
    // The running configuration of an empty data path: ports, labels,
    // timeouts and control as configured (the core was built with them),
    // no services, no neighbours, ICMP as every lcore starts (the default:
    // applying `cfg` then sends its own).
    let mut empty = cfg.clone();
    empty.services.clear();
    empty.neighbours.clear();
    empty.icmp = slb_config::Icmp::default();
    let mut scheduler = Scheduler::new(
        core,
        shared.clone(),
        chans.clone(),
        scheduler_counters.clone(),
        alloc,
        empty,
    );
    apply(&mut scheduler, cfg.clone()).map_err(|e| e.message)?;
    // (`apply` above refused a range with no pair.) A worker's flows:
    // one per label pair of the range, its own sessions' and its peers'.
    let label_pairs = slb_core::LabelConfig {
        first: space.0,
        last: space.1,
        quarantine_ns: 0,
    }
    .pairs()
    .unwrap_or(0) as usize;
    let flow_capacity = queues.flow_capacity.unwrap_or(label_pairs);
    let mut fast_paths: Vec<FastPath<F>> = chans
        .iter()
        .enumerate()
        .map(|(i, c)| {
            FastPath::new(
                i,
                shared.clone(),
                c.clone(),
                worker_counters[i].clone(),
                flow_capacity,
            )
        })
        .collect();
    for w in &mut fast_paths {
        w.apply_ops();
    }
    Ok(DataPath {
        shared,
        scheduler,
        workers: fast_paths,
        worker_counters,
        scheduler_counters,
    })
}

/// The client of the `i`-th preloaded session: address and port. IPv4:
/// 198.19.0.0 + i / 16384, port 1024 + i % 16384 (32 addresses hold
/// 524,288 sessions); IPv6: 2001:db8:ffff:: + i / 16384, same ports.
pub fn preload_client(i: u32, v6: bool) -> (std::net::IpAddr, u16) {
    let port = 1024 + (i % 16384) as u16;
    let host = i / 16384;
    if v6 {
        let base = u128::from(
            "2001:db8:ffff::"
                .parse::<std::net::Ipv6Addr>()
                .expect("literal"),
        );
        (std::net::IpAddr::V6((base + u128::from(host)).into()), port)
    } else {
        (
            std::net::IpAddr::V4((u32::from(std::net::Ipv4Addr::new(198, 19, 0, 0)) + host).into()),
            port,
        )
    }
}

/// The MAC preloaded clients send from.
pub const PRELOAD_CLIENT_MAC: [u8; 6] = [0x02, 0x00, 0xc0, 0x00, 0x00, 0x01];

impl<F: Frame> DataPath<F> {
    /// Creates `n` sessions on service `service` (index in the
    /// configuration) through the real admission path: a synthetic SYN per
    /// session from [`preload_client`], on the first client-facing port, as
    /// if worker `i % workers` had seen it (so that worker gets the flow
    /// cache entry of a plain-client service). For benchmarks: with a fresh
    /// label space, session `i` gets labels `first_c2s + 2i` and `+1`.
    /// Returns the sessions admitted.
    pub fn preload(
        &mut self,
        cfg: &Config,
        service: usize,
        n: u32,
        now: u64,
        wrap: impl Fn(Vec<u8>) -> Option<F>,
    ) -> Result<u32, String> {
        let s = cfg
            .services
            .get(service)
            .ok_or("preload: no such service")?;
        if s.protocol != slb_config::Protocol::Tcp {
            return Err("preload: TCP services only".into());
        }
        let port = cfg
            .ports
            .iter()
            .position(|p| p.role.faces_clients())
            .ok_or("preload: no client-facing port")?;
        let port_mac = self.shared.ports[port].mac;
        let before = self.scheduler.core().labels().counts().active;
        let workers = self.workers.len();
        for i in 0..n {
            let (client, cport) = preload_client(i, s.vip.is_ipv6());
            let syn = slb_wire::FrameBuilder::tcp(
                slb_wire::MacAddr(PRELOAD_CLIENT_MAC),
                slb_wire::MacAddr(port_mac),
                client,
                s.vip,
                cport,
                s.port,
            )
            .flags(slb_wire::TcpFlags::SYN)
            .seq(1)
            .build();
            let f = wrap(syn).ok_or("preload: out of buffers")?;
            let mut sink = |_: usize, _: F| {};
            self.scheduler
                .inject_new(i as usize % workers, port as u8, f, now, &mut sink);
            if i % 512 == 511 {
                self.drain_ops();
            }
        }
        self.drain_ops();
        Ok(self.scheduler.core().labels().counts().active - before)
    }

    /// Lets every worker apply all queued ops (before the workers run).
    pub fn drain_ops(&mut self) {
        for w in &mut self.workers {
            for _ in 0..10_000 {
                let before = w.flows();
                w.apply_ops();
                if w.flows() == before {
                    break;
                }
            }
        }
    }
}

/// The exception path's ports in the data path's numbering: its via port
/// (the configured port it names), and its own index after the
/// configured ports.
fn exception_path(cfg: &Config) -> Result<Option<ExceptionPath>, String> {
    let Some(x) = cfg.cluster.as_ref().and_then(|c| c.exception.as_ref()) else {
        return Ok(None);
    };
    let via = cfg
        .ports
        .iter()
        .position(|p| p.name == x.port)
        .ok_or_else(|| format!("cluster.exception.port: no port named {:?}", x.port))?;
    let (Ok(via), Ok(port)) = (u8::try_from(via), u8::try_from(cfg.ports.len())) else {
        return Err("cluster.exception: at most 255 ports".into());
    };
    Ok(Some(ExceptionPath { via, port }))
}
