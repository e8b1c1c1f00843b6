//! Tests of `rules.rs`: golden rows (rules, first data, verdict) over real
//! captures (curl, openssl, tlslite-ng, dig, RFC 9001's client Initial)
//! and built inputs; every prefix of a request waits, then decides; QUIC
//! ClientHellos across Initials and datagrams; no bytes panic.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]

use super::*;
use crate::dns::tests::{DIG_A, DIG_AAAA};
use crate::http::tests::{CURL, CURL_PROXY};
use crate::quic::protect_initial;
use crate::quic::rfc9001_vectors::{A1, A2_CRYPTO_FRAME, A2_PROTECTED};
use crate::tls::golden::{hex, OPENSSL_TLS13, PQ_FIRST_SEGMENT, RFC8448, TLSLITE_MLKEM};
use proptest::prelude::*;

fn http(method: Option<&str>, host: Option<&str>, path: Option<&str>) -> Match {
    Match::Http(HttpMatch {
        method: method.map(str::to_string),
        host: host.map(str::to_string),
        path_prefix: path.map(str::to_string),
        header: None,
    })
}

fn header(name: &str, value: Option<&str>) -> Match {
    Match::Http(HttpMatch {
        header: Some(HeaderMatch {
            name: name.to_string(),
            value: value.map(str::to_string),
        }),
        ..HttpMatch::default()
    })
}

fn tls(sni: Option<&str>, alpn: Option<&str>) -> TlsMatch {
    TlsMatch {
        sni: sni.map(str::to_string),
        alpn: alpn.map(str::to_string),
    }
}

fn dns(suffix: Option<&str>, qtype: Option<u16>) -> Match {
    Match::Dns(DnsMatch {
        suffix: suffix.map(str::to_string),
        qtype,
    })
}

/// The spec's example service, plus rules for the captures.
fn web() -> Rules {
    Rules::new(vec![
        /* 0 */ http(None, Some("api.example.com"), None),
        /* 1 */ http(Some("GET"), Some("*.example.com"), Some("/static/")),
        /* 2 */ header("x-canary", Some("1")),
        /* 3 */ Match::Tls(tls(Some("api.example.com"), Some("h2"))),
        /* 4 */ header("X-Debug", None),
        /* 5 */ Match::Tls(tls(Some("*.example.net"), None)),
        /* 6 */ http(None, Some("example.com"), Some("/a/")),
        /* 7 */ Match::Tls(tls(None, Some("http/1.1"))),
        /* 8 */ Match::Tls(tls(Some("example.com"), Some("h3"))),
    ])
}

fn req(lines: &str) -> Vec<u8> {
    format!("{lines}\r\n\r\n").into_bytes()
}

