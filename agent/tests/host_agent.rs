//! The agent on a real veth in its own namespaces: labelled frames in from
//! the wire (namespace A), real sockets answering in the host (namespace B),
//! labels checked on what comes back. Needs root (namespaces, bpf, tc).

mod lab;

use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

use lab::packet::{frame, parse, ACK, L4, SYN, TCP, UDP};
use lab::{capture, lse, udp_echo, Lab, B4, B6, IF_B, MAC_A, MAC_B, PEER4, PEER6, WAIT};

fn server_udp(b: IpAddr, peer: IpAddr) {
    let lab = Lab::new();
    lab.attach("server");
    let wire = lab.wire();
    let echo = udp_echo(&lab, b, 7777);

    let payload = b"ping over a label";
    wire.send(&frame(
        &[101],
        peer,
        b,
        L4::Udp {
            sport: 40000,
            dport: 7777,
            payload,
        },
    ));
    assert_eq!(echo.join().unwrap(), SocketAddr::new(peer, 40000));

    let p = capture(&wire, UDP, 7777, 40000);
    assert_eq!(p.labels, lse(102), "server answers C2S 101 with 102");
    assert_eq!((p.dst_mac, p.src_mac), (MAC_A, MAC_B));
    assert_eq!((p.src, p.dst), (b, peer));
    assert_eq!(p.payload, payload);
    assert!(p.ip_header_ok);

    let st = lab.status();
    let c = &st["counters"];
    assert_eq!(c["popped"], 1, "{st}");
    assert_eq!(c["learned"], 1, "{st}");
    assert_eq!(c["pushed"], 1, "{st}");
    assert_eq!(c["errors"], 0, "{st}");
    assert_eq!(st["flows"], 1, "{st}");
    assert_eq!(st["role"], "server");
    assert_eq!(st["flow_list"][0]["label"], 102, "{st}");
    assert_eq!(st["flow_list"][0]["proto"], "udp", "{st}");
}

#[test]
fn server_udp_ipv4() {
    server_udp(B4.into(), PEER4.into());
}

#[test]
fn server_udp_ipv6() {
    server_udp(B6.into(), PEER6.into());
}

fn server_tcp(b: IpAddr, peer: IpAddr) {
    let lab = Lab::new();
    lab.attach("server");
    let wire = lab.wire();
    let _listener = lab.in_b(move || TcpListener::bind((b, 8080)).expect("listen in B"));

    wire.send(&frame(
        &[101],
        peer,
        b,
        L4::Tcp {
            sport: 40001,
            dport: 8080,
            seq: 1000,
            ack: 0,
            flags: SYN,
        },
    ));
    let p = capture(&wire, TCP, 8080, 40001);
    assert_eq!(p.tcp_flags & (SYN | ACK), SYN | ACK, "{p:?}");
    assert_eq!(p.ack, 1001);
    assert_eq!(p.labels, lse(102), "SYN-ACK carries S2C label 102");
    assert_eq!((p.src, p.dst), (b, peer));
    assert!(p.ip_header_ok);
    assert_eq!(lab.counter("popped"), 1);
    assert!(lab.counter("pushed") >= 1);
}

#[test]
fn server_tcp_ipv4() {
    server_tcp(B4.into(), PEER4.into());
}

#[test]
fn server_tcp_ipv6() {
    server_tcp(B6.into(), PEER6.into());
}

/// B is a label-aware client: its first datagram leaves unlabelled (slbd
/// labels it), the server's answer arrives with S2C 102, and from then on B
/// sends C2S 101.
fn client_udp(b: IpAddr, peer: IpAddr) {
    let lab = Lab::new();
    lab.attach("client");
    let wire = lab.wire();
    let sock = lab.in_b(move || UdpSocket::bind((b, 0)).expect("bind UDP in B"));
    sock.set_read_timeout(Some(WAIT)).unwrap();
    sock.connect((peer, 5353)).unwrap();
    let port = sock.local_addr().unwrap().port();

    sock.send(b"first").unwrap();
    let p = capture(&wire, UDP, port, 5353);
    assert!(p.labels.is_empty(), "nothing learned yet: {p:?}");
    assert_eq!(lab.counter("missed"), 1);

    wire.send(&frame(
        &[102],
        peer,
        b,
        L4::Udp {
            sport: 5353,
            dport: port,
            payload: b"answer",
        },
    ));
    let mut buf = [0u8; 64];
    let n = sock
        .recv(&mut buf)
        .expect("the popped answer reached B's socket");
    assert_eq!(&buf[..n], b"answer");

    sock.send(b"second").unwrap();
    let p = capture(&wire, UDP, port, 5353);
    assert_eq!(p.labels, lse(101), "client sends 102 - 1");
    assert_eq!(p.payload, b"second");

    let st = lab.status();
    let c = &st["counters"];
    assert_eq!(
        (c["popped"].as_u64(), c["learned"].as_u64()),
        (Some(1), Some(1)),
        "{st}"
    );
    assert_eq!(
        (c["pushed"].as_u64(), c["missed"].as_u64()),
        (Some(1), Some(1)),
        "{st}"
    );
    assert_eq!(st["role"], "client");
}

