//! `slb-agent cluster` on real namespaces: the agent in the server role on
//! B, three slbd stand-ins on B's segment answering ping (`lab::instance`),
//! labelled frames from the wire; the answer's destination MAC must be that
//! of the label's owner, of the live stand-in when the owner stops
//! answering, and the kernel's (A's) with no one live or no cluster. Needs
//! root.

mod lab;

use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lab::instance::Instance;
use lab::packet::{frame, L4, UDP};
use lab::{capture, lse, udp_echo, Lab, AGENT, B4, B6, IF_B, MAC_A, PEER4, PEER6};

/// 499 pairs in 3 slices of 166: instance 0 has labels 17-348, 1 has
/// 349-680, 2 has 681-1012; the pair 1013/1014 is no one's.
const LABELS: &str = "16-1015";
const INTERVAL_MS: u64 = 100;
const DEAD_AFTER: u32 = 3;

/// `slb-agent cluster` running in B, its stderr collected.
struct Daemon {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Daemon {
    fn start(lab: &Lab, instances: &[Instance]) -> Daemon {
        let mut cmd = Command::new(AGENT);
        cmd.args(["--netns", &lab.ns_b, "cluster", "--iface", IF_B])
            .args(["--labels", LABELS, "--instances"])
            .arg(instances.len().to_string())
            .args(["--interval-ms", &INTERVAL_MS.to_string()])
            .args(["--dead-after", &DEAD_AFTER.to_string()]);
        for i in instances {
            cmd.args(["--next-hop", &i.next_hop()]);
        }
        let mut child = cmd
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting slb-agent cluster");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[cluster] {line}");
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        Daemon { child, log }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits up to `timeout` for a log line containing `needle`.
    fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.log().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.log().contains(needle)
    }

    fn signal(&self, signal: libc::c_int) {
        // SAFETY: plain syscall on the pid of our own child.
        unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
    }