/// A stream and the verdict it gets from `web()` under `max_len`.
fn stream_rows() -> Vec<(&'static str, Vec<u8>, usize, Verdict)> {
    use Fallback::{Malformed, TooLong, Unsupported};
    use Verdict::{Fallback as Fb, NeedMore, NoMatch, Rule};
    let mlkem = hex(TLSLITE_MLKEM);
    let mut fragmented = hex(RFC8448);
    fragmented[3..5].copy_from_slice(&[0, 100]);
    fragmented.truncate(105);
    vec![
        ("curl: no rule", CURL.to_vec(), 4096, NoMatch(Kind::Http)),
        (
            "curl via proxy: absolute-form host and path",
            CURL_PROXY.to_vec(),
            4096,
            Rule(6),
        ),
        (
            "host exact",
            req("GET /x HTTP/1.1\r\nHost: api.example.com"),
            4096,
            Rule(0),
        ),
        (
            "host case, port stripped",
            req("PUT / HTTP/1.1\r\nHost: API.Example.COM:8080"),
            4096,
            Rule(0),
        ),
        (
            "method, wildcard, prefix",
            req("GET /static/a.css HTTP/1.1\r\nHost: www.example.com"),
            4096,
            Rule(1),
        ),
        (
            "method exact",
            req("get /static/a.css HTTP/1.1\r\nHost: www.example.com"),
            4096,
            NoMatch(Kind::Http),
        ),
        (
            "POST",
            req("POST /static/a HTTP/1.1\r\nHost: www.example.com"),
            4096,
            NoMatch(Kind::Http),
        ),
        (
            "prefix not met",
            req("GET /stat HTTP/1.1\r\nHost: www.example.com"),
            4096,
            NoMatch(Kind::Http),
        ),
        (
            "prefix on the path, not the query",
            req("GET /x?/static/ HTTP/1.1\r\nHost: www.example.com"),
            4096,
            NoMatch(Kind::Http),
        ),
        (
            "wildcard needs a label",
            req("GET /static/ HTTP/1.1\r\nHost: example.com"),
            4096,
            NoMatch(Kind::Http),
        ),
        (
            "header value",
            req("GET / HTTP/1.1\r\nHost: h\r\nX-Canary:  1 "),
            4096,
            Rule(2),
        ),
        (
            "header value exact",
            req("GET / HTTP/1.1\r\nHost: h\r\nx-canary: 10"),
            4096,
            NoMatch(Kind::Http),
        ),
        (
            "header value, second field",
            req("GET / HTTP/1.1\r\nx-canary: 0\r\nHost: h\r\nx-canary: 1"),
            4096,
            Rule(2),
        ),
        (
            "header presence, empty value",
            req("GET / HTTP/1.1\r\nHost: h\r\nx-debug:"),
            4096,
            Rule(4),
        ),
        (
            "first match wins",
            req("GET /static/ HTTP/1.1\r\nHost: api.example.com\r\nX-Canary: 1"),
            4096,
            Rule(0),
        ),
        (
            "first match wins, again",
            req("GET /static/ HTTP/1.1\r\nHost: cdn.example.com\r\nX-Canary: 1"),
            4096,
            Rule(1),
        ),
        (
            "HTTP/1.0 without host",
            req("GET /a/ HTTP/1.0"),
            4096,
            NoMatch(Kind::Http),
        ),
        (
            "openssl 3.0: ALPN http/1.1",
            hex(OPENSSL_TLS13),
            4096,
            Rule(7),
        ),
        (
            "tlslite-ng ML-KEM: wildcard SNI",
            mlkem.clone(),
            4096,
            Rule(5),
        ),
        (
            "RFC 8448: SNI server, no ALPN",
            hex(RFC8448),
            4096,
            NoMatch(Kind::Tls),
        ),
        ("ML-KEM past max_len", mlkem, 1500, Fb(TooLong(Kind::Tls))),
        (
            "head past max_len",
            req("GET / HTTP/1.1\r\nHost: api.example.com"),
            20,
            Fb(TooLong(Kind::Http)),
        ),
        (
            "bare LF",
            b"GET / HTTP/1.1\nHost: h\r\n\r\n".to_vec(),
            4096,
            Fb(Malformed(Kind::Http, "http_bad_line_ending")),
        ),
        (
            "two hosts",
            req("GET / HTTP/1.1\r\nHost: a\r\nHost: api.example.com"),
            4096,
            Fb(Malformed(Kind::Http, "http_duplicate_host")),
        ),
        (
            "HTTP/1.1 without host",
            req("GET / HTTP/1.1\r\nX-Canary: 1"),
            4096,
            Fb(Malformed(Kind::Http, "http_missing_host")),
        ),
        (
            "HTTP/2 prior knowledge",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
            4096,
            Fb(Unsupported(Kind::Http, "http_unsupported_version")),
        ),
        (
            "TLS record version 3.0",
            vec![0x16, 3, 0, 0, 1],
            4096,
            Fb(Malformed(Kind::Tls, "tls_bad_record_version")),
        ),
        (
            "TLS not a ClientHello",
            vec![0x16, 3, 3, 0, 80, 2],
            4096,
            Fb(Malformed(Kind::Tls, "tls_not_client_hello")),
        ),
        (
            "TLS fragmented across records",
            fragmented,
            4096,
            Fb(Unsupported(Kind::Tls, "tls_fragmented_across_records")),
        ),
        ("nothing yet", vec![], 4096, NeedMore),
        (
            "nothing, nothing allowed",
            vec![],
            0,
            Fb(TooLong(Kind::Http)),
        ),
        (
            "TLS, nothing allowed",
            vec![0x16, 0],
            0,
            Fb(TooLong(Kind::Tls)),
        ),
        (
            "TLS record header only",
            vec![0x16, 3, 1, 1, 0],
            4096,
            NeedMore,
        ),
    ]
}

