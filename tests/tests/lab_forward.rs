//! Lab smoke tests with slbd in forward mode (a wire between its client
//! and server ports): namespaces, bridges, veths, slbd on DPDK
//! net_af_packet over veths (or net_tap with `SLB_LAB_PORT=tap`),
//! the HTTP and UDP servers, and `scripts/lab up`/`down` themselves.
//!
//! Forward mode joins br-c and br-s through slbd, so c2 gets an address in
//! the server network (198.18.1.50/24, 2001:db8:1::50/64) to be on-link
//! with the servers. The real load-balancing path is tested elsewhere.
//! Needs root (see `slb_tests::lab::lab_available`).

use slb_tests::lab::{self, Lab};

/// Whether a process runs (a zombie waiting for init to reap it does not).
fn alive(pid: &str) -> bool {
    let status = std::path::Path::new("/proc").join(pid).join("status");
    for _ in 0..30 {
        match std::fs::read_to_string(&status) {
            Err(_) => return false,
            Ok(s)
                if s.lines()
                    .any(|l| l.starts_with("State:") && l.contains('Z')) =>
            {
                return false;
            }
            Ok(_) => std::thread::sleep(std::time::Duration::from_millis(100)),
        }
    }
    true
}

/// c2 on-link with the servers through the slbd wire.
fn join_server_network(lab: &Lab) {
    lab.exec_ok(
        "c2",
        &["ip", "addr", "add", "198.18.1.50/24", "dev", "eth0"],
    );
    lab.exec_ok(
        "c2",
        &[
            "ip",
            "addr",
            "add",
            "2001:db8:1::50/64",
            "dev",
            "eth0",
            "nodad",
        ],
    );
}

