//! slbd's command line: `slbd [EAL options] -- [slbd options]`, the
//! options, the modes and the help text.

use clap::{Parser, ValueEnum};

pub const ABOUT: &str = "slbd: the slb session-label load balancer appliance (DPDK poll mode).";

pub const LONG_ABOUT: &str = "\
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
    slbd -- --config slbd.json --check-config

Planned restart (docs/operations.md, \"Restart with state\"):
    slbd ... -- --config slbd.json --save-state /var/lib/slb/state \\
                --restore /var/lib/slb/state";

#[derive(Parser, Debug)]
#[command(name = "slbd", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Options {
    /// What the workers do with packets (default: balance with --config,
    /// forward without).
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,

    /// The configuration file (JSON; see docs/config-reference.md). Required by
    /// `balance`. Checked before EAL starts: slbd refuses to start on any
    /// error and names the JSON path of each bad field.
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,

    /// Check the configuration file and exit (no EAL, no ports).
    #[arg(long)]
    pub check_config: bool,

    /// forward mode: ports to use, by DPDK device name, comma separated
    /// (default: every port EAL probed, in port-id order). balance mode
    /// takes its ports from the configuration.
    #[arg(long, value_delimiter = ',')]
    pub ports: Vec<String>,

    /// Stop after this many milliseconds without receiving a packet
    /// (for runs over capture files).
    #[arg(long, value_name = "MS")]
    pub exit_idle_ms: Option<u64>,

    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,

    /// When a poll loop finds nothing to do 256 times in a row, sleep this
    /// many microseconds (0: poll without pause, for dedicated cores). Set
    /// it when lcores share CPUs with other work (labs, small VMs).
    #[arg(long, value_name = "US", default_value_t = 0)]
    pub idle_sleep_us: u32,

    /// Benchmarks: before the lcores start, create this many sessions on
    /// the first service through the real admission path, from synthetic
    /// clients (198.19.0.0/27 or 2001:db8:ffff::/123, ports 1024-17407);
    /// session i gets labels first+2i+1 and first+2i+2 (see docs/performance.md).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub preload_sessions: u32,

    /// RX and TX descriptors per queue.
    #[arg(long, default_value_t = 1024)]
    pub descriptors: u16,

    /// Mbufs in the packet pool (default: enough for every queue).
    #[arg(long)]
    pub mbufs: Option<u32>,

    /// Final counters as one JSON object on stdout instead of text.
    #[arg(long)]
    pub json: bool,

    /// balance mode: serve the control protocol (slbctl) on this Unix
    /// socket instead of the configuration's `control.socket` (default
    /// /run/slbd.sock). Mode 0660; a stale socket file is replaced, one a
    /// running process listens on is an error. See docs/operations.md.
    #[arg(long, value_name = "PATH")]
    pub ctl_socket: Option<std::path::PathBuf>,

    /// balance mode: as slbd stops (SIGTERM, SIGINT, --duration), and on
    /// `slbctl save-sessions`, write the sessions, the label quarantine
    /// and the changes made over the control socket since start to this
    /// file, for a restart with --restore (written whole or not at all:
    /// FILE.tmp, then renamed). See docs/operations.md, "Restart with
    /// state".
    #[arg(long, value_name = "FILE")]
    pub save_state: Option<std::path::PathBuf>,

    /// balance mode: before any frame is switched, apply the changes saved
    /// in this state file to the configuration, then reinstall its
    /// sessions (those whose service or server is gone, or whose time ran
    /// out, are dropped and counted) and label quarantine. A file that is
    /// unreadable, truncated, corrupt or of another version is an error
    /// on stderr, and slbd starts with nothing restored.
    #[arg(long, value_name = "FILE")]
    pub restore: Option<std::path::PathBuf>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Move packets between port pairs untouched (benchmark baseline).
    Forward,
    /// The load balancer: label switching workers and a scheduler lcore.
    Balance,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Forward => "forward",
            Mode::Balance => "balance",
        }
    }
}

impl Options {
    /// The mode asked for, or the default: balance with a configuration,
    /// forward without.
    pub fn mode(&self) -> Mode {
        self.mode.unwrap_or(if self.config.is_some() {
            Mode::Balance
        } else {
            Mode::Forward
        })
    }
}

/// Splits `slbd [EAL] -- [slbd]` into the EAL vector and slbd's own vector
/// (each starting with the program name). Without `--`, everything is
/// slbd's, so `slbd --help` works without starting EAL.
pub fn split_args(args: &[String]) -> (Vec<String>, Vec<String>) {
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
