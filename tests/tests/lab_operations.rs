//! What operators expect (issue 18), shown in the lab against real
//! servers: the richer health checks, and Prometheus scraping slbd.
//!
//! 1. `web` checked with `http` (GET /, 200-399, body "s"), `dns` (the UDP
//!    service on 5353) with `udp` ("ping", the servers answer
//!    "<name> ping"): every server comes up, `slbctl health` shows the kind
//!    and the result (`status 200`, a reply).
//! 2. A live reload makes web's check ask for a path the servers answer
//!    with 404: every web server goes down within interval x fall plus a
//!    margin, showing `status 404`; a request to the VIP is then refused
//!    (no server), which is what an operator wants from a failing check.
//! 3. The check back to `/`: the servers come up again and requests pass.
//! 4. Prometheus (Debian's, started in the lab's app namespace, where
//!    slbd's `control.metrics_listen` is 127.0.0.1:9781) scrapes slbd every
//!    second: its query API shows slbd up and the sessions of the requests
//!    above admitted, and web's servers up.

use std::time::{Duration, Instant};

use serde_json::Value;
use slb_tests::lab::{self, Lab};
use slb_tests::prometheus::query_path;

fn config(dir: &std::path::Path, web_path: &str) -> String {
    let text = std::fs::read_to_string(lab::demo_config()).expect("demo config");
    let mut doc: Value = serde_json::from_str(&text).expect("demo config JSON");
    for s in doc["services"].as_array_mut().expect("services") {
        match s["name"].as_str() {
            Some("web") => {
                s["health"] = serde_json::json!({
                    "kind": "http", "path": web_path, "status": "200-399", "body": "s",
                    "interval_ms": 500, "timeout_ms": 400, "rise": 2, "fall": 2
                })
            }
            Some("dns") => {
                s["health"] = serde_json::json!({
                    "kind": "udp", "send": "ping", "expect": "ping",
                    "interval_ms": 500, "timeout_ms": 400, "rise": 2, "fall": 2
                })
            }
            _ => {}
        }
    }
    let path = dir.join(format!("health{}.json", web_path.replace('/', "_")));
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    path.display().to_string()
}

