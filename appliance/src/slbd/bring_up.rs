//! Start-up on the main thread, before any lcore runs: the configuration
//! (checked before anything starts), the control socket and the metrics
//! listener (bound before EAL, so a second slbd on the same socket or
//! address stops here), the announce table (flushed), EAL, the lcore roles,
//! and the ports with their queues and packet pool.

use crate::options::{Mode, Options};
use slb_appliance::announce::Announcer;
use slb_appliance::dpdk::{lcore, Eal, Mempool, Port, PortConfig};
use slb_config::{format_mac, Config};
use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;

/// Reads and checks `--config` (balance mode needs one).
pub fn load_config(opts: &Options) -> Result<Option<Config>, String> {
    match &opts.config {
        Some(path) => Config::from_file(path)
            .map(Some)
            .map_err(|e| format!("{}: the configuration is invalid:\n{e}", path.display())),
        None if opts.mode() == Mode::Balance => Err("balance mode needs --config FILE".into()),
        None => Ok(None),
    }
}

/// `--check-config`: one line about the valid configuration.
pub fn check_config(config: Option<&Config>) -> Result<(), String> {
    let c = config.ok_or("--check-config needs --config FILE")?;
    println!(
        "configuration OK: {} port(s), {} service(s), {} server(s)",
        c.ports.len(),
        c.services.len(),
        c.services.iter().map(|s| s.servers.len()).sum::<usize>()
    );
    Ok(())
}

/// Binds the control socket (balance mode): `--ctl-socket`, else the
/// configuration's `control.socket`.
pub fn bind_control(
    config: Option<&Config>,
    opts: &Options,
) -> Result<Option<(UnixListener, PathBuf)>, String> {
    match (config, opts.mode()) {
        (Some(c), Mode::Balance) => {
            let path = opts
                .ctl_socket
                .clone()
                .unwrap_or_else(|| c.control.socket.clone());
            let l = slb_appliance::control::server::bind(&path)?;
            Ok(Some((l, path)))
        }
        _ => Ok(None),
    }
}

/// Binds `control.metrics_listen` (balance mode, when set): before EAL,
/// so an address in use stops slbd before anything runs.
pub fn bind_metrics(
    config: Option<&Config>,
    opts: &Options,
) -> Result<Option<TcpListener>, String> {
    match (config.and_then(|c| c.control.metrics_listen), opts.mode()) {
        (Some(addr), Mode::Balance) => slb_appliance::control::metrics_http::bind(addr).map(Some),
        _ => Ok(None),
    }
}

/// Opens `cluster.announce_table` (balance mode, when set) and flushes
/// it, before anything runs: a table slbd cannot flush stops slbd here.
pub fn start_announcer(
    config: Option<&Config>,
    opts: &Options,
) -> Result<Option<Announcer>, String> {
    let table = config
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.announce_table);
    match (table, opts.mode()) {
        (Some(t), Mode::Balance) => Announcer::start(t).map(Some),
        _ => Ok(None),
    }
}

/// Starts EAL (quiet unless a `--log-level` is given).
pub fn start_eal(eal_args: &[String]) -> Result<Eal, String> {
    let mut eal_args = eal_args.to_vec();
    if !eal_args.iter().any(|a| a.starts_with("--log-level")) {
        // EAL's start-up chatter is info level; keep warnings and errors.
        eal_args.insert(1, "--log-level=lib.eal:warning".into());
    }
    Eal::init(&eal_args).map_err(|e| e.to_string())
}

/// What each lcore EAL gave slbd does (the main lcore is the caller).
pub struct Lcores {
    /// Balance mode: the first lcore after the main one.
    pub scheduler: Option<u32>,
    pub workers: Vec<u32>,
}

impl Lcores {
    pub fn assign(mode: Mode) -> Result<Lcores, String> {
        let lcores = lcore::worker_lcores();
        let (scheduler, workers) = match mode {
            Mode::Forward => (None, lcores),
            Mode::Balance => match lcores.split_first() {
                Some((s, w)) if !w.is_empty() => (Some(*s), w.to_vec()),
                _ => return Err(
                    "balance mode needs at least 3 lcores (e.g. -l 0-2 or --lcores 0@0,1@1,2@1): \
                         main, scheduler, and one or more workers"
                        .into(),
                ),
            },
        };
        if workers.is_empty() {
            return Err(
                "no worker lcore: give EAL at least two lcores (e.g. -l 0-1); \
                        the first is the main lcore, the others run workers"
                    .into(),
            );
        }
        Ok(Lcores { scheduler, workers })
    }

