//! TCP-level tools for lab tests that look inside connections (issue 16,
//! the SYN proxy and the agent's sequence splicing): TCP segments of a
//! capture with their sequence numbers, options and MPLS traffic class;
//! an upload sink on the servers; a bounded SYN flood from spoofed
//! sources; wrk; the kernel's TCP counters (`nstat`) and the agent's
//! counters (`slb-agent status --json`) of a namespace.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use slb_wire::classify::L4;
use slb_wire::tcp::{Packet, TcpOption};
use slb_wire::{classify, Classified, IpVersion, TcpFlags};

use crate::lab::{self, Lab};

/// One TCP segment of a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The MPLS label it was under, and that entry's traffic class.
    pub label: Option<u32>,
    pub tc: u8,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    /// Payload bytes.
    pub len: usize,
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sack_perm: bool,
    /// (TSval, TSecr).
    pub ts: Option<(u32, u32)>,
    /// SACK blocks (left, right edge).
    pub sack: Vec<(u32, u32)>,
}

impl Segment {
    pub fn is_syn(&self) -> bool {
        self.flags.contains(TcpFlags::SYN) && !self.flags.contains(TcpFlags::ACK)
    }
    pub fn is_syn_ack(&self) -> bool {
        self.flags.contains(TcpFlags::SYN) && self.flags.contains(TcpFlags::ACK)
    }
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let label = self
            .label
            .map_or(String::new(), |l| format!("[label {l} tc {}] ", self.tc));
        let mut flags = String::new();
        for (bit, c) in [
            (TcpFlags::SYN, 'S'),
            (TcpFlags::ACK, '.'),
            (TcpFlags::PSH, 'P'),
            (TcpFlags::FIN, 'F'),
            (TcpFlags::RST, 'R'),
        ] {
            if self.flags.contains(bit) {
                flags.push(c);
            }
        }
        write!(
            f,
            "{label}{} {} > {} {} [{flags}] seq {} ack {} len {}",
            self.src, self.sport, self.dst, self.dport, self.seq, self.ack, self.len
        )?;
        if let Some(m) = self.mss {
            write!(f, " mss {m}")?;
        }
        if let Some(w) = self.wscale {
            write!(f, " wscale {w}")?;
        }
        if self.sack_perm {
            write!(f, " sackOK")?;
        }
        if let Some((v, e)) = self.ts {
            write!(f, " TS val {v} ecr {e}")?;
        }
        for (l, r) in &self.sack {
            write!(f, " sack {l}:{r}")?;
        }
        Ok(())
    }
}

/// The TCP segments of captured frames (labelled or not), in order.
pub fn segments(frames: &[Vec<u8>]) -> Vec<Segment> {
    let mut out = Vec::new();
    for f in frames {
        let (label, tc, frame) = match classify(f) {
            Ok(Classified::Ip(_)) => (None, 0, f.clone()),
            Ok(Classified::Labelled(l)) => {
                let mut inner = f[..12].to_vec();
                inner.extend_from_slice(match l.inner_version {
                    IpVersion::V4 => &[0x08, 0x00],
                    IpVersion::V6 => &[0x86, 0xdd],
                });
                inner.extend_from_slice(&f[l.inner_offset..]);
                (Some(l.lse.label.value()), l.lse.tc, inner)
            }
            _ => continue,
        };
        let Ok(Classified::Ip(ip)) = classify(&frame) else {
            continue;
        };
        if !matches!(ip.l4, L4::Tcp { .. }) {
            continue;
        }
        let Ok(tcp) = Packet::new_checked(&frame[ip.l4_offset..ip.l3_end]) else {
            continue;
        };
        let mut seg = Segment {
            label,
            tc,
            src: ip.flow.src,
            dst: ip.flow.dst,
            sport: tcp.src_port(),
            dport: tcp.dst_port(),
            seq: tcp.seq_number(),
            ack: tcp.ack_number(),
            flags: tcp.flags(),
            len: tcp.payload().len(),
            mss: None,
            wscale: None,
            sack_perm: false,
            ts: None,
            sack: Vec::new(),
        };
        for opt in tcp.options_iter().flatten() {
            match opt {
                TcpOption::Mss(m) => seg.mss = Some(m),
                TcpOption::WindowScale(w) => seg.wscale = Some(w),
                TcpOption::SackPermitted => seg.sack_perm = true,
                TcpOption::Timestamp { tsval, tsecr } => seg.ts = Some((tsval, tsecr)),
                TcpOption::Unknown { kind: 5, data } => {
                    for b in data.chunks_exact(8) {
                        let l = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                        let r = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                        seg.sack.push((l, r));
                    }
                }
                _ => {}
            }
        }
        out.push(seg);
    }
    out
}