    /// SIGTERM, then its exit status (SIGKILL after 5 s).
    fn stop(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                self.signal(libc::SIGKILL);
                let _ = self.child.wait();
                panic!("slb-agent cluster ignored SIGTERM for 5 s:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.signal(libc::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

/// Sends a UDP datagram labelled `label` (C2S) from the wire to B over
/// IPv4 and returns the destination MAC of B's answer, checking it carries
/// label+1.
fn answer_mac(lab: &Lab, label: u32, sport: u16) -> [u8; 6] {
    answer_mac_from(lab, label, sport, PEER4.into(), B4.into())
}

fn answer_mac_from(lab: &Lab, label: u32, sport: u16, peer: IpAddr, b: IpAddr) -> [u8; 6] {
    let wire = lab.wire();
    let echo = udp_echo(lab, b, 7777);
    wire.send(&frame(
        &[label],
        peer,
        b,
        L4::Udp {
            sport,
            dport: 7777,
            payload: b"whose label?",
        },
    ));
    echo.join().unwrap();
    let p = capture(&wire, UDP, 7777, sport);
    assert_eq!(p.labels, lse(label + 1), "answer to label {label}");
    p.dst_mac
}

/// The cluster's next-hop states in `status --json` ("live", "fallback",
/// "kernel"), or an empty list with no cluster.
fn states(lab: &Lab) -> Vec<(String, Option<u64>)> {
    let st = lab.status();
    st["cluster"]["next_hops"]
        .as_array()
        .map(|hops| {
            hops.iter()
                .map(|h| (h["state"].as_str().unwrap().to_owned(), h["via"].as_u64()))
                .collect()
        })
        .unwrap_or_default()
}

/// Polls `status` until the states are `want` ((state, via) per instance);
/// returns how long it took.
fn wait_states(lab: &Lab, daemon: &Daemon, want: &[(&str, Option<u64>)]) -> Duration {
    let start = Instant::now();
    let want: Vec<(String, Option<u64>)> = want.iter().map(|(s, v)| (s.to_string(), *v)).collect();
    loop {
        let have = states(lab);
        if have == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "states {have:?}, want {want:?}; log:\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn answers_go_to_the_owner_then_to_a_stand_in() {
    let lab = Lab::with_prefix("slbagcl");
    lab.attach("server");
    let inst: Vec<Instance> = (0..3).map(|k| Instance::new(&lab, k)).collect();
    let mac = |k: usize| inst[k].mac;
    let mut daemon = Daemon::start(&lab, &inst);
    wait_states(
        &lab,
        &daemon,
        &[("live", Some(0)), ("live", Some(1)), ("live", Some(2))],
    );
    let text = lab.agent_ok(&["status", "--iface", IF_B]);
    eprintln!("{text}");
    assert!(
        text.contains("cluster: 3 instances, 166 label pairs each from label 17"),
        "{text}"
    );
    assert!(text.contains("instance 1  labels 349-680"), "{text}");

    // Each slice's first and last pair, and the pair that is no one's.
    let mut sport = 41000;
    let mut next_sport = || {
        sport += 1;
        sport
    };
    for (label, owner) in [
        (17, Some(0)),
        (347, Some(0)),
        (349, Some(1)),
        (679, Some(1)),
        (681, Some(2)),
        (1011, Some(2)),
        (1013, None),
    ] {
        let want = owner.map_or(MAC_A, mac);
        assert_eq!(
            answer_mac(&lab, label, next_sport()),
            want,
            "label {label} owned by {owner:?}"
        );
    }
    // IPv6 frames too: the next hops are IPv4, the MACs serve both.
    assert_eq!(
        answer_mac_from(&lab, 351, next_sport(), PEER6.into(), B6.into()),
        mac(1)
    );
    let st = lab.status();
    let c = &st["counters"];
    assert_eq!(c["cluster_redirected"], 7, "{st}");
    assert_eq!(c["cluster_no_owner"], 1, "{st}");
    assert_eq!(c["cluster_fallback"], 0, "{st}");
    assert_eq!(c["pushed"], 8, "{st}");

    // Instance 1 stops answering: its labels go to instance 2.
    inst[1].set_up(false);
    let took = wait_states(
        &lab,
        &daemon,
        &[("live", Some(0)), ("fallback", Some(2)), ("live", Some(2))],
    );
    eprintln!("instance 1 down: fallback after {took:?}");
    assert!(
        took < Duration::from_millis(1500),
        "fallback after {took:?} (interval {INTERVAL_MS} ms, dead after {DEAD_AFTER})"
    );
    assert_eq!(answer_mac(&lab, 349, next_sport()), mac(2));
    assert_eq!(answer_mac(&lab, 17, next_sport()), mac(0));
    assert!(lab.counter("cluster_fallback") >= 1);
    assert!(
        daemon.log().contains(
            "vb: instance 1 (198.18.0.21) dead: its labels go to instance 2 (02:00:00:00:01:02)"
        ),
        "{}",
        daemon.log()
    );

    // Back: its own MAC again.
    inst[1].set_up(true);
    let took = wait_states(
        &lab,
        &daemon,
        &[("live", Some(0)), ("live", Some(1)), ("live", Some(2))],
    );
    eprintln!("instance 1 up: live after {took:?}");
    assert_eq!(answer_mac(&lab, 349, next_sport()), mac(1));
    assert!(daemon.wait_log(
        "vb: instance 1 (198.18.0.21) live at 02:00:00:00:01:01",
        Duration::from_secs(1)
    ));

    // The last instance's stand-in wraps around to instance 0.
    inst[2].set_up(false);
    wait_states(
        &lab,
        &daemon,
        &[("live", Some(0)), ("live", Some(1)), ("fallback", Some(0))],
    );
    assert_eq!(answer_mac(&lab, 681, next_sport()), mac(0));

    // No one live: the kernel's next hop (A) for every label.
    inst[0].set_up(false);
    inst[1].set_up(false);
    wait_states(
        &lab,
        &daemon,
        &[("kernel", None), ("kernel", None), ("kernel", None)],
    );
    let before = lab.counter("cluster_no_next_hop");
    assert_eq!(answer_mac(&lab, 17, next_sport()), MAC_A);
    assert_eq!(lab.counter("cluster_no_next_hop"), before + 1);
    assert!(daemon.log().contains("dead and no instance live"));

    // SIGTERM with an instance live: the cluster leaves the maps.
    inst[0].set_up(true);
    wait_states(
        &lab,
        &daemon,
        &[
            ("live", Some(0)),
            ("fallback", Some(0)),
            ("fallback", Some(0)),
        ],
    );
    let status = daemon.stop();
    assert!(status.success(), "{status}: {}", daemon.log());
    assert!(daemon.wait_log(
        "vb: stopped by SIGTERM: cluster map cleared",
        Duration::from_secs(1)
    ));
    assert!(lab.status()["cluster"].is_null());
    assert_eq!(answer_mac(&lab, 17, next_sport()), MAC_A);
}

/// A label-aware client: the client-to-server label it pushes goes to its
/// owner (two instances: 0 has labels 17-514, 1 has 515-1012), then to the
/// stand-in when the owner stops answering.
#[test]
fn a_client_sends_to_the_owner_of_its_label() {
    let lab = Lab::with_prefix("slbagcl");
    lab.attach("client");
    let inst: Vec<Instance> = (0..2).map(|k| Instance::new(&lab, k)).collect();
    let daemon = Daemon::start(&lab, &inst);
    wait_states(&lab, &daemon, &[("live", Some(0)), ("live", Some(1))]);
    let wire = lab.wire();
    let sock = lab.in_b(|| std::net::UdpSocket::bind((B4, 0)).expect("bind UDP in B"));
    sock.set_read_timeout(Some(lab::WAIT)).unwrap();
    sock.connect((PEER4, 5353)).unwrap();
    let port = sock.local_addr().unwrap().port();
    // Learn: the server's answer arrives with S2C 516 (instance 1's).
    wire.send(&frame(
        &[516],
        PEER4.into(),
        B4.into(),
        L4::Udp {
            sport: 5353,
            dport: port,
            payload: b"answer",
        },
    ));
    let mut buf = [0u8; 64];
    sock.recv(&mut buf).expect("the answer reached B's socket");
    let sent = |payload: &[u8]| {
        sock.send(payload).unwrap();
        let p = capture(&wire, UDP, port, 5353);
        assert_eq!(p.payload, payload);
        assert_eq!(p.labels, lse(515), "client sends 516 - 1");
        p.dst_mac
    };
    assert_eq!(sent(b"one"), inst[1].mac);

    inst[1].set_up(false);
    wait_states(&lab, &daemon, &[("live", Some(0)), ("fallback", Some(0))]);
    assert_eq!(sent(b"two"), inst[0].mac);
    let st = lab.status();
    assert_eq!(st["counters"]["cluster_redirected"], 2, "{st}");
    assert_eq!(st["counters"]["cluster_fallback"], 1, "{st}");
}

#[test]
fn cluster_refuses_bad_arguments_and_a_missing_attachment() {
    let lab = Lab::with_prefix("slbagcl");
    let run = |extra: &[&str]| {
        let mut args = vec!["cluster", "--iface", IF_B];
        args.extend_from_slice(extra);
        let out = lab.agent(&args);
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).trim().to_owned()
    };
    let hops = ["--next-hop", "0=198.18.0.20", "--next-hop", "1=198.18.0.21"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut v = vec!["--labels", LABELS, "--instances", "2"];
        v.extend_from_slice(extra);
        v
    };
    assert_eq!(
        run(&with(&hops)),
        "slb-agent: vb: slb-agent is not attached: run `slb-agent attach --iface vb --role ...` first"
    );
    lab.attach("server");
    assert_eq!(
        run(&with(&[
            "--next-hop",
            "0=198.18.0.20",
            "--next-hop",
            "5=198.18.0.25"
        ])),
        "slb-agent: --next-hop 5=198.18.0.25: instance 5 is not below --instances 2"
    );
    assert_eq!(
        run(&with(&[
            "--next-hop",
            "0=198.18.0.20",
            "--next-hop",
            "0=198.18.0.21"
        ])),
        "slb-agent: --next-hop 0=198.18.0.21: instance 0 already has next hop 198.18.0.20"
    );
    assert_eq!(
        run(&[
            "--labels",
            "16-19",
            "--instances",
            "2",
            "--next-hop",
            "0=198.18.0.20"
        ]),
        "slb-agent: --labels 16-19 --instances 2: label range 16..=19 holds 1 pairs: too few \
         for 2 instances (each needs at least one pair)"
    );
    assert_eq!(
        run(&with(&["--next-hop", "0=198.18.0.20"])),
        "slb-agent: instance 1 has no --next-hop: give one ID=IPv4 for each instance 0..=1"
    );
    // Nothing was written: no cluster in the maps.
    assert!(lab.status()["cluster"].is_null());
}

/// `bpf(cmd, attr)` with `attr` as the first bytes of a zeroed bpf_attr.
fn bpf(cmd: libc::c_long, attr: &[u8]) -> libc::c_long {
    let mut buf = [0u8; 128];
    buf[..attr.len()].copy_from_slice(attr);
    // SAFETY: buf is a valid bpf_attr-sized buffer for the whole call; the
    // pointers inside it point at live locals of the caller.
    let rc = unsafe { libc::syscall(libc::SYS_bpf, cmd, buf.as_ptr(), buf.len()) };
    assert!(rc >= 0, "bpf({cmd}): {}", std::io::Error::last_os_error());
    rc
}

/// Pins at `path` a config map as slb-agent pinned it before clusters: an
/// array of one 16-byte `{role, flags, idle_timeout_ns}`.
fn pin_legacy_config(path: &std::path::Path, role: u32, flags: u32, idle_ns: u64) {
    const MAP_CREATE: libc::c_long = 0;
    const MAP_UPDATE_ELEM: libc::c_long = 2;
    const OBJ_PIN: libc::c_long = 6;
    const ARRAY: u32 = 2;
    let mut create = Vec::new();
    for word in [ARRAY, 4, 16, 1] {
        create.extend_from_slice(&word.to_ne_bytes());
    }
    let fd = bpf(MAP_CREATE, &create) as u32;
    let key = 0u32;
    let mut value = Vec::new();
    value.extend_from_slice(&role.to_ne_bytes());
    value.extend_from_slice(&flags.to_ne_bytes());
    value.extend_from_slice(&idle_ns.to_ne_bytes());
    let mut update = Vec::new();
    update.extend_from_slice(&u64::from(fd).to_ne_bytes());
    update.extend_from_slice(&(&key as *const u32 as u64).to_ne_bytes());
    update.extend_from_slice(&(value.as_ptr() as u64).to_ne_bytes());
    bpf(MAP_UPDATE_ELEM, &update);
    let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    let mut pin = Vec::new();
    pin.extend_from_slice(&(name.as_ptr() as u64).to_ne_bytes());
    pin.extend_from_slice(&u64::from(fd).to_ne_bytes());
    bpf(OBJ_PIN, &pin);
    // SAFETY: fd is the map's descriptor, ours; the pin keeps the map.
    unsafe { libc::close(fd as libc::c_int) };
}

/// The config map grew for the cluster (16 -> 32 bytes): an attachment
/// pinned by an older slb-agent must still be detached properly (its
/// flags say TSO was turned off: detach turns it back on).
#[test]
fn detach_reads_a_config_pinned_before_clusters() {
    let lab = Lab::with_prefix("slbagcl");
    let ethtool = |args: &[&str]| {
        let out = Command::new("ip")
            .args(["netns", "exec", &lab.ns_b, "ethtool"])
            .args(args)
            .output()
            .expect("running ethtool (Debian package ethtool)");
        assert!(out.status.success(), "ethtool {args:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    ethtool(&["-K", IF_B, "tso", "off"]);
    std::fs::create_dir_all(lab.pin_dir()).unwrap();
    // role server, flag 2: TSO turned off by attach; 900 s.
    pin_legacy_config(&lab.pin_dir().join("slb_config"), 1, 2, 900_000_000_000);
    let out = lab.agent_ok(&["detach", "--iface", IF_B]);
    assert!(out.contains("pins removed, TSO turned back on"), "{out}");
    assert!(ethtool(&["-k", IF_B]).contains("tcp-segmentation: on"));
    assert!(!lab.pin_dir().exists());
}
