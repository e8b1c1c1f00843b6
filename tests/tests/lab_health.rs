//! The richer health checks (issue 18) against the lab's real servers:
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

use std::time::{Duration, Instant};

use serde_json::Value;
use slb_tests::lab::{self, Lab};

fn config(dir: &std::path::Path, web_path: &str) -> String {
    let text = std::fs::read_to_string(lab::demo_config()).expect("demo config");
    let mut doc: Value = serde_json::from_str(&text).expect("demo config JSON");
    doc["control"]
        .as_object_mut()
        .expect("control")
        .remove("metrics_listen");
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

/// Waits until every server of `service` is `state`; their rows then.
fn wait_all(socket: &str, service: &str, state: &str, limit: Duration) -> Vec<Value> {
    let t = Instant::now();
    loop {
        let rows = health(socket, service);
        if !rows.is_empty() && rows.iter().all(|r| r["state"] == state) {
            eprintln!("{service}: all {state} after {:?}", t.elapsed());
            return rows;
        }
        assert!(
            t.elapsed() < limit,
            "{service}: not all {state} within {limit:?}: {rows:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn http_and_udp_checks_against_real_servers() {
    if !lab::require_lab() {
        return;
    }
    let mut lab = Lab::up(&Lab::unique_prefix());
    let dir = lab.run_dir();
    let socket = dir.join("ctl.sock").display().to_string();
    let good = config(&dir, "/");
    let bad = config(&dir, "/nope");
    lab.start_slbd(&["--config", &good, "--json", "--ctl-socket", &socket]);

    // 1. Up, with what the checks saw.
    let web = wait_all(&socket, "web", "up", Duration::from_secs(10));
    for r in &web {
        assert_eq!(r["kind"], "http", "{r}");
        assert_eq!(r["last_result"], "status 200", "{r}");
    }
    let dns = wait_all(&socket, "dns", "up", Duration::from_secs(10));
    for r in &dns {
        assert_eq!(r["kind"], "udp", "{r}");
    }
    let ok = lab.curl("c2", &format!("http://{}/", lab::VIP4), 10);
    assert!(ok.status.success(), "a request with every server up");

    // 2. A path the servers answer with 404: down, saying why.
    let r = lab::slbctl(&socket, &["config", "reload", &bad]);
    assert!(r.status.success(), "reload: {}", String::from_utf8_lossy(&r.stderr));
    // fall 2 x interval 0.5 s + timeout, and a margin for a loaded machine.
    let web = wait_all(&socket, "web", "down", Duration::from_secs(6));
    for r in &web {
        assert_eq!(r["last_result"], "status 404", "{r}");
    }
    // The UDP check is untouched by the reload.
    assert!(health(&socket, "dns").iter().all(|r| r["state"] == "up"));
    let refused = lab.curl("c2", &format!("http://{}/", lab::VIP4), 5);
    assert!(!refused.status.success(), "a request with every server down");

    // 3. Back.
    let r = lab::slbctl(&socket, &["config", "reload", &good]);
    assert!(r.status.success(), "reload: {}", String::from_utf8_lossy(&r.stderr));
    wait_all(&socket, "web", "up", Duration::from_secs(6));
    let load = lab.curl_load("c2", &format!("http://{}", lab::VIP4), 60, 10);
    assert_eq!(load.failed, 0, "{load:?}");
    lab.stop_slbd();
}
