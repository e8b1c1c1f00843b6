//! slb-ctl-record: records what slbd answers to every `slbctl` command,
//! for the replay test `ctl/tests/recorded.rs` (issue 12: slbctl's output
//! must not change when the control protocol becomes typed).
//!
//! slbd's data path runs in the golden rig (`slb_tests::golden::Rig`, a
//! clock this tool controls) behind slbd's own request handler
//! (`slb_appliance::control::Control`) with a stand-in for the port and
//! lcore side (`Host`). A scenario fills it: three healthy servers and one
//! that stops answering its health probes, live TCP sessions (plain and
//! label-aware clients, IPv4 and IPv6), UDP sessions, a refusal, drops.
//! Then each case runs the real `slbctl` binary against a Unix socket this
//! tool serves: every request line slbctl sends is answered by `Control`,
//! and the request and answer are saved as `NN-name.json` in
//! `ctl/tests/recorded/`:
//!
//! ```text
//! {"argv": [...slbctl arguments after --socket PATH...],
//!  "exchanges": [{"request": {...}, "response": {...}}, ...],
//!  "socket": "missing"}            <- only for the "cannot connect" case
//! ```
//!
//! What differs from run to run is given fixed values before slbctl sees
//! it: `pid`, `uptime_s`, the sampled `rates` (and their lines in the
//! metrics text), and the directory of the configuration files
//! (`/etc/slb/` in requests and answers). Everything else is what slbd
//! computes.
//!
//! Remake the recording (this removes every file in the directory first),
//! then the rendered outputs (`NN-name.out`) from it:
//!
//! ```text
//! cargo build -p slb-ctl && cargo run -p slb-tests --bin slb-ctl-record
//! SLBCTL_RECORD=1 cargo test -p slb-ctl --test recorded
//! ```
//!
//! `slbctl` is looked for next to this tool (`target/<profile>/`) unless
//! `$SLBCTL` names it. An argument overrides the output directory.

use serde_json::{json, Value};
use slb_appliance::announce::{Announcer, MemoryRoutes};
use slb_appliance::control::{Control, Host};
use slb_appliance::frame::VecFrame;
use slb_proto::{Lcores, Link, LoopStats, Port, PortStats};
use slb_tests::golden::{Rig, Sent, PORT_MACS};
use slb_wire::classify::L4;
use slb_wire::{arp, builder, classify, Classified, FrameBuilder, MacAddr, TcpFlags};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::IpAddr;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENT: usize = 0;
const SERVER: usize = 1;
const WORKERS: usize = 2;

/// Where the configuration files appear to be, in requests and answers.
const SHOWN_DIR: &str = "/etc/slb";

/// Fixed values for what changes from run to run.
const PID: u64 = 4242;
const UPTIME_S: f64 = 86532.4;
/// The first traced drop's time in `drops` answers (then 1 ms apart).
const DROPS_AT_S: f64 = 86530.0;
const RATES: [(&str, f64); 5] = [
    ("drops_per_s", 2.0),
    ("refused_per_s", 0.5),
    ("rx_pps", 1520.0),
    ("sessions_admitted_per_s", 3.0),
    ("tx_pps", 1496.0),
];

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Server 198.18.1.1N / 2001:db8:1::1N has MAC 02:5e:00:00:01:1N.
fn server_mac(last: u8) -> MacAddr {
    MacAddr([0x02, 0x5e, 0, 0, 0x01, last])
}

fn client_mac(last: u8) -> MacAddr {
    MacAddr([0x02, 0xc1, 0, 0, 0, last])
}

/// The running configuration. `web_s3_weight` and `extra` (more services,
/// JSON) make the variants `config reload` reads.
fn config(labels_last: u32, web_s3_weight: u32, extra: &str) -> String {
    format!(
        r#"{{
  "ports": [
    {{ "name": "client", "device": "0000:3b:00.0", "role": "client", "ipv4": "198.18.0.1/24", "ipv6": "2001:db8::1/64" }},
    {{ "name": "server", "device": "0000:3b:00.1", "role": "server", "ipv4": "198.18.1.1/24", "ipv6": "2001:db8:1::1/64" }}
  ],
  "labels": {{ "first": 16, "last": {labels_last}, "quarantine_ms": 2000 }},
  "neighbours": [
    {{ "address": "198.18.1.11", "mac": "02:5e:00:00:01:11" }},
    {{ "address": "198.18.1.12", "mac": "02:5e:00:00:01:12" }},
    {{ "address": "198.18.1.13", "mac": "02:5e:00:00:01:13" }},
    {{ "address": "2001:db8:1::11", "mac": "02:5e:00:00:01:11" }},
    {{ "address": "2001:db8:1::12", "mac": "02:5e:00:00:01:12" }}
  ],
  "services": [
    {{ "name": "web", "vip": "198.18.100.1", "port": 80, "protocol": "tcp", "algorithm": "weighted_round_robin",
      "health": {{ "kind": "tcp", "port": 80, "interval_ms": 1000, "timeout_ms": 500, "rise": 2, "fall": 3 }},
      "servers": [
        {{ "name": "s1", "address": "198.18.1.11", "weight": 3 }},
        {{ "name": "s2", "address": "198.18.1.12", "weight": 2 }},
        {{ "name": "s3", "address": "198.18.1.13", "weight": {web_s3_weight}, "max_sessions": 100 }}
      ] }},
    {{ "name": "api", "vip": "198.18.100.2", "port": 443, "protocol": "tcp", "client_mode": "label",
      "algorithm": "least_connections", "max_sessions": 3, "refuse": "rst",
      "health": {{ "kind": "tcp", "port": 443, "interval_ms": 2000, "timeout_ms": 500, "rise": 1, "fall": 2 }},
      "servers": [
        {{ "name": "a1", "address": "198.18.1.11" }},
        {{ "name": "a2", "address": "198.18.1.12" }}
      ] }},
    {{ "name": "web6", "vip": "2001:db8:100::1", "port": 80, "protocol": "tcp", "algorithm": "round_robin",
      "health": {{ "kind": "none" }},
      "servers": [
        {{ "name": "s1", "address": "2001:db8:1::11" }},
        {{ "name": "s2", "address": "2001:db8:1::12" }}
      ] }},
    {{ "name": "dns", "vip": "198.18.100.3", "port": 53, "protocol": "udp", "algorithm": "source_hash",
      "new_sessions_per_s": 1000, "burst": 100, "refuse": "drop",
      "servers": [
        {{ "name": "d1", "address": "198.18.1.11" }},
        {{ "name": "d2", "address": "198.18.1.12" }}
      ] }}{extra}
  ]
}}
"#
    )
}

