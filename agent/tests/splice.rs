//! Splicing (issue 16) on a real veth: namespace A plays slbd (marked SYN,
//! replayed marked ACK, the client's later frames), namespace B runs the agent
//! in the server role and a real listening socket. The connection's client
//! side lives in cookie space (ISN COOKIE, slbd's timestamps); the agent must
//! translate so that the server's stack and the wire both see their own
//! numbers. Needs root (namespaces, bpf, tc).

mod lab;

use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::process::Command;

use std::time::{Duration, Instant};

use lab::packet::{
    frame, frame_tc, l4_checksum_ok, l4_partial_checksum_ok, parse, timestamps, Parsed, ACK, PSH,
    RST, SYN, TCP,
};
use lab::{lse, Lab, Wire, B4, B6, IF_B, PEER4, PEER6, WAIT};

const C2S: u32 = 101;
const S2C: u32 = 102;
/// The splice mark: LSE traffic class 1.
const MARK: u8 = 1;
const PORT: u16 = 8080;
/// The client's ISN and the cookie slbd answered its SYN with.
const CISN: u32 = 0x1000_0000;
const COOKIE: u32 = 0xC00C_1E00;
/// The client's TSval clock.
const T0: u32 = 777_000;
/// slbd's cookie TSval = the server's SYN-ACK TSval + TS_SHIFT: far from the
/// server's clock, so an untranslated TSval cannot pass for a shifted one.
const TS_SHIFT: u32 = 0x4000_0000;

fn ts(tsval: u32, tsecr: u32) -> Vec<u8> {
    let mut o = vec![1, 1, 8, 10];
    o.extend_from_slice(&tsval.to_be_bytes());
    o.extend_from_slice(&tsecr.to_be_bytes());
    o
}

/// What slbd's marked SYN carries: MSS, SACK-permitted, timestamps, WS 7.
fn syn_options(tsval: u32) -> Vec<u8> {
    let mut o = vec![2, 4, 0x05, 0x78, 4, 2, 8, 10];
    o.extend_from_slice(&tsval.to_be_bytes());
    o.extend_from_slice(&[0, 0, 0, 0, 1, 3, 3, 7]);
    o
}

/// Timestamps, then a SACK option with the given blocks.
fn ts_sack(tsval: u32, tsecr: u32, blocks: &[(u32, u32)]) -> Vec<u8> {
    let mut o = ts(tsval, tsecr);
    o.extend_from_slice(&[1, 1, 5, (2 + 8 * blocks.len()) as u8]);
    for (left, right) in blocks {
        o.extend_from_slice(&left.to_be_bytes());
        o.extend_from_slice(&right.to_be_bytes());
    }
    o
}

/// The client side of one connection, as slbd forwards it to the server.
struct Client<'a> {
    wire: &'a Wire,
    b: IpAddr,
    peer: IpAddr,
    sport: u16,
}

impl Client<'_> {
    #[allow(clippy::too_many_arguments)]
    fn send(&self, tc: u8, seq: u32, ack: u32, flags: u8, options: &[u8], payload: &[u8]) {
        self.wire.send(&frame_tc(
            &[C2S],
            tc,
            self.peer,
            self.b,
            lab::packet::L4::TcpFull {
                sport: self.sport,
                dport: PORT,
                seq,
                ack,
                flags,
                options,
                payload,
            },
        ));
    }

    /// The first frame B sends on this connection for which `want` holds.
    fn capture(&self, what: &str, want: impl Fn(&Parsed) -> bool) -> Parsed {
        let f = self
            .wire
            .recv_where(WAIT, |f| {
                parse(f).is_some_and(|p| {
                    p.proto == TCP && p.sport == PORT && p.dport == self.sport && want(&p)
                })
            })
            .unwrap_or_else(|| panic!("no {what} from the server on the wire"));
        parse(&f).unwrap()
    }

    /// Whether B sends a RST on this connection within `within`.
    fn rst_within(&self, within: Duration) -> bool {
        self.wire
            .recv_where(within, |f| {
                parse(f).is_some_and(|p| {
                    p.proto == TCP
                        && p.sport == PORT
                        && p.dport == self.sport
                        && p.tcp_flags & RST != 0
                })
            })
            .is_some()
    }

    /// Marked SYN in, SYN-ACK out: returns the SYN-ACK.
    fn marked_syn(&self) -> Parsed {
        self.send(MARK, CISN, 0, SYN, &syn_options(T0), b"");
        let p = self.capture("SYN-ACK", |p| p.tcp_flags & (SYN | ACK) == SYN | ACK);
        assert_eq!(p.ack, CISN.wrapping_add(1), "{p:?}");
        assert_eq!(
            p.labels,
            lse(S2C),
            "the SYN-ACK goes to slbd labelled: {p:?}"
        );
        p
    }
}