#[test]
fn golden_stream_rows() {
    let rules = web();
    for (name, data, max_len, want) in stream_rows() {
        assert_eq!(rules.decide_stream(&data, max_len), want, "{name}");
    }
}

/// Every prefix of a row that decides (a rule or none) waits; the whole
/// decides. Two segments, three, any split: the bytes joined are a prefix.
#[test]
fn every_prefix_waits_then_decides() {
    let rules = web();
    for (name, data, max_len, want) in stream_rows() {
        if !matches!(want, Verdict::Rule(_) | Verdict::NoMatch(_)) {
            continue;
        }
        for n in 0..data.len() {
            assert_eq!(
                rules.decide_stream(&data[..n], max_len),
                Verdict::NeedMore,
                "{name}: {n} bytes"
            );
        }
        // Bytes after the request (a body, early data) change nothing.
        let mut more = data.clone();
        more.extend_from_slice(b"\x17\x03\x03\x00\x01\xffbody");
        assert_eq!(rules.decide_stream(&more, max_len), want, "{name}");
    }
}

/// The case: a 1,713-byte ClientHello (X25519MLKEM768 key share)
/// in two segments at a 1,500-byte MTU.
#[test]
fn post_quantum_client_hello_in_two_segments() {
    let b = hex(TLSLITE_MLKEM);
    let (one, two) = b.split_at(PQ_FIRST_SEGMENT);
    assert!(b.len() > 1700 && !two.is_empty());
    let rules = web();
    assert_eq!(rules.decide_stream(one, 4096), Verdict::NeedMore);
    let joined = [one, two].concat();
    assert_eq!(rules.decide_stream(&joined, 4096), Verdict::Rule(5));
    let pq_h2 = Rules::new(vec![Match::Tls(tls(Some("pq.EXAMPLE.net"), Some("h2")))]);
    assert_eq!(pq_h2.decide_stream(&joined, 4096), Verdict::Rule(0));
    let pq_h3 = Rules::new(vec![Match::Tls(tls(Some("pq.example.net"), Some("h3")))]);
    assert_eq!(
        pq_h3.decide_stream(&joined, 4096),
        Verdict::NoMatch(Kind::Tls)
    );
}

/// The rule kinds present choose how a stream is read, once the first
/// byte has said what it can.
#[test]
fn stream_kind_by_first_byte_and_rules() {
    let only_http = Rules::new(vec![http(Some("GET"), None, None)]);
    let only_tls = Rules::new(vec![Match::Tls(tls(Some("example.com"), None))]);
    let only_dns = Rules::new(vec![dns(Some("example.com"), None)]);
    let tls13 = hex(OPENSSL_TLS13);
    let rows: &[(&str, &Rules, &[u8], Verdict)] = &[
        (
            "TLS to HTTP rules",
            &only_http,
            &tls13,
            Verdict::NoMatch(Kind::Tls),
        ),
        (
            "TLS byte alone",
            &only_http,
            &[0x16],
            Verdict::NoMatch(Kind::Tls),
        ),
        ("HTTP to HTTP rules", &only_http, CURL, Verdict::Rule(0)),
        (
            "HTTP to TLS rules",
            &only_tls,
            CURL,
            Verdict::Fallback(Fallback::Malformed(Kind::Tls, "tls_not_handshake")),
        ),
        ("TLS to TLS rules", &only_tls, &tls13, Verdict::Rule(0)),
        (
            "no stream rule, HTTP",
            &only_dns,
            b"G",
            Verdict::NoMatch(Kind::Http),
        ),
        (
            "no stream rule, TLS",
            &only_dns,
            &[0x16],
            Verdict::NoMatch(Kind::Tls),
        ),
        (
            "no rule at all",
            &Rules::default(),
            b"SSH-2.0-OpenSSH_9.2\r\n",
            Verdict::NoMatch(Kind::Http),
        ),
    ];
    for (name, rules, data, want) in rows {
        assert_eq!(rules.decide_stream(data, 4096), *want, "{name}");
    }
}

