//! The cluster lab for Rust tests: a thin wrapper over
//! `scripts/lab-cluster` (a BIRD 2 router doing ECMP over three slbd
//! instances that announce the VIPs by BGP, with BFD; plain clients behind
//! the router, a label-aware client on the edge, three servers with the
//! agent). See docs/lab.md, "The cluster lab", for the topology.
//!
//! Shares [`crate::lab::LOCK_FILE`] with the single-box lab: one lab at a
//! time on the machine.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::capture::Capture;
use crate::lab::{run_bounded, EXEC_TIMEOUT, LOCK_FILE};

/// The VIP of the plain clients' service (`web`, Maglev).
pub const VIP: &str = "198.18.100.1";
/// The VIP of the label-aware clients' service (`web-label`, Maglev).
pub const VIP_LABEL: &str = "198.18.100.2";
/// The VIP of the plain clients' least-connections service (`web-sync`):
/// its sessions survive an instance only by session sync.
pub const VIP_SYNC: &str = "198.18.100.3";
/// The IPv6 VIP of the plain clients' service (`web6`, Maglev).
pub const VIP6: &str = "2001:db8:100::1";
/// Plain clients (behind the router) and the label-aware client (on the
/// edge segment).
pub const PLAIN_CLIENTS: [&str; 2] = ["c1", "c2"];
pub const LABEL_CLIENT: &str = "lc";
/// Instance ids.
pub const INSTANCES: [usize; 3] = [0, 1, 2];

/// Instance `i`'s client-side address: the next hop it announces.
pub fn instance_addr(i: usize) -> String {
    format!("198.18.0.{}", 1 + i)
}

/// Instance `i`'s client-side IPv6 address: the IPv6 next hop it
/// announces.
pub fn instance_addr6(i: usize) -> String {
    format!("2001:db8::{}", 1 + i)
}

/// Instance `i`'s server-port MAC (scripts/lab-cluster `mac_s`): the
/// source of every client-to-server frame it sends.
pub fn server_port_mac(i: usize) -> [u8; 6] {
    [0x02, 0x5b, 0x4c, 0xc1, i as u8, 0x0d]
}

/// The labelled frames of a capture: (source MAC, label of the top label
/// stack entry). Unlabelled and malformed frames are left out.
pub fn labels_seen(frames: &[Vec<u8>]) -> Vec<([u8; 6], u32)> {
    use slb_wire::{classify, Classified};
    frames
        .iter()
        .filter_map(|f| match classify(f) {
            Ok(Classified::Labelled(l)) => {
                let src: [u8; 6] = f.get(6..12)?.try_into().ok()?;
                Some((src, l.lse.label.value()))
            }
            _ => None,
        })
        .collect()
}

/// `scripts/lab-cluster` in this repository.
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("scripts")
        .join("lab-cluster")
}

/// How the router installs the VIPs' next hops (`SLB_CLUSTER_NH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextHops {
    /// BIRD's own ECMP route (`merge paths`): hash-threshold multipath.
    Multipath,
    /// BIRD's route mirrored as a resilient next-hop group.
    Resilient,
}

impl NextHops {
    fn env(self) -> &'static str {
        match self {
            NextHops::Multipath => "multipath",
            NextHops::Resilient => "resilient",
        }
    }
}

/// Whether the cluster lab can run here: the single-box lab's needs plus
/// BIRD 2 and /dev/net/tun (the instances are on `net_tap`).
pub fn cluster_available() -> Result<(), String> {
    crate::lab::lab_available()?;
    if !Command::new("bird")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Err("bird (BIRD 2) not found: scripts/setup installs bird2".into());
    }
    if !Path::new("/dev/net/tun").exists() {
        return Err("/dev/net/tun is missing (DPDK net_tap needs it)".into());
    }
    Ok(())
}

/// For the top of a cluster lab test: false (skip) with `SLB_LAB_SKIP=1`,
/// panics with what is missing otherwise.
pub fn require_cluster_lab() -> bool {
    crate::lab::require("cluster lab", cluster_available)
}

/// A running cluster lab with its three instances started. Dropping it
/// runs `scripts/lab-cluster down`, also when the test panics.
pub struct ClusterLab {
    prefix: String,
    mode: NextHops,
    _lock: File,
}

/// One session of an instance (`slbctl sessions list`).
#[derive(Debug, Clone)]
pub struct SessionSeen {
    pub client: String,
    pub client_port: u16,
    pub service: String,
    pub c2s_label: u32,
    pub s2c_label: u32,
    /// `local`, `synced` (a peer's copy), `restored`, `recovered_by_hash`.
    pub origin: String,
}