#[test]
fn client_udp_ipv4() {
    client_udp(B4.into(), PEER4.into());
}

#[test]
fn client_udp_ipv6() {
    client_udp(B6.into(), PEER6.into());
}

/// B connects; the wire answers its SYN with a SYN-ACK labelled 102; B's
/// ACK must carry 101 and the connection must complete.
fn client_tcp(b: IpAddr, peer: IpAddr) {
    let lab = Lab::new();
    lab.attach("client");
    let wire = lab.wire();
    let (tx, rx) = std::sync::mpsc::channel();
    let ns_b = lab.ns_b.clone();
    let connector = std::thread::spawn(move || {
        lab::in_netns(&ns_b, move || {
            let r = TcpStream::connect_timeout(&SocketAddr::new(peer, 80), WAIT);
            let _ = tx.send(());
            // Keep the connection open until the test has seen the ACK.
            std::thread::sleep(Duration::from_millis(300));
            r.map(|_| ())
        })
    });

    let syn = wire
        .recv_where(WAIT, |f| {
            parse(f).is_some_and(|p| p.proto == TCP && p.dport == 80)
        })
        .map(|f| parse(&f).unwrap())
        .expect("B's SYN on the wire");
    assert_eq!(syn.tcp_flags & (SYN | ACK), SYN);
    assert!(syn.labels.is_empty(), "first SYN goes unlabelled: {syn:?}");

    wire.send(&frame(
        &[102],
        peer,
        b,
        L4::Tcp {
            sport: 80,
            dport: syn.sport,
            seq: 5000,
            ack: syn.seq.wrapping_add(1),
            flags: SYN | ACK,
        },
    ));
    let ack = capture(&wire, TCP, syn.sport, 80);
    assert_eq!(ack.tcp_flags & (SYN | ACK), ACK, "{ack:?}");
    assert_eq!(ack.ack, 5001);
    assert_eq!(ack.labels, lse(101), "client answers S2C 102 with 101");
    rx.recv_timeout(WAIT).expect("connect returned");
    connector
        .join()
        .unwrap()
        .expect("connect completed through the popped SYN-ACK");
    assert_eq!(lab.counter("popped"), 1);
    assert_eq!(lab.counter("learned"), 1);
}

#[test]
fn client_tcp_ipv4() {
    client_tcp(B4.into(), PEER4.into());
}

#[test]
fn client_tcp_ipv6() {
    client_tcp(B6.into(), PEER6.into());
}

/// B connects to a SYN proxy: the answer is an unlabelled (cookie)
/// SYN-ACK. A label left for the same tuple (here planted by a stray
/// labelled segment while B waits, as a reused port's old entry would be)
/// must not ride B's ACK: the unlabelled SYN-ACK removes it.
fn client_cookie_syn_ack(b: IpAddr, peer: IpAddr) {
    let lab = Lab::new();
    lab.attach("client");
    let wire = lab.wire();
    let ns_b = lab.ns_b.clone();
    let connector = std::thread::spawn(move || {
        lab::in_netns(&ns_b, move || {
            let r = TcpStream::connect_timeout(&SocketAddr::new(peer, 80), WAIT);
            std::thread::sleep(Duration::from_millis(300));
            r.map(|_| ())
        })
    });
    let syn = wire
        .recv_where(WAIT, |f| {
            parse(f).is_some_and(|p| p.proto == TCP && p.dport == 80)
        })
        .map(|f| parse(&f).unwrap())
        .expect("B's SYN on the wire");
    // A stray labelled segment of the tuple: the agent learns 101 for it
    // (B's kernel answers it with a reset and keeps waiting).
    wire.send(&frame(
        &[102],
        peer,
        b,
        L4::Tcp {
            sport: 80,
            dport: syn.sport,
            seq: 1,
            ack: syn.seq.wrapping_add(1000),
            flags: ACK,
        },
    ));
    let rst = capture(&wire, TCP, syn.sport, 80);
    assert_eq!(rst.labels, lse(101), "the planted label is live: {rst:?}");
    // The cookie SYN-ACK, unlabelled.
    wire.send(&frame(
        &[],
        peer,
        b,
        L4::Tcp {
            sport: 80,
            dport: syn.sport,
            seq: 7000,
            ack: syn.seq.wrapping_add(1),
            flags: SYN | ACK,
        },
    ));
    let ack = wire
        .recv_where(WAIT, |f| {
            parse(f).is_some_and(|p| {
                p.proto == TCP
                    && p.sport == syn.sport
                    && p.tcp_flags & (SYN | ACK) == ACK
                    && p.ack == 7001
            })
        })
        .map(|f| parse(&f).unwrap())
        .expect("B's ACK on the wire");
    assert!(ack.labels.is_empty(), "the ACK goes unlabelled: {ack:?}");
    assert_eq!(lab.counter("unlabelled_syn_ack"), 1);
    connector.join().unwrap().expect("connect completed");
}