// --- QUIC -------------------------------------------------------------

/// A 2-byte varint (values under 2^14).
fn varint2(v: usize) -> [u8; 2] {
    assert!(v < 1 << 14);
    (0x4000 | v as u16).to_be_bytes()
}

/// A CRYPTO frame at `offset` (under 2^14).
fn crypto(offset: usize, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x06];
    f.extend_from_slice(&varint2(offset));
    f.extend_from_slice(&varint2(data.len()));
    f.extend_from_slice(data);
    f
}

/// A client Initial protected with `dcid`'s keys: packet number `pn` in 4
/// bytes, `frames`, PADDING to at least `pad_to` bytes of packet.
fn initial(dcid: &[u8], pn: u32, frames: &[u8], pad_to: usize) -> Vec<u8> {
    let mut p = vec![0xc3, 0, 0, 0, 1, dcid.len() as u8];
    p.extend_from_slice(dcid);
    p.extend_from_slice(&[0, 0]); // no SCID, no token
    let head = p.len() + 2;
    let payload = frames.len().max(pad_to.saturating_sub(head + 4 + 16));
    p.extend_from_slice(&varint2(4 + payload + 16));
    p.extend_from_slice(&pn.to_be_bytes());
    p.extend_from_slice(frames);
    p.resize(head + 4 + payload + 16, 0);
    protect_initial(&mut p, &InitialKeys::client(dcid)).unwrap();
    p
}

/// RFC 9001 §A.2's ClientHello (SNI example.com, ALPN "alpn").
fn a2_hello() -> Vec<u8> {
    hex_rfc(A2_CRYPTO_FRAME)[4..].to_vec()
}

fn hex_rfc(s: &str) -> Vec<u8> {
    crate::quic::rfc9001_vectors::hex(s)
}

fn quic_rules() -> Rules {
    Rules::new(vec![
        /* 0 */ Match::Quic(tls(Some("api.example.com"), None)),
        /* 1 */ Match::Quic(tls(Some("*.example.net"), Some("h3"))),
        /* 2 */ Match::Quic(tls(Some("EXAMPLE.com"), Some("alpn"))),
        /* 3 */ dns(Some("example.org"), Some(28)),
    ])
}

#[test]
fn rfc9001_client_initial() {
    let d = hex_rfc(A2_PROTECTED);
    let before = d.clone();
    let mut scratch = Scratch::new();
    assert_eq!(
        quic_rules().decide_datagrams(&[&d], &mut scratch),
        Verdict::Rule(2)
    );
    // The caller's datagram is not decrypted in place.
    assert_eq!(d, before);
    let h3 = Rules::new(vec![Match::Quic(tls(Some("example.com"), Some("h3")))]);
    assert_eq!(
        h3.decide_datagrams(&[&d], &mut scratch),
        Verdict::NoMatch(Kind::Quic)
    );
    // No QUIC rule: known from the header, nothing decrypted.
    let dns_only = Rules::new(vec![dns(None, Some(1))]);
    assert_eq!(
        dns_only.decide_datagrams(&[&d], &mut scratch),
        Verdict::NoMatch(Kind::Quic)
    );
    // A scratch used before gives the same answer (it is reset).
    assert_eq!(
        quic_rules().decide_datagrams(&[&d], &mut scratch),
        Verdict::Rule(2)
    );
}

