//! The real-traffic lab for Rust tests: a thin wrapper over `scripts/lab`
//! (network namespaces, bridges, veths, HTTP/UDP servers, slbd on DPDK
//! `net_af_packet` ports over veths, or `net_tap` ports with
//! `SLB_LAB_PORT=tap`). See docs/lab.md for the topology and addresses.
//!
//! ```no_run
//! use slb_tests::lab::{self, Lab};
//! lab::require_lab();
//! let mut lab = Lab::up(&Lab::unique_prefix());
//! lab.start_slbd(&["--mode", "forward"]);
//! let out = lab.exec("c1", &["curl", "-s", "http://198.18.100.1/"]);
//! let (stdout, _stderr) = lab.stop_slbd();
//! // Drop stops slbd (if still running) and runs `scripts/lab down`.
//! ```
//!
//! Labs are serialised machine-wide by an exclusive lock on
//! [`LOCK_FILE`], held from [`Lab::up`] until the lab is dropped: every lab
//! runs a busy-polling slbd and the machine has two cores. So one test must
//! not hold two labs at once (it would wait for itself).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub use crate::capture::{read_pcap, Capture};

/// Held by every live [`Lab`] (across processes: nextest runs each test in
/// its own process).
pub const LOCK_FILE: &str = "/tmp/slb-lab.lock";

/// How long a command given to [`Lab::exec`] may run.
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(60);

/// Client namespaces (short names), servers, and the appliance namespace.
pub const CLIENTS: [&str; 2] = ["c1", "c2"];
pub const SERVERS: [&str; 3] = ["s1", "s2", "s3"];
pub const APP: &str = "app";

/// Addresses (docs/lab.md).
pub const VIP4: &str = "198.18.100.1";
pub const VIP6: &str = "2001:db8:100::1";
/// The second VIP, for the label-mode services of `config/examples/demo.json`
/// (every server holds it on `lo` too).
pub const VIP4_LABEL: &str = "198.18.100.2";
pub const VIP6_LABEL: &str = "2001:db8:100::2";
pub const APP_CLIENT4: &str = "198.18.0.1";
pub const APP_CLIENT6: &str = "2001:db8::1";
pub const APP_SERVER4: &str = "198.18.1.1";
pub const APP_SERVER6: &str = "2001:db8:1::1";

/// IPv4 address of a client (`c1` -> 198.18.0.11) or server (`s1` ->
/// 198.18.1.11).
pub fn addr4(short: &str) -> String {
    match short.split_at(1) {
        ("c", n) => format!("198.18.0.1{n}"),
        ("s", n) => format!("198.18.1.1{n}"),
        _ => panic!("no address for {short}"),
    }
}

/// IPv6 address of a client (`c1` -> 2001:db8::11) or server (`s1` ->
/// 2001:db8:1::11).
pub fn addr6(short: &str) -> String {
    match short.split_at(1) {
        ("c", n) => format!("2001:db8::1{n}"),
        ("s", n) => format!("2001:db8:1::1{n}"),
        _ => panic!("no address for {short}"),
    }
}

/// `scripts/lab` in this repository.
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("scripts")
        .join("lab")
}

/// slbd's DPDK ports in the lab: `SLB_LAB_PORT` (`af_packet` or `tap`),
/// default `af_packet` (as `scripts/lab`).
pub fn port_kind() -> String {
    std::env::var("SLB_LAB_PORT").unwrap_or_else(|_| "af_packet".into())
}

/// The lab configuration for balance mode: `config/examples/demo.json`
/// (lab.json's plain services on VIP 198.18.100.1 / 2001:db8:100::1, and the
/// same as label-mode services on 198.18.100.2 / 2001:db8:100::2), with its
/// ports on the lab's DPDK devices ([`lab_config`]).
pub fn demo_config() -> PathBuf {
    lab_config(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("config")
            .join("examples")
            .join("demo.json"),
    )
}