#[test]
fn client_cookie_syn_ack_ipv4() {
    client_cookie_syn_ack(B4.into(), PEER4.into());
}

#[test]
fn client_cookie_syn_ack_ipv6() {
    client_cookie_syn_ack(B6.into(), PEER6.into());
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn attach_twice_replace_and_detach_leave_the_interface_clean() {
    let lab = Lab::new();
    lab.attach("server");
    assert!(lab.tc_b(&["qdisc", "show", "dev", IF_B]).contains("clsact"));
    assert!(lab
        .tc_b(&["filter", "show", "dev", IF_B, "ingress"])
        .contains("slb_ingress"));
    assert!(lab
        .tc_b(&["filter", "show", "dev", IF_B, "egress"])
        .contains("slb_egress"));
    assert!(lab.pin_dir().join("slb_flows").exists());

    let again = lab.agent(&["attach", "--iface", IF_B, "--role", "server"]);
    assert!(!again.status.success());
    let msg = stderr(&again);
    assert!(msg.contains("vb: already attached"), "{msg}");
    assert_eq!(msg.trim().lines().count(), 1, "one line: {msg}");

    lab.agent_ok(&["attach", "--iface", IF_B, "--role", "client", "--replace"]);
    assert_eq!(lab.status()["role"], "client");
    // Exactly one filter per hook after a replace.
    let st = lab.status();
    assert_eq!(
        (
            st["ingress_filters"].as_u64(),
            st["egress_filters"].as_u64()
        ),
        (Some(1), Some(1))
    );

    let out = lab.agent_ok(&["detach", "--iface", IF_B]);
    assert!(out.contains("clsact removed"), "{out}");
    assert!(!lab.tc_b(&["qdisc", "show", "dev", IF_B]).contains("clsact"));
    assert!(!lab.pin_dir().exists());
    let status = lab.agent(&["status", "--iface", IF_B]);
    assert!(!status.status.success());
    assert!(
        stderr(&status).contains("vb: slb-agent is not attached"),
        "{}",
        stderr(&status)
    );
    let detach = lab.agent(&["detach", "--iface", IF_B]);
    assert!(!detach.status.success());
}

#[test]
fn detach_keeps_a_clsact_it_did_not_add() {
    let lab = Lab::new();
    lab.tc_b(&["qdisc", "add", "dev", IF_B, "clsact"]);
    lab.attach("server");
    let out = lab.agent_ok(&["detach", "--iface", IF_B]);
    assert!(out.contains("clsact kept"), "{out}");
    assert!(lab.tc_b(&["qdisc", "show", "dev", IF_B]).contains("clsact"));
    assert_eq!(
        lab.tc_b(&["filter", "show", "dev", IF_B, "ingress"]).trim(),
        ""
    );
    assert_eq!(
        lab.tc_b(&["filter", "show", "dev", IF_B, "egress"]).trim(),
        ""
    );
    assert!(!lab.pin_dir().exists());
}

#[test]
fn errors_name_the_interface() {
    let lab = Lab::new();
    let out = lab.agent(&["attach", "--iface", "nosuch0", "--role", "server"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).starts_with("slb-agent: nosuch0: no such interface"),
        "{}",
        stderr(&out)
    );
    let out = lab.agent(&["status", "--iface", "nosuch0"]);
    assert!(stderr(&out).contains("nosuch0"), "{}", stderr(&out));
}

/// Frames the agent does not learn from: a two-entry stack is passed as is,
/// an even label in the server role is popped but not learned, a label over
/// something that is not IP is passed.
#[test]
fn server_counts_what_it_does_not_learn() {
    let lab = Lab::new();
    lab.attach("server");
    let wire = lab.wire();
    let udp = |sport| L4::Udp {
        sport,
        dport: 7777,
        payload: b"x",
    };

    wire.send(&frame(&[101, 200], PEER4.into(), B4.into(), udp(40010)));
    // Wrong parity for the server role: delivered, not learned; the echo
    // goes out unlabelled and counts as a miss.
    let echo = udp_echo(&lab, B4.into(), 7777);
    wire.send(&frame(&[102], PEER4.into(), B4.into(), udp(40011)));
    assert_eq!(echo.join().unwrap().port(), 40011);
    let p = capture(&wire, UDP, 7777, 40011);
    assert!(p.labels.is_empty(), "{p:?}");

    let mut not_ip = frame(&[101], PEER4.into(), B4.into(), udp(40012));
    not_ip[18] = 0x00; // first nibble under the label: neither 4 nor 6
    wire.send(&not_ip);
    assert_eq!(lab.wait_counter("malformed_passed", 1), 1);

    let st = lab.status();
    let c = &st["counters"];
    assert_eq!(c["not_bos_passed"], 1, "{st}");
    assert_eq!(c["label_rejected"], 1, "{st}");
    assert_eq!(c["malformed_passed"], 1, "{st}");
    assert_eq!(c["popped"], 1, "{st}");
    assert_eq!(c["learned"], 0, "{st}");
    assert_eq!(c["missed"], 1, "{st}");
    assert_eq!(st["flows"], 0, "{st}");
}

#[test]
fn idle_flows_expire() {
    let lab = Lab::new();
    lab.agent_ok(&[
        "attach",
        "--iface",
        IF_B,
        "--role",
        "server",
        "--idle-timeout",
        "1",
    ]);
    let wire = lab.wire();
    let udp = L4::Udp {
        sport: 40020,
        dport: 7777,
        payload: b"x",
    };
    let echo = udp_echo(&lab, B4.into(), 7777);
    wire.send(&frame(&[101], PEER4.into(), B4.into(), udp));
    echo.join().unwrap();
    assert_eq!(capture(&wire, UDP, 7777, 40020).labels, lse(102));

    std::thread::sleep(Duration::from_millis(2200));
    assert_eq!(lab.status()["live_flows"], 0);
    let echo = udp_echo(&lab, B4.into(), 7777);
    let udp = L4::Udp {
        sport: 40020,
        dport: 7777,
        payload: b"y",
    };
    wire.send(&frame(&[], PEER4.into(), B4.into(), udp));
    echo.join().unwrap();
    assert!(capture(&wire, UDP, 7777, 40020).labels.is_empty());
    let st = lab.status();
    assert_eq!(st["counters"]["expired"], 1, "{st}");
    assert_eq!(st["counters"]["missed"], 1, "{st}");
    assert_eq!(st["flows"], 0, "{st}");
}

/// TCP segmentation after the push: with TSO off on B's veth the stack
/// hands the agent GSO skbs (several MSS each) and segments them after tc
/// egress; every segment on the wire must carry the label, and there must be
/// more labelled data frames than pushes (one push per GSO skb).
#[test]
fn gso_segments_all_carry_the_label() {
    let lab = Lab::new();
    let out = std::process::Command::new("ip")
        .args([
            "netns", "exec", &lab.ns_b, "ethtool", "-K", IF_B, "tso", "off", "gso", "on",
        ])
        .output()
        .expect("running ethtool (Debian package ethtool)");
    assert!(out.status.success(), "ethtool: {}", stderr(&out));
    lab.attach("server");
    let wire = lab.wire();
    let listener = lab.in_b(|| TcpListener::bind((B4, 8081)).expect("listen in B"));
    listener.set_nonblocking(true).unwrap();
    const BYTES: usize = 20_000;
    let server = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            match listener.accept() {
                Ok((mut s, _)) => {
                    use std::io::Write;
                    s.set_nonblocking(false).unwrap();
                    s.write_all(&[0x5a; BYTES]).unwrap();
                    std::thread::sleep(Duration::from_millis(1500));
                    return;
                }
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Err(e) => panic!("no connection accepted: {e}"),
            }
        }
    });

    let tcp = |seq, ack, flags| L4::Tcp {
        sport: 40030,
        dport: 8081,
        seq,
        ack,
        flags,
    };
    wire.send(&frame(&[101], PEER4.into(), B4.into(), tcp(1000, 0, SYN)));
    let synack = capture(&wire, TCP, 8081, 40030);
    assert_eq!(synack.labels, lse(102));
    let isn = synack.seq;
    wire.send(&frame(
        &[101],
        PEER4.into(),
        B4.into(),
        tcp(1001, isn.wrapping_add(1), ACK),
    ));

    // Without an ACK from us B sends one initial window: 10 segments of the
    // default MSS (536, our SYN had no MSS option).
    let mut next = isn.wrapping_add(1);
    let mut data_frames = 0;
    let deadline = std::time::Instant::now() + WAIT;
    while data_frames < 10 && std::time::Instant::now() < deadline {
        let Some(f) = wire.recv_where(Duration::from_millis(500), |f| {
            parse(f).is_some_and(|p| p.proto == TCP && p.sport == 8081 && !p.payload.is_empty())
        }) else {
            continue;
        };
        let p = parse(&f).unwrap();
        assert_eq!(
            p.labels,
            lse(102),
            "segment {data_frames} unlabelled: {p:?}"
        );
        assert!(
            f.len() <= 14 + 4 + 20 + 20 + 536,
            "not segmented: {} bytes",
            f.len()
        );
        if p.seq == next {
            next = next.wrapping_add(p.payload.len() as u32);
            data_frames += 1;
        }
    }
    assert!(
        data_frames >= 4,
        "only {data_frames} in-order data segments"
    );
    let pushed = lab.counter("pushed");
    eprintln!(
        "gso: {data_frames} labelled segments from {} data pushes",
        pushed - 1
    );
    // pushed = SYN-ACK + one per data skb (a GSO skb holds several segments).
    assert!(
        pushed - 1 < data_frames,
        "{data_frames} segments from {} pushes: no GSO skb went through the agent",
        pushed - 1
    );
    server.join().unwrap();
}

