//! The control socket of a running slbd (net_null ports without RX, so no
//! traffic): every command, every error path, concurrent clients, config
//! reload, and the slbctl binary. Needs slbd and slbctl built
//! (`cargo build -p slb-appliance -p slb-ctl`).

use serde_json::{json, Value};
use slb_ctl::client::{CallError, Client};
use slb_tests::slbd;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One slbd at a time on this 2-CPU machine.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const CONFIG: &str = r#"{
  "ports": [
    { "name": "client", "device": "net_null0", "role": "client", "ipv4": "198.18.0.1/24" },
    { "name": "server", "device": "net_null1", "role": "server", "ipv4": "198.18.1.1/24" }
  ],
  "neighbours": [ { "address": "198.18.1.11", "mac": "02:5e:00:00:01:11" } ],
  "services": [
    { "name": "web", "vip": "198.18.100.1", "port": 80, "protocol": "tcp", "algorithm": "weighted_round_robin",
      "servers": [ { "name": "s1", "address": "198.18.1.11" }, { "name": "s2", "address": "198.18.1.12" } ] }
  ]
}"#;

/// A running slbd; killed on drop (also when a test fails).
struct Slbd {
    child: Child,
    socket: PathBuf,
    dir: tempfile::TempDir,
    _lock: std::sync::MutexGuard<'static, ()>,
}

impl Drop for Slbd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(extra: &[&str]) -> Slbd {
    start_at(extra, None)
}

fn start_at(extra: &[&str], socket: Option<PathBuf>) -> Slbd {
    let lock = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("slbd.json");
    std::fs::write(&cfg, CONFIG).unwrap();
    let socket = socket.unwrap_or_else(|| dir.path().join("slbd.sock"));
    let mut args = slbd::null_ports_args(512, &cfg, &socket);
    args.extend(
        ["--idle-sleep-us", "200", "--duration", "120"]
            .iter()
            .map(|s| s.to_string()),
    );
    args.extend(extra.iter().map(|s| s.to_string()));
    let log = std::fs::File::create(dir.path().join("slbd.log")).unwrap();
    let child = Command::new(slbd::binary())
        .args(&args)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start slbd");
    let mut s = Slbd {
        child,
        socket,
        dir,
        _lock: lock,
    };
    let t0 = Instant::now();
    while UnixStream::connect(&s.socket).is_err() {
        if let Ok(Some(st)) = s.child.try_wait() {
            panic!("slbd exited ({st}): {}", s.log());
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "no control socket: {}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    s
}

impl Slbd {
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("slbd.log")).unwrap_or_default()
    }

    fn client(&self) -> Client {
        Client::connect(&self.socket).unwrap()
    }

    fn call(&self, command: &str, args: Value) -> Result<Value, String> {
        match self.client().call(command, args) {
            Ok(v) => Ok(v),
            Err(CallError::Remote(e)) => Err(e.code),
            Err(e) => panic!("{command}: {e}"),
        }
    }
}

fn slbctl_binary() -> PathBuf {
    let p = slbd::binary().with_file_name("slbctl");
    assert!(
        p.exists(),
        "slbctl not found at {}: cargo build -p slb-ctl",
        p.display()
    );
    p
}

