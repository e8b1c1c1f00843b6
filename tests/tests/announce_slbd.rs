//! A real slbd announcing its VIPs (issue 14): slbd on net_null ports runs
//! inside a network namespace this test creates (`slban-<pid>-<n>`,
//! removed even when the test fails), with `cluster.announce_table: 100`.
//! The first test reads the kernel's table with `ip -n` while it drives
//! slbd with the real slbctl: the start-up flush, a VIP per service with a
//! server in service, a change withdrawing at once, drain-instance /
//! undrain-instance, and the withdrawal at SIGTERM. The second puts BIRD 2
//! beside slbd (the configuration `docs/operations.md` gives) and a router
//! BIRD in a second namespace (`slban-<pid>-<n>r`, over a veth): the
//! router's kernel gets the VIPs by BGP with the instance as next hop and
//! loses them on drain and on stop. Needs root, iproute2, bird2, slbd and
//! slbctl built; `SLB_LAB_SKIP=1` skips it (as the lab tests).

use slb_tests::slbd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const CONFIG: &str = r#"{
  "ports": [
    { "name": "client", "device": "net_null0", "role": "client", "ipv4": "198.18.0.1/24", "ipv6": "2001:db8::1/64" },
    { "name": "server", "device": "net_null1", "role": "server", "ipv4": "198.18.1.1/24", "ipv6": "2001:db8:1::1/64" }
  ],
  "neighbours": [ { "address": "198.18.1.11", "mac": "02:5e:00:00:01:11" },
                  { "address": "2001:db8:1::11", "mac": "02:5e:00:00:01:11" } ],
  "services": [
    { "name": "web", "vip": "198.18.100.1", "port": 80, "protocol": "tcp", "health": { "kind": "none" },
      "servers": [ { "name": "s1", "address": "198.18.1.11" } ] },
    { "name": "web6", "vip": "2001:db8:100::1", "port": 80, "protocol": "tcp", "health": { "kind": "none" },
      "servers": [ { "name": "s1", "address": "2001:db8:1::11" } ] }
  ],
  "cluster": { "instance": 0, "instances": 2, "announce_table": 100 }
}"#;