fn ns_b(lab: &Lab, args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", &lab.ns_b])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A TcpExt counter of B's stack (/proc/net/netstat).
fn tcp_ext(lab: &Lab, name: &str) -> u64 {
    let text = ns_b(lab, &["cat", "/proc/net/netstat"]);
    let lines: Vec<&str> = text.lines().collect();
    for pair in lines.chunks(2) {
        let (Some(names), Some(values)) = (pair.first(), pair.get(1)) else {
            continue;
        };
        if !names.starts_with("TcpExt:") {
            continue;
        }
        for (n, v) in names.split_whitespace().zip(values.split_whitespace()) {
            if n == name {
                return v.parse().unwrap();
            }
        }
    }
    panic!("no TcpExt {name} in {text}");
}

/// The flow B sends to peer:sport, from `status --json --flows`.
fn flow(lab: &Lab, peer: IpAddr, sport: u16) -> serde_json::Value {
    let st = lab.status();
    let dst = match peer {
        IpAddr::V4(ip) => format!("{ip}:{sport}"),
        IpAddr::V6(ip) => format!("[{ip}]:{sport}"),
    };
    st["flow_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["dst"] == dst.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("no flow to {dst}: {st}"))
}

fn listen(lab: &Lab, b: IpAddr) -> TcpListener {
    let l = lab.in_b(move || TcpListener::bind((b, PORT)).expect("listen in B"));
    l.set_nonblocking(true).unwrap();
    l
}

fn accept(l: &TcpListener) -> TcpStream {
    let deadline = Instant::now() + WAIT;
    loop {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(WAIT)).unwrap();
                return s;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("accept in B: {e}"),
        }
    }
}

fn read_exact(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    s.read_exact(&mut buf).expect("data reached B's socket");
    buf
}