/// Device counters and poll loop counters, as slbd's ports and lcores
/// would count the frames the rig saw.
#[derive(Default)]
struct Traffic {
    /// Per port: rx packets, rx bytes, tx packets, tx bytes.
    ports: [[u64; 4]; 2],
    /// Per worker: rx packets, tx packets.
    loops: [[u64; 2]; WORKERS],
}

struct StandInHost(Arc<Mutex<Traffic>>);

impl Host for StandInHost {
    fn ports(&self) -> Vec<Port> {
        let t = self.0.lock().unwrap();
        ["client", "server"]
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let m = PORT_MACS[i];
                let [rx, rx_bytes, tx, tx_bytes] = t.ports[i];
                Port {
                    name: name.to_string(),
                    driver: "net_ice".into(),
                    mac: format!(
                        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                        m[0], m[1], m[2], m[3], m[4], m[5]
                    ),
                    link: Link {
                        up: true,
                        speed_mbps: 25000,
                        full_duplex: true,
                    },
                    stats: PortStats {
                        rx_packets: rx,
                        tx_packets: tx,
                        rx_bytes,
                        tx_bytes,
                        rx_missed: if i == CLIENT { 7 } else { 0 },
                        rx_errors: if i == CLIENT { 2 } else { 0 },
                        tx_errors: 0,
                        rx_nombuf: 0,
                    },
                }
            })
            .collect()
    }

    fn lcores(&self) -> Lcores {
        Lcores {
            main: 0,
            scheduler: 1,
            workers: vec![2, 3],
        }
    }

    fn loops(&self) -> Vec<LoopStats> {
        let t = self.0.lock().unwrap();
        t.loops
            .iter()
            .map(|&[rx_packets, tx_packets]| LoopStats {
                rx_packets,
                tx_packets,
                tx_full_drops: 0,
            })
            .collect()
    }
}

/// slbd in the rig, with the traffic around it.
struct Lab {
    rig: Rig,
    control: Control,
    traffic: Arc<Mutex<Traffic>>,
    next_worker: usize,
    /// Servers that do not answer health probes.
    silent: HashSet<IpAddr>,
    /// The real directory of the configuration files.
    dir: PathBuf,
    /// Next client port of `burst`.
    burst_port: u16,
}

/// A TCP session the scenario opened: what its next frames need.
#[derive(Clone, Copy)]
struct Tcp {
    client_mac: MacAddr,
    client: IpAddr,
    client_port: u16,
    vip: IpAddr,
    vip_port: u16,
    server_mac: MacAddr,
    c2s: u32,
    /// Client-mode label: the client's frames carry the C2S label.
    labelled: bool,
}

enum Probe {
    No,
    /// The answer, and how long after the probe it comes (ns).
    Answered(u64, Vec<u8>),
    Unanswered,
}

/// A frame of an EtherType slbd does not handle (local experimental).
fn other_ethertype() -> Vec<u8> {
    let mut f = vec![0u8; 60];
    f[0..6].copy_from_slice(&PORT_MACS[CLIENT]);
    f[6..12].copy_from_slice(&client_mac(0x29).0);
    f[12..14].copy_from_slice(&[0x88, 0xb5]);
    f
}

/// The label of an MPLS frame (one label, no VLAN).
fn label_of(f: &[u8]) -> Option<u32> {
    (f.len() >= 18 && f[12..14] == [0x88, 0x47])
        .then(|| (u32::from(f[14]) << 12) | (u32::from(f[15]) << 4) | (u32::from(f[16]) >> 4))
}

impl Lab {
    fn new(dir: &Path) -> Lab {
        Lab::with_config(dir, "slbd.json")
    }

    /// slbd with the configuration file `file` of `dir`.
    fn with_config(dir: &Path, file: &str) -> Lab {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let rig = Rig::new(&text, WORKERS);
        let traffic = Arc::new(Mutex::new(Traffic::default()));
        let cfg = rig.dp.scheduler.running_config().clone();
        let mut counters = vec![rig.dp.scheduler_counters.clone()];
        counters.extend(rig.dp.worker_counters.iter().cloned());
        let table = cfg.cluster.as_ref().and_then(|c| c.announce_table);
        let mut control = Control::new(
            cfg,
            Some(dir.join(file)),
            rig.dp.scheduler.command_queue(),
            counters,
            Some(Box::new(StandInHost(traffic.clone()))),
        );
        // The announce table in memory: the rig has no namespace of its own.
        if let Some(t) = table {
            let routes = Box::new(MemoryRoutes::default());
            control = control.with_announcer(Announcer::with_routes(t, routes).unwrap());
        }
        Lab {
            rig,
            control,
            traffic,
            next_worker: 0,
            silent: HashSet::new(),
            dir: dir.to_path_buf(),
            burst_port: 44000,
        }
    }

    /// A frame in on `port`, through the next worker, then the scheduler
    /// settles. Returns what left, but health probes (answered here); every
    /// frame in and out is counted.
    fn send(&mut self, port: usize, frame: &[u8]) -> Vec<Sent> {
        let w = self.next_worker;
        self.next_worker = (w + 1) % WORKERS;
        {
            let mut t = self.traffic.lock().unwrap();
            t.ports[port][0] += 1;
            t.ports[port][1] += frame.len() as u64;
            t.loops[w][0] += 1;
        }
        let mut out = Vec::new();
        if let Some((o, f)) = self.rig.dp.workers[w].process(port, VecFrame::new(frame)) {
            self.traffic.lock().unwrap().loops[w][1] += 1;
            out.push((o, f.into_vec()));
        }
        out.extend(self.rig.settle());
        self.deliver(out)
    }

