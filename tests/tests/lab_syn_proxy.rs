//! Issue 16's acceptance in the lab: the SYN proxy (delayed binding) at
//! slbd and the sequence splicing of the servers' agents.
//!
//! One lab, one test, in phases; the phases run first with slbd's TCP
//! services as today (no `syn_proxy`), then, on a restarted slbd, with
//! `"syn_proxy": true` on every TCP service, and the two runs must give the
//! same results. `SLB_LAB_SYN_PROXY=off` (or `on`) runs one of the two only;
//! the default is both.
//!
//! Services: `config/examples/demo.json` (web, web6 plain on 198.18.100.1 /
//! 2001:db8:100::1 for c2; web-label, web6-label on .2 / ::2 for the
//! label-aware c1) plus the same four on port 8081, where an upload sink
//! on each server answers a PUT with the body's SHA-256.
//!
//! Phases, for each mode:
//! 1. Captures on c1, c2 and every server during one connection per path
//!    (first, as they show the most when something is wrong): the
//!    client's ISN reaches the server; with the proxy the client sees the
//!    cookie ISN and the server its own (printed side by side, with both
//!    SYN-ACKs' window scale and MSS), the server gets a marked SYN
//!    (traffic class 1) and the replayed marked cookie ACK, and the data
//!    the server sends is in the cookie's sequence space on both links.
//!    The agents' `splice_learned` counts exactly these sessions (0
//!    without the proxy).
//! 2. curl: the next six answers of each service follow weighted round
//!    robin (picks 2..7 of s1 s2 s1 s3 s2 s1 s1); `/whoami` shows the
//!    client's own address; 120 one-connection requests per client split
//!    exactly 60/40/20.
//! 3. wrk (keep-alive) on the four paths: no socket error, no non-2xx.
//! 4. For the servers' `net.ipv4.tcp_timestamps` at 1, 0 and 2: a 10 MB
//!    download and a 10 MB upload on each path (client, family), checked
//!    by SHA-256.
//! 5. 1% loss both ways on every server's link (the lab's kernel has no
//!    `netem`: `lab_tcp::LinkLoss`): the same transfers; the servers and
//!    clients went through SACK recovery, and no SACK block was discarded
//!    as invalid (`TCPSACKDiscard`).
//! 6. A SYN flood from spoofed sources (c2, raw socket, as fast as one
//!    Python process goes, bounded: 400,000 SYNs or 3 s) on web while
//!    eight rate-limited 10 MB transfers run and both clients open 300 new
//!    connections: the transfers complete whole; the share of new
//!    connections that succeeded is printed. With the proxy, no session
//!    (so no label pair) belongs to a flood source, no session is
//!    half-open afterwards, every active pair is a session's, and at most
//!    the 308 real connections were admitted; without it, the flood's
//!    sessions are there (the problem the proxy solves, shown). With the
//!    proxy no server holds a half-open connection afterwards; without
//!    it, those the flood left are ended (`ss -K`) before the next mode.
//! 7. A replayed ACK lost, on web (c2, IPv4) and web6-label (c1, IPv6):
//!    every marked ACK toward the servers is dropped until one is (the
//!    connection's replayed ACK), during one request: it completes (slbd
//!    sends the ACK again when the server retransmits its SYN-ACK), and
//!    the client only ever sees the cookie's SYN-ACK.
//!
//! The proxy advertises the servers' own window scale, computed from their
//! `tcp_rmem[2]` and `rmem_max` as Linux does (10 with this kernel's 32 MB
//! `tcp_rmem[2]`; the config's default, 7, is Linux's with 6 MB).
//! On a failure inside a mode, slbd's issue-16 events and drops, its drop
//! trace and the agents' counters are printed.
//! slbd's stats (cookie counters, sessions spliced) and the agents'
//! counters are printed after each mode.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use slb_tests::lab::{self, Lab};
use slb_tests::lab_tcp::{self, Segment, UploadSinks};

const MB10: usize = 10_000_000;
const UPLOAD_PORT: u16 = 8081;

/// (client namespace, VIP, service) of each path.
const PATHS: [(&str, &str, &str); 4] = [
    ("c2", lab::VIP4, "web"),
    ("c2", lab::VIP6, "web6"),
    ("c1", lab::VIP4_LABEL, "web-label"),
    ("c1", lab::VIP6_LABEL, "web6-label"),
];

/// slbd's events of issue 16, printed after each mode (they must exist
/// when the proxy is on).
const COOKIE_EVENTS: [&str; 9] = [
    "syn_cookies_sent",
    "syn_cookies_valid",
    "sessions_spliced",
    "syn_proxy_bypassed",
    "splice_syn_retries",
    "splice_timeouts",
    "splice_refused",
    "splice_held",
    "splice_option_mismatch",
];

/// slbd's drops of issue 16, printed after each mode.
const COOKIE_DROPS: [&str; 7] = [
    "bad_syn",
    "cookie_stale",
    "cookie_forged",
    "splice_pending_full",
    "splice_hold_full",
    "splice_abandoned",
    "splice_bad_answer",
];