/// `ethtool -k` on B's interface: whether `tx-tcp-segmentation` is on.
fn tso_on(lab: &Lab) -> bool {
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", &lab.ns_b, "ethtool", "-k", IF_B])
        .output()
        .expect("running ethtool (Debian package ethtool)");
    assert!(out.status.success(), "ethtool -k: {}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("tx-tcp-segmentation:"))
        .unwrap_or_else(|| panic!("no tx-tcp-segmentation in:\n{text}"));
    line.contains(": on")
}

fn set_tso(lab: &Lab, on: bool) {
    let out = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.ns_b,
            "ethtool",
            "-K",
            IF_B,
            "tso",
            if on { "on" } else { "off" },
        ])
        .output()
        .expect("running ethtool");
    assert!(out.status.success(), "ethtool -K: {}", stderr(&out));
}

#[test]
fn attach_turns_tso_off_and_detach_restores_it() {
    // A veth starts with TSO on.
    let lab = Lab::new();
    assert!(tso_on(&lab), "veth should start with TSO on");
    let out = lab.agent_ok(&["attach", "--iface", IF_B, "--role", "server"]);
    assert!(out.contains("vb: TSO turned off"), "{out}");
    assert!(!tso_on(&lab), "TSO still on after attach");
    assert_eq!(lab.status()["tso"], false);
    assert_eq!(lab.status()["tso_turned_off_by_attach"], true);
    // --replace keeps the record: detach still restores.
    let out = lab.agent_ok(&["attach", "--iface", IF_B, "--role", "server", "--replace"]);
    assert!(!tso_on(&lab));
    // The replace detached (TSO back on) and attached again (off again).
    assert!(out.contains("vb: TSO turned off"), "{out}");
    let out = lab.agent_ok(&["detach", "--iface", IF_B]);
    assert!(out.contains("TSO turned back on"), "{out}");
    assert!(tso_on(&lab), "detach did not restore TSO");

    // TSO already off: attach changes nothing, detach leaves it off.
    set_tso(&lab, false);
    let out = lab.agent_ok(&["attach", "--iface", IF_B, "--role", "client"]);
    assert!(out.contains("vb: TSO already off"), "{out}");
    let out = lab.agent_ok(&["detach", "--iface", IF_B]);
    assert!(!out.contains("TSO"), "{out}");
    assert!(
        !tso_on(&lab),
        "detach turned on a TSO it had not turned off"
    );

    // --keep-tso: left on, and detach does not touch it.
    set_tso(&lab, true);
    let out = lab.agent_ok(&["attach", "--iface", IF_B, "--role", "server", "--keep-tso"]);
    assert!(out.contains("--keep-tso"), "{out}");
    assert!(tso_on(&lab));
    assert_eq!(lab.status()["tso_turned_off_by_attach"], false);
    lab.agent_ok(&["detach", "--iface", IF_B]);
    assert!(tso_on(&lab));
}