    /// Counts frames sent and answers health probes; returns the rest.
    /// Each server answers after its own delay (its response time), in
    /// that order whatever order the probes left in.
    fn deliver(&mut self, out: Vec<Sent>) -> Vec<Sent> {
        let mut rest = Vec::new();
        let mut answers = Vec::new();
        for (p, f) in out {
            {
                let mut t = self.traffic.lock().unwrap();
                t.ports[p][2] += 1;
                t.ports[p][3] += f.len() as u64;
            }
            match self.probe(p, &f) {
                Probe::Answered(delay_ns, answer) => answers.push((delay_ns, answer)),
                Probe::Unanswered => {}
                Probe::No => rest.push((p, f)),
            }
        }
        answers.sort();
        let start = self.rig.now;
        for (delay_ns, answer) in answers {
            self.rig.now = self.rig.now.max(start + delay_ns);
            // slbd's RST back to the server is counted by this `send`.
            self.send(SERVER, &answer);
        }
        rest
    }

    /// Whether `f` is a health probe (TCP SYN or ARP request), and the
    /// server's answer if it answers. Every server answers ARP.
    fn probe(&self, port: usize, f: &[u8]) -> Probe {
        let p = match classify(f) {
            Ok(Classified::Ip(p)) => p,
            Ok(Classified::Arp(a)) if port == SERVER && a.operation == arp::Operation::Request => {
                let last =
                    u8::from_str_radix(&a.target_ip.octets()[3].to_string(), 16).unwrap_or(0);
                return Probe::Answered(
                    100_000,
                    builder::arp_reply(server_mac(last), a.target_ip, a.sender_mac, a.sender_ip),
                );
            }
            _ => return Probe::No,
        };
        if port != SERVER || !matches!(p.l4, L4::Tcp { flags } if flags == TcpFlags::SYN) {
            return Probe::No;
        }
        if self.silent.contains(&p.flow.dst) {
            return Probe::Unanswered;
        }
        let seq = u32::from_be_bytes(f[p.l4_offset + 4..p.l4_offset + 8].try_into().unwrap());
        // 198.18.1.11 and 2001:db8:1::11 answer in 0.4 ms, .12 in 0.9 ms, ...
        let n = match p.flow.dst {
            IpAddr::V4(a) => u64::from(a.octets()[3]).saturating_sub(11),
            IpAddr::V6(a) => u64::from(a.octets()[15]).saturating_sub(0x11),
        };
        Probe::Answered(
            400_000 + n * 500_000,
            FrameBuilder::tcp(
                MacAddr(f[0..6].try_into().unwrap()),
                MacAddr(f[6..12].try_into().unwrap()),
                p.flow.dst,
                p.flow.src,
                p.flow.dst_port,
                p.flow.src_port,
            )
            .flags(TcpFlags::SYN | TcpFlags::ACK)
            .seq(7)
            .ack(seq.wrapping_add(1))
            .build(),
        )
    }

    /// Runs the clock in 10 ms steps, answering probes as they go.
    fn advance_ms(&mut self, ms: u64) {
        for _ in 0..ms.div_ceil(10) {
            self.rig.now += 10_000_000;
            let out = self.rig.settle();
            self.deliver(out);
        }
    }

    /// Opens a TCP session: SYN, the server's SYN-ACK, the client's ACK.
    /// `reply`: whether the server answers (else it stays `syn_sent`).
    #[allow(clippy::too_many_arguments)]
    fn open(
        &mut self,
        client_last: u8,
        client: &str,
        client_port: u16,
        vip: &str,
        vip_port: u16,
        labelled: bool,
        reply: bool,
    ) -> Tcp {
        let (cm, c, v) = (client_mac(client_last), ip(client), ip(vip));
        let syn = FrameBuilder::tcp(cm, MacAddr(PORT_MACS[CLIENT]), c, v, client_port, vip_port)
            .flags(TcpFlags::SYN)
            .seq(1000)
            .mss(1460)
            .build();
        let out = self.send(CLIENT, &syn);
        let (p, f) = out.first().expect("SYN forwarded");
        assert_eq!(*p, SERVER, "SYN to a server");
        let s = Tcp {
            client_mac: cm,
            client: c,
            client_port,
            vip: v,
            vip_port,
            server_mac: MacAddr(f[0..6].try_into().unwrap()),
            c2s: label_of(f).expect("SYN labelled"),
            labelled,
        };
        if reply {
            // The server answers 0.85 ms later.
            self.rig.now += 850_000;
            let out = self.server_says(&s, TcpFlags::SYN | TcpFlags::ACK, 5000, 1001, b"");
            assert_eq!(out.len(), 1, "SYN-ACK to the client");
            let out = self.client_says(&s, TcpFlags::ACK, 1001, 5001, b"");
            assert_eq!(out.len(), 1, "ACK to the server");
        }
        s
    }

    fn client_says(
        &mut self,
        s: &Tcp,
        flags: TcpFlags,
        seq: u32,
        ack: u32,
        data: &[u8],
    ) -> Vec<Sent> {
        let mut b = FrameBuilder::tcp(
            s.client_mac,
            MacAddr(PORT_MACS[CLIENT]),
            s.client,
            s.vip,
            s.client_port,
            s.vip_port,
        )
        .flags(flags)
        .seq(seq)
        .ack(ack)
        .payload(data);
        if s.labelled {
            b = b.label(s.c2s);
        }
        self.send(CLIENT, &b.build())
    }

    fn server_says(
        &mut self,
        s: &Tcp,
        flags: TcpFlags,
        seq: u32,
        ack: u32,
        data: &[u8],
    ) -> Vec<Sent> {
        let b = FrameBuilder::tcp(
            s.server_mac,
            MacAddr(PORT_MACS[SERVER]),
            s.vip,
            s.client,
            s.vip_port,
            s.client_port,
        )
        .flags(flags)
        .seq(seq)
        .ack(ack)
        .payload(data)
        .label(s.c2s + 1);
        self.send(SERVER, &b.build())
    }