fn client_addr(ns: &str, vip: &str) -> IpAddr {
    if vip.contains(':') {
        lab::addr6(ns).parse().unwrap()
    } else {
        lab::addr4(ns).parse().unwrap()
    }
}

/// Smooth weighted round robin over s1 s2 s3 at 3:2:1, the first `n`.
fn smooth_wrr(n: usize) -> Vec<String> {
    let names = ["s1", "s2", "s3"];
    let weights = [3i64, 2, 1];
    let mut current = [0i64; 3];
    let mut out = Vec::new();
    for _ in 0..n {
        for (c, w) in current.iter_mut().zip(weights) {
            *c += w;
        }
        let best = (0..3).fold(0, |b, i| if current[i] > current[b] { i } else { b });
        current[best] -= 6;
        out.push(names[best].to_string());
    }
    out
}

fn slbctl_json(socket: &str, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = lab::slbctl(socket, &all);
    assert!(
        out.status.success(),
        "slbctl {args:?}: {}",
        lab::text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("slbctl {args:?} --json: {e}"))
}

fn event(stats: &serde_json::Value, name: &str) -> u64 {
    stats["events"][name].as_u64().unwrap_or(0)
}

/// The lab's configuration with the upload services, and `syn_proxy` on
/// every TCP service (advertising window scale `wscale`, the servers'
/// own) when `proxy` is `Some(wscale)`; its path (ports on the lab's
/// devices).
fn config(lab: &Lab, proxy: Option<u8>) -> PathBuf {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/examples/demo.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&demo).expect("demo.json")).unwrap();
    let services = doc["services"].as_array_mut().expect("services");
    let uploads: Vec<serde_json::Value> = services
        .iter()
        .filter(|s| PATHS.iter().any(|p| s["name"] == p.2))
        .map(|s| {
            let mut up = s.clone();
            up["name"] = format!("{}-up", s["name"].as_str().unwrap()).into();
            up["port"] = UPLOAD_PORT.into();
            up["health"]["port"] = UPLOAD_PORT.into();
            up
        })
        .collect();
    assert_eq!(uploads.len(), 4, "demo.json's web services");
    services.extend(uploads);
    if let Some(wscale) = proxy {
        for s in services.iter_mut().filter(|s| s["protocol"] == "tcp") {
            s["syn_proxy"] = serde_json::json!({ "window_scale": wscale });
        }
    }
    let name = if proxy.is_some() {
        "syn-proxy-on.json"
    } else {
        "syn-proxy-off.json"
    };
    let path = lab.run_dir().join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).expect("write config");
    lab::lab_config(&path)
}

/// What a mode's phases produced, compared between the modes.
#[derive(Debug, Default, PartialEq)]
struct Results {
    picks: Vec<(String, Vec<String>)>,
    split: Vec<(String, BTreeMap<String, usize>)>,
}

struct Files {
    download_sha: String,
    upload: PathBuf,
    upload_sha: String,
}

/// 10 MB down from `/bytes/` and up to the sink on one path; panics with
/// what went wrong. `rate`: curl's `--limit-rate`, if any.
fn transfer_pair(lab: &Lab, files: &Files, ns: &str, vip: &str, rate: Option<&str>, what: &str) {
    let limit = rate.map_or(String::new(), |r| format!("--limit-rate {r}"));
    let url = format!("http://{}/bytes/{MB10}", lab::url_host(vip));
    let down = lab.exec_timeout(
        ns,
        &[
            "bash",
            "-c",
            &format!("set -o pipefail; curl -sS -g --max-time 50 {limit} '{url}' | sha256sum"),
        ],
        Duration::from_secs(60),
    );
    let got = lab::text(&down.stdout);
    assert!(
        down.status.success() && got.split_whitespace().next() == Some(&files.download_sha),
        "{what}: 10 MB download {ns} -> {url}: {got} {} (want {})",
        lab::text(&down.stderr),
        files.download_sha
    );
    let url = format!("http://{}:{UPLOAD_PORT}/up", lab::url_host(vip));
    let up = lab.exec_timeout(
        ns,
        &[
            "bash",
            "-c",
            &format!(
                "curl -sS -g --max-time 50 {limit} -H 'Expect:' -T '{}' '{url}'",
                files.upload.display()
            ),
        ],
        Duration::from_secs(60),
    );
    let got = lab::text(&up.stdout);
    let fields: Vec<&str> = got.split_whitespace().collect();
    assert!(
        up.status.success()
            && fields.len() == 3
            && fields[1] == files.upload_sha
            && fields[2] == MB10.to_string(),
        "{what}: 10 MB upload {ns} -> {url}: {got:?} {} (want {} {MB10})",
        lab::text(&up.stderr),
        files.upload_sha
    );
}

/// Every path's download and upload, one after another.
fn transfers(lab: &Lab, files: &Files, what: &str) {
    let t = Instant::now();
    for (ns, vip, _) in PATHS {
        transfer_pair(lab, files, ns, vip, None, what);
    }
    eprintln!(
        "  {what}: 4 paths x (10 MB down + 10 MB up) ok in {:?}",
        t.elapsed()
    );
}