/// The namespace and the slbd in it (and, for the BGP test, the
/// router's namespace and the BIRDs); all gone on drop.
struct Instance {
    ns: String,
    child: Option<Child>,
    socket: PathBuf,
    dir: tempfile::TempDir,
    /// The router's namespace, when there is one.
    router: Option<String>,
    /// BIRD daemons this test started (in the foreground).
    birds: Vec<Child>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        for c in self.child.iter_mut().chain(self.birds.iter_mut()) {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in std::iter::once(&self.ns).chain(self.router.iter()) {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

impl Instance {
    fn ip(&self, args: &[&str]) -> String {
        let out = Command::new("ip")
            .args(["-n", &self.ns])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ip -n {} {args:?}: {}",
            self.ns,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The destinations in `table`, both families.
    fn table(&self, table: &str) -> Vec<String> {
        let mut v = Vec::new();
        for fam in ["-4", "-6"] {
            let out = Command::new("ip")
                .args(["-n", &self.ns, fam, "route", "show", "table", table])
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success() || err.contains("FIB table does not exist"),
                "{err}"
            );
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let mut words = line.split_whitespace();
                assert_eq!(words.next(), Some("blackhole"), "{line}");
                v.push(words.next().unwrap_or_default().to_string());
            }
        }
        v
    }

    /// Waits (at most 3 s) until table 100 lists `want`.
    fn expect_table(&self, want: &[&str]) {
        let t0 = Instant::now();
        loop {
            let t = self.table("100");
            if t == want {
                return;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(3),
                "table 100 is {t:?}, want {want:?}; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("slbd.log")).unwrap_or_default()
    }

    /// slbctl's output (exit 0 required).
    fn slbctl(&self, args: &[&str]) -> String {
        let bin = slbd::binary().with_file_name("slbctl");
        assert!(bin.exists(), "build slbctl first (cargo build -p slb-ctl)");
        let out = Command::new(bin)
            .arg("--socket")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "slbctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// One test at a time: each runs an slbd (2 CPUs).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A new namespace `slban-<pid>-<n><suffix>`.
fn netns(suffix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let ns = format!(
        "slban-{}-{}{suffix}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let ok = Command::new("ip")
        .args(["netns", "add", &ns])
        .status()
        .expect("cannot run `ip` (install iproute2)");
    assert!(
        ok.success(),
        "ip netns add {ns}: this test needs root (SLB_LAB_SKIP=1 skips it)"
    );
    ns
}

fn skipped() -> bool {
    let skip = std::env::var("SLB_LAB_SKIP").as_deref() == Ok("1");
    if skip {
        eprintln!("SLB_LAB_SKIP=1: skipped");
    }
    skip
}

/// The instance's namespace, with a stale route in table 100 and
/// another table's route; slbd not started yet.
fn instance() -> Instance {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance {
        ns: netns(""),
        child: None,
        socket: dir.path().join("slbd.sock"),
        dir,
        router: None,
        birds: Vec::new(),
    };
    inst.ip(&["link", "set", "lo", "up"]);
    // Left by a killed predecessor, and another table's route.
    inst.ip(&[
        "route",
        "add",
        "blackhole",
        "198.18.100.9/32",
        "table",
        "100",
    ]);
    inst.ip(&[
        "route",
        "add",
        "blackhole",
        "198.18.50.0/24",
        "table",
        "101",
    ]);
    inst
}

/// Starts slbd in the instance's namespace; waits for its socket.
fn launch(inst: &mut Instance) {
    let cfg = inst.dir.path().join("slbd.json");
    std::fs::write(&cfg, CONFIG).unwrap();
    let mut args = vec!["netns".to_string(), "exec".into(), inst.ns.clone()];
    args.push(slbd::binary().display().to_string());
    args.extend(slbd::null_ports_args(512, &cfg, &inst.socket));
    for a in ["--idle-sleep-us", "200", "--duration", "60"] {
        args.push(a.into());
    }
    let log = std::fs::File::create(inst.dir.path().join("slbd.log")).unwrap();
    inst.child = Some(
        Command::new("ip")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start slbd"),
    );
    let t0 = Instant::now();
    while UnixStream::connect(&inst.socket).is_err() {
        if let Some(Ok(Some(st))) = inst.child.as_mut().map(|c| c.try_wait()) {
            panic!("slbd exited ({st}): {}", inst.log());
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "no socket: {}",
            inst.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let t0 = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        assert!(t0.elapsed() < within, "slbd did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn slbd_announces_drains_and_withdraws_at_stop() {
    if skipped() {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut inst = instance();
    launch(&mut inst);
    // The predecessor's route flushed, both VIPs announced.
    inst.expect_table(&["198.18.100.1", "2001:db8:100::1"]);
    assert_eq!(inst.table("101"), ["198.18.50.0/24"]);
    // Not local: the namespace's kernel does not take the VIPs.
    assert!(!inst
        .ip(&["route", "show", "table", "local"])
        .contains("198.18.100.1"));
    // A change withdraws at once: web's only server disabled.
    inst.slbctl(&["servers", "disable", "web", "s1"]);
    assert_eq!(inst.table("100"), ["2001:db8:100::1"]);
    inst.slbctl(&["servers", "enable", "web", "s1"]);
    assert_eq!(inst.table("100"), ["198.18.100.1", "2001:db8:100::1"]);
    // Drain: everything withdrawn in the request, and stays so.
    let out = inst.slbctl(&["drain-instance"]);
    assert!(out.contains("draining: yes  announce table: 100"), "{out}");
    assert!(out.contains("announced: none"), "{out}");
    assert!(inst.table("100").is_empty());
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        inst.table("100").is_empty(),
        "the timer re-announced a drained instance"
    );
    let c = inst.slbctl(&["cluster"]);
    assert!(c.contains("draining: yes"), "{c}");
    let m = inst.slbctl(&["metrics"]);
    assert!(m.contains("\nslbd_instance_draining 1\n"), "{m}");
    let out = inst.slbctl(&["undrain-instance"]);
    assert!(
        out.contains("announced: 198.18.100.1 2001:db8:100::1"),
        "{out}"
    );
    inst.expect_table(&["198.18.100.1", "2001:db8:100::1"]);
    // SIGTERM: every VIP withdrawn before slbd exits.
    let child = inst.child.as_mut().unwrap();
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let st = wait_exit(child, Duration::from_secs(20));
    assert!(st.success(), "slbd: {st}\n{}", inst.log());
    assert!(inst.table("100").is_empty(), "{:?}", inst.table("100"));
    assert_eq!(inst.table("101"), ["198.18.50.0/24"]);
    let log = inst.log();
    assert!(log.contains("every VIP withdrawn at stop"), "{log}");
}

/// BIRD 2 beside slbd: `docs/operations.md`'s snippet ("Announcing VIPs"),
/// over a veth to the router instead of slbd's own port (the exception
/// path is another piece of issue 14).
const BIRD_INSTANCE: &str = r#"
router id 198.18.0.1;
protocol device {}
protocol kernel slb4 {
    kernel table 100;
    learn;
    ipv4 { import all; export none; };
}
protocol kernel slb6 {
    kernel table 100;
    learn;
    ipv6 { import all; export none; };
}
protocol bgp upstream4 {
    local 198.18.0.1 as 65001;
    neighbor 198.18.0.254 as 65000;
    ipv4 { import none; export where proto = "slb4"; next hop self; };
}
protocol bgp upstream6 {
    local 2001:db8::1 as 65001;
    neighbor 2001:db8::fe as 65000;
    ipv6 { import none; export where proto = "slb6"; next hop self; };
}
"#;

/// The upstream router: what it learns by BGP goes into its main table.
const BIRD_ROUTER: &str = r#"
router id 198.18.0.254;
protocol device {}
protocol kernel { ipv4 { import none; export all; }; }
protocol kernel { ipv6 { import none; export all; }; }
protocol bgp slb4 {
    local 198.18.0.254 as 65000;
    neighbor 198.18.0.1 as 65001;
    connect delay time 1;
    connect retry time 2;
    ipv4 { import all; export none; };
}
protocol bgp slb6 {
    local 2001:db8::fe as 65000;
    neighbor 2001:db8::1 as 65001;
    connect delay time 1;
    connect retry time 2;
    ipv6 { import all; export none; };
}
"#;

impl Instance {
    /// Starts BIRD (in the foreground, so it is this test's child) in `ns`.
    fn bird(&mut self, ns: &str, name: &str, conf: &str) {
        let dir = self.dir.path();
        let conf_path = dir.join(format!("{name}.conf"));
        std::fs::write(&conf_path, conf).unwrap();
        let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", ns, "bird", "-f", "-c"])
            .arg(&conf_path)
            .arg("-s")
            .arg(dir.join(format!("{name}.ctl")))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start bird");
        self.birds.push(child);
    }

    /// The router's routes to `vip` (`ip route show VIP`).
    fn router_route(&self, vip: &str) -> String {
        let r = self.router.as_deref().expect("a router");
        let fam = if vip.contains(':') { "-6" } else { "-4" };
        let out = Command::new("ip")
            .args(["-n", r, fam, "route", "show", vip])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits (at most `within`) until the router has (`want`) or has not
    /// a route to each VIP through the instance.
    fn expect_router(&self, want: bool, within: Duration) {
        let t0 = Instant::now();
        loop {
            let routes = ["198.18.100.1", "2001:db8:100::1"].map(|v| self.router_route(v));
            if routes.iter().all(|r| r.contains(" via ") == want) {
                return;
            }
            assert!(
                t0.elapsed() < within,
                "router routes {routes:?}, want present={want}; router BIRD:\n{}",
                std::fs::read_to_string(self.dir.path().join("router.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn a_router_learns_the_vips_by_bgp_and_loses_them_on_drain_and_stop() {
    if skipped() {
        return;
    }
    let bird = Command::new("bird").arg("--version").output();
    assert!(
        bird.is_ok_and(|o| o.status.success()),
        "bird not found: install bird2 (scripts/setup does)"
    );
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut inst = instance();
    let r = netns("r");
    inst.router = Some(r.clone());
    inst.ip(&[
        "link", "add", "va", "type", "veth", "peer", "name", "vr", "netns", &r,
    ]);
    inst.ip(&["addr", "add", "198.18.0.1/24", "dev", "va"]);
    inst.ip(&["addr", "add", "2001:db8::1/64", "dev", "va", "nodad"]);
    inst.ip(&["link", "set", "va", "up"]);
    for args in [
        &["link", "set", "lo", "up"][..],
        &["addr", "add", "198.18.0.254/24", "dev", "vr"],
        &["addr", "add", "2001:db8::fe/64", "dev", "vr", "nodad"],
        &["link", "set", "vr", "up"],
    ] {
        let ok = Command::new("ip")
            .args(["-n", &r])
            .args(args)
            .status()
            .unwrap();
        assert!(ok.success(), "ip -n {r} {args:?}");
    }
    let ns = inst.ns.clone();
    inst.bird(&r, "router", BIRD_ROUTER);
    inst.bird(&ns, "instance", BIRD_INSTANCE);
    launch(&mut inst);
    // slbd's routes, imported by BIRD, announced by BGP, in the router's
    // kernel with the instance as next hop.
    inst.expect_router(true, Duration::from_secs(30));
    assert!(
        inst.router_route("198.18.100.1")
            .starts_with("198.18.100.1 via 198.18.0.1 "),
        "{}",
        inst.router_route("198.18.100.1")
    );
    eprintln!(
        "router: {} / {}",
        inst.router_route("198.18.100.1"),
        inst.router_route("2001:db8:100::1")
    );
    let t0 = Instant::now();
    inst.slbctl(&["drain-instance"]);
    inst.expect_router(false, Duration::from_secs(10));
    eprintln!(
        "withdrawn at the router {:?} after drain-instance",
        t0.elapsed()
    );
    inst.slbctl(&["undrain-instance"]);
    inst.expect_router(true, Duration::from_secs(10));
    // A normal stop withdraws too.
    let child = inst.child.as_mut().unwrap();
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    assert!(wait_exit(child, Duration::from_secs(20)).success());
    inst.expect_router(false, Duration::from_secs(10));
}