/// A real client's first datagram: aioquic 1.7.2's Initial (1,200
/// bytes, SNI api.example.com, ALPN h3), as `QuicConnection.connect` made
/// it (`l7/testdata/`, made by the lab's venv with
/// `configuration.server_name` and `alpn_protocols` set, nothing sent).
#[test]
fn aioquic_client_initial() {
    let d = hex_rfc(include_str!(
        "../../testdata/aioquic-1.7.2-initial-api.example.com-h3.hex"
    ));
    assert_eq!(d.len(), 1200);
    let mut scratch = Scratch::new();
    assert_eq!(
        quic_rules().decide_datagrams(&[&d], &mut scratch),
        Verdict::Rule(0),
        "api.example.com"
    );
    let h3 = Rules::new(vec![
        Match::Quic(tls(Some("*.example.com"), Some("h2"))),
        Match::Quic(tls(Some("*.example.com"), Some("h3"))),
    ]);
    assert_eq!(h3.decide_datagrams(&[&d], &mut scratch), Verdict::Rule(1));
}

/// A ClientHello across two Initials in two datagrams, either order; the
/// first alone waits. The 1,713-byte post-quantum ClientHello too (as
/// QUIC carries it: the bare handshake message).
#[test]
fn client_hello_across_two_datagrams() {
    let dcid = hex_rfc(A1.dcid);
    let mlkem = hex(TLSLITE_MLKEM)[5..].to_vec();
    let cases: [(Vec<u8>, &[usize], Verdict); 2] = [
        (a2_hello(), &[1, 4, 5, 120, 240], Verdict::Rule(2)),
        (mlkem, &[1000, 1100], Verdict::NoMatch(Kind::Quic)),
    ];
    let rules = quic_rules();
    let mut scratch = Scratch::new();
    for (hello, splits, want) in cases {
        for &n in splits {
            let one = initial(&dcid, 0, &crypto(0, &hello[..n]), 1200);
            let two = initial(&dcid, 1, &crypto(n, &hello[n..]), 1200);
            for (a, b) in [(&one, &two), (&two, &one)] {
                assert_eq!(
                    rules.decide_datagrams(&[a], &mut scratch),
                    Verdict::NeedMore,
                    "{n}"
                );
                assert_eq!(rules.decide_datagrams(&[a, b], &mut scratch), want, "{n}");
            }
            // Coalesced in one datagram.
            let both = [one.clone(), two.clone()].concat();
            assert_eq!(rules.decide_datagrams(&[&both], &mut scratch), want, "{n}");
        }
    }
    // The ML-KEM ClientHello offers h2 and http/1.1: an SNI-only rule.
    let pq = Rules::new(vec![Match::Quic(tls(Some("pq.example.net"), None))]);
    let hello = hex(TLSLITE_MLKEM)[5..].to_vec();
    let one = initial(&dcid, 0, &crypto(0, &hello[..1100]), 1200);
    let two = initial(&dcid, 1, &crypto(1100, &hello[1100..]), 1200);
    assert_eq!(
        pq.decide_datagrams(&[&one, &two], &mut scratch),
        Verdict::Rule(0)
    );
}