fn set_timestamps(lab: &Lab, value: u32) {
    for s in lab::SERVERS {
        lab.exec_ok(
            s,
            &["sysctl", "-qw", &format!("net.ipv4.tcp_timestamps={value}")],
        );
    }
}

/// Sum of `names` over namespaces `nss` of `nstat`.
fn nstat_sum(lab: &Lab, nss: &[&str], names: &[&str]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for ns in nss {
        let n = lab_tcp::nstat(lab, ns);
        for name in names {
            *out.entry(name.to_string()).or_insert(0) += n.get(*name).copied().unwrap_or(0);
        }
    }
    out
}

fn delta(after: &BTreeMap<String, u64>, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .collect()
}

/// The agents' counters summed over the servers.
fn agent_sum(lab: &Lab, agent: &Path) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for s in lab::SERVERS {
        for (k, v) in lab_tcp::agent_counters(agent, &lab.ns(s), "eth0") {
            *out.entry(k).or_insert(0) += v;
        }
    }
    out
}

/// On a panic in a mode, what slbd and the agents counted (slbd still
/// runs then): issue 16's events and drops, every drop not 0, slbd's drop
/// trace, the servers' agents' counters not 0.
struct OnPanic {
    socket: String,
    agent: PathBuf,
    servers: Vec<String>,
}

impl Drop for OnPanic {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let out = lab::slbctl(&self.socket, &["stats", "--json"]);
        let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        eprintln!("--- on failure: {}", slbd_report(&stats));
        let drops = lab::slbctl(&self.socket, &["drops", "--limit", "20"]);
        eprintln!(
            "--- slbd's drop trace (newest 20):\n{}",
            lab::text(&drops.stdout)
        );
        for ns in &self.servers {
            let mut cmd = std::process::Command::new(&self.agent);
            cmd.args(["--netns", ns, "status", "--iface", "eth0", "--json"]);
            let out = lab::run_bounded(&mut cmd, Duration::from_secs(20));
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            eprintln!("--- agent in {ns}: {}", nonzero(&v["counters"]));
        }
    }
}

/// The members of a JSON object that are not 0.
fn nonzero(m: &serde_json::Value) -> String {
    m.as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, v)| v.as_u64() != Some(0))
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// slbd's stats, issue 16's part: its events and drops, the sessions
/// admitted, every drop not 0.
fn slbd_report(stats: &serde_json::Value) -> String {
    format!(
        "slbd: {}; {}; sessions admitted {}; drops not 0: {}",
        COOKIE_EVENTS
            .iter()
            .map(|k| format!("{k} {}", stats["events"][k]))
            .collect::<Vec<_>>()
            .join(", "),
        COOKIE_DROPS
            .iter()
            .map(|k| format!("{k} {}", stats["drops"][k]))
            .collect::<Vec<_>>()
            .join(", "),
        stats["events"]["sessions_admitted"],
        nonzero(&stats["drops"])
    )
}

/// Phase 7 on one path: every marked ACK toward the servers is dropped
/// until the first one is (then the filter goes), during one request;
/// with the proxy that is the connection's replayed ACK, so the request
/// completes only if slbd sends it again when the server retransmits its
/// SYN-ACK; the client sees one SYN-ACK sequence number, the cookie's.
fn lost_replayed_ack(lab: &Lab, proxy: bool, ns: &str, vip: &str, service: &str) {
    let mode = if proxy {
        "syn_proxy on"
    } else {
        "syn_proxy off"
    };
    let file = lab
        .run_dir()
        .join(format!("{ns}-lostack-{service}-{proxy}.pcap"));
    let cap = lab::Capture::start(
        &lab.ns(ns),
        "eth0",
        &file,
        &["-s", "200", "-B", "16384", "--immediate-mode"],
    );
    let loss = lab_tcp::MarkedAckLoss::start(lab, &lab::SERVERS, 100.0);
    let t = Instant::now();
    let url = format!("http://{}/whoami", lab::url_host(vip));
    let (out, dropped) = std::thread::scope(|sc| {
        let request = sc.spawn(|| lab.curl(ns, &url, 15));
        let mut dropped = 0;
        if proxy {
            while dropped == 0 && t.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(20));
                dropped = loss.dropped();
            }
            drop(loss);
            (request.join().unwrap(), dropped)
        } else {
            let out = request.join().unwrap();
            (out, loss.dropped())
        }
    });
    let took = t.elapsed();
    let segs = lab_tcp::segments(&cap.finish());
    let syn_acks: Vec<u32> = segs
        .iter()
        .filter(|s| s.is_syn_ack())
        .map(|s| s.seq)
        .collect();
    eprintln!(
        "  replayed ACK lost on {service}: {dropped} marked ACK dropped; request {} in {took:?}; \
         SYN-ACK seqs on {ns}'s link {syn_acks:?}",
        if out.status.success() { "ok" } else { "FAILED" }
    );
    let dump = || segs.iter().map(|s| format!("  {s}\n")).collect::<String>();
    assert_eq!(
        dropped,
        u64::from(proxy),
        "{mode}: {service}: marked ACKs dropped (the replayed ACK, with the proxy)\n{}",
        dump()
    );
    assert!(
        out.status.success(),
        "{mode}: {service}: the request whose replayed ACK was lost: {}\n{ns}'s link:\n{}",
        lab::text(&out.stderr),
        dump()
    );
    let mut distinct = syn_acks.clone();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        1,
        "{mode}: {service}: the client saw SYN-ACKs of several ISNs\n{}",
        dump()
    );
}