fn health(socket: &str, service: &str) -> Vec<Value> {
    let out = lab::slbctl(socket, &["--json", "health", "--service", service]);
    assert!(
        out.status.success(),
        "slbctl health: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("health JSON");
    v["servers"].as_array().cloned().unwrap_or_default()
}

/// Waits until every server of `service` is `state` with `result` as
/// its last check's result (`None`: any, after at least `rise`
/// successes); their rows then. (A server starts `up`, before any
/// check: the state alone says nothing yet.)
fn wait_all(
    socket: &str,
    service: &str,
    state: &str,
    result: Option<&str>,
    limit: Duration,
) -> Vec<Value> {
    let t = Instant::now();
    let done = |r: &Value| {
        r["state"] == state
            && match result {
                Some(want) => r["last_result"] == want,
                None => r["successes"].as_u64() >= r["rise"].as_u64(),
            }
    };
    loop {
        let rows = health(socket, service);
        if !rows.is_empty() && rows.iter().all(done) {
            eprintln!(
                "{service}: all {state} ({result:?}) after {:?}",
                t.elapsed()
            );
            return rows;
        }
        assert!(
            t.elapsed() < limit,
            "{service}: not all {state} ({result:?}) within {limit:?}: {rows:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn health_checks_and_prometheus_against_real_servers() {
    if !lab::require_lab() {
        return;
    }
    // The servers need the agent to answer labelled frames.
    let agent = lab::agent_binary();
    let mut lab = Lab::up_with(&Lab::unique_prefix(), Some(&agent));
    let dir = lab.run_dir();
    let socket = dir.join("ctl.sock").display().to_string();
    let good = config(&dir, "/");
    let bad = config(&dir, "/nope");
    lab.start_slbd(&["--config", &good, "--json", "--ctl-socket", &socket]);

    // 1. Up, with what the checks saw.
    let web = wait_all(
        &socket,
        "web",
        "up",
        Some("status 200"),
        Duration::from_secs(10),
    );
    for r in &web {
        assert_eq!(r["kind"], "http", "{r}");
    }
    let dns = wait_all(&socket, "dns", "up", None, Duration::from_secs(10));
    // (A check sent before slbd has resolved the server's MAC may time
    // out: once up, none may fail; see below.)
    for r in &dns {
        assert_eq!(r["kind"], "udp", "{r}");
        assert_eq!(r["last_result"], "udp_reply", "{r}");
    }
    let ok = lab.curl("c2", &format!("http://{}/", lab::VIP4), 10);
    assert!(ok.status.success(), "a request with every server up");

    // 2. A path the servers answer with 404: down, saying why.
    let r = lab::slbctl(&socket, &["config", "reload", &bad]);
    assert!(
        r.status.success(),
        "reload: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    // fall 2 x interval 0.5 s + timeout, and a margin for a loaded machine.
    wait_all(
        &socket,
        "web",
        "down",
        Some("status 404"),
        Duration::from_secs(6),
    );
    // The UDP check is untouched by the reload, and has not failed since
    // it came up.
    let later = health(&socket, "dns");
    for (before, now) in dns.iter().zip(&later) {
        assert_eq!(now["state"], "up", "{now}");
        assert_eq!(now["failures"], before["failures"], "{before}\n{now}");
        assert!(
            now["successes"].as_u64() > before["successes"].as_u64(),
            "{now}"
        );
    }
    let refused = lab.curl("c2", &format!("http://{}/", lab::VIP4), 5);
    assert!(
        !refused.status.success(),
        "a request with every server down"
    );

    // 3. Back.
    let r = lab::slbctl(&socket, &["config", "reload", &good]);
    assert!(
        r.status.success(),
        "reload: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    wait_all(
        &socket,
        "web",
        "up",
        Some("status 200"),
        Duration::from_secs(6),
    );
    let load = lab.curl_load("c2", &format!("http://{}", lab::VIP4), 60, 10);
    assert_eq!(load.failed, 0, "{load:?}");

    // 4. Prometheus scrapes slbd inside the lab.
    let prometheus = Prometheus::start(&lab, &dir);
    let admitted = prometheus.wait_for(
        &lab,
        r#"sum(slbd_sessions_admitted_total{job="slbd"})"#,
        |v| v >= 60.0,
    );
    eprintln!("prometheus: {admitted} sessions admitted");
    let up = prometheus.wait_for(&lab, r#"sum(slbd_server_up{service="web"})"#, |v| v == 3.0);
    assert_eq!(up, 3.0);
    drop(prometheus);
    lab.stop_slbd();
}

/// Debian's prometheus in the lab's app namespace, scraping slbd's
/// metrics listener (127.0.0.1:9781 there) every second, its API on
/// 127.0.0.1:9790 there. Ended by pid when dropped.
struct Prometheus {
    child: std::process::Child,
    log: std::path::PathBuf,
}

impl Prometheus {
    fn start(lab: &Lab, dir: &std::path::Path) -> Prometheus {
        let yml = dir.join("prometheus.yml");
        std::fs::write(
            &yml,
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n  - job_name: slbd\n    static_configs:\n      - targets: ['127.0.0.1:9781']\n",
        )
        .unwrap();
        let log = dir.join("prometheus.log");
        let child = std::process::Command::new("ip")
            .args(["netns", "exec", &lab.ns("app"), "prometheus"])
            .arg(format!("--config.file={}", yml.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg("--web.listen-address=127.0.0.1:9790")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("prometheus (Debian's prometheus package; run scripts/setup)");
        Prometheus { child, log }
    }

    /// The query's value once `ok` holds for it (at most 60 s).
    fn wait_for(&self, lab: &Lab, q: &str, ok: impl Fn(f64) -> bool) -> f64 {
        let url = format!("http://127.0.0.1:9790{}", query_path(q));
        let t = Instant::now();
        let mut last = String::new();
        while t.elapsed() < Duration::from_secs(60) {
            let out = lab.exec("app", &["curl", "-s", "--max-time", "2", &url]);
            last = String::from_utf8_lossy(&out.stdout).into_owned();
            let v = serde_json::from_str::<Value>(&last)
                .ok()
                .and_then(|v| v["data"]["result"][0]["value"][1].as_str()?.parse().ok());
            if let Some(v) = v.filter(|v| ok(*v)) {
                return v;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!(
            "prometheus: {q} never satisfied: {last}\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
