//! Fuzz the layer-7 rule decision (`slb_l7::rules`). The first byte picks
//! the mode; nothing may panic in any. A rule given is of the kind read.
//!
//! - stream: the rest is a TCP client's first bytes, the second byte the
//!   cap (x16). A wait is under the cap; a prefix of the input waits or
//!   decides alike (but where the whole is too long, and a prefix too long
//!   by its TLS record header of a whole that is malformed).
//! - datagrams: the rest cut into up to three datagrams, decided by a
//!   service with QUIC and DNS rules and by one with QUIC rules only.
//! - hello: the rest as a ClientHello body, put in a handshake message and
//!   sent three ways: in a TLS record over TCP, in two QUIC Initials in two
//!   datagrams (the DCID's length from the mode byte), and read bare by
//!   `tls::client_hello_message`. All three must give the same answer: the
//!   same rule, none, or the same counter name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slb_l7::quic::{protect_initial, InitialKeys, CRYPTO_CAPACITY};
use slb_l7::rules::{
    DnsMatch, Fallback, HeaderMatch, HttpMatch, Kind, Match, Rules, Scratch, TlsMatch, Verdict,
};
use slb_l7::tls::client_hello_message;
use std::sync::OnceLock;

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

/// TLS rules, the same for TCP and QUIC (`quic` picks the variant).
fn tls_matches(quic: bool) -> Vec<Match> {
    [
        (s("api.example.com"), s("h2")),
        (s("*.example.net"), None),
        (None, s("http/1.1")),
        (s("example.com"), None),
        (s("a"), None),
        (None, s("h3")),
    ]
    .into_iter()
    .map(|(sni, alpn)| {
        let t = TlsMatch { sni, alpn };
        if quic {
            Match::Quic(t)
        } else {
            Match::Tls(t)
        }
    })
    .collect()
}

struct Sets {
    stream: Rules,
    udp: Rules,
    quic_only: Rules,
}

fn sets() -> &'static Sets {
    static SETS: OnceLock<Sets> = OnceLock::new();
    SETS.get_or_init(|| {
        let mut stream = vec![
            Match::Http(HttpMatch {
                host: s("api.example.com"),
                ..HttpMatch::default()
            }),
            Match::Http(HttpMatch {
                method: s("GET"),
                host: s("*.example.com"),
                path_prefix: s("/static/"),
                header: None,
            }),
            Match::Http(HttpMatch {
                header: Some(HeaderMatch {
                    name: "x-canary".into(),
                    value: s("1"),
                }),
                ..HttpMatch::default()
            }),
            Match::Http(HttpMatch {
                header: Some(HeaderMatch {
                    name: "a".into(),
                    value: None,
                }),
                ..HttpMatch::default()
            }),
        ];
        stream.extend(tls_matches(false));
        let mut udp = vec![
            Match::Dns(DnsMatch {
                suffix: s("example.org"),
                qtype: Some(28),
            }),
            Match::Dns(DnsMatch {
                suffix: s("a"),
                qtype: None,
            }),
            Match::Dns(DnsMatch {
                suffix: None,
                qtype: Some(1),
            }),
        ];
        udp.extend(tls_matches(true));
        Sets {
            stream: Rules::new(stream),
            udp: Rules::new(udp),
            quic_only: Rules::new(tls_matches(true)),
        }
    })
}

fn rule_kind_is(rules: &Rules, v: Verdict, kinds: &[Kind]) {
    if let Verdict::Rule(i) = v {
        assert!(kinds.contains(&rules.matches()[i].kind()), "{v:?}");
    }
}

fn stream(data: &[u8]) {
    let Some((&cap, data)) = data.split_first() else {
        return;
    };
    let max_len = usize::from(cap) * 16;
    let rules = &sets().stream;
    let whole = rules.decide_stream(data, max_len);
    rule_kind_is(rules, whole, &[Kind::Http, Kind::Tls]);
    if whole == Verdict::NeedMore {
        assert!(data.len() < max_len);
    }
    // Less data may have read otherwise than data that hit the cap.
    if matches!(whole, Verdict::Fallback(Fallback::TooLong(_))) {
        return;
    }
    for cut in [0, 1, 5, data.len() / 2, data.len().saturating_sub(1)] {
        let part = rules.decide_stream(&data[..cut.min(data.len())], max_len);
        // A TLS record header can say "too long" before the bytes after
        // it say "malformed": both are fallbacks.
        let too_long_first = matches!(part, Verdict::Fallback(Fallback::TooLong(_)))
            && matches!(whole, Verdict::Fallback(_));
        assert!(
            part == Verdict::NeedMore || part == whole || too_long_first,
            "{cut}: {part:?} vs {whole:?}"
        );
    }
}

