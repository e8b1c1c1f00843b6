//! slbd: the slb session-label load balancer appliance.

use clap::{Parser, ValueEnum};
use slb_appliance::counters::{Counters, Event, Snapshot};
use slb_appliance::datapath::{assemble, DataPath, QueueSizes};
use slb_appliance::dpdk::{lcore, Eal, Mbuf, Mempool, Port, PortConfig};
use slb_appliance::forward::Forward;
use slb_appliance::worker::{self, LoopCounters, LoopSnapshot};
use slb_appliance::{sched_lcore, stop};
use slb_config::Config;
use std::process::ExitCode;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ABOUT: &str = "slbd: the slb session-label load balancer appliance (DPDK poll mode).";

const LONG_ABOUT: &str = "\
slbd: the slb session-label load balancer appliance (DPDK poll mode).

Usage follows the DPDK convention: EAL options first, then `--`, then slbd's
own options:

    slbd [EAL options] -- [slbd options]

EAL options choose the cores and the devices, for example:
    -l 0-2                  lcores: the first is the main lcore (control);
                            in balance mode the second runs the scheduler;
                            every other one runs a worker poll loop
    --vdev net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap
                            a virtual port (no NIC needed)
    -a 0000:01:00.0         a real NIC bound to vfio-pci
    --no-huge -m 256        run without hugepages (tests, labs)
See `dpdk-testpmd --help` or DPDK's EAL documentation for all of them.

Modes:
    balance   the load balancer (the default with --config). The first
              lcore is the main lcore (control, counters), the second runs
              the scheduler (new sessions, labels, neighbours, expiry), every
              further lcore runs a worker that switches labelled frames.
              Needs at least 3 lcores, e.g. -l 0-2 or --lcores 0@0,1@1,2@1.
    forward   every worker moves packets between port pairs (0<->1, 2<->3;
              a lone last port sends back out of itself) without touching
              them. This is the baseline every benchmark compares against:
              it runs the same poll loop as the real data path.

Examples (no NIC):
    slbd --no-pci --no-huge -m 256 --no-shconf -l 0-1 \\
         --vdev net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap \\
         -- --mode forward --exit-idle-ms 200
    slbd --no-pci --no-huge -m 512 --no-shconf -l 0-2 \\
         --vdev net_tap0,iface=slbc --vdev net_tap1,iface=slbs \\
         -- --config config/examples/lab.json
    slbd -- --config slbd.json --check-config";

#[derive(Parser, Debug)]
#[command(name = "slbd", version, about = ABOUT, long_about = LONG_ABOUT)]
struct Options {
    /// What the workers do with packets (default: balance with --config,
    /// forward without).
    #[arg(long, value_enum)]
    mode: Option<Mode>,

    /// The configuration file (JSON; see docs/config-reference.md). Required by
    /// `balance`. Checked before EAL starts: slbd refuses to start on any
    /// error and names the JSON path of each bad field.
    #[arg(long, value_name = "FILE")]
    config: Option<std::path::PathBuf>,

    /// Check the configuration file and exit (no EAL, no ports).
    #[arg(long)]
    check_config: bool,

    /// forward mode: ports to use, by DPDK device name, comma separated
    /// (default: every port EAL probed, in port-id order). balance mode
    /// takes its ports from the configuration.
    #[arg(long, value_delimiter = ',')]
    ports: Vec<String>,

    /// Stop after this many milliseconds without receiving a packet
    /// (for runs over capture files).
    #[arg(long, value_name = "MS")]
    exit_idle_ms: Option<u64>,

    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS")]
    duration: Option<f64>,

    /// When a poll loop finds nothing to do 256 times in a row, sleep this
    /// many microseconds (0: poll without pause, for dedicated cores). Set
    /// it when lcores share CPUs with other work (labs, small VMs).
    #[arg(long, value_name = "US", default_value_t = 0)]
    idle_sleep_us: u32,

    /// Benchmarks: before the lcores start, create this many sessions on
    /// the first service through the real admission path, from synthetic
    /// clients (198.19.0.0/27 or 2001:db8:ffff::/123, ports 1024-17407);
    /// session i gets labels first+2i+1 and first+2i+2 (see docs/performance.md).
    #[arg(long, value_name = "N", default_value_t = 0)]
    preload_sessions: u32,

