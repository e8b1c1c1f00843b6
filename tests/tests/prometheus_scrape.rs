//! slbd's metrics listener (`control.metrics_listen`) scraped by the real
//! Prometheus server (Debian's `prometheus`, installed by scripts/setup):
//! a scrape job on slbd's loopback address every second, then
//! Prometheus' own query API must show `up == 1` and a counter of slbd's
//! that moved (the port TX packets: health probes and ARP requests go
//! out every second even without traffic). Also: the endpoint serves
//! what `slbctl metrics` prints and `promtool check metrics` finds
//! nothing to say about it; a reload that changes `metrics_listen` is
//! refused (restart required); SIGTERM stops slbd, listener included; an
//! address in use stops slbd at start-up with an error naming
//! `control.metrics_listen`.
//!
//! Needs slbd and slbctl built (`cargo build -p slb-appliance -p slb-ctl`).

use serde_json::Value;
use slb_tests::prometheus::query_path;
use slb_tests::slbd;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long Prometheus gets to start, scrape twice and answer.
const SCRAPE_BOUND: Duration = Duration::from_secs(90);

fn config(metrics: SocketAddr) -> String {
    format!(
        r#"{{
  "ports": [
    {{ "name": "client", "device": "net_null0", "role": "client", "ipv4": "198.18.0.1/24" }},
    {{ "name": "server", "device": "net_null1", "role": "server", "ipv4": "198.18.1.1/24" }}
  ],
  "control": {{ "metrics_listen": "{metrics}" }},
  "neighbours": [ {{ "address": "198.18.1.11", "mac": "02:5e:00:00:01:11" }} ],
  "services": [
    {{ "name": "web", "vip": "198.18.100.1", "port": 80, "protocol": "tcp",
      "servers": [ {{ "name": "s1", "address": "198.18.1.11" }}, {{ "name": "s2", "address": "198.18.1.12" }} ] }}
  ]
}}"#
    )
}

