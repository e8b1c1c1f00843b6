//! The control plane in the lab: `slbctl servers drain` during a load run,
//! and health monitoring taking a dead server out of rotation.
//!
//! One lab, one test, two phases (see lab_balance.rs for why):
//!
//! 1. Drain: c2 runs 3000 requests (100 in flight, one connection each) to
//!    the plain VIP; shortly after it starts, `slbctl servers drain web s2`.
//!    No request fails; s2 takes fewer than its 2/6 share; after the run,
//!    60 more requests go only to s1 and s3 (3:1). `servers enable` puts s2
//!    back.
//! 2. Health: s3's HTTP server is stopped (SIGTERM to its recorded pid).
//!    The TCP health probe (interval 1 s, fall 3) marks s3 down within 10 s
//!    (`slbctl health --json`); then 60 requests all succeed, on s1 and s2.

use std::time::{Duration, Instant};

use slb_tests::lab::{self, Lab};

fn slbctl(socket: &str, args: &[&str]) -> String {
    let out = lab::slbctl(socket, args);
    assert!(
        out.status.success(),
        "slbctl {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The health state of one server of service `web` (`up`, `down`...).
fn health_state(socket: &str, server: &str) -> String {
    let out = slbctl(socket, &["health", "--service", "web", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&out).expect("slbctl health --json");
    json["servers"]
        .as_array()
        .expect("servers")
        .iter()
        .find(|s| s["server"] == server)
        .and_then(|s| s["state"].as_str())
        .unwrap_or("?")
        .to_string()
}

#[test]
fn drain_during_load_and_health_down() {
    if !lab::require_lab() {
        return;
    }
    let agent = lab::agent_binary();
    let mut lab = Lab::up_with(&Lab::unique_prefix(), Some(&agent));
    let socket = lab.run_dir().join("ctl.sock").display().to_string();
    let config = lab::demo_config().display().to_string();
    lab.start_slbd(&["--config", &config, "--json", "--ctl-socket", &socket]);
    let vip = format!("http://{}", lab::VIP4);

    // Phase 1: drain s2 while c2's load runs.
    let (load, drained_at) = std::thread::scope(|s| {
        let run = s.spawn(|| lab.curl_load("c2", &vip, 3000, 100));
        std::thread::sleep(Duration::from_millis(300));
        let t = Instant::now();
        let out = slbctl(&socket, &["servers", "drain", "web", "s2"]);
        eprintln!("{}", out.trim());
        (run.join().unwrap(), t)
    });
    eprintln!(
        "load with drain after 300 ms: {load:?} ({:?} since drain)",
        drained_at.elapsed()
    );
    assert!(
        load.failed == 0,
        "requests failed during the drain: {load:?}"
    );
    assert_eq!(load.ok + load.failed, 3000);
    assert!(
        load.count("s2") > 0,
        "drain came before any request: {load:?}"
    );
    assert!(
        load.count("s2") < 1000,
        "s2 kept its full share despite the drain: {load:?}"
    );
    let after = lab.curl_load("c2", &vip, 60, 10);
    assert_eq!(after.failed, 0);
    assert_eq!(
        after.count("s2"),
        0,
        "drained s2 took new sessions: {after:?}"
    );
    // Weights 3:1 between s1 and s3: 45/15 over 60, give or take the
    // round-robin phase left by the drain and sessions still finishing.
    assert_eq!(after.count("s1") + after.count("s3"), 60, "{after:?}");
    assert!(
        after.count("s1").abs_diff(45) <= 4,
        "s1:s3 should be about 3:1: {after:?}"
    );
    slbctl(&socket, &["servers", "enable", "web", "s2"]);

    // Phase 2: s3's HTTP server stops; health probes mark it down.
    let pid = std::fs::read_to_string(lab.run_dir().join("s3.pid")).expect("s3.pid");
    let killed = std::process::Command::new("kill")
        .args(["-TERM", pid.trim()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let start = Instant::now();
    loop {
        let state = health_state(&socket, "s3");
        if state == "down" {
            eprintln!("s3 marked down after {:?}", start.elapsed());
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "s3 still {state} 10 s after its server stopped"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(health_state(&socket, "s1"), "up");
    let after = lab.curl_load("c2", &vip, 60, 10);
    assert_eq!(after.failed, 0, "requests failed with s3 down: {after:?}");
    assert_eq!(after.count("s3"), 0);
    assert!(after.count("s1") > 0 && after.count("s2") > 0, "{after:?}");
    eprintln!("with s3 down: {after:?}");

    let (stdout, _) = lab.stop_slbd();
    let json: serde_json::Value = serde_json::from_str(stdout.trim()).expect("slbd --json");
    eprintln!("slbd events: {}", json["total"]["events"]);
}