/// One connection's handshake on both links, checked.
fn check_handshake(
    proxy: bool,
    ns: &str,
    vip: &str,
    client_side: &[Segment],
    server_side: &[Segment],
) -> String {
    let c: IpAddr = client_addr(ns, vip);
    let v: IpAddr = vip.parse().unwrap();
    let ours = |s: &&Segment| {
        (s.src == c && s.dst == v && s.dport == 80) || (s.src == v && s.dst == c && s.sport == 80)
    };
    let cli: Vec<&Segment> = client_side.iter().filter(ours).collect();
    let srv: Vec<&Segment> = server_side.iter().filter(ours).collect();
    let dump = || {
        format!(
            "client link:\n{}\nserver link:\n{}",
            cli.iter().map(|s| format!("  {s}\n")).collect::<String>(),
            srv.iter().map(|s| format!("  {s}\n")).collect::<String>()
        )
    };
    let from_client = |s: &&&Segment| s.src == c;
    let syn = cli
        .iter()
        .find(|s| s.is_syn())
        .unwrap_or_else(|| panic!("{ns} -> {vip}: no SYN on the client link\n{}", dump()));
    let isn_c = syn.seq;
    let syn_ack_c = cli
        .iter()
        .find(|s| s.is_syn_ack())
        .unwrap_or_else(|| panic!("{ns} -> {vip}: no SYN-ACK on the client link\n{}", dump()));
    let syn_s = srv
        .iter()
        .find(|s| s.is_syn())
        .unwrap_or_else(|| panic!("{ns} -> {vip}: no SYN on the server link\n{}", dump()));
    let syn_ack_s = srv
        .iter()
        .find(|s| s.is_syn_ack())
        .unwrap_or_else(|| panic!("{ns} -> {vip}: no SYN-ACK on the server link\n{}", dump()));
    let cookie = syn_ack_c.seq;
    let server_isn = syn_ack_s.seq;
    let line = format!(
        "{ns} -> {vip}: client ISN {isn_c}; client link SYN-ACK seq {cookie} wscale {:?} mss {:?} ts {}; \
         server link SYN seq {} (label {:?} tc {}) wscale {:?}, server's SYN-ACK seq {server_isn} wscale {:?} mss {:?} ts {}",
        syn_ack_c.wscale,
        syn_ack_c.mss,
        syn_ack_c.ts.is_some(),
        syn_s.seq,
        syn_s.label,
        syn_s.tc,
        syn_s.wscale,
        syn_ack_s.wscale,
        syn_ack_s.mss,
        syn_ack_s.ts.is_some(),
    );
    assert_eq!(
        syn_s.seq,
        isn_c,
        "{line}\nthe server got another ISN\n{}",
        dump()
    );
    assert_eq!(syn_ack_c.ack, isn_c.wrapping_add(1), "{line}\n{}", dump());
    assert_eq!(syn_ack_s.ack, isn_c.wrapping_add(1), "{line}\n{}", dump());
    assert!(
        syn_s.label.is_some_and(|l| l % 2 == 1),
        "{line}\nthe server's SYN is not under an odd label\n{}",
        dump()
    );
    // Data from the server: in the sequence space the client knows, on
    // both links (the server's egress is captured after the agent).
    let first_data =
        |segs: &[&Segment]| segs.iter().find(|s| s.src == v && s.len > 0).map(|s| s.seq);
    assert_eq!(
        first_data(&cli),
        Some(cookie.wrapping_add(1)),
        "{line}\nthe client's first data byte\n{}",
        dump()
    );
    assert_eq!(
        first_data(&srv),
        Some(cookie.wrapping_add(1)),
        "{line}\nthe server link's first data byte (after the agent)\n{}",
        dump()
    );
    let marked: Vec<&&Segment> = srv
        .iter()
        .filter(from_client)
        .filter(|s| s.tc != 0)
        .collect();
    if proxy {
        assert_ne!(
            cookie,
            server_isn,
            "{line}\nthe client saw the server's ISN: no proxy\n{}",
            dump()
        );
        assert_eq!(
            syn_s.tc,
            1,
            "{line}\nthe server's SYN is not marked\n{}",
            dump()
        );
        let replay = srv
            .iter()
            .find(|s| s.src == c && s.tc == 1 && !s.flags.contains(slb_wire::TcpFlags::SYN));
        let replay = replay
            .unwrap_or_else(|| panic!("{line}\nno marked ACK on the server link\n{}", dump()));
        assert_eq!(
            (replay.seq, replay.ack),
            (isn_c.wrapping_add(1), cookie.wrapping_add(1)),
            "{line}\nthe replayed ACK is not the client's cookie ACK\n{}",
            dump()
        );
        assert_eq!(
            marked.len(),
            2,
            "{line}\nmarked frames other than the SYN and the replayed ACK\n{}",
            dump()
        );
        assert_eq!(
            syn_ack_c.wscale, syn_ack_s.wscale,
            "{line}\nslbd advertised another window scale than the server's"
        );
    } else {
        assert_eq!(cookie, server_isn, "{line}\n{}", dump());
        assert!(
            marked.is_empty(),
            "{line}\nmarked frames without the proxy\n{}",
            dump()
        );
    }
    line
}