fn slbctl(socket: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(slbctl_binary())
        .arg("--socket")
        .arg(socket)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_command_answers_and_errors_have_stable_codes() {
    let d = start(&[]);
    let st = d.call("status", json!({})).unwrap();
    assert_eq!(st["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(st["workers"], 1);
    assert_eq!(st["lcores"]["scheduler"], 1);
    assert_eq!(st["ports"].as_array().unwrap().len(), 2);
    assert_eq!(st["ports"][0]["link"]["up"], true);

    let s = d.call("stats", json!({})).unwrap();
    for k in [
        "totals", "drops", "events", "refusals", "labels", "rates", "ports", "cores", "services",
    ] {
        assert!(s.get(k).is_some(), "stats without {k}: {s}");
    }
    assert!(s["drops"]["unknown_label"].is_u64());
    assert_eq!(s["cores"][0]["core"], "scheduler");
    assert_eq!(s["cores"][1]["core"], "worker0");
    assert_eq!(
        s["services"][0]["server_stats"].as_array().unwrap().len(),
        2
    );
    assert!(s["refusals"]["no_server"].is_u64());

    let m = d.call("metrics", json!({})).unwrap();
    let text = m["text"].as_str().unwrap();
    assert!(text.contains("# TYPE slbd_drops_total counter"));
    assert!(
        text.contains(r#"slbd_drops_total{core="worker0",reason="unknown_label"} 0"#),
        "{text}"
    );
    assert!(text.contains(r#"slbd_server_up{service="web",server="s1"}"#));
    assert!(text.contains(r#"slbd_port_rx_packets_total{port="net_null0"}"#));

    assert_eq!(
        d.call("services.list", json!({})).unwrap()["services"][0]["name"],
        "web"
    );
    assert_eq!(
        d.call("servers.list", json!({ "service": "web" })).unwrap()["servers"][1]["name"],
        "s2"
    );
    assert_eq!(
        d.call("sessions.list", json!({ "limit": 5 })).unwrap()["total"],
        0
    );
    assert_eq!(
        d.call("labels", json!({})).unwrap()["usage"]["active_pairs"],
        0
    );
    let h = d.call("health", json!({})).unwrap();
    assert_eq!(h["totals"]["enabled"], true);
    assert_eq!(h["servers"][0]["kind"], "tcp");
    let c = d.call("config.show", json!({})).unwrap();
    assert_eq!(c["config"]["services"][0]["servers"][0]["weight"], 1);

    // Changes.
    d.call("servers.drain", json!({ "service": "web", "server": "s1" }))
        .unwrap();
    assert_eq!(
        d.call("servers.list", json!({})).unwrap()["servers"][0]["state"],
        "draining"
    );
    d.call(
        "servers.enable",
        json!({ "service": "web", "server": "s1" }),
    )
    .unwrap();
    d.call(
        "servers.disable",
        json!({ "service": "web", "server": "s2" }),
    )
    .unwrap();
    assert_eq!(
        d.call("servers.list", json!({})).unwrap()["servers"][1]["state"],
        "disabled"
    );
    d.call(
        "servers.update",
        json!({ "service": "web", "server": "s1", "weight": 5, "max_sessions": 9 }),
    )
    .unwrap();
    let v = d.call("servers.list", json!({})).unwrap();
    assert_eq!(v["servers"][0]["weight"], 5);
    assert_eq!(v["servers"][0]["max_sessions"], 9);
    d.call(
        "servers.add",
        json!({ "service": "web", "name": "s3", "address": "198.18.1.13" }),
    )
    .unwrap();
    d.call(
        "servers.remove",
        json!({ "service": "web", "server": "s3" }),
    )
    .unwrap();
    d.call(
        "services.add",
        json!({ "name": "dns", "vip": "198.18.100.2", "port": 53, "protocol": "udp",
                "servers": [ { "name": "d1", "address": "198.18.1.11" } ] }),
    )
    .unwrap();
    d.call(
        "services.update",
        json!({ "name": "dns", "algorithm": "source_hash", "new_sessions_per_s": 100 }),
    )
    .unwrap();
    assert_eq!(
        d.call("services.list", json!({})).unwrap()["services"][1]["new_sessions_per_s"],
        100
    );
    d.call("services.remove", json!({ "name": "dns" })).unwrap();
    assert_eq!(
        d.call("services.list", json!({})).unwrap()["services"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // config.show follows the changes.
    let c = d.call("config.show", json!({})).unwrap();
    assert_eq!(c["config"]["services"][0]["servers"][0]["weight"], 5);
    assert_eq!(
        c["config"]["services"][0]["servers"][1]["state"],
        "disabled"
    );

    // Error paths.
    assert_eq!(d.call("nope", json!({})).unwrap_err(), "unknown_command");
    assert_eq!(
        d.call("servers.drain", json!({ "service": "web", "server": "zz" }))
            .unwrap_err(),
        "unknown_server"
    );
    assert_eq!(
        d.call("servers.drain", json!({ "service": "zz", "server": "s1" }))
            .unwrap_err(),
        "unknown_service"
    );
    assert_eq!(
        d.call(
            "servers.update",
            json!({ "service": "web", "server": "s1", "weight": 0 })
        )
        .unwrap_err(),
        "invalid_argument"
    );
    assert_eq!(
        d.call(
            "servers.update",
            json!({ "service": "web", "server": "s1", "weight": "heavy" })
        )
        .unwrap_err(),
        "invalid_argument"
    );
    assert_eq!(
        d.call("servers.drain", json!({ "service": "web" }))
            .unwrap_err(),
        "invalid_argument"
    );
    assert_eq!(
        d.call("sessions.show", json!({ "label": 17 })).unwrap_err(),
        "unknown_session"
    );
    assert_eq!(
        d.call("sessions.list", json!({ "limit": 0 })).unwrap_err(),
        "invalid_argument"
    );
    assert_eq!(
        d.call("sessions.list", json!({ "state": "weird" }))
            .unwrap_err(),
        "invalid_argument"
    );
    // A request is checked whole before any lookup: an incomplete
    // service is an invalid argument even when its name exists...
    assert_eq!(
        d.call("services.add", json!({ "name": "web" }))
            .unwrap_err(),
        "invalid_argument"
    );
    // ...and a complete one whose name exists is refused as such.
    assert_eq!(
        d.call(
            "services.add",
            json!({ "name": "web", "vip": "198.18.100.2", "port": 80, "protocol": "tcp",
                    "algorithm": "round_robin",
                    "servers": [ { "name": "s1", "address": "198.18.1.11" } ] })
        )
        .unwrap_err(),
        "already_exists"
    );

    // Malformed lines on one connection: answered, connection kept.
    let mut c = d.client();
    let r = c.raw(b"{not json\n").unwrap();
    assert_eq!(r.error.unwrap().code, "parse_error");
    let r = c.raw(b"{\"id\": 7, \"args\": {}}\n").unwrap();
    assert_eq!(r.id, 7);
    assert_eq!(r.error.unwrap().code, "parse_error");
    let r = c
        .raw(b"{\"id\": 8, \"command\": \"status\", \"args\": [1]}\n")
        .unwrap();
    assert_eq!(r.error.unwrap().code, "invalid_argument");
    let r = c
        .raw(b"{\"id\": \"x\", \"command\": \"status\"}\n")
        .unwrap();
    assert_eq!(r.id, "x");
    assert!(r.result.is_some());

    // Oversize: an error, then the connection is closed.
    let mut s = UnixStream::connect(&d.socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let big = format!(
        "{{\"id\":1,\"command\":\"status\",\"args\":{{\"pad\":\"{}\"}}}}\n",
        "x".repeat(70 * 1024)
    );
    let _ = s.write_all(big.as_bytes());
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["error"]["code"], "request_too_large", "{line}");
    line.clear();
    assert_eq!(
        r.read_line(&mut line).unwrap_or(0),
        0,
        "connection closed after an oversize request"
    );

    // A request just under the limit is fine.
    let pad = "x".repeat(60 * 1024);
    assert!(d.call("status", json!({ "pad": pad })).is_ok());
}

#[test]
fn concurrent_clients_and_a_stalled_one() {
    let d = start(&[]);
    // A client that connects, sends half a line and never reads.
    let mut stalled = UnixStream::connect(&d.socket).unwrap();
    stalled.write_all(b"{\"id\": 1, \"comm").unwrap();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let socket = d.socket.clone();
            std::thread::spawn(move || {
                let mut c = Client::connect(&socket).unwrap();
                for i in 0..25 {
                    let cmd = ["status", "stats", "servers.list", "labels", "health"][(t + i) % 5];
                    c.call(cmd, json!({}))
                        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
                    if i % 5 == 0 {
                        let w = 1 + ((t + i) % 7) as u64;
                        c.call(
                            "servers.update",
                            json!({ "service": "web", "server": "s2", "weight": w }),
                        )
                        .unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // A vanished client mid-request does not hurt either.
    drop(stalled);
    let st = d.call("status", json!({})).unwrap();
    assert!(st["uptime_s"].as_f64().unwrap() > 0.0);
}

#[test]
fn config_reload() {
    let d = start(&[]);
    let cfg_path = d.dir.path().join("slbd.json");
    // Invalid file: rejected whole, running config stays.
    let bad = d.dir.path().join("bad.json");
    std::fs::write(&bad, CONFIG.replace("\"port\": 80", "\"port\": 0")).unwrap();
    let mut c = d.client();
    match c.call("config.reload", json!({ "path": bad })) {
        Err(CallError::Remote(e)) => {
            assert_eq!(e.code, "invalid_config");
            assert!(e.message.contains("services[0].port"), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }
    std::fs::write(&bad, "{ this is not json").unwrap();
    assert_eq!(
        d.call("config.reload", json!({ "path": bad })).unwrap_err(),
        "invalid_config"
    );
    assert_eq!(
        d.call("config.reload", json!({ "path": "/nonexistent/x.json" }))
            .unwrap_err(),
        "invalid_config"
    );
    // Needs a restart: refused, nothing changes.
    let restart = d.dir.path().join("restart.json");
    std::fs::write(&restart, CONFIG.replace("198.18.0.1/24", "198.18.0.2/24")).unwrap();
    assert_eq!(
        d.call("config.reload", json!({ "path": restart }))
            .unwrap_err(),
        "restart_required"
    );
    // Unchanged file: no change.
    let r = d.call("config.reload", json!({})).unwrap();
    assert_eq!(r["changed"], false);
    // A live change: new weight, new server, new service.
    let new = CONFIG
        .replace(r#"{ "name": "s2", "address": "198.18.1.12" }"#, r#"{ "name": "s2", "address": "198.18.1.12", "weight": 4 }, { "name": "s3", "address": "198.18.1.13" }"#);
    std::fs::write(&cfg_path, new).unwrap();
    let r = d.call("config.reload", json!({})).unwrap();
    assert_eq!(r["changed"], true, "{r}");
    let v = d.call("servers.list", json!({})).unwrap();
    assert_eq!(v["servers"][1]["weight"], 4);
    assert_eq!(v["servers"][2]["name"], "s3");
    assert!(d.log().contains("configuration applied"));
}

#[test]
fn slbctl_tool() {
    let d = start(&["--preload-sessions", "10"]);
    let sock = d.socket.as_path();
    let (rc, out, _) = slbctl(sock, &["status"]);
    assert_eq!(rc, 0);
    assert!(
        out.contains("lcores: main 0  scheduler 1  workers [2]"),
        "{out}"
    );
    let (rc, out, _) = slbctl(sock, &["servers", "list"]);
    assert_eq!(rc, 0);
    assert!(out.starts_with("SERVICE  SERVER  ADDRESS"), "{out}");
    // Preloaded sessions (the real admission path): 5 per server.
    let (_, out, _) = slbctl(sock, &["--json", "servers", "list"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["servers"][0]["sessions"], 5);
    assert_eq!(v["servers"][1]["sessions"], 5);
    // Drain s1: its sessions stay, their labels stay installed.
    let (rc, out, _) = slbctl(sock, &["servers", "drain", "web", "s1"]);
    assert_eq!(rc, 0, "{out}");
    let (_, out, _) = slbctl(
        sock,
        &[
            "--json",
            "sessions",
            "list",
            "--service",
            "web",
            "--server",
            "s1",
        ],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["matched"], 5);
    let label = v["sessions"][0]["c2s_label"].as_u64().unwrap();
    let (_, out, _) = slbctl(sock, &["--json", "labels", "--label", &label.to_string()]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["labels"][0]["installed"], true, "{v}");
    assert_eq!(v["labels"][0]["next_hop_mac"], "02:5e:00:00:01:11");
    let (rc, out, _) = slbctl(sock, &["sessions", "show", "--label", &label.to_string()]);
    assert_eq!(rc, 0, "{out}");
    let (rc, out, _) = slbctl(sock, &["sessions", "list", "--limit", "3"]);
    assert_eq!(rc, 0);
    assert!(out.contains("3 of 10 matching"), "{out}");
    // Errors: non-zero exit and the message.
    let (rc, _, err) = slbctl(sock, &["servers", "update", "web", "s1", "--weight", "0"]);
    assert_eq!(rc, 1);
    assert!(
        err.contains(
            "services[0].servers[0].weight: must be between 1 and 65535 (got 0) (invalid_argument)"
        ),
        "{err}"
    );
    let (rc, _, err) = slbctl(sock, &["servers", "drain", "web", "nope"]);
    assert_eq!(rc, 1);
    assert!(err.contains("unknown_server"), "{err}");
    let (rc, _, err) = slbctl(sock, &["services", "remove", "web"]);
    assert_eq!(rc, 1);
    assert!(err.contains("service_busy"), "{err}");
    let (rc, _, err) = slbctl(&d.dir.path().join("nothing.sock"), &["status"]);
    assert_eq!(rc, 1);
    assert!(err.contains("cannot connect"), "{err}");
    // Every view.
    for args in [
        &["stats"][..],
        &["metrics"],
        &["services", "list"],
        &["health"],
        &["labels"],
        &["config", "show"],
        &["config", "reload"],
        &["raw", "status"],
    ] {
        let (rc, out, err) = slbctl(sock, args);
        assert_eq!(rc, 0, "{args:?}: {err}");
        assert!(!out.is_empty(), "{args:?}");
    }
    let (_, out, _) = slbctl(sock, &["metrics"]);
    assert!(
        out.contains("slbd_service_sessions{service=\"web\"} 10"),
        "{out}"
    );
    let (rc, out, _) = slbctl(
        sock,
        &["stats", "--watch", "--count", "2", "--interval", "0.2"],
    );
    assert_eq!(rc, 0);
    assert_eq!(out.lines().count(), 3, "{out}");
    // Help reads like a man page: every verb explained.
    let out = Command::new(slbctl_binary())
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for verb in [
        "status", "stats", "metrics", "services", "servers", "sessions", "labels", "health",
        "config",
    ] {
        assert!(
            help.contains(&format!("  {verb}")),
            "help lacks {verb}: {help}"
        );
    }
    let out = Command::new(slbctl_binary())
        .args(["servers", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("drain") && help.contains("No new sessions"),
        "{help}"
    );
}

#[test]
fn socket_in_use_is_an_error_and_a_stale_one_is_replaced() {
    let d = start(&[]);
    // A second slbd on the same socket stops before EAL starts.
    let cfg = d.dir.path().join("slbd.json");
    let mut args = slbd::eal_base(256);
    args.extend(["-l", "0", "--"].iter().map(|s| s.to_string()));
    let out = Command::new(slbd::binary())
        .args(&args)
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "--ctl-socket",
            d.socket.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(d.socket.exists(), "the running slbd's socket is left alone");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another process listens on it"), "{err}");
    assert!(
        d.call("status", json!({})).is_ok(),
        "the first slbd still serves"
    );
    drop(d);
    // A stale file (nobody listens) is replaced.
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    assert!(stale.exists());
    assert!(UnixStream::connect(&stale).is_err());
    let d = start_at(&[], Some(stale.clone()));
    assert!(d.call("status", json!({})).is_ok());
    let mode = std::fs::metadata(&stale)
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
        .unwrap();
    assert_eq!(mode, 0o660);
    drop(d);
}