/// The upload sink: an HTTP server (dual-stack) answering PUT/POST with
/// `<name> <sha256 of the body> <bytes>`.
const UPLOAD_SINK: &str = r#"
import hashlib, http.server, socket, socketserver, sys
name, port = sys.argv[1], int(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_PUT(self):
        n = int(self.headers.get("Content-Length", "0"))
        h = hashlib.sha256()
        got = 0
        while got < n:
            b = self.rfile.read(min(65536, n - got))
            if not b:
                break
            h.update(b)
            got += len(b)
        body = ("%s %s %d\n" % (name, h.hexdigest(), got)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_POST = do_PUT
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()
S(("::", port), H).serve_forever()
"#;

/// Upload sinks on the lab's servers; dropping this ends them (by pid).
pub struct UploadSinks {
    children: Vec<Child>,
}

impl UploadSinks {
    /// Starts a sink on `port` in every server namespace and waits (10 s at
    /// most) until each listens.
    pub fn start(lab: &Lab, port: u16) -> UploadSinks {
        let script = lab.run_dir().join("upload-sink.py");
        std::fs::write(&script, UPLOAD_SINK).expect("write the upload sink");
        let mut sinks = UploadSinks {
            children: Vec::new(),
        };
        for s in lab::SERVERS {
            let child = Command::new("ip")
                .args(["netns", "exec", &lab.ns(s), "python3"])
                .arg(&script)
                .args([s, &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start an upload sink");
            sinks.children.push(child);
        }
        let filter = format!("sport = :{port}");
        for s in lab::SERVERS {
            let start = Instant::now();
            while lab.exec(s, &["ss", "-Hltn", &filter]).stdout.is_empty() {
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "{s}'s upload sink does not listen on {port}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        sinks
    }
}

impl Drop for UploadSinks {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A SYN flood generator: raw IPv4 SYNs from random sources in
/// 198.18.0.128/25 (no host owns them: the answers go nowhere), random
/// ports and sequence numbers, to `dst:dport`; stops after `count` SYNs or
/// `secs` seconds. Prints `sent N in T`.
const SYN_FLOOD: &str = r#"
import random, socket, struct, sys, time
dst_s, dport, count, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff
dst = socket.inet_aton(dst_s)
pkts = []
for i in range(min(count, 65536)):
    src = socket.inet_aton('198.18.0.%d' % random.randint(128, 254))
    sport = random.randint(1024, 65535)
    # MSS 1460, SACK permitted, timestamps, window scale 7: what Linux offers.
    opts = struct.pack('!BBH', 2, 4, 1460) + bytes([4, 2, 8, 10]) + struct.pack('!II', random.getrandbits(32), 0) + bytes([1, 3, 3, 7])
    tcp = struct.pack('!HHIIBBHHH', sport, dport, random.getrandbits(32), 0, 10 << 4, 2, 64240, 0, 0) + opts
    c = csum(src + dst + struct.pack('!BBH', 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack('!H', c) + tcp[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), i & 0xffff, 0, 64, 6, 0, src, dst)
    pkts.append(ip + tcp)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
addr = (dst_s, 0)
sent = 0
t0 = time.monotonic()
end = t0 + secs
n = len(pkts)
send = s.sendto
while sent < count:
    for p in pkts[:min(n, count - sent)]:
        try:
            send(p, addr)
        except (BlockingIOError, OSError):
            continue
        sent += 1
    if time.monotonic() >= end:
        break
print('sent %d in %.3f' % (sent, time.monotonic() - t0))
"#;

/// What [`syn_flood`] did.
#[derive(Debug, Clone, Copy)]
pub struct Flood {
    pub sent: u64,
    pub secs: f64,
}

/// A bounded SYN flood from namespace `ns` to `dst:dport` (IPv4): at
/// most `count` SYNs, about `secs` seconds at most (it checks the clock
/// every 65,536 SYNs).
pub fn syn_flood(lab: &Lab, ns: &str, dst: &str, dport: u16, count: u64, secs: f64) -> Flood {
    let script = lab.run_dir().join("syn-flood.py");
    std::fs::write(&script, SYN_FLOOD).expect("write the flood generator");
    let out = lab.exec_timeout(
        ns,
        &[
            "python3",
            &script.display().to_string(),
            dst,
            &dport.to_string(),
            &count.to_string(),
            &secs.to_string(),
        ],
        Duration::from_secs_f64(secs + 30.0),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    let (Some("sent"), Some(n), Some("in"), Some(t)) = (it.next(), it.next(), it.next(), it.next())
    else {
        panic!(
            "the SYN flood generator failed ({}): {text}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    };
    Flood {
        sent: n.parse().expect("count"),
        secs: t.parse().expect("seconds"),
    }
}

/// What one wrk run reported.
#[derive(Debug, Clone, Default)]
pub struct Wrk {
    pub requests: u64,
    pub requests_per_s: f64,
    /// Socket errors (connect, read, write, timeout) and non-2xx/3xx.
    pub errors: u64,
    pub text: String,
}

/// `wrk -t1 -c<conns> -d<secs>s` against `url` from `ns` (keep-alive).
pub fn wrk(lab: &Lab, ns: &str, url: &str, conns: u32, secs: u32) -> Wrk {
    let out = lab.exec_timeout(
        ns,
        &[
            "wrk",
            "-t1",
            &format!("-c{conns}"),
            &format!("-d{secs}s"),
            "--timeout",
            "5s",
            url,
        ],
        Duration::from_secs(u64::from(secs) + 30),
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut w = Wrk {
        text: text.clone(),
        ..Wrk::default()
    };
    for line in text.lines().map(str::trim) {
        if let Some((n, _)) = line.split_once(" requests in") {
            w.requests = n.trim().parse().unwrap_or(0);
        } else if let Some(r) = line.strip_prefix("Requests/sec:") {
            w.requests_per_s = r.trim().parse().unwrap_or(0.0);
        } else if let Some(e) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 0"
            w.errors += e
                .split(',')
                .filter_map(|p| p.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>();
        } else if let Some(n) = line.strip_prefix("Non-2xx or 3xx responses:") {
            w.errors += n.trim().parse::<u64>().unwrap_or(1);
        }
    }
    if !out.status.success() || w.requests == 0 {
        w.errors += 1;
    }
    w
}

/// The kernel's SNMP counters of namespace `ns` (`nstat -asz`: absolute,
/// zeros included, history untouched).
pub fn nstat(lab: &Lab, ns: &str) -> BTreeMap<String, u64> {
    let text = lab.exec_ok(ns, &["nstat", "-asz"]);
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let name = it.next()?;
            let v = it.next()?.parse().ok()?;
            Some((name.to_string(), v))
        })
        .collect()
}

/// The agent's counters on `iface` in namespace `ns` (the namespace's
/// full name): `slb-agent --netns NS status --iface IF --json`.
pub fn agent_counters(agent: &Path, netns: &str, iface: &str) -> BTreeMap<String, u64> {
    let mut cmd = Command::new(agent);
    cmd.args(["--netns", netns, "status", "--iface", iface, "--json"]);
    let out = lab::run_bounded(&mut cmd, Duration::from_secs(20));
    assert!(
        out.status.success(),
        "slb-agent status in {netns}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("slb-agent status --json in {netns}: {e}"));
    v["counters"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

/// `sha256sum FILE`: the hex digest.
pub fn sha256_file(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    assert!(out.status.success(), "sha256sum {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The lab server's `/bytes/N` stream: byte i is `(i * 7 + i / 251) % 256`.
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 7 + i / 251) % 256) as u8).collect()
}

/// `n` pseudo-random bytes (xorshift64 from `seed`), for uploads.
pub fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut v = Vec::with_capacity(n + 8);
    while v.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(n);
    v
}

/// Random loss on server links, both ways, made where the lab's kernel
/// allows it: it has no `netem` qdisc (nor `gact`, nor nftables/iptables
/// tools), so a classic BPF classifier on a clsact qdisc matches a random
/// share of the labelled frames (`ld rand`) and `mirred` redirects them to
/// a veth that is down, which drops them. On slbd's side of each link (the
/// veth end named after the server in the app namespace): ingress is what
/// the server sends, egress what it receives. Dropping this removes it.
pub struct LinkLoss<'a> {
    lab: &'a Lab,
    links: Vec<String>,
}

/// The down veth frames are sent to, to be dropped.
const BLACKHOLE: &str = "slblossbh";

impl<'a> LinkLoss<'a> {
    /// `percent` % loss (0..100) on the links to `servers`.
    pub fn start(lab: &'a Lab, servers: &[&str], percent: f64) -> LinkLoss<'a> {
        assert!((0.0..100.0).contains(&percent), "loss {percent} %");
        let mut loss = LinkLoss {
            lab,
            links: Vec::new(),
        };
        lab.exec_ok(
            lab::APP,
            &[
                "ip",
                "link",
                "add",
                BLACKHOLE,
                "type",
                "veth",
                "peer",
                "name",
                "slblossbh2",
            ],
        );
        let k = (percent / 100.0 * 4_294_967_296.0) as u32;
        // A = random u32; A >= k: no match (0); else match (-1).
        let bytecode = format!("4,32 0 0 4294963256,53 0 1 {k},6 0 0 0,6 0 0 4294967295,");
        for s in servers {
            lab.exec_ok(lab::APP, &["tc", "qdisc", "add", "dev", s, "clsact"]);
            loss.links.push(s.to_string());
            for dir in ["ingress", "egress"] {
                lab.exec_ok(
                    lab::APP,
                    &[
                        "tc", "filter", "add", "dev", s, dir, "protocol", "mpls_uc", "pref", "10",
                        "bpf", "bytecode", &bytecode, "action", "mirred", "egress", "redirect",
                        "dev", BLACKHOLE,
                    ],
                );
            }
        }
        loss
    }

    /// Frames dropped so far: (from the servers, to the servers).
    pub fn dropped(&self) -> (u64, u64) {
        let count = |dev: &str, dir: &str| -> u64 {
            let out = self
                .lab
                .exec_ok(lab::APP, &["tc", "-s", "filter", "show", "dev", dev, dir]);
            out.split("overlimits ")
                .skip(1)
                .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
                .sum()
        };
        self.links.iter().fold((0, 0), |(i, e), l| {
            (i + count(l, "ingress"), e + count(l, "egress"))
        })
    }
}

impl Drop for LinkLoss<'_> {
    fn drop(&mut self) {
        for l in &self.links {
            let _ = self
                .lab
                .exec(lab::APP, &["tc", "qdisc", "del", "dev", l, "clsact"]);
        }
        let _ = self.lab.exec(lab::APP, &["ip", "link", "del", BLACKHOLE]);
    }
}

/// Drops, on the links to `servers` (egress of slbd's side of each, so
/// toward the server), a random `percent` % of the frames slbd marks as
/// the client's replayed handshake ACK (issue 16): MPLS traffic class 1 on
/// a TCP segment with ACK and without SYN, IPv4 (any IHL) or IPv6 (TCP
/// right after the fixed header). Same mechanism as [`LinkLoss`] (classic
/// BPF, `mirred` to a down veth); dropping this removes it.
pub struct MarkedAckLoss<'a> {
    lab: &'a Lab,
    links: Vec<String>,
}

/// The down veth [`MarkedAckLoss`] sends frames to.
const ACK_BLACKHOLE: &str = "slbackbh";

impl<'a> MarkedAckLoss<'a> {
    pub fn start(lab: &'a Lab, servers: &[&str], percent: f64) -> MarkedAckLoss<'a> {
        assert!((0.0..=100.0).contains(&percent), "loss {percent} %");
        let mut loss = MarkedAckLoss {
            lab,
            links: Vec::new(),
        };
        lab.exec_ok(
            lab::APP,
            &[
                "ip",
                "link",
                "add",
                ACK_BLACKHOLE,
                "type",
                "veth",
                "peer",
                "name",
                "slbackbh2",
            ],
        );
        let k = ((percent / 100.0 * 4_294_967_296.0) as u64).min(u64::from(u32::MAX)) as u32;
        // 0: ldh [12]; 1: jeq 0x8847 else R0; 2: ldb [16] (LSE byte 2);
        // 3: and 0x0e (TC); 4: jeq 2 (TC 1) else R0; 5: ldb [18]; 6: rsh 4
        // (IP version); 7: jeq 4 else 11; 8: ldx 4*([18]&0xf); 9: ldb
        // [x+31] (TCP flags); 10: ja 15; 11: jeq 6 else R0; 12: ldb [24]
        // (next header); 13: jeq 6 (TCP) else R0; 14: ldb [71] (flags);
        // 15: and 0x12 (SYN, ACK); 16: jeq 0x10 else R0; 17: ld rand;
        // 18: jge k -> R0 else match; 19: R0: ret 0; 20: ret -1 (match).
        let bytecode = format!(
            "21,40 0 0 12,21 0 17 34887,48 0 0 16,84 0 0 14,21 0 14 2,48 0 0 18,116 0 0 4,\
             21 0 3 4,177 0 0 18,80 0 0 31,5 0 0 4,21 0 7 6,48 0 0 24,21 0 5 6,48 0 0 71,\
             84 0 0 18,21 0 2 16,32 0 0 4294963256,53 0 1 {k},6 0 0 0,6 0 0 4294967295,"
        );
        for s in servers {
            lab.exec_ok(lab::APP, &["tc", "qdisc", "add", "dev", s, "clsact"]);
            loss.links.push(s.to_string());
            lab.exec_ok(
                lab::APP,
                &[
                    "tc",
                    "filter",
                    "add",
                    "dev",
                    s,
                    "egress",
                    "protocol",
                    "mpls_uc",
                    "pref",
                    "10",
                    "bpf",
                    "bytecode",
                    &bytecode,
                    "action",
                    "mirred",
                    "egress",
                    "redirect",
                    "dev",
                    ACK_BLACKHOLE,
                ],
            );
        }
        loss
    }

    /// Marked ACKs dropped so far.
    pub fn dropped(&self) -> u64 {
        self.links
            .iter()
            .map(|l| {
                let out = self.lab.exec_ok(
                    lab::APP,
                    &["tc", "-s", "filter", "show", "dev", l, "egress"],
                );
                out.split("overlimits ")
                    .skip(1)
                    .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
                    .sum::<u64>()
            })
            .sum()
    }
}

impl Drop for MarkedAckLoss<'_> {
    fn drop(&mut self) {
        for l in &self.links {
            let _ = self
                .lab
                .exec(lab::APP, &["tc", "qdisc", "del", "dev", l, "clsact"]);
        }
        let _ = self
            .lab
            .exec(lab::APP, &["ip", "link", "del", ACK_BLACKHOLE]);
    }
}

/// Ends the half-open (SYN-RECV) connections of namespace `ns`
/// (`ss -K`); returns how many there were.
pub fn kill_syn_recv(lab: &Lab, ns: &str) -> usize {
    let n = lab
        .exec_ok(ns, &["ss", "-Htn", "state", "syn-recv"])
        .lines()
        .count();
    let _ = lab.exec(ns, &["ss", "-HKtn", "state", "syn-recv"]);
    n
}

/// The window scale a server's Linux offers: from the largest receive
/// buffer it may grow to (`tcp_rmem[2]`, `rmem_max`), as
/// `tcp_select_initial_window` does: log2(space) - 15, within 0..=14;
/// and the two settings, as text. A `syn_proxy` service must advertise it
/// (with another, every session is a `splice_option_mismatch`).
pub fn server_window_scale(lab: &Lab) -> (u8, String) {
    let rmem = lab.exec_ok("s1", &["sysctl", "-n", "net.ipv4.tcp_rmem"]);
    let rmem_max = lab.exec_ok("s1", &["sysctl", "-n", "net.core.rmem_max"]);
    let top: u64 = rmem
        .split_whitespace()
        .nth(2)
        .and_then(|v| v.parse().ok())
        .expect("tcp_rmem");
    let max: u64 = rmem_max.trim().parse().expect("rmem_max");
    let space = top.max(max).min(u64::from(u32::MAX));
    let ws = (space.ilog2() as i64 - 15).clamp(0, 14) as u8;
    (
        ws,
        format!("tcp_rmem {}, rmem_max {}", rmem.trim(), rmem_max.trim()),
    )
}