/// A child process killed (by its pid) on drop, also when the test fails.
struct Proc {
    child: Child,
    log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

/// A loopback address with a port nothing listens on now.
fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// (status, content type, body) of `GET path` (HTTP/1.0: the server
/// closes and sends no chunked body).
fn get(addr: SocketAddr, path: &str) -> Result<(u16, String, String), String> {
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut all = String::new();
    s.read_to_string(&mut all).map_err(|e| e.to_string())?;
    let (head, body) = all.split_once("\r\n\r\n").ok_or("no response head")?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or("no status")?;
    let ctype = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    Ok((status, ctype, body.to_string()))
}

/// The value of a PromQL query's first sample, if it has one.
fn query(prom: SocketAddr, q: &str) -> Option<f64> {
    let (status, _, body) = get(prom, &query_path(q)).ok()?;
    if status != 200 {
        return None;
    }
    let v: Value = serde_json::from_str(&body).ok()?;
    v["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

fn start_slbd(dir: &Path, metrics: SocketAddr) -> (Proc, PathBuf) {
    let cfg = dir.join("slbd.json");
    std::fs::write(&cfg, config(metrics)).unwrap();
    let socket = dir.join("slbd.sock");
    let mut args = slbd::null_ports_args(512, &cfg, &socket);
    for a in ["--idle-sleep-us", "200", "--duration", "150"] {
        args.push(a.to_string());
    }
    let log = dir.join("slbd.log");
    let child = Command::new(slbd::binary())
        .args(&args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start slbd");
    let mut p = Proc { child, log };
    let t0 = Instant::now();
    while UnixStream::connect(&socket).is_err() {
        if let Some(st) = p.exited() {
            panic!("slbd exited ({st}): {}", p.log());
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "no control socket: {}",
            p.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (p, socket)
}

fn slbctl(socket: &Path, args: &[&str]) -> (i32, String, String) {
    let bin = slbd::binary().with_file_name("slbctl");
    assert!(
        bin.exists(),
        "{} missing: cargo build -p slb-ctl",
        bin.display()
    );
    let out = Command::new(bin)
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

/// The HELP/TYPE lines and the series (sample names with labels) of an
/// exposition: what two renderings a moment apart share.
fn shape(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| match l.starts_with('#') {
            true => l.to_string(),
            false => l.rsplit_once(' ').map_or(l, |(s, _)| s).to_string(),
        })
        .collect()
}

fn dashboard() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/grafana-dashboard.json")
}

/// The `slbd_...` names in a PromQL expression.
fn slbd_names(expr: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find("slbd_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.push(&tail[..end]);
        rest = &tail[end..];
    }
    names
}

fn promtool_check(text: &str) {
    let mut p = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package; run scripts/setup)");
    p.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = p.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool check metrics: {said}"
    );
}

#[test]
fn prometheus_scrapes_slbd() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = free_addr();
    let (mut slbd, socket) = start_slbd(dir.path(), metrics);

    // The endpoint answers, in the exposition format, what slbctl prints.
    let (status, ctype, text) =
        get(metrics, "/metrics").unwrap_or_else(|e| panic!("{e}: {}", slbd.log()));
    assert_eq!(status, 200, "{text}");
    assert_eq!(ctype, "text/plain; version=0.0.4; charset=utf-8");
    assert!(
        text.contains("# TYPE slbd_switched_frames_total counter"),
        "{text}"
    );
    assert!(
        text.contains(r#"slbd_server_up{service="web",server="s1"}"#),
        "{text}"
    );
    let (rc, printed, err) = slbctl(&socket, &["metrics"]);
    assert_eq!(rc, 0, "{err}");
    assert_eq!(shape(&printed), shape(&text));
    promtool_check(&text);
    assert_eq!(get(metrics, "/").unwrap().0, 404);

    // Prometheus scrapes it.
    let prom = free_addr();
    let yml = dir.path().join("prometheus.yml");
    std::fs::write(
        &yml,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n  - job_name: slbd\n    static_configs:\n      - targets: ['{metrics}']\n"
        ),
    )
    .unwrap();
    let log = dir.path().join("prometheus.log");
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", yml.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("tsdb").display()
        ))
        .arg(format!("--web.listen-address={prom}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("prometheus (Debian's prometheus package; run scripts/setup)");
    let mut prometheus = Proc { child, log };

    let tx = r#"sum(slbd_port_tx_packets_total{job="slbd"})"#;
    let t0 = Instant::now();
    let (mut up, mut first, mut moved) = (None, None, None);
    while moved.is_none() {
        if let Some(st) = prometheus.exited() {
            panic!("prometheus exited ({st}): {}", prometheus.log());
        }
        if let Some(st) = slbd.exited() {
            panic!("slbd exited ({st}): {}", slbd.log());
        }
        assert!(
            t0.elapsed() < SCRAPE_BOUND,
            "up = {up:?}, {tx}: first {first:?}, never moved\nprometheus: {}\nslbd: {}",
            prometheus.log(),
            slbd.log()
        );
        std::thread::sleep(Duration::from_millis(500));
        up = query(prom, r#"up{job="slbd"}"#);
        match (first, query(prom, tx)) {
            (None, Some(v)) => first = Some(v),
            (Some(f), Some(v)) if v > f => moved = Some(v),
            _ => {}
        }
    }
    assert_eq!(up, Some(1.0), "{}", prometheus.log());
    // Per server: up or not (net_null answers no probe: they go down),
    // and exactly one state each.
    assert_eq!(
        query(prom, r#"count(slbd_server_up{job="slbd",service="web"})"#),
        Some(2.0)
    );
    assert_eq!(
        query(prom, r#"sum(slbd_server_state{job="slbd",service="web"})"#),
        Some(2.0)
    );
    assert!(query(prom, r#"sum(slbd_label_pairs{job="slbd"})"#).is_some_and(|n| n > 0.0));

    // The example dashboard: every expression is valid PromQL for this
    // Prometheus and every slbd name in it is one slbd serves.
    let dash: Value = serde_json::from_str(&std::fs::read_to_string(dashboard()).unwrap()).unwrap();
    let exprs: Vec<&str> = dash["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap())
        .map(|t| t["expr"].as_str().unwrap())
        .collect();
    assert!(exprs.len() >= 10, "{exprs:?}");
    for e in exprs {
        for name in slbd_names(e) {
            assert!(
                text.contains(&format!("# TYPE {name} ")),
                "dashboard: {name} is not served ({e})"
            );
        }
        let q = e
            .replace("$instance", ".*")
            .replace("$__rate_interval", "1m");
        let (status, _, body) = get(prom, &query_path(&q)).unwrap();
        assert_eq!(status, 200, "dashboard: {q}: {body}");
    }

    // Another metrics_listen needs a restart: the reload is refused whole.
    let other = free_addr();
    let cfg2 = dir.path().join("other.json");
    std::fs::write(&cfg2, config(other)).unwrap();
    let (rc, _, err) = slbctl(&socket, &["config", "reload", cfg2.to_str().unwrap()]);
    assert_eq!(rc, 1);
    assert!(
        err.contains("restart_required") && err.contains("control changed"),
        "{err}"
    );
    assert_eq!(get(metrics, "/metrics").unwrap().0, 200);
    assert!(get(other, "/metrics").is_err(), "{other} answers");

    // SIGTERM: slbd stops (Prometheus still scraping) and the listener
    // goes with it.
    let pid = slbd.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let t0 = Instant::now();
    let st = loop {
        if let Some(st) = slbd.exited() {
            break st;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "slbd did not stop: {}",
            slbd.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(st.success(), "{st}: {}", slbd.log());
    assert!(
        get(metrics, "/metrics").is_err(),
        "still served after slbd stopped"
    );
}

#[test]
fn an_address_in_use_stops_slbd_at_start_up() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("slbd.json");
    std::fs::write(&cfg, config(addr)).unwrap();
    let mut args = slbd::null_ports_args(256, &cfg, &dir.path().join("slbd.sock"));
    for a in ["--duration", "10"] {
        args.push(a.to_string());
    }
    let out = Command::new(slbd::binary()).args(&args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("control.metrics_listen {addr}: cannot listen")),
        "{err}"
    );
    drop(taken);
}