fn sessions_from_flood(socket: &str) -> (usize, u64) {
    let list = slbctl_json(socket, &["sessions", "list", "--limit", "5000"]);
    let from_flood = list["sessions"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|s| {
                    s["client"]
                        .as_str()
                        .and_then(|c| c.parse::<std::net::Ipv4Addr>().ok())
                        .is_some_and(|a| {
                            let o = a.octets();
                            o[..3] == [198, 18, 0] && o[3] >= 128
                        })
                })
                .count()
        })
        .unwrap_or(0);
    (from_flood, list["matched"].as_u64().unwrap_or(0))
}

/// Phase 6; the share of new connections that succeeded under the flood.
fn flood_phase(lab: &Lab, files: &Files, socket: &str, proxy: bool) -> f64 {
    let before = slbctl_json(socket, &["stats"]);
    // Frames the kernel handed to slbd's client-side interface (its
    // af_packet rings may drop some of them when slbd falls behind).
    let (iface, _) = lab.taps();
    let kernel_rx = || -> u64 {
        let out = lab.exec_ok(lab::APP, &["ip", "-j", "-s", "link", "show", "dev", &iface]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        v[0]["stats64"]["rx"]["packets"].as_u64().unwrap_or(0)
    };
    let kernel_before = kernel_rx();
    let t0 = Instant::now();
    let (flood, legit, transfers_done) = std::thread::scope(|sc| {
        // Established transfers: 10 MB at 2.5 MB/s (4 s), under way before
        // the flood starts.
        let transfers: Vec<_> = [
            ("c2", lab::VIP4),
            ("c1", lab::VIP4_LABEL),
            ("c2", lab::VIP6),
            ("c1", lab::VIP6_LABEL),
        ]
        .into_iter()
        .map(|(ns, vip)| {
            sc.spawn(move || {
                transfer_pair(lab, files, ns, vip, Some("5000K"), "during the flood");
            })
        })
        .collect();
        std::thread::sleep(Duration::from_millis(700));
        let legit: Vec<_> = [("c2", lab::VIP4), ("c1", lab::VIP4_LABEL)]
            .into_iter()
            .map(|(ns, vip)| {
                sc.spawn(move || {
                    std::thread::sleep(Duration::from_millis(300));
                    lab.curl_load_timed(ns, &format!("http://{vip}"), 150, 4, 5)
                })
            })
            .collect();
        let flood = lab_tcp::syn_flood(lab, "c2", lab::VIP4, 80, 400_000, 3.0);
        let legit: Vec<_> = legit.into_iter().map(|t| t.join().unwrap()).collect();
        let done = transfers
            .into_iter()
            .map(|t| t.join().is_ok())
            .collect::<Vec<_>>();
        (flood, legit, done)
    });
    let after = slbctl_json(socket, &["stats"]);
    let kernel = kernel_rx() - kernel_before;
    let labels = slbctl_json(socket, &["labels", "--limit", "1"]);
    let half_open = slbctl_json(
        socket,
        &["sessions", "list", "--state", "syn_sent", "--limit", "1"],
    );
    let (from_flood, listed) = sessions_from_flood(socket);
    // Sessions only end now (the load is over): between the two reads
    // the count can only fall.
    let sessions_then = after["totals"]["sessions"].as_u64().unwrap_or(0);
    let sessions_now = slbctl_json(socket, &["stats"])["totals"]["sessions"]
        .as_u64()
        .unwrap_or(0);
    let sessions = sessions_now..=sessions_then;
    let ev = |k: &str| event(&after, k) - event(&before, k);
    let dr = |k: &str| {
        after["drops"][k].as_u64().unwrap_or(0) - before["drops"][k].as_u64().unwrap_or(0)
    };
    let legit_ok: usize = legit.iter().map(|l| l.ok).sum();
    let legit_failed: usize = legit.iter().map(|l| l.failed).sum();
    let rx = |s: &serde_json::Value| s["ports"][0]["stats"]["rx_packets"].as_u64().unwrap_or(0);
    let missed = |s: &serde_json::Value| s["ports"][0]["stats"]["rx_missed"].as_u64().unwrap_or(0);
    eprintln!(
        "  flood: {} SYNs in {:.2} s ({:.0}/s) from spoofed 198.18.0.128/25 to {}:80; slbd's client interface got {kernel} frames, slbd's port rx {} (missed {}) over {:?}; \
         sessions admitted {}, punt_queue_full {}, refused {}; {}; \
         new connections meanwhile {legit_ok} ok, {legit_failed} failed ({:.1} % ok); transfers completed {transfers_done:?}; \
         afterwards: label pairs {}, sessions {} (half-open {}, from flood sources {from_flood} of {listed} listed)",
        flood.sent,
        flood.secs,
        flood.sent as f64 / flood.secs,
        lab::VIP4,
        rx(&after) - rx(&before),
        missed(&after) - missed(&before),
        t0.elapsed(),
        ev("sessions_admitted"),
        dr("punt_queue_full"),
        dr("refused"),
        COOKIE_EVENTS
            .iter()
            .map(|k| format!("{k} {}", ev(k)))
            .collect::<Vec<_>>()
            .join(", "),
        100.0 * legit_ok as f64 / (legit_ok + legit_failed).max(1) as f64,
        labels["usage"],
        after["totals"]["sessions"],
        half_open["matched"],
    );
    assert!(
        transfers_done.iter().all(|d| *d),
        "a transfer under the flood failed (its panic is above)"
    );
    if proxy {
        assert_eq!(from_flood, 0, "sessions of flood sources with the proxy on");
        assert!(
            sessions.contains(&listed),
            "the list holds every session: {listed} listed, sessions {sessions:?}"
        );
        assert_eq!(
            half_open["matched"], 0,
            "half-open sessions after the flood"
        );
        let pairs = labels["usage"]["active_pairs"].as_u64().unwrap_or(u64::MAX);
        assert!(
            sessions.contains(&pairs),
            "label pairs held other than by sessions: {pairs} active pairs, sessions {sessions:?}"
        );
        // Sessions only for the connections of real clients: 300 new
        // ones and the 8 transfers (4 downloads, 4 uploads).
        assert!(
            ev("sessions_admitted") <= 308,
            "{} sessions admitted during the flood, for 308 real connections",
            ev("sessions_admitted")
        );
        assert!(
            ev("syn_cookies_sent") >= flood.sent / 2,
            "the flood did not reach slbd: {} cookies for {} SYNs",
            ev("syn_cookies_sent"),
            flood.sent
        );
    } else {
        // The flood reached slbd: its sources hold sessions (and pairs).
        assert!(
            from_flood > 0,
            "no flood session without the proxy: did the flood reach slbd?"
        );
    }
    legit_ok as f64 / (legit_ok + legit_failed).max(1) as f64
}

fn run_mode(lab: &mut Lab, agent: &Path, files: &Files, proxy: bool) -> Results {
    let mode = if proxy {
        "syn_proxy on"
    } else {
        "syn_proxy off"
    };
    eprintln!("== {mode}");
    let t_mode = Instant::now();
    let socket = lab.run_dir().join("ctl.sock").display().to_string();
    let (wscale, why) = lab_tcp::server_window_scale(lab);
    if proxy {
        eprintln!("  syn_proxy advertises window scale {wscale}, the servers' ({why})");
    }
    let cfg = config(lab, proxy.then_some(wscale)).display().to_string();
    set_timestamps(lab, 1);
    lab.start_slbd(&["--config", &cfg, "--ctl-socket", &socket]);
    let agents_start = agent_sum(lab, agent);
    let mut results = Results::default();
    let _diagnostics = OnPanic {
        socket: socket.clone(),
        agent: agent.to_path_buf(),
        servers: lab::SERVERS.iter().map(|s| lab.ns(s)).collect(),
    };

    // 1. Captures (first: they show most when something is wrong): ISNs, marks, the agents' count.
    let stats_before = slbctl_json(&socket, &["stats"]);
    let agents_before = agent_sum(lab, agent);
    let caps: Vec<(&str, lab::Capture)> = ["c1", "c2", "s1", "s2", "s3"]
        .into_iter()
        .map(|ns| {
            // --immediate-mode: without it, frames wait in the capture
            // ring's block (up to a second) and the last ones are lost
            // when tcpdump is stopped.
            let file = lab.run_dir().join(format!("{ns}-{proxy}.pcap"));
            let cap =
                lab::Capture::start(&lab.ns(ns), "eth0", &file, &["-s", "0", "--immediate-mode"]);
            (ns, cap)
        })
        .collect();
    let mut outcomes = Vec::new();
    for (ns, vip, service) in PATHS {
        let path = if vip.contains(':') {
            "whoami"
        } else {
            "bytes/200000"
        };
        let out = lab.curl(ns, &format!("http://{}/{path}", lab::url_host(vip)), 10);
        outcomes.push((service, out));
    }
    let mut client_side = Vec::new();
    let mut server_side = Vec::new();
    for (ns, cap) in caps {
        let segs = lab_tcp::segments(&cap.finish());
        if ns.starts_with('c') {
            client_side.extend(segs);
        } else {
            server_side.extend(segs);
        }
    }
    for (ns, vip, _) in PATHS {
        let line = check_handshake(proxy, ns, vip, &client_side, &server_side);
        eprintln!("  {line}");
    }
    for (service, out) in outcomes {
        assert!(
            out.status.success(),
            "{mode}: capture phase, {service}: {}",
            lab::text(&out.stderr)
        );
    }
    let stats_after = slbctl_json(&socket, &["stats"]);
    let agents_after = agent_sum(lab, agent);
    let learned = agents_after.get("splice_learned").copied().unwrap_or(0)
        - agents_before.get("splice_learned").copied().unwrap_or(0);
    let admitted =
        event(&stats_after, "sessions_admitted") - event(&stats_before, "sessions_admitted");
    eprintln!("  capture phase: sessions admitted {admitted}, agents' splice_learned {learned}");
    assert_eq!(admitted, 4, "{mode}: sessions of the capture phase");
    assert_eq!(learned, if proxy { 4 } else { 0 }, "{mode}: splice_learned");

    // 2. curl: weighted round robin, who am I, the split.
    for (ns, vip, service) in PATHS {
        let url = format!("http://{}/", lab::url_host(vip));
        let picks: Vec<String> = (0..6)
            .map(|i| {
                let out = lab.curl(ns, &url, 10);
                assert!(
                    out.status.success(),
                    "{mode}: request {i} {ns} -> {url}: {}",
                    lab::text(&out.stderr)
                );
                lab::text(&out.stdout).trim().to_string()
            })
            .collect();
        // The capture phase took each service's first pick.
        assert_eq!(
            picks,
            smooth_wrr(7)[1..],
            "{mode}: {service}'s picks 2 to 7"
        );
        let who = lab.curl(ns, &format!("{url}whoami"), 10);
        let own = client_addr(ns, vip).to_string();
        assert!(
            who.status.success() && lab::text(&who.stdout).contains(&own),
            "{mode}: {ns} -> {url}whoami: {} {}",
            lab::text(&who.stdout),
            lab::text(&who.stderr)
        );
        results.picks.push((service.to_string(), picks));
    }
    for (ns, vip, service) in [PATHS[0], PATHS[2]] {
        let r = lab.curl_load(ns, &format!("http://{vip}"), 120, 10);
        assert_eq!(r.failed, 0, "{mode}: {service}: failed requests: {r:?}");
        assert_eq!(
            (r.count("s1"), r.count("s2"), r.count("s3")),
            (60, 40, 20),
            "{mode}: {service}'s split"
        );
        results.split.push((service.to_string(), r.per_server));
    }
    eprintln!("  curl: first picks, whoami and the 60/40/20 split as expected");

    // 3. wrk.
    for (ns, vip, service) in PATHS {
        let w = lab_tcp::wrk(lab, ns, &format!("http://{}/", lab::url_host(vip)), 10, 2);
        eprintln!(
            "  wrk {service} from {ns}: {} requests, {:.0}/s, {} errors",
            w.requests, w.requests_per_s, w.errors
        );
        assert_eq!(w.errors, 0, "{mode}: wrk on {service}:\n{}", w.text);
    }

    // 4. 10 MB each way with the servers' timestamps at 1, 0, 2.
    // With timestamps off, the servers' SYN-ACKs lack the option slbd's
    // cookie SYN-ACK granted: the agents count each such session
    // (`splice_option_mismatch`), and only those.
    for ts in [1, 0, 2] {
        set_timestamps(lab, ts);
        let (agents_before, stats_before) =
            (agent_sum(lab, agent), slbctl_json(&socket, &["stats"]));
        transfers(lab, files, &format!("{mode}, tcp_timestamps={ts}"));
        let mismatch = agent_sum(lab, agent)
            .get("splice_option_mismatch")
            .copied()
            .unwrap_or(0)
            - agents_before
                .get("splice_option_mismatch")
                .copied()
                .unwrap_or(0);
        let admitted = event(&slbctl_json(&socket, &["stats"]), "sessions_admitted")
            - event(&stats_before, "sessions_admitted");
        let want = if proxy && ts == 0 { admitted } else { 0 };
        assert_eq!(
            mismatch, want,
            "{mode}, tcp_timestamps={ts}: the agents' splice_option_mismatch for {admitted} sessions"
        );
    }
    set_timestamps(lab, 1);

    // 5. 1 % loss both ways on every server link: SACK recovery.
    // (D-SACKs ignored as old or without undo are printed, not checked:
    // the lab's af_packet path reorders now and then, and a burst of
    // needless retransmissions draws hundreds, with the proxy or without;
    // TCPSACKReorder shows it.)
    const SACK: [&str; 6] = [
        "TcpExtTCPSackRecovery",
        "TcpExtTCPSACKDiscard",
        "TcpExtTCPSACKReneging",
        "TcpExtTCPDSACKIgnoredOld",
        "TcpExtTCPDSACKIgnoredNoUndo",
        "TcpExtTCPSACKReorder",
    ];
    let (srv_before, cli_before) = (
        nstat_sum(lab, &lab::SERVERS, &SACK),
        nstat_sum(lab, &lab::CLIENTS, &SACK),
    );
    let loss = lab_tcp::LinkLoss::start(lab, &lab::SERVERS, 1.0);
    transfers(lab, files, &format!("{mode}, 1% loss"));
    let (from_servers, to_servers) = loss.dropped();
    drop(loss);
    let srv = delta(&nstat_sum(lab, &lab::SERVERS, &SACK), &srv_before);
    let cli = delta(&nstat_sum(lab, &lab::CLIENTS, &SACK), &cli_before);
    eprintln!(
        "  1% loss: frames dropped from the servers {from_servers}, to them {to_servers}; \
         servers {srv:?}; clients {cli:?}"
    );
    assert!(
        srv["TcpExtTCPSackRecovery"] > 0,
        "{mode}: no SACK recovery on the servers: {srv:?}"
    );
    assert!(
        cli["TcpExtTCPSackRecovery"] > 0,
        "{mode}: no SACK recovery on the clients: {cli:?}"
    );
    assert_eq!(
        srv["TcpExtTCPSACKDiscard"], 0,
        "{mode}: servers discarded SACK blocks: {srv:?}"
    );
    assert_eq!(
        cli["TcpExtTCPSACKDiscard"], 0,
        "{mode}: clients discarded SACK blocks: {cli:?}"
    );

    // 6. The SYN flood.
    let share = flood_phase(lab, files, &socket, proxy);
    // Half-open connections on the servers: none with the proxy (the
    // flood never reached them); without it, the flood's (ended here, so
    // their SYN-ACK retransmissions do not reach the next slbd).
    let half_open: Vec<usize> = lab::SERVERS
        .iter()
        .map(|s| lab_tcp::kill_syn_recv(lab, s))
        .collect();
    eprintln!("  half-open connections on the servers after the flood: {half_open:?}");
    if proxy {
        assert_eq!(
            half_open,
            [0, 0, 0],
            "{mode}: half-open connections on the servers"
        );
    }

    // 7. A replayed ACK lost: the server's retransmitted SYN-ACK must
    // get it again, and the client must never see the server's ISN.
    for (ns, vip, service) in [PATHS[0], PATHS[3]] {
        lost_replayed_ack(lab, proxy, ns, vip, service);
    }

    let stats = slbctl_json(&socket, &["stats"]);
    let agents = delta(&agent_sum(lab, agent), &agents_start);
    eprintln!("  {}", slbd_report(&stats));
    eprintln!("  agents (servers, this mode): {agents:?}");
    if proxy {
        for k in COOKIE_EVENTS {
            assert!(
                stats["events"][k].is_u64(),
                "{mode}: slbd's stats have no event {k}: {}",
                stats["events"]
            );
        }
        assert_eq!(
            event(&stats, "sessions_spliced"),
            agents.get("splice_learned").copied().unwrap_or(0),
            "{mode}: slbd's spliced sessions and the agents' splice_learned"
        );
        assert_eq!(
            event(&stats, "sessions_spliced"),
            event(&stats, "sessions_admitted"),
            "{mode}: every session spliced (every TCP service has the proxy; no UDP here)"
        );
        for k in ["splice_bad_mark", "splice_option_mismatch"] {
            eprintln!("  agents' {k}: {:?}", agents.get(k));
        }
        assert_eq!(
            agents.get("splice_bad_mark").copied().unwrap_or(0),
            0,
            "{mode}: {agents:?}"
        );
    }
    lab.stop_slbd();
    eprintln!(
        "== {mode}: {:?}; new connections under the flood: {:.1} % succeeded",
        t_mode.elapsed(),
        share * 100.0
    );
    results
}

#[test]
fn syn_proxy_gives_the_same_results_and_holds_no_pair_for_a_flood() {
    if !lab::require_lab() {
        return;
    }
    let which = std::env::var("SLB_LAB_SYN_PROXY").unwrap_or_else(|_| "both".into());
    let modes: &[bool] = match which.as_str() {
        "both" => &[false, true],
        "off" => &[false],
        "on" => &[true],
        other => panic!("SLB_LAB_SYN_PROXY={other}: want off, on or both"),
    };
    let agent = lab::agent_binary();
    let mut lab = Lab::up_with(&Lab::unique_prefix(), Some(&agent));
    let _sinks = UploadSinks::start(&lab, UPLOAD_PORT);
    let t0 = Instant::now();
    let download = lab.run_dir().join("pattern.bin");
    std::fs::write(&download, lab_tcp::pattern(MB10)).unwrap();
    let upload = lab.run_dir().join("upload.bin");
    std::fs::write(&upload, lab_tcp::noise(MB10, 0x5eed_1605)).unwrap();
    let files = Files {
        download_sha: lab_tcp::sha256_file(&download),
        upload_sha: lab_tcp::sha256_file(&upload),
        upload,
    };
    let mut all = Vec::new();
    for &proxy in modes {
        all.push(run_mode(&mut lab, &agent, &files, proxy));
    }
    if let [off, on] = &all[..] {
        assert_eq!(off, on, "results without and with the SYN proxy");
    }
    eprintln!("lab_syn_proxy: {:?} in all", t0.elapsed());
}