fn datagrams(data: &[u8], scratch: &mut Scratch) {
    let Some((&cuts, mut rest)) = data.split_first() else {
        return;
    };
    let mut ds = Vec::new();
    for c in [cuts & 0x0f, cuts >> 4] {
        let n = (usize::from(c) * 100).min(rest.len());
        let (d, r) = rest.split_at(n);
        if !d.is_empty() {
            ds.push(d);
        }
        rest = r;
    }
    ds.push(rest);
    for rules in [&sets().udp, &sets().quic_only] {
        let v = rules.decide_datagrams(&ds, scratch);
        rule_kind_is(rules, v, &[Kind::Dns, Kind::Quic]);
    }
}

/// A 2-byte varint.
fn varint2(v: usize) -> [u8; 2] {
    (0x4000 | v as u16).to_be_bytes()
}

/// A protected client Initial carrying one CRYPTO frame, padded to 1200.
fn initial(dcid: &[u8], pn: u8, offset: usize, data: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x06];
    frame.extend_from_slice(&varint2(offset));
    frame.extend_from_slice(&varint2(data.len()));
    frame.extend_from_slice(data);
    let mut p = vec![0xc3, 0, 0, 0, 1, dcid.len() as u8];
    p.extend_from_slice(dcid);
    p.extend_from_slice(&[0, 0]);
    let head = p.len() + 2;
    let payload = frame.len().max(1200 - (head + 4 + 16));
    p.extend_from_slice(&varint2(4 + payload + 16));
    p.extend_from_slice(&[0, 0, 0, pn]);
    p.extend_from_slice(&frame);
    p.resize(head + 4 + payload + 16, 0);
    protect_initial(&mut p, &InitialKeys::client(dcid)).expect("a well-formed Initial protects");
    p
}

/// The verdict for a read ClientHello, as a rule index or None, or the
/// counter name of what went wrong.
fn outcome(v: Verdict) -> Result<Option<usize>, &'static str> {
    match v {
        Verdict::Rule(i) => Ok(Some(i)),
        Verdict::NoMatch(_) => Ok(None),
        Verdict::Fallback(Fallback::Malformed(_, name)) => Err(name),
        other => panic!("a whole ClientHello: {other:?}"),
    }
}

fn hello(mode: u8, body: &[u8], scratch: &mut Scratch) {
    let n = body.len();
    // The CRYPTO stream holds the message with its header; a record too.
    if n + 4 > CRYPTO_CAPACITY.min(1 << 14) {
        return;
    }
    let mut msg = vec![1, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    msg.extend_from_slice(body);
    let bare = client_hello_message(&msg);
    let mut record = vec![22, 3, 3];
    record.extend_from_slice(&(msg.len() as u16).to_be_bytes());
    record.extend_from_slice(&msg);
    let sets = sets();
    let tcp = outcome(sets.stream.decide_stream(&record, 1 << 15));
    let dcid = vec![0xd7; usize::from(mode >> 2) % 21];
    let cut = msg.len() / 2;
    let one = initial(&dcid, 0, 0, &msg[..cut]);
    let two = initial(&dcid, 1, cut, &msg[cut..]);
    assert_eq!(
        sets.quic_only.decide_datagrams(&[&one], scratch),
        Verdict::NeedMore
    );
    let quic = outcome(sets.quic_only.decide_datagrams(&[&one, &two], scratch));
    // The stream rules put 4 HTTP rules before the same TLS rules.
    let tcp = tcp.map(|i| i.map(|i| i - 4));
    assert_eq!(tcp, quic);
    match bare {
        Ok(h) => {
            let want = tls_matches(true).iter().position(|m| match m {
                Match::Quic(t) => t.matches(&h),
                _ => false,
            });
            assert_eq!(quic, Ok(want));
        }
        Err(e) => assert_eq!(quic, Err(e.as_str())),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut scratch = Scratch::new();
    match mode % 3 {
        0 => stream(rest),
        1 => datagrams(rest, &mut scratch),
        _ => hello(mode, rest, &mut scratch),
    }
});