    /// A request and its response, `n` times.
    fn exchange(&mut self, s: &Tcp, n: u32) {
        for i in 0..n {
            let q = self.client_says(
                s,
                TcpFlags::ACK | TcpFlags::PSH,
                1001 + 18 * i,
                5001,
                b"GET / HTTP/1.1\r\n\r\n",
            );
            assert_eq!(q.len(), 1, "request switched");
            let a = self.server_says(
                s,
                TcpFlags::ACK | TcpFlags::PSH,
                5001 + 64 * i,
                1019 + 18 * i,
                &[b'x'; 64],
            );
            assert_eq!(a.len(), 1, "response switched");
        }
    }

    /// A UDP query and its answer.
    fn udp(&mut self, client_last: u8, client: &str, client_port: u16) {
        let (cm, c, v) = (client_mac(client_last), ip(client), ip("198.18.100.3"));
        let q = FrameBuilder::udp(cm, MacAddr(PORT_MACS[CLIENT]), c, v, client_port, 53)
            .payload(&[0x12; 40])
            .build();
        let out = self.send(CLIENT, &q);
        let (p, f) = out.first().expect("query forwarded");
        assert_eq!(*p, SERVER);
        let label = label_of(f).expect("query labelled");
        // The server answers 0.3 ms later.
        self.rig.now += 300_000;
        let a = FrameBuilder::udp(
            MacAddr(f[0..6].try_into().unwrap()),
            MacAddr(PORT_MACS[SERVER]),
            v,
            c,
            53,
            client_port,
        )
        .payload(&[0x34; 120])
        .label(label + 1)
        .build();
        assert_eq!(self.send(SERVER, &a).len(), 1, "answer to the client");
    }

    /// A datagram from a client to a UDP VIP, forwarded to a server: that
    /// server's MAC.
    fn datagram(&mut self, client: &str, client_port: u16, vip: &str, payload: &[u8]) -> MacAddr {
        let (cm, c, v) = (client_mac(0x21), ip(client), ip(vip));
        let q = FrameBuilder::udp(cm, MacAddr(PORT_MACS[CLIENT]), c, v, client_port, 53)
            .payload(payload)
            .build();
        let out = self.send(CLIENT, &q);
        let (p, f) = out.first().expect("datagram forwarded");
        assert_eq!(*p, SERVER);
        MacAddr(f[0..6].try_into().unwrap())
    }

    /// Frames slbd drops: `n` of an unknown EtherType, one for an address
    /// that is no VIP, one with a label nobody holds.
    fn junk(&mut self, n: usize) {
        for _ in 0..n {
            assert!(self.send(CLIENT, &other_ethertype()).is_empty());
        }
        let stray = FrameBuilder::tcp(
            client_mac(0x29),
            MacAddr(PORT_MACS[CLIENT]),
            ip("198.18.0.29"),
            ip("198.18.100.9"),
            40000,
            80,
        )
        .flags(TcpFlags::SYN)
        .build();
        assert!(self.send(CLIENT, &stray).is_empty());
        let unknown = FrameBuilder::tcp(
            client_mac(0x29),
            MacAddr(PORT_MACS[CLIENT]),
            ip("198.18.0.29"),
            ip("198.18.100.2"),
            40001,
            443,
        )
        .flags(TcpFlags::ACK)
        .label(4001)
        .build();
        assert!(self.send(CLIENT, &unknown).is_empty());
    }

    /// Traffic between two readings of `stats --watch`: a session talks,
    /// two new ones begin, three frames are dropped.
    fn burst(&mut self, s: &Tcp) {
        self.exchange(s, 10);
        for _ in 0..2 {
            let port = self.burst_port;
            self.burst_port += 1;
            self.open(0x24, "198.18.0.24", port, "198.18.100.1", 80, false, false);
        }
        for _ in 0..3 {
            assert!(self.send(CLIENT, &other_ethertype()).is_empty());
        }
    }

    /// Answers one request line as slbd does, and returns the answer line.
    fn answer(&mut self, line: &str) -> String {
        let line = line.replace(
            &format!("{SHOWN_DIR}/"),
            &format!("{}/", self.dir.display()),
        );
        let now = self.rig.now;
        let dp = &mut self.rig.dp;
        let mut pump = || {
            for w in &mut dp.workers {
                w.apply_ops();
            }
            slb_appliance::scheduler::poll_loop::round(&mut dp.scheduler, now, &mut |_, _| {});
        };
        let r = self.control.handle_line(line.as_bytes(), &mut pump);
        for w in &mut self.rig.dp.workers {
            w.apply_ops();
        }
        serde_json::to_string(&r).unwrap().replace(
            &format!("{}/", self.dir.display()),
            &format!("{SHOWN_DIR}/"),
        )
    }
}

/// The answer line the replay test's fake socket writes for `response`
/// and request id `id`: slbd's field order (`id`, then `result` or
/// `error`), compact JSON.
fn response_line(id: &Value, response: &Value) -> String {
    let mut s = format!("{{\"id\":{}", id);
    for k in ["result", "error"] {
        if let Some(v) = response.get(k) {
            s.push_str(&format!(",\"{k}\":{v}"));
        }
    }
    s.push('}');
    s
}

/// `s` with every number outside strings replaced by `#`.
fn mask_numbers(s: &str) -> String {
    let (mut out, mut in_str, mut esc, mut in_num) = (String::new(), false, false, false);
    for ch in s.chars() {
        if in_str {
            out.push(ch);
            match (esc, ch) {
                (true, _) => esc = false,
                (false, '\\') => esc = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        if ch.is_ascii_digit() || "-+.eE".contains(ch) {
            if !in_num {
                out.push('#');
                in_num = true;
            }
            continue;
        }
        in_num = false;
        in_str = ch == '"';
        out.push(ch);
    }
    out
}

/// Equal, but floats within a relative 1e-12.
fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-12 * x.abs().max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| close(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
        }
        _ => a == b,
    }
}