#[test]
fn forward_wire_carries_http_udp_and_10mb() {
    if !lab::require_lab() {
        return;
    }
    let mut lab = Lab::up(&Lab::unique_prefix());
    lab.start_slbd(&["--mode", "forward"]);
    assert!(lab.slbd_running(), "slbd is not running after start");
    join_server_network(&lab);

    // HTTP over IPv4 and IPv6 to each server, through slbd.
    for s in lab::SERVERS {
        let out = lab.curl("c2", &format!("http://{}/", lab::addr4(s)), 10);
        assert!(
            out.status.success(),
            "curl {s} (v4): {}",
            lab::text(&out.stderr)
        );
        assert_eq!(lab::text(&out.stdout), format!("{s}\n"));
        let out = lab.curl("c2", &format!("http://[{}]/whoami", lab::addr6(s)), 10);
        assert!(
            out.status.success(),
            "curl {s} (v6): {}",
            lab::text(&out.stderr)
        );
        assert_eq!(
            lab::text(&out.stdout)
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>(),
            [s, "2001:db8:1::50"]
        );
    }

    // UDP echo.
    let answer = lab
        .udp("c2", &lab::addr4("s3"), "hello")
        .expect("udp echo v4");
    assert_eq!(answer, "s3 hello");
    let answer = lab
        .udp("c2", &lab::addr6("s2"), "hello6")
        .expect("udp echo v6");
    assert_eq!(answer, "s2 hello6");

    // 10 MB with default offloads: same bytes as s1 serves to itself.
    let url = "http://198.18.1.11/bytes/10000000";
    let through = lab.exec_ok(
        "c2",
        &[
            "sh",
            "-c",
            &format!("curl -sS --max-time 60 {url} | sha256sum"),
        ],
    );
    let local = lab.exec_ok(
        "s1",
        &[
            "sh",
            "-c",
            &format!("curl -sS --max-time 60 {url} | sha256sum"),
        ],
    );
    assert_eq!(through, local, "10 MB transfer differs");
    assert_ne!(
        through.split_whitespace().next(),
        // sha256 of the empty input: the transfer must not be empty.
        Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );

    // slbd carried it: its counters saw the packets.
    let (stdout, stderr) = lab.stop_slbd();
    assert!(!lab.slbd_running());
    let received: u64 = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("received "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no counters in slbd's stdout:\n{stdout}\n{stderr}"));
    assert!(
        received > 5000,
        "slbd received only {received} packets:\n{stdout}"
    );

    // Without slbd the two networks are apart again.
    let out = lab.curl("c2", "http://198.18.1.11/", 2);
    assert!(!out.status.success(), "c2 reached s1 without slbd");
}

#[test]
fn up_twice_then_down_leaves_nothing() {
    if !lab::require_lab() {
        return;
    }
    let prefix = Lab::unique_prefix();
    let mut lab = Lab::up(&prefix);
    // A second up on a complete lab is a no-op that succeeds.
    let again = lab.script(&["up"]);
    assert!(
        again.status.success(),
        "second up: {}",
        lab::text(&again.stderr)
    );
    assert!(
        lab::text(&again.stderr).contains("already up"),
        "{}",
        lab::text(&again.stderr)
    );
    let status = lab.script(&["status"]);
    assert!(status.status.success());
    let status = lab::text(&status.stdout);
    for s in lab::SERVERS {
        assert!(status.contains(&format!("server {s}: pid")), "{status}");
    }

    // Addressing and routes: the VIPs on the servers' lo, only the lab's
    // routes, no default route anywhere.
    for ns in lab::CLIENTS.iter().chain(lab::SERVERS.iter()) {
        for fam in ["-4", "-6"] {
            let routes = lab.exec_ok(ns, &["ip", fam, "route", "show"]);
            assert!(
                !routes.contains("default"),
                "{ns} has a default route:\n{routes}"
            );
        }
    }
    let lo = lab.exec_ok("s1", &["ip", "addr", "show", "dev", "lo"]);
    assert!(
        lo.contains("198.18.100.1/32") && lo.contains("2001:db8:100::1/128"),
        "{lo}"
    );
    let c1_routes = lab.exec_ok("c1", &["ip", "route", "show", "198.18.100.0/24"]);
    assert!(c1_routes.contains("via 198.18.0.1"), "{c1_routes}");

    lab.start_slbd(&["--mode", "forward"]);
    let (tap_c, tap_s) = lab.taps();
    // The bridge port facing slbd: its tap, or the peer of its veth end.
    let (port_c, port_s) = if lab::port_kind() == "tap" {
        (format!(" {tap_c}:"), format!(" {tap_s}:"))
    } else {
        (format!(" {tap_c}b@{tap_c}:"), format!(" {tap_s}b@{tap_s}:"))
    };
    let br_c = lab.exec_ok("app", &["ip", "-o", "link", "show", "master", "br-c"]);
    let br_s = lab.exec_ok("app", &["ip", "-o", "link", "show", "master", "br-s"]);
    assert!(
        br_c.contains(&port_c) && br_c.contains("c1@") && br_c.contains("c2@"),
        "{port_c} not in {br_c}"
    );
    assert!(
        br_s.contains(&port_s) && br_s.contains("s3@"),
        "{port_s} not in {br_s}"
    );

    // Every pid the lab recorded, before down.
    let run = lab.run_dir();
    let pids: Vec<String> = std::fs::read_dir(&run)
        .expect("run dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "pid"))
        .map(|e| {
            std::fs::read_to_string(e.path())
                .unwrap()
                .trim()
                .to_string()
        })
        .collect();
    assert_eq!(
        pids.len(),
        lab::SERVERS.len() + 1,
        "servers and slbd pid files"
    );

    // down with slbd still running: everything goes.
    let down = lab.script(&["down"]);
    assert!(down.status.success(), "down: {}", lab::text(&down.stderr));
    assert_eq!(lab.namespaces(), Vec::<String>::new(), "namespaces left");
    assert!(!run.exists(), "{} left", run.display());
    for pid in &pids {
        assert!(!alive(pid), "process {pid} still runs after down");
    }
    // down again: nothing to do, still success.
    let down = lab.script(&["down"]);
    assert!(
        down.status.success(),
        "second down: {}",
        lab::text(&down.stderr)
    );

    // up after down works (Drop cleans it).
    let up = lab.script(&["up"]);
    assert!(
        up.status.success(),
        "up after down: {}",
        lab::text(&up.stderr)
    );
    assert_eq!(lab.namespaces().len(), 6);
    let out = lab.curl("s2", "http://198.18.1.12/", 5);
    assert_eq!(lab::text(&out.stdout), "s2\n");
}