    /// RX and TX queues per port: one per worker, and one for the
    /// scheduler in balance mode.
    pub fn queues(&self) -> u16 {
        self.workers.len() as u16 + u16::from(self.scheduler.is_some())
    }
}

/// The ports slbd runs, by DPDK port id: the configuration's (balance),
/// `--ports` or every probed port (forward).
fn port_ids(config: Option<&Config>, opts: &Options) -> Result<Vec<u16>, String> {
    match config {
        Some(c) => c
            .ports
            .iter()
            .enumerate()
            .map(|(i, p)| {
                Port::id_by_name(&p.device).map_err(|e| format!("ports[{i}].device: {e}"))
            })
            .collect(),
        None if opts.ports.is_empty() => {
            let n = Port::count();
            if n == 0 {
                return Err(
                    "no ports: give EAL a device (--vdev net_... or -a <PCI address>)".into(),
                );
            }
            Ok((0..n).collect())
        }
        None => opts
            .ports
            .iter()
            .map(|name| Port::id_by_name(name).map_err(|e| e.to_string()))
            .collect(),
    }
}

/// Creates the packet pool and configures and starts every port.
pub fn start_ports(
    config: Option<&Config>,
    opts: &Options,
    lcores: &Lcores,
) -> Result<(Vec<Port>, Mempool), String> {
    let port_ids = port_ids(config, opts)?;
    let q = lcores.queues();
    let per_port = u32::from(opts.descriptors) * u32::from(2 * q);
    let workers = lcores.workers.len() as u32;
    let mbufs = opts
        .mbufs
        .unwrap_or(per_port * port_ids.len() as u32 + 1024 * workers + 8192);
    let pool = Mempool::new(
        "slbd_pkts",
        mbufs,
        256,
        slb_dpdk_sys::RTE_MBUF_DEFAULT_BUF_SIZE as u16,
    )
    .map_err(|e| e.to_string())?;
    let mut ports = Vec::new();
    for (i, &id) in port_ids.iter().enumerate() {
        let cfg = PortConfig {
            rx_queues: q,
            tx_queues: q,
            rx_desc: opts.descriptors,
            tx_desc: opts.descriptors,
            mtu: None,
            ..PortConfig::default()
        };
        let p = Port::configure(id, &cfg, &pool).map_err(|e| e.to_string())?;
        if let Some(mtu) = config.map(|c| c.ports[i].mtu) {
            // slbd enforces the MTU itself; the device MTU is best effort
            // (capture and null devices have none).
            if let Err(e) = p.set_mtu(mtu) {
                tracing::warn!(port = p.name(), mtu, "device MTU not set: {e}");
            }
        }
        p.start().map_err(|e| e.to_string())?;
        tracing::info!(
            port = p.name(),
            driver = p.driver(),
            rx_queues = q,
            tx_queues = q,
            rss = p.rss(),
            mac = %format_mac(&p.mac()),
            "port up"
        );
        ports.push(p);
    }
    Ok((ports, pool))
}

/// Opens the exception path's port (`cluster.exception`, balance mode):
/// one queue pair, polled by the scheduler only, with the MAC of the port
/// it peers through, so the kernel interface behind it (`net_tap`) answers
/// and sends as that port.
pub fn start_exception_port(
    config: Option<&Config>,
    opts: &Options,
    ports: &[Port],
    pool: &Mempool,
) -> Result<Option<Port>, String> {
    if opts.mode() != Mode::Balance {
        return Ok(None);
    }
    let Some((x, via)) = config.and_then(|c| {
        let x = c.cluster.as_ref()?.exception.as_ref()?;
        let via = c.ports.iter().position(|p| p.name == x.port)?;
        Some((x, via))
    }) else {
        return Ok(None);
    };
    let id = Port::id_by_name(&x.device).map_err(|e| {
        format!(
            "cluster.exception.device: {e} (give EAL the device: --vdev {},iface=...)",
            x.device
        )
    })?;
    let cfg = PortConfig {
        rx_desc: 256,
        tx_desc: 256,
        ..PortConfig::default()
    };
    let mut p =
        Port::configure(id, &cfg, pool).map_err(|e| format!("cluster.exception.device: {e}"))?;
    let mac = ports
        .get(via)
        .map(Port::mac)
        .ok_or("cluster.exception.port: no such port")?;
    p.set_mac(mac).map_err(|e| {
        format!(
            "cluster.exception.device: {e}: the kernel interface must have the MAC of port {:?}",
            x.port
        )
    })?;
    p.start().map_err(|e| e.to_string())?;
    tracing::info!(
        port = p.name(),
        driver = p.driver(),
        via = x.port.as_str(),
        mac = %format_mac(&p.mac()),
        "exception path up"
    );
    Ok(Some(p))
}