/// Gives what changes from run to run its fixed value.
fn fix(command: &str, response: &mut Value) {
    let Some(r) = response.get_mut("result") else {
        return;
    };
    match command {
        "status" => {
            r["pid"] = PID.into();
            r["uptime_s"] = UPTIME_S.into();
        }
        "stats" => {
            r["uptime_s"] = UPTIME_S.into();
            r["rates"] = RATES
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
        }
        "metrics" => {
            let text = r["text"].as_str().unwrap_or_default();
            let mut out = String::new();
            for l in text.lines() {
                if l.starts_with("slbd_uptime_seconds ") {
                    out.push_str(&format!("slbd_uptime_seconds {UPTIME_S}"));
                } else {
                    out.push_str(l);
                }
                out.push('\n');
            }
            r["text"] = out.into();
        }
        "drops" => {
            // When, in the trace's clock (real time): one millisecond
            // apart, in the order slbd listed them.
            if let Some(list) = r["drops"].as_array_mut() {
                for (i, d) in list.iter_mut().enumerate() {
                    d["at_s"] = json!(DROPS_AT_S + i as f64 / 1000.0);
                }
            }
        }
        _ => {}
    }
}

/// One recorded case: slbctl's arguments, and what the scenario does
/// between two requests of the case (for `stats --watch`).
struct Case {
    name: &'static str,
    argv: Vec<&'static str>,
    between: Option<fn(&mut Lab, &Tcp)>,
}

fn case(name: &'static str, argv: &[&'static str]) -> Case {
    Case {
        name,
        argv: argv.to_vec(),
        between: None,
    }
}