/// A copy of configuration `src` whose two ports are on the lab's DPDK
/// devices (`scripts/lab config`: the examples name `net_tap0` and
/// `net_tap1`; with af_packet they are `net_af_packet0` and
/// `net_af_packet1`), in `/tmp/slb-lab-config/`. The same source and port
/// kind give the same file (written by rename, so concurrent tests may
/// share it).
pub fn lab_config(src: &Path) -> PathBuf {
    let kind = port_kind();
    let name = src.file_name().expect("a config file name");
    let out = Path::new("/tmp/slb-lab-config").join(&kind).join(name);
    let mut cmd = Command::new(script());
    cmd.arg("config")
        .arg(src)
        .arg(&out)
        .env("SLB_LAB_PORT", &kind);
    let done = run_bounded(&mut cmd, EXEC_TIMEOUT);
    assert!(
        done.status.success(),
        "scripts/lab config {}: {}",
        src.display(),
        String::from_utf8_lossy(&done.stderr)
    );
    out
}

/// The slb-agent binary: `$SLB_AGENT`, else `slb-agent` beside the test's
/// target profile (`cargo build --workspace` builds it).
pub fn agent_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SLB_AGENT") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current_exe");
    let p = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binary inside target/<profile>/deps")
        .join("slb-agent");
    assert!(
        p.exists(),
        "slb-agent not found at {}: build it first (cargo build -p slb-agent) or set SLB_AGENT",
        p.display()
    );
    p
}

/// Whether lab tests can run here: root, `ip netns`, python3, and
/// /dev/net/tun (`SLB_LAB_PORT=tap`) or ethtool (af_packet). `Err` says what
/// is missing.
pub fn lab_available() -> Result<(), String> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("?");
    if euid != "0" {
        return Err(format!(
            "lab tests need root (network namespaces, taps); effective uid is {euid}"
        ));
    }
    match Command::new("ip").args(["netns", "list"]).output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            return Err(format!(
                "`ip netns list` failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ));
        }
        Err(e) => return Err(format!("cannot run `ip` (install iproute2): {e}")),
    }
    if port_kind() == "tap" {
        if !Path::new("/dev/net/tun").exists() {
            return Err("/dev/net/tun is missing (DPDK net_tap needs it)".into());
        }
    } else if !Command::new("ethtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Err(
            "ethtool not found (the af_packet lab turns TX checksum offload off \
             on the bridge ports facing slbd; scripts/setup installs it)"
                .into(),
        );
    }
    let py = Command::new("python3").arg("-c").arg("pass").output();
    if !matches!(py, Ok(ref o) if o.status.success()) {
        return Err("python3 not found (the lab's HTTP/UDP servers need it)".into());
    }
    if !script().exists() {
        return Err(format!("{} not found", script().display()));
    }
    Ok(())
}

/// For the top of a lab test: panics with a clear message when the lab
/// cannot run here. Returns false (the test should return) only when
/// `SLB_LAB_SKIP=1` is set, for developers without root.
pub fn require_lab() -> bool {
    require("lab", lab_available)
}

/// [`require_lab`] for the `what` lab, whose needs `available` checks.
pub fn require(what: &str, available: impl FnOnce() -> Result<(), String>) -> bool {
    if std::env::var("SLB_LAB_SKIP").as_deref() == Ok("1") {
        eprintln!("SLB_LAB_SKIP=1: {what} test skipped");
        return false;
    }
    if let Err(e) = available() {
        panic!("the {what} cannot run here: {e} (set SLB_LAB_SKIP=1 to skip lab tests)");
    }
    true
}

/// A running lab. Dropping it stops slbd and runs `scripts/lab down`, also
/// when the test panics.
pub struct Lab {
    prefix: String,
    slbd_started: bool,
    /// The control socket of the slbd this lab started (balance mode).
    ctl_socket: Option<String>,
    _lock: File,
}