#[test]
fn quic_fallbacks() {
    use Fallback::*;
    let dcid = hex_rfc(A1.dcid);
    let quic_only = quic_only_rules();
    let both = quic_rules();
    let first_half = initial(&dcid, 0, &crypto(0, &a2_hello()[..100]), 1200);
    let mut flipped = hex_rfc(A2_PROTECTED);
    flipped[1100] ^= 1;
    let mut v2 = hex_rfc(A2_PROTECTED);
    v2[1..5].copy_from_slice(&0x6b33_43cfu32.to_be_bytes());
    let mut vn = vec![0xc0, 0, 0, 0, 0, 8];
    vn.extend_from_slice(&[1; 8]);
    let short = vec![0x40; 40];
    let mut huge = hex_rfc(A2_PROTECTED);
    huge.resize(MAX_DATAGRAM + 1, 0);
    let not_hello = initial(&dcid, 0, &crypto(0, &[2, 0, 0, 1, 0]), 1200);
    let bad_body = initial(&dcid, 0, &crypto(0, &[1, 0, 0, 2, 3, 3]), 1200);
    let too_large = initial(&dcid, 0, &crypto(0, &[1, 0, 0x10, 0]), 1200);
    let mut bad_sni = a2_hello();
    // "example.com" -> "exa_ple.com" is still a name; a space is not.
    let at = bad_sni
        .windows(11)
        .position(|w| w == b"example.com")
        .unwrap();
    bad_sni[at + 3] = b' ';
    let bad_sni = initial(&dcid, 0, &crypto(0, &bad_sni), 1200);
    let rows: Vec<(&str, &Rules, Vec<&[u8]>, Verdict)> = vec![
        (
            "empty datagram",
            &quic_only,
            vec![&[][..]],
            Verdict::Fallback(Malformed(Kind::Quic, "quic_truncated")),
        ),
        (
            "AEAD fails",
            &quic_only,
            vec![&flipped],
            Verdict::Fallback(Malformed(Kind::Quic, "quic_decrypt_failed")),
        ),
        (
            "second datagram fails",
            &quic_only,
            vec![&first_half, &flipped],
            Verdict::Fallback(Malformed(Kind::Quic, "quic_decrypt_failed")),
        ),
        (
            "version 2",
            &quic_only,
            vec![&v2],
            Verdict::Fallback(Unsupported(Kind::Quic, "quic_unsupported_version")),
        ),
        (
            "version negotiation",
            &quic_only,
            vec![&vn],
            Verdict::Fallback(Unsupported(Kind::Quic, "quic_version_negotiation")),
        ),
        (
            "short header",
            &quic_only,
            vec![&short],
            Verdict::Fallback(Unsupported(Kind::Quic, "quic_short_header")),
        ),
        (
            "version 2 with DNS rules: DNS (flags 0x3343: opcode 6)",
            &both,
            vec![&v2],
            Verdict::Fallback(Malformed(Kind::Dns, "dns_bad_opcode")),
        ),
        (
            "past the scratch",
            &quic_only,
            vec![&huge],
            Verdict::Fallback(TooLong(Kind::Quic)),
        ),
        (
            "not a ClientHello",
            &quic_only,
            vec![&not_hello],
            Verdict::Fallback(Malformed(Kind::Quic, "quic_not_client_hello")),
        ),
        (
            "bad ClientHello body",
            &quic_only,
            vec![&bad_body],
            Verdict::Fallback(Malformed(Kind::Quic, "tls_bad_length")),
        ),
        (
            "bad server name",
            &quic_only,
            vec![&bad_sni],
            Verdict::Fallback(Malformed(Kind::Quic, "tls_bad_server_name")),
        ),
        (
            "ClientHello past the reassembly",
            &quic_only,
            vec![&too_large],
            Verdict::Fallback(TooLong(Kind::Quic)),
        ),
        ("no datagram", &quic_only, vec![], Verdict::NeedMore),
    ];
    let mut scratch = Scratch::new();
    for (name, rules, datagrams, want) in rows {
        assert_eq!(
            rules.decide_datagrams(&datagrams, &mut scratch),
            want,
            "{name}"
        );
    }
}

// --- DNS --------------------------------------------------------------

/// A query for `name` of type `qtype`, RD set.
fn query(name: &str, qtype: u16) -> Vec<u8> {
    let mut q = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for l in name.split('.') {
        q.push(l.len() as u8);
        q.extend_from_slice(l.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1]);
    q
}