fn cases() -> Vec<Case> {
    let burst: fn(&mut Lab, &Tcp) = |lab, s| lab.burst(s);
    let mut v = vec![
        case("status", &["status"]),
        case("status-json", &["--json", "status"]),
        case("stats", &["stats"]),
        case("stats-json", &["stats", "--json"]),
        case("metrics", &["metrics"]),
        case("metrics-json", &["--json", "metrics"]),
        case("services-list", &["services", "list"]),
        case("services-list-json", &["--json", "services", "list"]),
        case("servers-list", &["servers", "list"]),
        case("servers-list-service", &["servers", "list", "web"]),
        case("servers-list-json", &["--json", "servers", "list", "api"]),
        case("servers-list-unknown-service", &["servers", "list", "nope"]),
        case("sessions-list", &["sessions", "list"]),
        case(
            "sessions-list-server",
            &["sessions", "list", "--service", "web", "--server", "s1"],
        ),
        case(
            "sessions-list-state-limit",
            &[
                "sessions",
                "list",
                "--service",
                "web",
                "--state",
                "established",
                "--limit",
                "1",
            ],
        ),
        case(
            "sessions-list-client",
            &["sessions", "list", "--client", "198.18.0.21"],
        ),
        case(
            "sessions-list-json",
            &["--json", "sessions", "list", "--limit", "2"],
        ),
        case(
            "sessions-list-bad-state",
            &["sessions", "list", "--state", "open"],
        ),
        case(
            "sessions-list-origin",
            &["sessions", "list", "--origin", "local", "--limit", "2"],
        ),
        case(
            "sessions-list-bad-origin",
            &["sessions", "list", "--origin", "elsewhere"],
        ),
        case(
            "sessions-list-server-without-service",
            &["sessions", "list", "--server", "s1"],
        ),
        case(
            "sessions-show-label",
            &["sessions", "show", "--label", "17"],
        ),
        case(
            "sessions-show-s2c-label-json",
            &["--json", "sessions", "show", "--label", "20"],
        ),
        case(
            "sessions-show-key",
            &[
                "sessions",
                "show",
                "--client",
                "198.18.0.22",
                "--client-port",
                "40002",
                "--vip",
                "198.18.100.1",
                "--vip-port",
                "80",
            ],
        ),
        case(
            "sessions-show-udp-key",
            &[
                "sessions",
                "show",
                "--client",
                "198.18.0.23",
                "--client-port",
                "53002",
                "--vip",
                "198.18.100.3",
                "--vip-port",
                "53",
                "--protocol",
                "udp",
            ],
        ),
        case(
            "sessions-show-unknown",
            &["sessions", "show", "--label", "999"],
        ),
        case(
            "sessions-show-no-key",
            &["sessions", "show", "--client", "198.18.0.22"],
        ),
        case("labels", &["labels"]),
        case("labels-one", &["labels", "--label", "18"]),
        case("labels-limit", &["labels", "--limit", "3"]),
        case("labels-json", &["--json", "labels", "--limit", "2"]),
        case("health", &["health"]),
        case("health-service", &["health", "--service", "web"]),
        case("health-json", &["--json", "health", "--service", "api"]),
        case("health-unknown-service", &["health", "--service", "nope"]),
        case("drops", &["drops"]),
        case("drops-reason", &["drops", "--reason", "refused"]),
        case("drops-json", &["--json", "drops", "--limit", "2"]),
        case("drops-unknown-reason", &["drops", "--reason", "nope"]),
        case("config-show", &["config", "show"]),
        case("config-show-json", &["--json", "config", "show"]),
    ];
    v.push(Case {
        name: "stats-watch",
        argv: vec!["stats", "--watch", "--count", "2", "--interval", "0.1"],
        between: Some(burst),
    });
    v.push(Case {
        name: "stats-watch-json",
        argv: vec![
            "--json",
            "stats",
            "--watch",
            "--count",
            "1",
            "--interval",
            "0.1",
        ],
        between: Some(burst),
    });
    v.extend([
        case("servers-drain", &["servers", "drain", "web", "s1"]),
        case(
            "servers-drain-unknown-server",
            &["servers", "drain", "web", "s9"],
        ),
        case("servers-list-draining", &["servers", "list", "web"]),
        case("servers-enable", &["servers", "enable", "web", "s1"]),
        case("servers-disable", &["servers", "disable", "web", "s2"]),
        case(
            "servers-enable-json",
            &["--json", "servers", "enable", "web", "s2"],
        ),
        case(
            "servers-update",
            &[
                "servers",
                "update",
                "web",
                "s2",
                "--weight",
                "3",
                "--max-sessions",
                "500",
            ],
        ),
        case(
            "servers-update-invalid-weight",
            &["servers", "update", "web", "s1", "--weight", "0"],
        ),
        case(
            "servers-update-nothing",
            &["servers", "update", "web", "s1"],
        ),
        case(
            "servers-update-unknown-service",
            &["servers", "update", "nope", "s1", "--weight", "2"],
        ),
        case(
            "servers-update-json",
            &["--json", "servers", "update", "web", "s3", "--weight", "2"],
        ),
        case(
            "servers-drain-json",
            &["--json", "servers", "drain", "web", "s3"],
        ),
        case(
            "servers-disable-json",
            &["--json", "servers", "disable", "api", "a2"],
        ),
        case(
            "servers-add",
            &[
                "servers",
                "add",
                "web",
                "s4",
                "198.18.1.14",
                "--weight",
                "2",
                "--max-sessions",
                "50",
            ],
        ),
        case(
            "servers-add-exists",
            &["servers", "add", "web", "s4", "198.18.1.15"],
        ),
        case("servers-remove", &["servers", "remove", "web", "s4"]),
        case(
            "servers-remove-unknown-server",
            &["servers", "remove", "web", "s9"],
        ),
        case(
            "servers-add-json",
            &["--json", "servers", "add", "api", "a3", "198.18.1.13"],
        ),
        case(
            "servers-remove-json",
            &["--json", "servers", "remove", "api", "a3"],
        ),
        case(
            "services-add",
            &[
                "services",
                "add",
                "mail",
                "--vip",
                "198.18.100.4",
                "--port",
                "25",
                "--server",
                "m1=198.18.1.11,weight=2",
                "--server",
                "m2=198.18.1.12,max_sessions=10",
                "--algorithm",
                "least_connections",
                "--client-mode",
                "plain",
                "--max-sessions",
                "1000",
                "--rate",
                "100",
                "--burst",
                "20",
                "--refuse",
                "drop",
            ],
        ),
        case(
            "services-add-udp-json",
            &[
                "--json",
                "services",
                "add",
                "ntp",
                "--vip",
                "198.18.100.5",
                "--port",
                "123",
                "--protocol",
                "udp",
                "--server",
                "n1=198.18.1.13",
            ],
        ),
        case(
            "services-add-exists",
            &[
                "services",
                "add",
                "mail",
                "--vip",
                "198.18.100.6",
                "--port",
                "25",
                "--server",
                "m1=198.18.1.11",
            ],
        ),
        case(
            "services-add-same-vip",
            &[
                "services",
                "add",
                "web2",
                "--vip",
                "198.18.100.1",
                "--port",
                "80",
                "--server",
                "w1=198.18.1.11",
            ],
        ),
        case(
            "services-add-bad-server-spec",
            &[
                "services",
                "add",
                "bad",
                "--vip",
                "198.18.100.7",
                "--port",
                "80",
                "--server",
                "b1",
            ],
        ),
        case(
            "services-add-invalid",
            &[
                "services",
                "add",
                "bad",
                "--vip",
                "198.18.100.7",
                "--port",
                "0",
                "--server",
                "b1=198.18.1.11,weight=0",
            ],
        ),
        case(
            "services-update",
            &[
                "services",
                "update",
                "mail",
                "--max-sessions",
                "2000",
                "--rate",
                "0",
            ],
        ),
        case(
            "services-update-algorithm-idle",
            &["services", "update", "mail", "--algorithm", "maglev"],
        ),
        case(
            "services-update-busy",
            &["services", "update", "web", "--algorithm", "maglev"],
        ),
        case(
            "services-update-json",
            &[
                "--json", "services", "update", "api", "--rate", "500", "--burst", "50",
                "--refuse", "drop",
            ],
        ),
        case("services-list-after-changes", &["services", "list"]),
        case("services-remove-busy", &["services", "remove", "web"]),
        case("services-remove", &["services", "remove", "mail"]),
        case("services-remove-unknown", &["services", "remove", "nope"]),
        case(
            "services-remove-json",
            &["--json", "services", "remove", "ntp"],
        ),
        case("config-reload", &["config", "reload"]),
        case(
            "config-reload-path",
            &["config", "reload", "/etc/slb/next.json"],
        ),
        case(
            "config-reload-no-change-json",
            &["--json", "config", "reload", "/etc/slb/next.json"],
        ),
        case(
            "config-reload-invalid",
            &["config", "reload", "/etc/slb/bad.json"],
        ),
        case(
            "config-reload-restart",
            &["config", "reload", "/etc/slb/restart.json"],
        ),
        case(
            "config-reload-missing-file",
            &["config", "reload", "/etc/slb/absent.json"],
        ),
        case("raw-status", &["raw", "status"]),
        case(
            "raw-servers-list",
            &["raw", "servers.list", r#"{"service": "web6"}"#],
        ),
        case("raw-unknown-command", &["raw", "servers.frobnicate"]),
        case("raw-args-not-object", &["raw", "sessions.list", "[1]"]),
        case(
            "raw-args-not-json",
            &["raw", "sessions.list", "{service: web}"],
        ),
        case(
            "raw-limit-out-of-range",
            &["raw", "labels", r#"{"limit": 0}"#],
        ),
        case("help", &["--help"]),
        case("help-short", &["-h"]),
        case("help-servers", &["servers", "--help"]),
        case("version", &["--version"]),
        case("usage-missing-argument", &["servers", "drain", "web"]),
        case("usage-unknown-subcommand", &["sessions", "kill"]),
        case("usage-bad-number", &["labels", "--limit", "many"]),
        case("cluster-one-box", &["cluster"]),
        case("drain-instance-not-announcing", &["drain-instance"]),
        case("save-sessions", &["save-sessions"]),
        case("save-sessions-json", &["--json", "save-sessions"]),
    ]);
    v
}

/// A DNS query (one question, class IN) for `name`, type `qtype`.
fn dns_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for l in name.split('.') {
        q.push(l.len() as u8);
        q.extend_from_slice(l.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1]);
    q
}

/// A UDP service with layer-7 rules (DNS): its default pool and pool
/// `corp` (in `l7.json` only, so the other answers stay as they are).
const RESOLVER: &str = r#",
    { "name": "resolver", "vip": "198.18.100.8", "port": 53, "protocol": "udp",
      "servers": [ { "name": "r1", "address": "198.18.1.11" },
                   { "name": "c1", "address": "198.18.1.12", "pool": "corp" },
                   { "name": "c2", "address": "198.18.1.13", "pool": "corp" } ],
      "pools": [ { "name": "corp", "algorithm": "source_hash" } ],
      "rules": [ { "name": "corp-aaaa", "pool": "corp", "dns": { "suffix": "corp.example", "type": "AAAA" } },
                 { "name": "corp-any", "pool": "corp", "dns": { "suffix": "corp.example" } },
                 { "name": "public", "pool": "default", "dns": { "suffix": "example.org" } } ],
      "first_data": { "wait_ms": 100, "malformed": "default" } }"#;

/// The cases run against slbd with the `resolver` service (`l7.json`),
/// after DNS queries that its rules, or their fallbacks, bound.
fn l7_cases() -> Vec<Case> {
    vec![
        case("rules", &["rules", "resolver"]),
        case("rules-json", &["--json", "rules", "resolver"]),
        case("rules-no-rules", &["rules", "web"]),
        case("rules-unknown-service", &["rules", "nope"]),
        case(
            "sessions-list-rules",
            &["sessions", "list", "--service", "resolver"],
        ),
        case(
            "sessions-list-rules-json",
            &["--json", "sessions", "list", "--service", "resolver"],
        ),
        case("services-list-pools-json", &["--json", "services", "list"]),
        case("help-rules", &["rules", "--help"]),
    ]
}

/// The cases run against instance 1 of a cluster of 3 (`cluster.json`),
/// announcing into table 100 (in memory).
fn cluster_cases() -> Vec<Case> {
    vec![
        case("cluster", &["cluster"]),
        case("cluster-json", &["--json", "cluster"]),
        case("drain-instance", &["drain-instance"]),
        case("cluster-drained", &["cluster"]),
        case("undrain-instance-json", &["--json", "undrain-instance"]),
        case("undrain-instance", &["undrain-instance"]),
        case("save-sessions-no-state-file", &["save-sessions"]),
    ]
}

fn slbctl() -> PathBuf {
    if let Some(p) = std::env::var_os("SLBCTL") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current_exe");
    let p = exe.parent().expect("in target/<profile>/").join("slbctl");
    assert!(
        p.exists(),
        "slbctl not found at {}: cargo build -p slb-ctl first, or set SLBCTL",
        p.display()
    );
    p
}

/// Runs slbctl with `argv` against a socket answered by `lab`. Returns the
/// exchanges and slbctl's exit code.
fn record(lab: &mut Lab, c: &Case, sock: &Path, session: &Tcp) -> (Vec<Value>, Option<i32>) {
    let _ = std::fs::remove_file(sock);
    let listener = UnixListener::bind(sock).unwrap();
    listener.set_nonblocking(true).unwrap();
    let mut child = Command::new(slbctl())
        .arg("--socket")
        .arg(sock)
        .args(&c.argv)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut exchanges = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code();
        }
        assert!(
            Instant::now() < deadline,
            "{}: slbctl did not finish",
            c.name
        );
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            Err(e) => panic!("accept: {e}"),
        };
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut w = stream.try_clone().unwrap();
        for line in BufReader::new(stream).lines() {
            let line = line.unwrap();
            if !exchanges.is_empty() {
                if let Some(f) = c.between {
                    f(lab, session);
                }
            }
            let request: Value = serde_json::from_str(&line).unwrap();
            let raw = lab.answer(&line);
            let mut response: Value = serde_json::from_str(&raw).unwrap();
            // The replay rebuilds the line from the value: it must be
            // slbd's line, but for the last digits of floats (serde_json
            // reads them to the nearest f64 only within an ulp or so).
            let rebuilt = response_line(&response["id"], &response);
            assert_eq!(mask_numbers(&rebuilt), mask_numbers(&raw), "{}", c.name);
            assert!(
                close(&serde_json::from_str(&rebuilt).unwrap(), &response),
                "{}: {raw}",
                c.name
            );
            fix(request["command"].as_str().unwrap_or(""), &mut response);
            writeln!(w, "{}", response_line(&request["id"], &response)).unwrap();
            exchanges.push(json!({ "request": request, "response": response }));
        }
    };
    let _ = std::fs::remove_file(sock);
    (exchanges, code)
}