    /// RX and TX descriptors per queue.
    #[arg(long, default_value_t = 1024)]
    descriptors: u16,

    /// Mbufs in the packet pool (default: enough for every queue).
    #[arg(long)]
    mbufs: Option<u32>,

    /// Final counters as one JSON object on stdout instead of text.
    #[arg(long)]
    json: bool,

    /// balance mode: serve the control protocol (slbctl) on this Unix
    /// socket instead of the configuration's `control.socket` (default
    /// /run/slbd.sock). Mode 0660; a stale socket file is replaced, one a
    /// running process listens on is an error. See docs/operations.md.
    #[arg(long, value_name = "PATH")]
    ctl_socket: Option<std::path::PathBuf>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Move packets between port pairs untouched (benchmark baseline).
    Forward,
    /// The load balancer: label switching workers and a scheduler lcore.
    Balance,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Forward => "forward",
            Mode::Balance => "balance",
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (eal_args, slbd_args) = split_args(&args);
    let opts = match Options::try_parse_from(&slbd_args) {
        Ok(o) => o,
        Err(e) => {
            // clap prints help/version to stdout and errors to stderr.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SLB_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(&eal_args, &opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("slbd: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Splits `slbd [EAL] -- [slbd]` into the EAL vector and slbd's own vector
/// (each starting with the program name). Without `--`, everything is
/// slbd's, so `slbd --help` works without starting EAL.
fn split_args(args: &[String]) -> (Vec<String>, Vec<String>) {
    let prog = args.first().cloned().unwrap_or_else(|| "slbd".into());
    match args.iter().position(|a| a == "--") {
        Some(i) => {
            let eal = args[..i].to_vec();
            let mut own = vec![prog];
            own.extend_from_slice(&args[i + 1..]);
            (eal, own)
        }
        None => (vec![prog], args.to_vec()),
    }
}

fn run(eal_args: &[String], opts: &Options) -> Result<(), String> {
    let mode = opts.mode.unwrap_or(if opts.config.is_some() {
        Mode::Balance
    } else {
        Mode::Forward
    });
    // The configuration is checked before anything starts.
    let config = match &opts.config {
        Some(path) => Some(
            Config::from_file(path)
                .map_err(|e| format!("{}: the configuration is invalid:\n{e}", path.display()))?,
        ),
        None if mode == Mode::Balance => return Err("balance mode needs --config FILE".into()),
        None => None,
    };
    if opts.check_config {
        let c = config
            .as_ref()
            .ok_or("--check-config needs --config FILE")?;
        println!(
            "configuration OK: {} port(s), {} service(s), {} server(s)",
            c.ports.len(),
            c.services.len(),
            c.services.iter().map(|s| s.servers.len()).sum::<usize>()
        );
        return Ok(());
    }
    if eal_args.len() <= 1 {
        return Err("no EAL options: give them before `--` (see slbd --help)".into());
    }
    // The control socket is bound before anything starts, so a second
    // slbd on the same socket stops here.
    let ctl_listener = match (&config, mode) {
        (Some(c), Mode::Balance) => {
            let path = opts
                .ctl_socket
                .clone()
                .unwrap_or_else(|| c.control.socket.clone());
            let l = slb_appliance::control::server::bind(&path)?;
            Some((l, path))
        }
        _ => None,
    };
    let mut eal_args = eal_args.to_vec();
    if !eal_args.iter().any(|a| a.starts_with("--log-level")) {
        // EAL's start-up chatter is info level; keep warnings and errors.
        eal_args.insert(1, "--log-level=lib.eal:warning".into());
    }
    let eal = Eal::init(&eal_args).map_err(|e| e.to_string())?;
    stop::install_signal_handlers();

    let lcores = lcore::worker_lcores();
    let (sched_lcore, worker_lcores) =
        match mode {
            Mode::Forward => (None, lcores.clone()),
            Mode::Balance => match lcores.split_first() {
                Some((s, w)) if !w.is_empty() => (Some(*s), w.to_vec()),
                _ => return Err(
                    "balance mode needs at least 3 lcores (e.g. -l 0-2 or --lcores 0@0,1@1,2@1): \
                     main, scheduler, and one or more workers"
                        .into(),
                ),
            },
        };
    if worker_lcores.is_empty() {
        return Err(
            "no worker lcore: give EAL at least two lcores (e.g. -l 0-1); \
                    the first is the main lcore, the others run workers"
                .into(),
        );
    }
    let port_ids: Vec<u16> = match &config {
        Some(c) => c
            .ports
            .iter()
            .enumerate()
            .map(|(i, p)| {
                Port::id_by_name(&p.device).map_err(|e| format!("ports[{i}].device: {e}"))
            })
            .collect::<Result<_, _>>()?,
        None if opts.ports.is_empty() => {
            let n = Port::count();
            if n == 0 {
                return Err(
                    "no ports: give EAL a device (--vdev net_... or -a <PCI address>)".into(),
                );
            }
            (0..n).collect()
        }
        None => opts
            .ports
            .iter()
            .map(|name| Port::id_by_name(name).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?,
    };

    let nw = worker_lcores.len() as u16;
    // Workers own one RX and one TX queue each; so does the scheduler.
    let (rxq, txq) = match mode {
        Mode::Forward => (nw, nw),
        Mode::Balance => (nw + 1, nw + 1),
    };
    let per_port = u32::from(opts.descriptors) * u32::from(rxq + txq);
    let mbufs = opts
        .mbufs
        .unwrap_or(per_port * port_ids.len() as u32 + 1024 * u32::from(nw) + 8192);
    let pool = Mempool::new(
        "slbd_pkts",
        mbufs,
        256,
        slb_dpdk_sys::RTE_MBUF_DEFAULT_BUF_SIZE as u16,
    )
    .map_err(|e| e.to_string())?;
    let mut ports = Vec::new();
    for (i, &id) in port_ids.iter().enumerate() {
        let mtu = config.as_ref().map(|c| c.ports[i].mtu);
        let cfg = PortConfig {
            rx_queues: rxq,
            tx_queues: txq,
            rx_desc: opts.descriptors,
            tx_desc: opts.descriptors,
            mtu: None,
            ..PortConfig::default()
        };
        let p = Port::configure(id, &cfg, &pool).map_err(|e| e.to_string())?;
        if let Some(mtu) = mtu {
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
            rx_queues = rxq,
            tx_queues = txq,
            rss = p.rss(),
            mac = %fmt_mac(p.mac()),
            "port up"
        );
        ports.push(p);
    }
    let ports: Arc<Vec<Port>> = Arc::new(ports);
    let loop_counters: Arc<Vec<LoopCounters>> = Arc::new(
        (0..worker_lcores.len())
            .map(|_| LoopCounters::default())
            .collect(),
    );
    let sched_tx_dropped = Arc::new(AtomicU64::new(0));
    // (capacity, free, active, quarantined) when the scheduler stopped.
    let final_labels: Arc<std::sync::Mutex<Option<LabelUse>>> = Arc::default();

    let mut launched = Vec::new();
    let mut path_counters: Vec<Arc<Counters>> = Vec::new();
    let launch =
        |lc: u32, job: Box<dyn FnOnce() -> i32 + Send>, launched: &mut Vec<lcore::Launched>| {
            lcore::launch(lc, job)
                .map(|l| launched.push(l))
                .map_err(|e| e.to_string())
        };
    let idle = worker::Idle {
        sleep_us: opts.idle_sleep_us,
    };
    let mut ctl_queue = None;
    let result: Result<(), String> = (|| {
        match mode {
            Mode::Forward => {
                for (q, &lc) in worker_lcores.iter().enumerate() {
                    let (ports, counters) = (ports.clone(), loop_counters.clone());
                    launch(
                        lc,
                        Box::new(move || {
                            let refs: Vec<&Port> = ports.iter().collect();
                            let mut h = Forward::new(refs.len());
                            worker::run(&refs, q as u16, &mut h, &counters[q], idle);
                            0
                        }),
                        &mut launched,
                    )?;
                }
            }
            Mode::Balance => {
                let cfg = config.as_ref().ok_or("no configuration")?;
                let macs: Vec<[u8; 6]> = ports.iter().map(|p| p.mac()).collect();
                let alloc_pool = pool;
                let dp = assemble::<Mbuf>(
                    cfg,
                    worker_lcores.len(),
                    &macs,
                    QueueSizes::default(),
                    Box::new(move |bytes: &[u8]| {
                        let mut m = alloc_pool.alloc()?;
                        m.append(u16::try_from(bytes.len()).ok()?)?
                            .copy_from_slice(bytes);
                        Some(m)
                    }),
                )?;
                let mut dp = dp;
                if opts.preload_sessions > 0 {
                    let t0 = Instant::now();
                    let wrap = |bytes: Vec<u8>| {
                        let mut m = pool.alloc()?;
                        m.append(u16::try_from(bytes.len()).ok()?)?
                            .copy_from_slice(&bytes);
                        Some(m)
                    };
                    let n = dp.preload(cfg, 0, opts.preload_sessions, 1, wrap)?;
                    tracing::info!(
                        sessions = n,
                        seconds = t0.elapsed().as_secs_f64(),
                        "preloaded"
                    );
                }
                let DataPath {
                    scheduler,
                    workers,
                    worker_counters,
                    scheduler_counters,
                    ..
                } = dp;
                path_counters.push(scheduler_counters);
                path_counters.extend(worker_counters);
                let mut sched = scheduler;
                sched.set_health_enabled(true);
                ctl_queue = Some(sched.command_queue());
                let (p, d) = (ports.clone(), sched_tx_dropped.clone());
                let labels_out = final_labels.clone();
                let sched_q = nw;
                launch(
                    sched_lcore.ok_or("no scheduler lcore")?,
                    Box::new(move || {
                        let refs: Vec<&Port> = p.iter().collect();
                        sched_lcore::run(&mut sched, &refs, sched_q, &d, idle);
                        // What the label space looks like at the end, for the report.
                        let c = sched.core().labels().counts();
                        if let Ok(mut slot) = labels_out.lock() {
                            *slot = Some((c.capacity, c.free, c.active, c.quarantined));
                        }
                        0
                    }),
                    &mut launched,
                )?;
                for (q, (mut fp, &lc)) in workers.into_iter().zip(worker_lcores.iter()).enumerate()
                {
                    let (ports, counters) = (ports.clone(), loop_counters.clone());
                    launch(
                        lc,
                        Box::new(move || {
                            let refs: Vec<&Port> = ports.iter().collect();
                            worker::run(&refs, q as u16, &mut fp, &counters[q], idle);
                            0
                        }),
                        &mut launched,
                    )?;
                }
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        stop::request();
        join_all(launched);
        return Err(e);
    }
    tracing::info!(
        mode = mode.name(),
        workers = worker_lcores.len(),
        ports = ports.len(),
        "slbd running"
    );
    let ctl_thread = match (ctl_listener, ctl_queue, &config) {
        (Some((listener, path)), Some(queue), Some(cfg)) => {
            let host = Box::new(SlbdHost {
                ports: ports.clone(),
                loops: loop_counters.clone(),
                main_lcore: lcore::main_lcore(),
                scheduler: sched_lcore.unwrap_or(0),
                workers: worker_lcores.clone(),
            });
            let control = Arc::new(slb_appliance::control::Control::new(
                cfg.clone(),
                opts.config.clone(),
                queue,
                path_counters.clone(),
                Some(host),
            ));
            tracing::info!(socket = %path.display(), "control socket ready");
            Some(
                std::thread::Builder::new()
                    .name("slbd-ctl".into())
                    .spawn(move || {
                        slb_appliance::control::server::serve(
                            listener,
                            path,
                            control,
                            stop::requested,
                        )
                    })
                    .map_err(|e| e.to_string())?,
            )
        }
        _ => None,
    };

    let started = Instant::now();
    let mut last_rx = 0u64;
    let mut last_change = Instant::now();
    while !stop::requested() {
        std::thread::sleep(Duration::from_millis(5));
        let rx: u64 = loop_counters.iter().map(|c| c.snapshot().rx_packets).sum();
        if rx != last_rx {
            last_rx = rx;
            last_change = Instant::now();
        }
        if let Some(ms) = opts.exit_idle_ms {
            if last_change.elapsed() >= Duration::from_millis(ms) {
                stop::request();
            }
        }
        if let Some(secs) = opts.duration {
            if started.elapsed().as_secs_f64() >= secs {
                stop::request();
            }
        }
    }
    let elapsed = started.elapsed();
    if let Some(t) = ctl_thread {
        let _ = t.join();
    }
    let errors = join_all(launched);
    for p in ports.iter() {
        p.stop();
    }
    let report = Report {
        labels: final_labels.lock().ok().and_then(|g| *g),
        mode,
        opts,
        ports: &ports,
        loops: &loop_counters,
        path: &path_counters,
        sched_tx_dropped: sched_tx_dropped.load(std::sync::atomic::Ordering::Relaxed),
        elapsed,
    };
    report.print();
    drop(ports);
    drop(eal);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

fn join_all(launched: Vec<lcore::Launched>) -> Vec<String> {
    launched
        .into_iter()
        .filter_map(|l| match l.join() {
            Ok(0) => None,
            Ok(rc) => Some(format!("an lcore exited with {rc}")),
            Err(msg) => Some(msg),
        })
        .collect()
}

/// Label pairs: (capacity, free, active, quarantined).
type LabelUse = (u32, u32, u32, u32);

struct Report<'a> {
    /// Label pairs (capacity, free, active, quarantined) at the end.
    labels: Option<LabelUse>,
    mode: Mode,
    opts: &'a Options,
    ports: &'a [Port],
    loops: &'a [LoopCounters],
    /// Balance mode: the scheduler's counters, then each worker's.
    path: &'a [Arc<Counters>],
    sched_tx_dropped: u64,
    elapsed: Duration,
}

impl Report<'_> {
    fn print(&self) {
        let per_core: Vec<LoopSnapshot> = self.loops.iter().map(|c| c.snapshot()).collect();
        let rx: u64 = per_core.iter().map(|c| c.rx_packets).sum();
        let tx: u64 = per_core.iter().map(|c| c.tx_packets).sum();
        let tx_full: u64 = per_core.iter().map(|c| c.tx_full_drops).sum();
        let mut total = Snapshot::default();
        for c in self.path {
            total.add(&c.snapshot());
        }
        let sched = self.path.first().map(|c| c.snapshot()).unwrap_or_default();
        let secs = self.elapsed.as_secs_f64();
        if self.opts.json {
            let ports_json: Vec<_> = self
                .ports
                .iter()
                .map(|p| {
                    let s = p.stats();
                    serde_json::json!({
                        "name": p.name(), "driver": p.driver(),
                        "rx_packets": s.rx_packets, "tx_packets": s.tx_packets,
                        "rx_bytes": s.rx_bytes, "tx_bytes": s.tx_bytes,
                        "rx_missed": s.rx_missed, "rx_errors": s.rx_errors,
                        "tx_errors": s.tx_errors, "rx_nombuf": s.rx_nombuf,
                    })
                })
                .collect();
            let cores: Vec<_> = per_core
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let mut j = serde_json::json!({
                        "rx_packets": c.rx_packets, "tx_packets": c.tx_packets,
                        "tx_full_drops": c.tx_full_drops,
                    });
                    if let Some(pc) = self.path.get(i + 1) {
                        j["path"] = pc.snapshot().to_json();
                    }
                    j
                })
                .collect();
            let mut doc = serde_json::json!({
                "mode": self.mode.name(),
                "seconds": secs,
                "rx_packets": rx, "tx_packets": tx, "tx_full_drops": tx_full,
                "ports": ports_json, "workers": cores,
            });
            if self.mode == Mode::Balance {
                doc["scheduler"] = sched.to_json();
                doc["scheduler"]["tx_full_drops"] = self.sched_tx_dropped.into();
                doc["total"] = total.to_json();
                if let Some((capacity, free, active, quarantined)) = self.labels {
                    doc["labels"] = serde_json::json!({
                        "capacity": capacity, "free": free, "active": active, "quarantined": quarantined,
                    });
                }
            }
            println!("{doc}");
            return;
        }
        println!(
            "slbd {} mode ran {:.3} s on {} worker(s)",
            self.mode.name(),
            secs,
            per_core.len()
        );
        println!(
            "  received {rx} packets, sent {tx}, dropped at TX (queue full) {tx_full}; {:.3} Mpps",
            if secs > 0.0 {
                rx as f64 / secs / 1e6
            } else {
                0.0
            }
        );
        for (i, c) in per_core.iter().enumerate() {
            println!(
                "  worker {i}: rx {} tx {} tx_full_drops {}",
                c.rx_packets, c.tx_packets, c.tx_full_drops
            );
        }
        if self.mode == Mode::Balance {
            let events: Vec<String> = Event::ALL
                .iter()
                .filter(|e| total.event(**e) > 0)
                .map(|e| format!("{} {}", e.as_str(), total.event(*e)))
                .collect();
            println!(
                "  data path: {}",
                if events.is_empty() {
                    "idle".into()
                } else {
                    events.join(", ")
                }
            );
            let drops: Vec<String> = total
                .drops()
                .filter(|(_, n)| *n > 0)
                .map(|(r, n)| format!("{r} {n}"))
                .collect();
            println!(
                "  drops: {}",
                if drops.is_empty() {
                    "none".into()
                } else {
                    drops.join(", ")
                }
            );
            if let Some((capacity, free, active, quarantined)) = self.labels {
                println!(
                    "  label pairs: {capacity} in all, {active} active, {quarantined} in quarantine, {free} free"
                );
            }
            if self.sched_tx_dropped > 0 {
                println!("  scheduler TX queue full: {}", self.sched_tx_dropped);
            }
        }
        for p in self.ports {
            let s = p.stats();
            println!(
                "  port {} ({}): rx {} pkts {} bytes, tx {} pkts {} bytes, missed {}, errors rx {} tx {}",
                p.name(),
                p.driver(),
                s.rx_packets,
                s.rx_bytes,
                s.tx_packets,
                s.tx_bytes,
                s.rx_missed,
                s.rx_errors,
                s.tx_errors
            );
        }
    }
}

/// What the control plane asks of the main thread: ports and lcores.
struct SlbdHost {
    ports: Arc<Vec<Port>>,
    loops: Arc<Vec<LoopCounters>>,
    main_lcore: u32,
    scheduler: u32,
    workers: Vec<u32>,
}

impl slb_appliance::control::Host for SlbdHost {
    fn ports(&self) -> serde_json::Value {
        self.ports
            .iter()
            .map(|p| {
                let s = p.stats();
                let l = p.link();
                serde_json::json!({
                    "name": p.name(), "driver": p.driver(), "mac": fmt_mac(p.mac()),
                    "link": { "up": l.up, "speed_mbps": l.speed_mbps, "full_duplex": l.full_duplex },
                    "stats": {
                        "rx_packets": s.rx_packets, "tx_packets": s.tx_packets,
                        "rx_bytes": s.rx_bytes, "tx_bytes": s.tx_bytes,
                        "rx_missed": s.rx_missed, "rx_errors": s.rx_errors,
                        "tx_errors": s.tx_errors, "rx_nombuf": s.rx_nombuf,
                    },
                })
            })
            .collect()
    }

    fn lcores(&self) -> serde_json::Value {
        serde_json::json!({ "main": self.main_lcore, "scheduler": self.scheduler, "workers": self.workers })
    }

    fn loops(&self) -> Vec<serde_json::Value> {
        self.loops
            .iter()
            .map(|c| {
                let s = c.snapshot();
                serde_json::json!({ "rx_packets": s.rx_packets, "tx_packets": s.tx_packets, "tx_full_drops": s.tx_full_drops })
            })
            .collect()
    }
}

fn fmt_mac(m: [u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}
