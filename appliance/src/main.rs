//! slbd: the slb session-label load balancer appliance.

use clap::{Parser, ValueEnum};
use slb_appliance::dpdk::{lcore, Eal, Mempool, Port, PortConfig};
use slb_appliance::forward::Forward;
use slb_appliance::stop;
use slb_appliance::worker::{self, LoopCounters, LoopSnapshot};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ABOUT: &str = "slbd: the slb session-label load balancer appliance (DPDK poll mode).";

const LONG_ABOUT: &str = "\
slbd: the slb session-label load balancer appliance (DPDK poll mode).

Usage follows the DPDK convention: EAL options first, then `--`, then slbd's
own options:

    slbd [EAL options] -- [slbd options]

EAL options choose the cores and the devices, for example:
    -l 0-1                  lcores: the first is the main lcore (control),
                            every other one runs a worker poll loop
    --vdev net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap
                            a virtual port (no NIC needed)
    -a 0000:01:00.0         a real NIC bound to vfio-pci
    --no-huge -m 256        run without hugepages (tests, labs)
See `dpdk-testpmd --help` or DPDK's EAL documentation for all of them.

Modes:
    forward   every worker moves packets between port pairs (0<->1, 2<->3;
              a lone last port sends back out of itself) without touching
              them. This is the baseline every benchmark compares against:
              it runs the same poll loop as the real data path.

Example (no NIC, on capture files):
    slbd --no-pci --no-huge -m 256 --no-shconf -l 0-1 \\
         --vdev net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap \\
         -- --mode forward --exit-idle-ms 200";

#[derive(Parser, Debug)]
#[command(name = "slbd", version, about = ABOUT, long_about = LONG_ABOUT)]
struct Options {
    /// What the workers do with packets.
    #[arg(long, value_enum, default_value_t = Mode::Forward)]
    mode: Mode,

    /// Ports to use, by DPDK device name, comma separated (default: every
    /// port EAL probed, in port-id order).
    #[arg(long, value_delimiter = ',')]
    ports: Vec<String>,

    /// Stop after this many milliseconds without receiving a packet
    /// (for runs over capture files).
    #[arg(long, value_name = "MS")]
    exit_idle_ms: Option<u64>,

    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS")]
    duration: Option<f64>,

    /// RX and TX descriptors per queue.
    #[arg(long, default_value_t = 1024)]
    descriptors: u16,

    /// Mbufs in the packet pool (default: enough for every queue).
    #[arg(long)]
    mbufs: Option<u32>,

    /// Final counters as one JSON object on stdout instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Move packets between port pairs untouched (benchmark baseline).
    Forward,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Forward => "forward",
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
    if eal_args.len() <= 1 {
        return Err("no EAL options: give them before `--` (see slbd --help)".into());
    }
    let mut eal_args = eal_args.to_vec();
    if !eal_args.iter().any(|a| a.starts_with("--log-level")) {
        // EAL's start-up chatter is info level; keep warnings and errors.
        eal_args.insert(1, "--log-level=lib.eal:warning".into());
    }
    let eal = Eal::init(&eal_args).map_err(|e| e.to_string())?;
    stop::install_signal_handlers();