fn main() {
    let out_dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../ctl/tests/recorded"
            ))
        });
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let web8080 = r#",
    { "name": "web8080", "vip": "198.18.100.1", "port": 8080, "protocol": "tcp",
      "servers": [ { "name": "s1", "address": "198.18.1.11" }, { "name": "s2", "address": "198.18.1.12" } ] }"#;
    std::fs::write(dir.join("slbd.json"), config(4095, 1, "")).unwrap();
    std::fs::write(dir.join("next.json"), config(4095, 2, web8080)).unwrap();
    std::fs::write(dir.join("restart.json"), config(8191, 1, "")).unwrap();
    std::fs::write(dir.join("l7.json"), config(4095, 1, RESOLVER)).unwrap();
    let cluster = r#"{
  "cluster": { "instance": 1, "instances": 3, "client_gateway_ipv4": "198.18.0.254", "announce_table": 100,
    "peers": [ { "instance": 0, "address": "198.18.0.2" }, { "instance": 2, "address": "2001:db8::3" } ],
    "sync": { "after_ms": 2000, "dump_wait_ms": 0 } },"#;
    std::fs::write(
        dir.join("cluster.json"),
        config(4095, 1, "").replacen('{', cluster, 1),
    )
    .unwrap();
    std::fs::write(
        dir.join("bad.json"),
        config(4095, 0, "").replace("198.18.100.3", "198.18.100.300"),
    )
    .unwrap();

    let mut lab = Lab::new(dir);
    // `save-sessions` writes here (slbd's --save-state).
    lab.control = lab
        .control
        .with_state_file(Some(dir.join("slbd.state")), Default::default());
    // Health: everyone answers but web's s3, which goes down.
    lab.silent.insert(ip("198.18.1.13"));
    lab.rig.dp.scheduler.set_health_enabled(true);
    // The drop trace: on from here, so `drops` shows the scenario's drops.
    lab.rig.dp.scheduler.drop_trace().set_enabled(true);
    lab.advance_ms(4000);
    // Sessions: plain clients of web (labels 17/18 on), one of them
    // closing and one still half-open; label-aware clients of api up to
    // its limit, and one refused; an IPv6 client; UDP.
    let a = lab.open(0x21, "198.18.0.21", 40001, "198.18.100.1", 80, false, true);
    lab.exchange(&a, 3);
    let b = lab.open(0x22, "198.18.0.22", 40002, "198.18.100.1", 80, false, true);
    lab.exchange(&b, 1);
    lab.client_says(&b, TcpFlags::FIN | TcpFlags::ACK, 1019, 5065, b"");
    lab.advance_ms(700);
    lab.open(0x23, "198.18.0.23", 40003, "198.18.100.1", 80, false, false);
    lab.open(0x21, "198.18.0.21", 40004, "198.18.100.1", 80, false, true);
    lab.advance_ms(300);
    for (i, last) in [0x21u8, 0x22, 0x23].into_iter().enumerate() {
        let client = format!("198.18.0.{last:x}");
        lab.open(
            last,
            &client,
            41001 + i as u16,
            "198.18.100.2",
            443,
            true,
            true,
        );
        lab.advance_ms(120);
    }
    let refused = FrameBuilder::tcp(
        client_mac(0x24),
        MacAddr(PORT_MACS[CLIENT]),
        ip("198.18.0.24"),
        ip("198.18.100.2"),
        41004,
        443,
    )
    .flags(TcpFlags::SYN)
    .seq(1000)
    .build();
    let out = lab.send(CLIENT, &refused);
    assert_eq!(out.len(), 1, "refused with a reset");
    lab.advance_ms(900);
    let v6 = lab.open(
        0x21,
        "2001:db8::21",
        42001,
        "2001:db8:100::1",
        80,
        false,
        true,
    );
    lab.exchange(&v6, 2);
    lab.advance_ms(450);
    lab.udp(0x21, "198.18.0.21", 53001);
    lab.udp(0x23, "198.18.0.23", 53002);
    lab.junk(2);
    lab.advance_ms(1500);
    lab.exchange(&a, 2);
    lab.advance_ms(250);
    // Rates exist once sampled twice (their values are then fixed).
    lab.control.sample();
    std::thread::sleep(Duration::from_millis(20));
    lab.control.sample();

    std::fs::create_dir_all(&out_dir).unwrap();
    for e in std::fs::read_dir(&out_dir).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    let sock = dir.join("ctl.sock");
    let all = cases();
    for (i, c) in all.iter().enumerate() {
        let name = format!("{:02}-{}", i + 1, c.name);
        let (exchanges, code) = record(&mut lab, c, &sock, &a);
        println!(
            "{name}: {} exchange(s), slbctl exit {code:?}",
            exchanges.len()
        );
        let doc = json!({ "argv": c.argv, "exchanges": exchanges });
        let mut text = serde_json::to_string_pretty(&doc).unwrap();
        text.push('\n');
        std::fs::write(out_dir.join(format!("{name}.json")), text).unwrap();
    }
    // Instance 1 of a cluster of 3.
    let mut clustered = Lab::with_config(dir, "cluster.json");
    // The announcer's first round (slbd's timer runs it every 200 ms).
    let Lab { rig, control, .. } = &mut clustered;
    rig.pumped(|p| control.announce(p)).unwrap();
    let more = cluster_cases();
    for (i, c) in more.iter().enumerate() {
        let name = format!("{:02}-{}", all.len() + i + 1, c.name);
        let (exchanges, code) = record(&mut clustered, c, &sock, &a);
        println!(
            "{name}: {} exchange(s), slbctl exit {code:?}",
            exchanges.len()
        );
        let doc = json!({ "argv": c.argv, "exchanges": exchanges });
        let mut text = serde_json::to_string_pretty(&doc).unwrap();
        text.push('\n');
        std::fs::write(out_dir.join(format!("{name}.json")), text).unwrap();
    }
    // A service with rules, and the sessions they bound.
    let mut l7 = Lab::with_config(dir, "l7.json");
    let queries: [(&str, u16, &str); 5] = [
        ("www.corp.example", 28, "corp-aaaa"),
        ("mail.corp.example", 1, "corp-any"),
        ("www.example.org", 1, "public"),
        ("www.example.net", 1, "no rule"),
        ("", 0, "malformed"),
    ];
    for (i, (name, qtype, why)) in queries.iter().enumerate() {
        let payload = if name.is_empty() {
            vec![0x12; 40]
        } else {
            dns_query(0x100 + i as u16, name, *qtype)
        };
        let to = l7.datagram("198.18.0.21", 54001 + i as u16, "198.18.100.8", &payload);
        let corp = to == server_mac(0x12) || to == server_mac(0x13);
        assert_eq!(
            corp,
            why.starts_with("corp"),
            "{name}: {why} went to {to:?}"
        );
        l7.advance_ms(10);
    }
    let more_l7 = l7_cases();
    for (i, c) in more_l7.iter().enumerate() {
        let name = format!("{:02}-{}", all.len() + more.len() + i + 1, c.name);
        let (exchanges, code) = record(&mut l7, c, &sock, &a);
        println!(
            "{name}: {} exchange(s), slbctl exit {code:?}",
            exchanges.len()
        );
        let doc = json!({ "argv": c.argv, "exchanges": exchanges });
        let mut text = serde_json::to_string_pretty(&doc).unwrap();
        text.push('\n');
        std::fs::write(out_dir.join(format!("{name}.json")), text).unwrap();
    }
    let all_len = all.len() + more.len() + more_l7.len();
    // slbd is not there at all.
    let name = format!("{:02}-socket-missing", all_len + 1);
    let doc = json!({ "argv": ["status"], "exchanges": [], "socket": "missing" });
    let mut text = serde_json::to_string_pretty(&doc).unwrap();
    text.push('\n');
    std::fs::write(out_dir.join(format!("{name}.json")), text).unwrap();
    println!("{name}: no socket");
    println!("{} cases in {}", all_len + 1, out_dir.display());
}