impl Lab {
    /// A prefix no other live test uses: `slb-t<pid><n>` (for `Lab::up`).
    pub fn unique_prefix() -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        format!("slb-t{}x{n}", std::process::id())
    }

    /// Builds the lab with this namespace prefix (must start with `slb`),
    /// without the agent unless `SLB_AGENT` is set. Panics with the
    /// script's output on failure (the script has removed what it built).
    pub fn up(prefix: &str) -> Lab {
        Self::up_with(prefix, None)
    }

    /// Like [`Lab::up`], attaching `slb-agent` (server role on the servers,
    /// client role on c1) when `agent` is given.
    pub fn up_with(prefix: &str, agent: Option<&Path>) -> Lab {
        let lock = File::options()
            .create(true)
            .append(true)
            .open(LOCK_FILE)
            .unwrap_or_else(|e| panic!("open {LOCK_FILE}: {e}"));
        lock.lock()
            .unwrap_or_else(|e| panic!("lock {LOCK_FILE}: {e}"));
        // From here Drop cleans up, whatever happens.
        let lab = Lab {
            prefix: prefix.to_string(),
            slbd_started: false,
            ctl_socket: None,
            _lock: lock,
        };
        remove_stale_test_labs();
        let mut args = vec!["up".to_string()];
        if let Some(a) = agent {
            args.push("--agent".into());
            args.push(a.display().to_string());
        }
        let out = lab.script(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(
            out.status.success(),
            "scripts/lab up failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        lab
    }

    /// The namespace prefix (`SLB_LAB`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Full namespace name of a short name (`c1` -> `<prefix>-c1`).
    pub fn ns(&self, short: &str) -> String {
        format!("{}-{short}", self.prefix)
    }

    /// Where the lab keeps pid files and logs (`/tmp/<prefix>`).
    pub fn run_dir(&self) -> PathBuf {
        PathBuf::from("/tmp").join(&self.prefix)
    }

    /// slbd's client-side and server-side interfaces in the app namespace:
    /// the taps DPDK creates (tap), or slbd's ends of the veth pairs whose
    /// other ends (the same names + `b`) are the bridge ports (af_packet).
    pub fn taps(&self) -> (String, String) {
        let tag: String = self
            .prefix
            .chars()
            .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            .collect();
        let tag = &tag[tag.len().saturating_sub(13)..];
        (format!("{tag}c"), format!("{tag}s"))
    }

    /// Runs `scripts/lab <args>` for this lab (bounded by [`EXEC_TIMEOUT`]).
    pub fn script(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(script());
        cmd.args(args).env("SLB_LAB", &self.prefix);
        run_bounded(&mut cmd, EXEC_TIMEOUT)
    }

    /// Runs a command in namespace `ns` (`app`, `c1`, `c2`, `s1`..`s3`),
    /// at most [`EXEC_TIMEOUT`] (killed then, output so far returned with
    /// a failed status).
    pub fn exec(&self, ns: &str, args: &[&str]) -> Output {
        self.exec_timeout(ns, args, EXEC_TIMEOUT)
    }

    /// [`Lab::exec`] with its own time limit.
    pub fn exec_timeout(&self, ns: &str, args: &[&str], limit: Duration) -> Output {
        assert!(!args.is_empty(), "exec needs a command");
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns(ns)]).args(args);
        run_bounded(&mut cmd, limit)
    }

    /// [`Lab::exec`] that panics (with stderr) unless the command succeeds;
    /// returns its stdout.
    pub fn exec_ok(&self, ns: &str, args: &[&str]) -> String {
        let out = self.exec(ns, args);
        assert!(
            out.status.success(),
            "in {ns}: {args:?} failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts slbd in the appliance namespace and waits until it runs
    /// (tap: until its taps are up, then bridges them). `args` are slbd's
    /// own options (e.g. `["--mode", "forward"]`): the lab adds the EAL
    /// options (`--no-pci --no-huge -m 512 --no-shconf --no-telemetry
    /// --lcores 0@0,1@1,2@0` and the two ports, `net_af_packet` or
    /// `net_tap`) and `--idle-sleep-us 50` unless `args` set it. Full EAL
    /// options may be given instead if they contain `--vdev` and `--no-pci`
    /// (then `--` and slbd's options follow). The binary is
    /// [`crate::slbd::binary`]. A `--config` must name the lab's devices
    /// ([`demo_config`], [`lab_config`]).
    pub fn start_slbd(&mut self, args: &[&str]) {
        let bin = crate::slbd::binary();
        let bin = bin.display().to_string();
        let mut all = vec!["slbd-start", "--slbd", &bin, "--"];
        all.extend_from_slice(args);
        self.slbd_started = true;
        let out = self.script(&all);
        if !out.status.success() {
            self.slbd_started = false;
            panic!(
                "slbd did not start ({}):\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // Balance mode: the drop trace on from the start, so a failing
        // load run can show which frames slbd dropped (`drops_report`).
        self.ctl_socket = ctl_socket_of(args);
        if let Some(socket) = &self.ctl_socket {
            let out = slbctl(socket, &["drops", "--on", "--limit", "1"]);
            assert!(
                out.status.success(),
                "slbctl drops --on: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// The drop trace of the running slbd (`slbctl drops`, the newest
    /// `limit`), for a test's failure message; empty in forward mode.
    pub fn drops_report(&self, limit: usize) -> String {
        let Some(socket) = &self.ctl_socket else {
            return String::new();
        };
        let out = slbctl(socket, &["drops", "--limit", &limit.to_string()]);
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// Stops slbd (SIGTERM, SIGKILL after 10 s) and returns its stdout and
    /// stderr.
    pub fn stop_slbd(&mut self) -> (String, String) {
        let out = self.script(&["slbd-stop"]);
        self.slbd_started = false;
        assert!(
            out.status.success(),
            "slbd-stop failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let read =
            |name: &str| std::fs::read_to_string(self.run_dir().join(name)).unwrap_or_default();
        (read("slbd.out"), read("slbd.err"))
    }

    /// Whether the slbd this lab started still runs.
    pub fn slbd_running(&self) -> bool {
        let Ok(pid) = std::fs::read_to_string(self.run_dir().join("slbd.pid")) else {
            return false;
        };
        Path::new("/proc").join(pid.trim()).exists()
    }

    /// `GET url` with curl from `ns` (at most `secs` seconds); the body.
    pub fn curl(&self, ns: &str, url: &str, secs: u32) -> Output {
        let secs = secs.to_string();
        self.exec(ns, &["curl", "-sS", "-g", "--max-time", &secs, url])
    }

    /// One UDP datagram from `ns` to `host`'s echo server (port 5353); the
    /// answer (`"<server name> <message>"`) or `Err` with stderr.
    pub fn udp(&self, ns: &str, host: &str, message: &str) -> Result<String, String> {
        let out = self.script(&["udp", ns, host, message]);
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Starts tcpdump on `iface` in namespace `ns`, writing to `file` (in
    /// the run dir), and waits until it listens. Stop it with
    /// [`Capture::finish`]; dropping it kills it.
    pub fn capture(&self, ns: &str, iface: &str, file: &str) -> Capture {
        Capture::start(
            &self.ns(ns),
            iface,
            &self.run_dir().join(file),
            &["-s", "0"],
        )
    }

    /// `requests` GETs of `base/` from `ns` with curl's parallel mode
    /// (`curl -Z`, `parallel` transfers in flight), each with
    /// `Connection: close` (one request = one connection = one slbd
    /// session). Counts the answers (server names) per server.
    pub fn curl_load(&self, ns: &str, base: &str, requests: usize, parallel: usize) -> LoadResult {
        self.curl_load_timed(ns, base, requests, parallel, 30)
    }

    /// [`Lab::curl_load`] with each transfer limited to `max_secs`.
    pub fn curl_load_timed(
        &self,
        ns: &str,
        base: &str,
        requests: usize,
        parallel: usize,
        max_secs: u32,
    ) -> LoadResult {
        let url = format!("{base}/?[1-{requests}]");
        let max_secs = max_secs.to_string();
        let parallel = parallel.to_string();
        let out = self.exec_timeout(
            ns,
            &[
                "curl",
                "-sS",
                "--no-progress-meter",
                "-Z",
                "--parallel-immediate",
                "--parallel-max",
                &parallel,
                "--max-time",
                &max_secs,
                "-H",
                "Connection: close",
                "-w",
                "\n%{http_code} %{exitcode} port=%{local_port} connect=%{time_connect}s total=%{time_total}s %{errormsg}\n",
                &url,
            ],
            Duration::from_secs(120),
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let mut result = LoadResult::default();
        for line in stdout.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if SERVERS.contains(&line) {
                *result.per_server.entry(line.to_string()).or_insert(0) += 1;
            } else if line.starts_with("200 0 ") {
                result.ok += 1;
            } else {
                result.failed += 1;
                eprintln!("{ns}: failed transfer: {line}");
            }
        }
        // Transfers that printed nothing at all count as failed too.
        result.failed += requests.saturating_sub(result.ok + result.failed);
        if result.failed > 0 {
            eprintln!(
                "{ns}: {} failed transfers; slbd's drop trace:\n{}",
                result.failed,
                self.drops_report(300)
            );
        }
        let answered: usize = result.per_server.values().sum();
        assert_eq!(
            answered,
            result.ok,
            "{ns}: bodies and status lines disagree: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        result
    }

    /// The pid of server `short`'s HTTP/UDP server (`s1`...).
    pub fn server_pid(&self, short: &str) -> u32 {
        let text = std::fs::read_to_string(self.run_dir().join(format!("{short}.pid")))
            .unwrap_or_else(|e| panic!("{short}.pid: {e}"));
        text.trim().parse().expect("pid")
    }

    /// Starts server `short`'s HTTP/UDP server again (after a test killed
    /// it), records its pid where `down` finds it, and waits (10 s at
    /// most) until it listens on port 80.
    // The server outlives this call on purpose: `scripts/lab down` ends it
    // by the pid recorded here, so it is never waited for.
    #[allow(clippy::zombie_processes)]
    pub fn restart_server(&self, short: &str) {
        let log = File::create(self.run_dir().join(format!("{short}.log"))).expect("log");
        let server = script().with_file_name("lab-http-server");
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns(short), "python3"])
            .arg(&server)
            .args(["--name", short])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start the lab HTTP server");
        std::fs::write(
            self.run_dir().join(format!("{short}.pid")),
            child.id().to_string(),
        )
        .expect("pid file");
        let start = Instant::now();
        loop {
            let out = self.exec(short, &["ss", "-Hltn", "sport = :80"]);
            if !out.stdout.is_empty() {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{short}'s server did not listen again"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Namespaces that exist with this lab's prefix.
    pub fn namespaces(&self) -> Vec<String> {
        namespaces_with_prefix(&self.prefix)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Never panic here (a panic while unwinding aborts the test run).
        if self.slbd_started {
            let _ = self.script(&["slbd-stop"]);
        }
        let out = self.script(&["down"]);
        if !out.status.success() {
            eprintln!(
                "scripts/lab down failed for {}:\n{}",
                self.prefix,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// What [`Lab::curl_load`] saw.
#[derive(Debug, Default, Clone)]
pub struct LoadResult {
    /// `GET /` answers per server name.
    pub per_server: std::collections::BTreeMap<String, usize>,
    /// Transfers with status 200 and curl exit code 0.
    pub ok: usize,
    /// Every other transfer.
    pub failed: usize,
}

impl LoadResult {
    pub fn count(&self, server: &str) -> usize {
        self.per_server.get(server).copied().unwrap_or(0)
    }
}

/// An IP packet seen in a capture: its label (if it was under one) and the
/// 5-tuple of the IP packet (under the label, if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeenPacket {
    pub label: Option<u32>,
    pub flow: slb_wire::FlowKey,
    /// A TCP SYN without ACK: the first packet of a connection (or its
    /// retransmission).
    pub syn: bool,
    /// The TCP flags (None for other protocols), for failure messages.
    pub tcp_flags: Option<slb_wire::TcpFlags>,
}

/// The IPv4/IPv6 packets of a capture, classified with
/// [`slb_wire::classify`] (labelled frames: the packet under the label).
/// ARP, neighbour discovery and other frames are left out.
pub fn ip_packets(frames: &[Vec<u8>]) -> Vec<SeenPacket> {
    use slb_wire::{classify, Classified, IpVersion};
    let mut out = Vec::new();
    for f in frames {
        match classify(f) {
            Ok(Classified::Ip(ip)) => out.push(SeenPacket {
                label: None,
                flow: ip.flow,
                syn: bare_syn(&ip),
                tcp_flags: tcp_flags(&ip),
            }),
            Ok(Classified::Labelled(l)) => {
                // The packet under the label, as an unlabelled frame.
                let mut inner = f[..12].to_vec();
                inner.extend_from_slice(match l.inner_version {
                    IpVersion::V4 => &[0x08, 0x00],
                    IpVersion::V6 => &[0x86, 0xdd],
                });
                inner.extend_from_slice(&f[l.inner_offset..]);
                match classify(&inner) {
                    Ok(Classified::Ip(ip)) => out.push(SeenPacket {
                        label: Some(l.lse.label.value()),
                        flow: ip.flow,
                        syn: bare_syn(&ip),
                        tcp_flags: tcp_flags(&ip),
                    }),
                    other => panic!("labelled frame with no IP packet under it: {other:?}"),
                }
            }
            _ => {}
        }
    }
    out
}

fn tcp_flags(ip: &slb_wire::classify::IpFrame) -> Option<slb_wire::TcpFlags> {
    match ip.l4 {
        slb_wire::classify::L4::Tcp { flags } => Some(flags),
        _ => None,
    }
}

fn bare_syn(ip: &slb_wire::classify::IpFrame) -> bool {
    use slb_wire::TcpFlags;
    matches!(ip.l4, slb_wire::classify::L4::Tcp { flags }
        if flags.contains(TcpFlags::SYN) && !flags.contains(TcpFlags::ACK))
}

/// The slbctl binary: `$SLBCTL`, or next to slbd.
pub fn slbctl_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SLBCTL") {
        return p.into();
    }
    let p = crate::slbd::binary().with_file_name("slbctl");
    assert!(
        p.exists(),
        "slbctl not found at {}: build it (cargo build -p slb-ctl) or set SLBCTL",
        p.display()
    );
    p
}

/// Runs slbctl against `socket` (bounded).
pub fn slbctl(socket: &str, args: &[&str]) -> Output {
    // --socket is an option of the subcommands: it goes last.
    let mut cmd = Command::new(slbctl_binary());
    cmd.args(args).arg("--socket").arg(socket);
    run_bounded(&mut cmd, Duration::from_secs(20))
}

/// The control socket slbd runs with these arguments serves: the
/// `--ctl-socket` given, else the configuration's `control.socket`; None
/// in forward mode.
fn ctl_socket_of(args: &[&str]) -> Option<String> {
    if args.windows(2).any(|w| w == ["--mode", "forward"]) {
        return None;
    }
    let after = |flag: &str| {
        args.windows(2)
            .find(|w| w[0] == flag)
            .map(|w| w[1].to_string())
    };
    if let Some(s) = after("--ctl-socket") {
        return Some(s);
    }
    let text = std::fs::read_to_string(after("--config")?).ok()?;
    let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
    doc["control"]["socket"].as_str().map(str::to_string)
}

/// Removes labs left by test processes that died without dropping their
/// [`Lab`] (SIGKILL, abort): namespaces `slb-t<pid>x<n>-*` whose pid is
/// gone. Called with the lab lock held, so no live lab is touched.
pub fn remove_stale_test_labs() {
    remove_stale_labs("lab", "slb-t", &script());
}

/// Removes the labs of `lab_script` left by dead test processes:
/// namespaces `<test_prefix><pid>x<n>-*` whose pid is gone (`what` names
/// the lab in the message).
pub fn remove_stale_labs(what: &str, test_prefix: &str, lab_script: &Path) {
    let mut stale: Vec<String> = all_namespaces()
        .into_iter()
        .filter_map(|ns| {
            let prefix = ns.rsplit_once('-')?.0.to_string();
            let pid = prefix.strip_prefix(test_prefix)?.split_once('x')?.0;
            let pid: u32 = pid.parse().ok()?;
            let dead =
                pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists();
            dead.then_some(prefix)
        })
        .collect();
    stale.sort();
    stale.dedup();
    for prefix in stale {
        eprintln!("removing {what} {prefix} left by a dead test process");
        let mut cmd = Command::new(lab_script);
        cmd.arg("down").env("SLB_LAB", &prefix);
        let _ = run_bounded(&mut cmd, EXEC_TIMEOUT);
    }
}

/// Network namespaces whose name is `<prefix>-...`.
pub fn namespaces_with_prefix(prefix: &str) -> Vec<String> {
    let want = format!("{prefix}-");
    all_namespaces()
        .into_iter()
        .filter(|n| n.starts_with(&want))
        .collect()
}

/// Every named network namespace (`ip netns list`).
fn all_namespaces() -> Vec<String> {
    let out = Command::new("ip").args(["netns", "list"]).output();
    let Ok(out) = out else { return Vec::new() };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Runs `cmd` with output captured, killing it after `limit`. A timed-out
/// command returns what it printed and a failed status.
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    // Read both pipes on threads, so a chatty command never blocks on a
    // full pipe while we wait.
    let mut so = child.stdout.take().expect("stdout");
    let mut se = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > limit {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = t_out.join().unwrap_or_default();
    let mut stderr = t_err.join().unwrap_or_default();
    if timed_out {
        stderr.extend_from_slice(format!("\n[killed after {limit:?}: {cmd:?}]\n").as_bytes());
    }
    Output {
        status,
        stdout,
        stderr,
    }
}

/// A command's output as text (lossy).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// An address as a URL's host: IPv6 in brackets.
pub fn url_host(addr: &str) -> String {
    if addr.contains(':') {
        format!("[{addr}]")
    } else {
        addr.to_string()
    }
}