    let workers = lcore::worker_lcores();
    if workers.is_empty() {
        return Err(
            "no worker lcore: give EAL at least two lcores (e.g. -l 0-1); \
                    the first is the main lcore, the others run workers"
                .into(),
        );
    }
    let port_ids: Vec<u16> = if opts.ports.is_empty() {
        let n = Port::count();
        if n == 0 {
            return Err("no ports: give EAL a device (--vdev net_... or -a <PCI address>)".into());
        }
        (0..n).collect()
    } else {
        opts.ports
            .iter()
            .map(|name| Port::id_by_name(name).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?
    };

    let nq = workers.len() as u16;
    let per_port = 2 * u32::from(opts.descriptors) * u32::from(nq);
    let mbufs = opts
        .mbufs
        .unwrap_or(per_port * port_ids.len() as u32 + 1024 * u32::from(nq) + 4096);
    let pool = Mempool::new(
        "slbd_pkts",
        mbufs,
        256,
        slb_dpdk_sys::RTE_MBUF_DEFAULT_BUF_SIZE as u16,
    )
    .map_err(|e| e.to_string())?;
    let cfg = PortConfig {
        rx_queues: nq,
        tx_queues: nq,
        rx_desc: opts.descriptors,
        tx_desc: opts.descriptors,
        ..PortConfig::default()
    };
    let mut ports = Vec::new();
    for &id in &port_ids {
        let p = Port::configure(id, &cfg, &pool).map_err(|e| e.to_string())?;
        p.start().map_err(|e| e.to_string())?;
        tracing::info!(
            port = p.name(),
            driver = p.driver(),
            queues = nq,
            rss = p.rss(),
            mac = %fmt_mac(p.mac()),
            "port up"
        );
        ports.push(p);
    }
    let ports: Arc<Vec<Port>> = Arc::new(ports);
    let counters: Arc<Vec<LoopCounters>> = Arc::new(
        (0..workers.len())
            .map(|_| LoopCounters::default())
            .collect(),
    );

    let mut launched = Vec::new();
    for (q, &lc) in workers.iter().enumerate() {
        let ports = ports.clone();
        let counters = counters.clone();
        let mode = opts.mode;
        let job = move || {
            let refs: Vec<&Port> = ports.iter().collect();
            match mode {
                Mode::Forward => {
                    let mut h = Forward::new(refs.len());
                    worker::run(&refs, q as u16, &mut h, &counters[q]);
                }
            }
            0
        };
        match lcore::launch(lc, job) {
            Ok(l) => launched.push(l),
            Err(e) => {
                stop::request();
                join_all(launched);
                return Err(e.to_string());
            }
        }
    }
    tracing::info!(
        mode = opts.mode.name(),
        workers = workers.len(),
        ports = ports.len(),
        "slbd running"
    );

    let started = Instant::now();
    let mut last_rx = 0u64;
    let mut last_change = Instant::now();
    while !stop::requested() {
        std::thread::sleep(Duration::from_millis(5));
        let rx: u64 = counters.iter().map(|c| c.snapshot().rx_packets).sum();
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
    let errors = join_all(launched);
    for p in ports.iter() {
        p.stop();
    }
    report(opts, &ports, &counters, elapsed);
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
            Ok(rc) => Some(format!("a worker lcore exited with {rc}")),
            Err(msg) => Some(msg),
        })
        .collect()
}

fn report(opts: &Options, ports: &[Port], counters: &[LoopCounters], elapsed: Duration) {
    let per_core: Vec<LoopSnapshot> = counters.iter().map(|c| c.snapshot()).collect();
    let rx: u64 = per_core.iter().map(|c| c.rx_packets).sum();
    let tx: u64 = per_core.iter().map(|c| c.tx_packets).sum();
    let tx_full: u64 = per_core.iter().map(|c| c.tx_full_drops).sum();
    let secs = elapsed.as_secs_f64();
    if opts.json {
        let ports_json: Vec<_> = ports
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
            .map(|c| {
                serde_json::json!({
                    "rx_packets": c.rx_packets, "tx_packets": c.tx_packets,
                    "tx_full_drops": c.tx_full_drops,
                })
            })
            .collect();
        let doc = serde_json::json!({
            "mode": opts.mode.name(),
            "seconds": secs,
            "rx_packets": rx, "tx_packets": tx, "tx_full_drops": tx_full,
            "ports": ports_json, "workers": cores,
        });
        println!("{doc}");
        return;
    }
    println!(
        "slbd {} mode ran {:.3} s on {} worker(s)",
        opts.mode.name(),
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
    for p in ports {
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

fn fmt_mac(m: [u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}