impl ClusterLab {
    /// A prefix no other live test uses: `slbc-t<pid>x<n>`.
    pub fn unique_prefix() -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        format!(
            "slbc-t{}x{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Builds the lab (agent on the servers and the label-aware client),
    /// starts the three instances and waits (60 s at most) until the
    /// router has all three as next hops of every VIP.
    pub fn up(mode: NextHops, agent: &Path) -> ClusterLab {
        let lock = File::options()
            .create(true)
            .append(true)
            .open(LOCK_FILE)
            .unwrap_or_else(|e| panic!("open {LOCK_FILE}: {e}"));
        lock.lock()
            .unwrap_or_else(|e| panic!("lock {LOCK_FILE}: {e}"));
        let lab = ClusterLab {
            prefix: Self::unique_prefix(),
            mode,
            _lock: lock,
        };
        remove_stale_cluster_labs();
        let agent = agent.display().to_string();
        lab.script_ok(&["up", "--agent", &agent]);
        for i in INSTANCES {
            lab.start(i);
        }
        for vip in [VIP, VIP_LABEL, VIP6, VIP_SYNC] {
            lab.wait_nexthops(vip, 3, Duration::from_secs(60));
        }
        lab
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `/tmp/<prefix>`: pid files, logs, configurations, sockets.
    pub fn run_dir(&self) -> PathBuf {
        PathBuf::from("/tmp").join(&self.prefix)
    }

    /// `scripts/lab-cluster <args>` for this lab (bounded).
    pub fn script(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(script());
        cmd.args(args)
            .env("SLB_LAB", &self.prefix)
            .env("SLB_CLUSTER_NH", self.mode.env())
            .env("SLBD", crate::slbd::binary())
            .env("SLBCTL", crate::lab::slbctl_binary());
        run_bounded(&mut cmd, EXEC_TIMEOUT)
    }

    /// [`ClusterLab::script`] that panics with the output unless it succeeds;
    /// its stdout.
    pub fn script_ok(&self, args: &[&str]) -> String {
        let out = self.script(args);
        assert!(
            out.status.success(),
            "scripts/lab-cluster {args:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command in namespace `ns` (`r`, `c1`, `c2`, `lc`, `s1`..,
    /// `i0`..), killed after `limit`.
    pub fn exec(&self, ns: &str, args: &[&str], limit: Duration) -> Output {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &format!("{}-{ns}", self.prefix)])
            .args(args);
        run_bounded(&mut cmd, limit)
    }

    /// Captures (tcpdump) the labelled frames instance `i` sends to the
    /// servers: on its server leg in the switch namespace (`s-i<i>`),
    /// inbound, at most `max_frames` frames, into the run dir. Whole frames
    /// (pcap-file refuses a record longer than the snapshot length).
    /// [`Capture::finish`] stops it; the lab's `down` ends it too.
    pub fn capture_to_servers(&self, i: usize, max_frames: usize) -> Capture {
        let path = self.run_dir().join(format!("to-servers-i{i}.pcap"));
        let count = max_frames.to_string();
        Capture::start(
            &format!("{}-sw", self.prefix),
            &format!("s-i{i}"),
            &path,
            &["-Q", "in", "-c", &count, "mpls"],
        )
    }

    /// Starts instance `i` (slbd, its taps, its BIRD) and waits until it
    /// answers on its control socket.
    pub fn start(&self, i: usize) {
        self.script_ok(&["start", &i.to_string()]);
        let t = Instant::now();
        loop {
            let out = self.ctl(i, &["status"]);
            if out.status.success() {
                return;
            }
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "instance {i} does not answer on its control socket: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM instance `i`'s slbd (SIGKILL after 10 s); its BIRD stays.
    pub fn stop(&self, i: usize) {
        self.script_ok(&["stop", &i.to_string()]);
    }

    /// SIGKILL instance `i`'s slbd; returns when it is gone.
    pub fn kill(&self, i: usize) {
        self.script_ok(&["kill", &i.to_string()]);
    }

    /// SIGKILL instance `i`'s slbd from here (no script in between, so
    /// the instant returned is the kill's). Does not wait for it to be
    /// gone (the kernel may take a while to tear down its memory and
    /// taps): [`ClusterLab::wait_gone`].
    pub fn kill_now(&self, i: usize) -> Instant {
        let pid_file = self.run_dir().join(format!("slbd{i}.pid"));
        let pid = std::fs::read_to_string(&pid_file)
            .unwrap_or_else(|e| panic!("{}: {e}", pid_file.display()));
        let pid = pid.trim();
        assert!(
            Path::new("/proc").join(pid).exists(),
            "instance {i} (pid {pid}) is not running"
        );
        let status = Command::new("kill")
            .args(["-KILL", pid])
            .status()
            .expect("run kill");
        let at = Instant::now();
        assert!(status.success(), "kill -KILL {pid} failed");
        at
    }

    /// Waits (10 s at most) until instance `i`'s killed slbd is gone, then
    /// forgets its pid.
    pub fn wait_gone(&self, i: usize) {
        let pid_file = self.run_dir().join(format!("slbd{i}.pid"));
        let pid = std::fs::read_to_string(&pid_file).unwrap_or_default();
        let proc_dir = Path::new("/proc").join(pid.trim());
        let t = Instant::now();
        while !pid.trim().is_empty() && proc_dir.exists() && t.elapsed() < Duration::from_secs(10) {
            let state = std::fs::read_to_string(proc_dir.join("stat")).unwrap_or_default();
            // A zombie (state Z, third field) is gone as far as we care.
            if state.split_whitespace().nth(2) == Some("Z") {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_file(&pid_file);
    }

    /// The router's next hops for `vip`, sorted.
    pub fn nexthops(&self, vip: &str) -> Vec<String> {
        self.script_ok(&["nexthops", vip])
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Waits until the router's route to `vip` has `n` next hops; the time
    /// it took. Panics after `limit`.
    pub fn wait_nexthops(&self, vip: &str, n: usize, limit: Duration) -> Duration {
        let t = Instant::now();
        loop {
            let now = self.nexthops(vip);
            if now.len() == n {
                return t.elapsed();
            }
            assert!(
                t.elapsed() < limit,
                "the router's route to {vip} has next hops {now:?} after {limit:?}, not {n}:\n{}",
                self.script(&["status"]).stdout.escape_ascii()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Polls (every 10 ms, at most `limit`) until the router no longer
    /// routes `vip` to `addr`; the time since `since`.
    pub fn wait_withdrawn(
        &self,
        vip: &str,
        addr: &str,
        since: Instant,
        limit: Duration,
    ) -> Duration {
        let router = format!("{}-r", self.prefix);
        loop {
            let mut cmd = Command::new("ip");
            cmd.args(["-n", &router, "route", "show", &format!("{vip}/32")]);
            let out = run_bounded(&mut cmd, EXEC_TIMEOUT);
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let routed = if text.contains("nhid") {
                self.nexthops(vip).iter().any(|a| a == addr)
            } else {
                text.split_whitespace().any(|w| w == addr)
            };
            if !routed {
                return since.elapsed();
            }
            assert!(
                since.elapsed() < limit,
                "the router still routes {vip} to {addr} after {limit:?}: {text}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// slbctl `args` against instance `i` (bounded).
    pub fn ctl(&self, i: usize, args: &[&str]) -> Output {
        let socket = self.run_dir().join(format!("i{i}.sock"));
        crate::lab::slbctl(&socket.display().to_string(), args)
    }

    /// slbctl `args --json` against instance `i`; panics unless it answers.
    pub fn ctl_json(&self, i: usize, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.ctl(i, &all);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "instance {i}: slbctl {args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("instance {i}: slbctl {args:?} --json: {e}: {text}"))
    }

    /// Sessions admitted by instance `i` since it started
    /// (`totals.sessions_admitted`, recoveries included).
    pub fn admitted(&self, i: usize) -> u64 {
        self.ctl_json(i, &["stats"])["totals"]["sessions_admitted"]
            .as_u64()
            .unwrap_or(0)
    }

    /// A counter of instance `i`'s `slbctl stats` (`section.name`), 0 if
    /// absent.
    pub fn stat(&self, i: usize, section: &str, name: &str) -> u64 {
        self.ctl_json(i, &["stats"])[section][name]
            .as_u64()
            .unwrap_or(0)
    }

    /// Instance `i`'s own label slice (`slbctl cluster`): first and last.
    pub fn slice(&self, i: usize) -> (u32, u32) {
        let c = self.ctl_json(i, &["cluster"]);
        let get = |k: &str| c["labels"][k].as_u64().unwrap_or(0) as u32;
        (get("first"), get("last"))
    }

    /// Instance `i`'s live sessions (at most 5000) but its peers' copies
    /// (session sync).
    pub fn sessions(&self, i: usize) -> Vec<SessionSeen> {
        let mut s = self.all_sessions(i);
        s.retain(|s| s.origin != "synced");
        s
    }

    /// Instance `i`'s live sessions (at most 5000), its peers' copies too.
    pub fn all_sessions(&self, i: usize) -> Vec<SessionSeen> {
        let json = self.ctl_json(i, &["sessions", "list", "--limit", "5000"]);
        let list = json["sessions"].as_array().cloned().unwrap_or_default();
        list.iter()
            .map(|s| SessionSeen {
                client: s["client"].as_str().unwrap_or("?").to_string(),
                client_port: s["client_port"].as_u64().unwrap_or(0) as u16,
                service: s["service"].as_str().unwrap_or("?").to_string(),
                c2s_label: s["c2s_label"].as_u64().unwrap_or(0) as u32,
                s2c_label: s["s2c_label"].as_u64().unwrap_or(0) as u32,
                origin: s["origin"].as_str().unwrap_or("?").to_string(),
            })
            .collect()
    }
}

impl Drop for ClusterLab {
    fn drop(&mut self) {
        let out = self.script(&["down"]);
        if !out.status.success() {
            eprintln!(
                "scripts/lab-cluster down failed for {}:\n{}",
                self.prefix,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// Removes cluster labs left by test processes that died without dropping
/// their [`ClusterLab`]: namespaces `slbc-t<pid>x<n>-*` whose pid is gone.
/// Called with the lab lock held.
pub fn remove_stale_cluster_labs() {
    crate::lab::remove_stale_labs("cluster lab", "slbc-t", &script());
}
