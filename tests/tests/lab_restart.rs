//! A planned restart of slbd with its state (issue 15) in the lab, under
//! load. slbd runs with `--save-state FILE --restore FILE`; s3 of `web` is
//! drained over the socket. Eight long downloads run (16 MB at 1.5 MB/s:
//! four from a plain client, c2, on `web`, and four from the label-aware
//! client, c1, on `web-label`) while c2 opens new connections; slbd is stopped (SIGTERM:
//! it saves its state) and started again (it restores it). Every
//! established download completes whole, with the right bytes; new
//! connections may fail only around the restart (counted and reported);
//! the restored slbd shows the sessions as `restored` and s3 still
//! drained.

use std::time::{Duration, Instant};

use slb_tests::lab::{self, Lab};

const BYTES: usize = 16_000_000;
/// Long downloads per client.
const EACH: usize = 4;

fn slbctl_json(socket: &str, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = lab::slbctl(socket, &all);
    assert!(
        out.status.success(),
        "slbctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("slbctl {args:?} --json: {e}"))
}

/// Downloads `url` from `ns` at `rate` into `file` (in the lab's run
/// directory); curl's exit code and the bytes received.
fn download(lab: &Lab, ns: &str, url: &str, rate: &str, file: &str) -> (i32, usize) {
    let path = lab.run_dir().join(file);
    let out = lab.exec_timeout(
        ns,
        &[
            "sh",
            "-c",
            &format!(
                "curl -sS -g --max-time 60 --limit-rate {rate} -o {} -w '%{{size_download}}' {url}; echo \" $?\"",
                path.display()
            ),
        ],
        Duration::from_secs(70),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    let size = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let code = it.next().and_then(|s| s.parse().ok()).unwrap_or(-1);
    (code, size)
}

/// Whether `file` holds the lab server's `/bytes/N` stream: byte i is
/// `(i * 7 + i / 251) % 256` (scripts/lab-http-server).
fn pattern_ok(lab: &Lab, file: &str) -> bool {
    let bytes = std::fs::read(lab.run_dir().join(file)).unwrap_or_default();
    bytes.len() == BYTES
        && bytes
            .iter()
            .enumerate()
            .all(|(i, &b)| b == ((i * 7 + i / 251) % 256) as u8)
}

fn admin_state(socket: &str, service: &str, server: &str) -> String {
    let l = slbctl_json(socket, &["servers", "list", service]);
    l["servers"]
        .as_array()
        .expect("servers")
        .iter()
        .find(|s| s["name"] == server)
        .and_then(|s| s["admin_state"].as_str())
        .unwrap_or("?")
        .to_string()
}

#[test]
fn slbd_restarted_with_its_state_keeps_every_transfer() {
    if !lab::require_lab() {
        return;
    }
    let agent = lab::agent_binary();
    let mut lab = Lab::up_with(&Lab::unique_prefix(), Some(&agent));
    let socket = lab.run_dir().join("ctl.sock").display().to_string();
    let state = lab.run_dir().join("slbd.state").display().to_string();
    let config = lab::demo_config().display().to_string();
    let slbd_args = [
        "--config",
        config.as_str(),
        "--ctl-socket",
        socket.as_str(),
        "--save-state",
        state.as_str(),
        "--restore",
        state.as_str(),
    ];
    // The first start has no file yet: an error, and an empty start.
    lab.start_slbd(&slbd_args);
    let err = std::fs::read_to_string(lab.run_dir().join("slbd.err")).unwrap_or_default();
    assert!(
        err.contains("; starting with nothing restored"),
        "first start: {err}"
    );
    let out = lab::slbctl(&socket, &["servers", "drain", "web", "s3"]);
    assert!(out.status.success(), "drain s3");
    let vip = format!("http://{}", lab::VIP4);
    let vip_label = format!("http://{}", lab::VIP4_LABEL);
    // Warm up: both clients' paths (and the label-aware client's agent).
    for (ns, url) in [("c2", &vip), ("c1", &vip_label)] {
        let out = lab.curl(ns, &format!("{url}/"), 10);
        assert!(out.status.success(), "{ns}: {url} before the restart");
    }

    let t0 = Instant::now();
    let (plain, label, load, gap, (saved, back)) = std::thread::scope(|sc| {
        let lab = &lab;
        let plain: Vec<_> = (0..EACH)
            .map(|i| {
                let url = format!("{vip}/bytes/{BYTES}");
                sc.spawn(move || download(lab, "c2", &url, "1500K", &format!("plain{i}.bin")))
            })
            .collect();
        let label: Vec<_> = (0..EACH)
            .map(|i| {
                let url = format!("{vip_label}/bytes/{BYTES}");
                sc.spawn(move || download(lab, "c1", &url, "1500K", &format!("label{i}.bin")))
            })
            .collect();
        // Every download under way (on a loaded machine a curl may start
        // late; one that starts after the stop would be a new connection,
        // not a restored one): each file has bytes, none is whole.
        let files: Vec<String> = (0..EACH)
            .flat_map(|i| [format!("plain{i}.bin"), format!("label{i}.bin")])
            .collect();
        let size = |f: &str| std::fs::metadata(lab.run_dir().join(f)).map_or(0, |m| m.len());
        let started = Instant::now();
        while !files.iter().all(|f| size(f) >= 256 * 1024) {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "downloads not under way after 15 s: {:?}",
                files.iter().map(|f| (f, size(f))).collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // New connections through the restart: 5 s each at most.
        let load = sc.spawn(|| lab.curl_load_timed("c2", &vip, 300, 2, 5));
        std::thread::sleep(Duration::from_millis(1000));
        assert!(
            files.iter().all(|f| size(f) < BYTES as u64),
            "a download ended before the stop: {:?}",
            files.iter().map(|f| (f, size(f))).collect::<Vec<_>>()
        );
        let live = slbctl_json(&socket, &["stats"]);
        assert!(
            live["totals"]["sessions"].as_u64().unwrap_or(0) >= 2 * EACH as u64,
            "the downloads are not sessions: {}",
            live["totals"]
        );
        let t = Instant::now();
        let stop = lab.script(&["slbd-stop"]);
        assert!(stop.status.success(), "slbd-stop");
        let saved = std::fs::read_to_string(lab.run_dir().join("slbd.err")).unwrap_or_default();
        let bin = slb_tests::slbd::binary().display().to_string();
        let mut start = vec!["slbd-start", "--slbd", bin.as_str(), "--"];
        start.extend_from_slice(&slbd_args);
        let started = lab.script(&start);
        assert!(
            started.status.success(),
            "slbd did not start again: {}",
            String::from_utf8_lossy(&started.stderr)
        );
        let gap = t.elapsed();
        // What came back, for the record if a check below fails.
        let back = lab::slbctl(
            &socket,
            &["sessions", "list", "--origin", "restored", "--limit", "100"],
        );
        let back = String::from_utf8_lossy(&back.stdout).into_owned();
        (
            plain
                .into_iter()
                .map(|t| t.join().unwrap())
                .collect::<Vec<_>>(),
            label
                .into_iter()
                .map(|t| t.join().unwrap())
                .collect::<Vec<_>>(),
            load.join().unwrap(),
            gap,
            (saved, back),
        )
    });
    let restored = std::fs::read_to_string(lab.run_dir().join("slbd.err")).unwrap_or_default();
    let line = |log: &str, what: &str| {
        log.lines()
            .find(|l| l.contains(what))
            .map(str::to_string)
            .unwrap_or_default()
    };
    let (saved_line, restored_line) = (line(&saved, "saved "), line(&restored, "restored "));
    let stats = slbctl_json(&socket, &["stats"]);
    eprintln!(
        "restart with state: slbd gone {gap:?}; {saved_line}; {restored_line}; \
         plain downloads (curl exit, bytes): {plain:?}; label-aware: {label:?}; \
         new connections meanwhile: {} ok, {} failed; restored events {}; total {:?}",
        load.ok,
        load.failed,
        stats["events"]["restored"],
        t0.elapsed()
    );
    assert!(saved_line.contains("saved "), "no save logged: {saved}");
    assert!(
        restored_line.contains("replayed 1 changes (0 failed)"),
        "{restored}"
    );
    for i in 0..EACH {
        assert_eq!(plain[i], (0, BYTES), "the plain client's download {i}");
        assert_eq!(
            label[i],
            (0, BYTES),
            "the label-aware client's download {i}"
        );
        assert!(
            pattern_ok(&lab, &format!("plain{i}.bin")),
            "plain download {i}: wrong bytes"
        );
        assert!(
            pattern_ok(&lab, &format!("label{i}.bin")),
            "label-aware download {i}: wrong bytes"
        );
    }
    assert!(
        stats["events"]["restored"].as_u64().unwrap_or(0) >= 2 * EACH as u64,
        "fewer sessions restored than downloads under way at the stop:\n{back}\nevents {}\ndrops {}",
        stats["events"],
        stats["drops"]
    );
    assert_eq!(admin_state(&socket, "web", "s3"), "drain");
    // New connections: only those around the restart may fail (those in
    // flight at the stop, and new ones whose SYN retransmissions straddle
    // the gap); after it every one succeeds.
    assert_eq!(load.ok + load.failed, 300);
    assert!(
        load.failed <= 60,
        "too many failures for one restart: {load:?}"
    );
    let after = lab.curl_load("c2", &vip, 50, 5);
    assert_eq!(
        after.failed, 0,
        "requests failed after the restart: {after:?}"
    );
    assert_eq!(
        after.count("s3"),
        0,
        "s3 took sessions while drained: {after:?}"
    );
    lab.stop_slbd();
}