#[test]
fn golden_dns_rows() {
    use Fallback::*;
    let rules = Rules::new(vec![
        /* 0 */ dns(Some("corp.example"), Some(28)),
        /* 1 */ dns(Some("example.org"), None),
        /* 2 */ dns(None, Some(1)),
        /* 3 */ Match::Quic(tls(Some("example.com"), None)),
    ]);
    let mut response = query("a.corp.example", 28);
    response[2] |= 0x80;
    let rows: Vec<(&str, Vec<u8>, Verdict)> = vec![
        (
            "dig www.Example.ORG AAAA: suffix",
            hex(DIG_AAAA),
            Verdict::Rule(1),
        ),
        ("dig example.com A: type", hex(DIG_A), Verdict::Rule(2)),
        (
            "suffix and type",
            query("a.b.CORP.example", 28),
            Verdict::Rule(0),
        ),
        (
            "the suffix itself",
            query("corp.example", 28),
            Verdict::Rule(0),
        ),
        (
            "suffix, other type: next rule",
            query("corp.example", 1),
            Verdict::Rule(2),
        ),
        (
            "label boundary",
            query("badcorp.example", 28),
            Verdict::NoMatch(Kind::Dns),
        ),
        (
            "no rule",
            query("example.net", 16),
            Verdict::NoMatch(Kind::Dns),
        ),
        (
            "DNS ID with top bits 11",
            {
                let mut q = query("x.example.org", 1);
                q[0] = 0xc3;
                q
            },
            Verdict::Rule(1),
        ),
        (
            "a response",
            response,
            Verdict::Fallback(Malformed(Kind::Dns, "dns_not_query")),
        ),
        (
            "short",
            vec![0x12, 0x34, 1],
            Verdict::Fallback(Malformed(Kind::Dns, "dns_truncated_header")),
        ),
        (
            "name cut",
            query("example.org", 1)[..20].to_vec(),
            Verdict::Fallback(Malformed(Kind::Dns, "dns_truncated_name")),
        ),
    ];
    let mut scratch = Scratch::new();
    for (name, d, want) in rows {
        assert_eq!(rules.decide_datagrams(&[&d], &mut scratch), want, "{name}");
        // The first datagram decides; later ones are not read.
        assert_eq!(
            rules.decide_datagrams(&[&d, b"\xff"], &mut scratch),
            want,
            "{name}"
        );
    }
    // A UDP service with only QUIC rules reads a query as QUIC: dig's ID
    // 0xa2ed has the form bit set, so its "version" is 0xed012000.
    assert_eq!(
        quic_only_rules().decide_datagrams(&[&hex(DIG_A)], &mut scratch),
        Verdict::Fallback(Unsupported(Kind::Quic, "quic_unsupported_version"))
    );
    let mut q = query("example.org", 1);
    q[0] = 0x12;
    assert_eq!(
        quic_only_rules().decide_datagrams(&[&q], &mut scratch),
        Verdict::Fallback(Unsupported(Kind::Quic, "quic_short_header"))
    );
}

fn quic_only_rules() -> Rules {
    Rules::new(vec![Match::Quic(tls(Some("example.com"), None))])
}

#[test]
fn names() {
    assert_eq!(
        Kind::ALL.map(|k| k.as_str()),
        ["http", "tls", "dns", "quic"]
    );
    let f = [
        Fallback::TooLong(Kind::Dns),
        Fallback::Malformed(Kind::Http, "x"),
        Fallback::Unsupported(Kind::Quic, "y"),
    ];
    assert_eq!(
        f.map(|f| f.reason()),
        ["too_long", "malformed", "unsupported"]
    );
    assert_eq!(f.map(|f| f.kind()), [Kind::Dns, Kind::Http, Kind::Quic]);
    let r = web();
    assert_eq!(
        (r.len(), r.is_empty(), Rules::default().is_empty()),
        (9, false, true)
    );
    assert!(r.has(Kind::Http) && r.has(Kind::Tls) && !r.has(Kind::Dns) && !r.has(Kind::Quic));
    assert_eq!(r.matches()[3].kind(), Kind::Tls);
}

// --- properties -------------------------------------------------------