/// The whole splice: handshake, data both ways in cookie space, SACK, and
/// an ICMP error quoting a spliced segment.
fn spliced_connection(b: IpAddr, peer: IpAddr) {
    let lab = Lab::with_prefix("slb-spl");
    lab.attach("server");
    // Checksums on the wire are then final (not CHECKSUM_PARTIAL's
    // pseudo-header sum): the test can check them.
    ns_b(&lab, &["ethtool", "-K", IF_B, "tx", "off"]);
    let wire = lab.wire();
    let listener = listen(&lab, b);
    let c = Client {
        wire: &wire,
        b,
        peer,
        sport: 40100,
    };

    let synack = c.marked_syn();
    let sisn = synack.seq;
    let (sts, _) = timestamps(&synack.tcp_options).expect("the server answers with TS");
    let f = flow(&lab, peer, c.sport);
    assert_eq!(f["splice"], "synack_seen", "{f}");
    assert_eq!(f["label"], S2C, "{f}");

    // slbd replays the client's ACK: ack = cookie + 1, TSecr = its own TSval.
    let cts = sts.wrapping_add(TS_SHIFT);
    c.send(MARK, CISN + 1, COOKIE + 1, ACK, &ts(T0 + 1, cts), b"");
    assert_eq!(lab.wait_counter("splice_learned", 1), 1);
    let f = flow(&lab, peer, c.sport);
    assert_eq!(f["splice"], "active", "{f}");
    assert_eq!(f["delta"], COOKIE.wrapping_sub(sisn), "{f}");
    assert_eq!(f["tsoff"], TS_SHIFT, "{f}");
    let mut server = accept(&listener);
    server.set_nodelay(true).unwrap();

    // Client data (unmarked from now on), server answers in three segments.
    let discards = tcp_ext(&lab, "TCPSACKDiscard");
    c.send(
        0,
        CISN + 1,
        COOKIE + 1,
        ACK | PSH,
        &ts(T0 + 2, cts),
        b"hello",
    );
    assert_eq!(read_exact(&mut server, 5), b"hello");
    server.write_all(b"AAAA").unwrap();
    let a = c.capture("first answer", |p| p.payload == b"AAAA");
    server.write_all(b"BBBB").unwrap();
    let bb = c.capture("second answer", |p| p.payload == b"BBBB");
    server.write_all(b"CCCC").unwrap();
    let cc = c.capture("third answer", |p| p.payload == b"CCCC");
    assert_eq!(a.seq, COOKIE + 1, "server seq in cookie space: {a:?}");
    assert_eq!(bb.seq, COOKIE + 5, "{bb:?}");
    assert_eq!(cc.seq, COOKIE + 9, "{cc:?}");
    assert_eq!(a.ack, CISN + 6, "{a:?}");
    assert_eq!(a.labels, lse(S2C));
    let (tsval, tsecr) = timestamps(&a.tcp_options).expect("TS on data");
    assert!(
        tsval.wrapping_sub(cts) < 10_000,
        "TSval {tsval} shifted by tsoff: slbd's clock {cts} plus the ms since the SYN-ACK"
    );
    assert_eq!(tsecr, T0 + 2, "the client's TSval echoed untouched");
    assert!(
        l4_checksum_ok(&a) && l4_checksum_ok(&bb) && l4_checksum_ok(&cc),
        "rewritten checksums"
    );
    assert!(a.ip_header_ok);

    // The client acknowledges AAAA and SACKs CCCC (BBBB is the hole), in
    // cookie space: the server must see a valid SACK block (a block the
    // agent left alone would be far outside its window: discarded).
    let (ctsval, _) = timestamps(&cc.tcp_options).unwrap();
    c.send(
        0,
        CISN + 6,
        COOKIE + 5,
        ACK,
        &ts_sack(T0 + 3, ctsval, &[(COOKIE + 9, COOKIE + 13)]),
        b"",
    );
    let deadline = Instant::now() + Duration::from_secs(1);
    let ss = loop {
        let ss = ns_b(&lab, &["ss", "-tin", "state", "established"]);
        if ss.contains("sacked:1") || Instant::now() > deadline {
            break ss;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(ss.contains("sacked:1"), "CCCC SACKed on the server: {ss}");
    assert_eq!(
        tcp_ext(&lab, "TCPSACKDiscard"),
        discards,
        "no SACK block discarded"
    );
    assert!(
        !c.rst_within(Duration::from_millis(100)),
        "the server did not reset"
    );

    // An ICMP error quoting BBBB as it left (seq in cookie space): the server
    // must take it as in window (BBBB is the first unacknowledged byte) and
    // lower its path MTU.
    let quote_len = bb.ip.len() - bb.l4.len() + 8;
    let mut body = 1300u32.to_be_bytes().to_vec(); // unused/next-hop MTU (v4), MTU (v6)
    body.extend_from_slice(&bb.ip[..quote_len]);
    let (kind, code) = if b.is_ipv4() { (3, 4) } else { (2, 0) };
    let oow = tcp_ext(&lab, "OutOfWindowIcmps");
    wire.send(&frame(
        &[C2S],
        peer,
        b,
        lab::packet::L4::Icmp {
            kind,
            code,
            body: &body,
        },
    ));
    assert_eq!(lab.wait_counter("splice_icmp_translated", 1), 1);
    let peer_s = peer.to_string();
    let deadline = Instant::now() + Duration::from_secs(2);
    let route = loop {
        let route = ns_b(&lab, &["ip", "route", "get", &peer_s]);
        if route.contains("mtu 1300") || Instant::now() > deadline {
            break route;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        route.contains("mtu 1300"),
        "PMTU lowered by the ICMP error: {route}"
    );
    assert_eq!(tcp_ext(&lab, "OutOfWindowIcmps"), oow);

    let st = lab.status();
    let cnt = &st["counters"];
    assert_eq!(cnt["splice_started"], 1, "{st}");
    assert_eq!(cnt["splice_learned"], 1, "{st}");
    for zero in [
        "splice_early_dropped",
        "splice_bad_mark",
        "splice_option_mismatch",
        "errors",
    ] {
        assert_eq!(cnt[zero], 0, "{zero}: {st}");
    }
    let text = lab.agent_ok(&["status", "--iface", IF_B, "--flows"]);
    let want = format!(
        "splice active delta {} tsoff {TS_SHIFT}",
        COOKIE.wrapping_sub(sisn)
    );
    assert!(text.contains(&want), "{want} in: {text}");
    assert!(text.contains("splice_icmp_translated"), "{text}");
}

#[test]
fn spliced_connection_ipv4() {
    spliced_connection(B4.into(), PEER4.into());
}

#[test]
fn spliced_connection_ipv6() {
    spliced_connection(B6.into(), PEER6.into());
}

/// Frames that must not reach the server: data before the replayed ACK,
/// marks where none belongs. And a SYN-ACK without an option slbd promised.
fn drops(b: IpAddr, peer: IpAddr) {
    let lab = Lab::with_prefix("slb-spl");
    lab.attach("server");
    // The server then answers without SACK-permitted, which slbd offered.
    ns_b(&lab, &["sysctl", "-qw", "net.ipv4.tcp_sack=0"]);
    let wire = lab.wire();
    let listener = listen(&lab, b);
    let c = Client {
        wire: &wire,
        b,
        peer,
        sport: 40200,
    };

    let synack = c.marked_syn();
    assert_eq!(lab.wait_counter("splice_option_mismatch", 1), 1);
    let (sts, _) = timestamps(&synack.tcp_options).unwrap();
    let cts = sts.wrapping_add(TS_SHIFT);

    // Data overtaking the replayed ACK: dropped, the server does not reset.
    c.send(
        0,
        CISN + 1,
        COOKIE + 1,
        ACK | PSH,
        &ts(T0 + 2, cts),
        b"early",
    );
    assert_eq!(lab.wait_counter("splice_early_dropped", 1), 1);
    assert!(
        !c.rst_within(Duration::from_millis(200)),
        "no RST for early data"
    );

    c.send(MARK, CISN + 1, COOKIE + 1, ACK, &ts(T0 + 1, cts), b"");
    assert_eq!(lab.wait_counter("splice_learned", 1), 1);
    let mut server = accept(&listener);
    // The client's retransmission gets through.
    c.send(
        0,
        CISN + 1,
        COOKIE + 1,
        ACK | PSH,
        &ts(T0 + 3, cts),
        b"early",
    );
    assert_eq!(read_exact(&mut server, 5), b"early");

    // The replayed ACK again, now that the flow is ACTIVE: a bad mark.
    c.send(MARK, CISN + 1, COOKIE + 1, ACK, &ts(T0 + 1, cts), b"");
    assert_eq!(lab.wait_counter("splice_bad_mark", 1), 1);
    // A marked ACK on a connection whose SYN-ACK was never seen.
    let other = Client { sport: 40201, ..c };
    other.send(MARK, CISN + 1, COOKIE + 1, ACK, &ts(T0, cts), b"");
    assert_eq!(lab.wait_counter("splice_bad_mark", 2), 2);
    assert!(
        !other.rst_within(Duration::from_millis(200)),
        "dropped before the stack"
    );
    // A mark on UDP.
    wire.send(&frame_tc(
        &[C2S],
        MARK,
        peer,
        b,
        lab::packet::L4::Udp {
            sport: 40202,
            dport: 7777,
            payload: b"x",
        },
    ));
    assert_eq!(lab.wait_counter("splice_bad_mark", 3), 3);

    let st = lab.status();
    assert_eq!(st["counters"]["splice_learned"], 1, "{st}");
    assert_eq!(st["counters"]["errors"], 0, "{st}");
    // Dropped frames are not popped: only the SYN, two ACKs and the data.
    assert_eq!(st["counters"]["popped"], 3, "{st}");
}

#[test]
fn drops_ipv4() {
    drops(B4.into(), PEER4.into());
}

#[test]
fn drops_ipv6() {
    drops(B6.into(), PEER6.into());
}

/// A labelled SYN without the mark is a plain session: nothing translated.
#[test]
fn unmarked_syn_is_not_spliced() {
    let (b, peer): (IpAddr, IpAddr) = (B4.into(), PEER4.into());
    let lab = Lab::with_prefix("slb-spl");
    lab.attach("server");
    let wire = lab.wire();
    let listener = listen(&lab, b);
    let c = Client {
        wire: &wire,
        b,
        peer,
        sport: 40300,
    };
    c.send(0, CISN, 0, SYN, &syn_options(T0), b"");
    let synack = c.capture("SYN-ACK", |p| p.tcp_flags & (SYN | ACK) == SYN | ACK);
    let sisn = synack.seq;
    let (sts, _) = timestamps(&synack.tcp_options).unwrap();
    c.send(
        0,
        CISN + 1,
        sisn.wrapping_add(1),
        ACK,
        &ts(T0 + 1, sts),
        b"",
    );
    let mut server = accept(&listener);
    c.send(
        0,
        CISN + 1,
        sisn.wrapping_add(1),
        ACK | PSH,
        &ts(T0 + 2, sts),
        b"plain",
    );
    assert_eq!(read_exact(&mut server, 5), b"plain");
    server.write_all(b"reply").unwrap();
    let p = c.capture("answer", |p| p.payload == b"reply");
    assert_eq!(p.seq, sisn.wrapping_add(1), "untranslated: {p:?}");
    assert_eq!(p.labels, lse(S2C));
    let f = flow(&lab, peer, c.sport);
    assert_eq!(f["splice"], "none", "{f}");
    let st = lab.status();
    for name in [
        "splice_started",
        "splice_learned",
        "splice_early_dropped",
        "splice_bad_mark",
        "splice_option_mismatch",
        "splice_icmp_translated",
    ] {
        assert_eq!(st["counters"][name], 0, "{name}: {st}");
    }
}

/// GSO: with TSO off and TX checksum offload on, the server's answer
/// leaves the TCP stack as GSO skbs; the agent rewrites each once (seq of
/// the head, TSval, CHECKSUM_PARTIAL's field left alone) and every segment
/// the kernel cuts from it must be in cookie space with a right checksum.
#[test]
fn spliced_gso_answer() {
    let (b, peer): (IpAddr, IpAddr) = (B4.into(), PEER4.into());
    let lab = Lab::with_prefix("slb-spl");
    ns_b(&lab, &["ethtool", "-K", IF_B, "tso", "off", "gso", "on"]);
    lab.attach("server");
    let wire = lab.wire();
    let listener = listen(&lab, b);
    let c = Client {
        wire: &wire,
        b,
        peer,
        sport: 40400,
    };
    let synack = c.marked_syn();
    let (sts, _) = timestamps(&synack.tcp_options).unwrap();
    let cts = sts.wrapping_add(TS_SHIFT);
    c.send(MARK, CISN + 1, COOKIE + 1, ACK, &ts(T0 + 1, cts), b"");
    let mut server = accept(&listener);
    let pushed = lab.counter("pushed");

    // 8 segments of MSS 1388 (1400 - 12 of timestamps): within the
    // initial window, sent without waiting for an ACK.
    const BYTES: usize = 8 * 1388;
    let data: Vec<u8> = (0..BYTES).map(|i| (i % 251) as u8).collect();
    server.write_all(&data).unwrap();
    let mut got = Vec::new();
    let mut segments = 0;
    let deadline = Instant::now() + WAIT;
    while got.len() < BYTES && Instant::now() < deadline {
        let Some(f) = wire.recv_where(Duration::from_millis(200), |f| {
            parse(f).is_some_and(|p| p.proto == TCP && p.sport == PORT && !p.payload.is_empty())
        }) else {
            continue;
        };
        let p = parse(&f).unwrap();
        let want = COOKIE.wrapping_add(1 + got.len() as u32);
        if p.seq != want {
            // A retransmission of something already seen.
            assert!(p.seq.wrapping_sub(COOKIE) <= 1 + got.len() as u32, "{p:?}");
            continue;
        }
        assert_eq!(p.labels, lse(S2C), "{p:?}");
        assert!(
            l4_checksum_ok(&p) || l4_partial_checksum_ok(&p),
            "segment at {} bytes: checksum field wrong: {p:?}",
            got.len()
        );
        let (tsval, _) = timestamps(&p.tcp_options).unwrap();
        assert!(
            tsval.wrapping_sub(cts) < 10_000,
            "TSval {tsval} not shifted"
        );
        got.extend_from_slice(&p.payload);
        segments += 1;
    }
    assert_eq!(got, data, "the answer, in order, in cookie space");
    let pushes = lab.counter("pushed") - pushed;
    assert!(
        pushes < segments,
        "{segments} segments from {pushes} pushes: the agent saw GSO skbs"
    );
    assert_eq!(lab.counter("errors"), 0);
}
