//! A real slbd announcing its VIPs (issue 14): slbd on net_null ports runs
//! inside a network namespace this test creates (`slban-<pid>`, removed
//! even when the test fails), with `cluster.announce_table: 100`. The test
//! reads the kernel's table with `ip -n` while it drives slbd with the real
//! slbctl: the start-up flush, a VIP per service with a server in service,
//! a change withdrawing at once, drain-instance / undrain-instance, and
//! the withdrawal at SIGTERM. Needs root, iproute2, slbd and slbctl built;
//! `SLB_LAB_SKIP=1` skips it (as the lab tests).

use slb_tests::slbd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
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

/// The namespace and the slbd in it; both gone on drop.
struct Instance {
    ns: String,
    child: Option<Child>,
    socket: PathBuf,
    dir: tempfile::TempDir,
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
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

fn start() -> Option<Instance> {
    if std::env::var("SLB_LAB_SKIP").as_deref() == Ok("1") {
        eprintln!("SLB_LAB_SKIP=1: skipped");
        return None;
    }
    let ns = format!("slban-{}", std::process::id());
    let ok = Command::new("ip")
        .args(["netns", "add", &ns])
        .status()
        .expect("cannot run `ip` (install iproute2)");
    assert!(
        ok.success(),
        "ip netns add {ns}: this test needs root (SLB_LAB_SKIP=1 skips it)"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut inst = Instance {
        ns,
        child: None,
        socket: dir.path().join("slbd.sock"),
        dir,
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
    let cfg = inst.dir.path().join("slbd.json");
    std::fs::write(&cfg, CONFIG).unwrap();
    let mut args = vec!["netns".to_string(), "exec".into(), inst.ns.clone()];
    args.push(slbd::binary().display().to_string());
    args.extend(slbd::eal_base(512));
    for a in [
        "--lcores",
        "0@0,1@1,2@0",
        "--vdev",
        "net_null0,no-rx=1",
        "--vdev",
        "net_null1,no-rx=1",
        "--",
        "--config",
        cfg.to_str().unwrap(),
        "--ctl-socket",
        inst.socket.to_str().unwrap(),
        "--idle-sleep-us",
        "200",
        "--duration",
        "60",
    ] {
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
    Some(inst)
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
    let Some(mut inst) = start() else { return };
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