/// A request from parts, and the rule `web_model` says it must match.
fn any_request() -> impl Strategy<Value = (String, String, String, Option<&'static str>)> {
    (
        prop::sample::select(&["GET", "POST", "HEAD", "get"][..]),
        prop::sample::select(
            &[
                "api.example.com",
                "www.example.com",
                "example.com",
                "a.b.example.com",
                "other.org",
            ][..],
        ),
        prop::sample::select(&["/", "/static/", "/static/x.js", "/stat", "/a/b"][..]),
        prop::sample::select(
            &[
                None,
                Some("x-canary: 1"),
                Some("x-canary: 2"),
                Some("X-Debug: on"),
            ][..],
        ),
    )
        .prop_map(|(m, h, p, f)| (m.to_string(), h.to_string(), p.to_string(), f))
}

/// What `web()` must answer, from the parts (its rules, read by hand).
fn web_model(method: &str, host: &str, path: &str, field: Option<&str>) -> Verdict {
    let wildcard = host.ends_with(".example.com");
    if host == "api.example.com" {
        Verdict::Rule(0)
    } else if method == "GET" && wildcard && path.starts_with("/static/") {
        Verdict::Rule(1)
    } else if field == Some("x-canary: 1") {
        Verdict::Rule(2)
    } else if field == Some("X-Debug: on") {
        Verdict::Rule(4)
    } else if host == "example.com" && path.starts_with("/a/") {
        Verdict::Rule(6)
    } else {
        Verdict::NoMatch(Kind::Http)
    }
}

proptest! {
    /// A request in any number of segments: every prefix waits, the whole
    /// gives the model's verdict.
    #[test]
    fn requests_split_anywhere((method, host, path, field) in any_request(), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4)) {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n");
        if let Some(f) = field {
            head.push_str(f);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        let b = head.as_bytes();
        let rules = web();
        for c in &cuts {
            prop_assert_eq!(rules.decide_stream(&b[..c.index(b.len())], 4096), Verdict::NeedMore);
        }
        prop_assert_eq!(rules.decide_stream(b, 4096), web_model(&method, &host, &path, field));
    }

    /// Any bytes, any cap: no panic; a rule is of the kind read; a wait
    /// only under the cap; a prefix of an input waits or decides alike.
    #[test]
    fn any_stream(data in prop::collection::vec(any::<u8>(), 0..300), max_len in 0usize..400, cut in any::<prop::sample::Index>()) {
        let rules = web();
        let v = rules.decide_stream(&data, max_len);
        match v {
            Verdict::Rule(i) => prop_assert!(matches!(rules.matches()[i].kind(), Kind::Http | Kind::Tls)),
            Verdict::NeedMore => prop_assert!(data.len() < max_len),
            _ => {}
        }
        let part = rules.decide_stream(&data[..cut.index(data.len() + 1)], max_len);
        // A TLS record header can say "too long" before the bytes after it
        // say "malformed": both fallbacks.
        let too_long_first = matches!(part, Verdict::Fallback(Fallback::TooLong(_)))
            && matches!(v, Verdict::Fallback(_));
        if part != Verdict::NeedMore && !matches!(v, Verdict::Fallback(Fallback::TooLong(_))) && !too_long_first {
            prop_assert_eq!(part, v);
        }
    }

    /// Any datagrams: no panic; a rule is of the kind read.
    #[test]
    fn any_datagrams(ds in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..3), long in any::<bool>()) {
        let mut ds = ds;
        if long {
            if let Some(d) = ds.first_mut() {
                d.splice(0..d.len().min(5), [0xc3, 0, 0, 0, 1]);
            }
        }
        let refs: Vec<&[u8]> = ds.iter().map(|d| &d[..]).collect();
        let rules = quic_rules();
        let mut scratch = Scratch::new();
        if let Verdict::Rule(i) = rules.decide_datagrams(&refs, &mut scratch) {
            prop_assert!(matches!(rules.matches()[i].kind(), Kind::Dns | Kind::Quic));
        }
    }
}
