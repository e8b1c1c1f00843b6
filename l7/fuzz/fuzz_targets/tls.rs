//! Fuzz the TLS ClientHello reader (`slb_l7::tls`). The input is read
//! twice: as a client's stream (under a cap from its first byte), and as
//! the body of a ClientHello put in a valid record and handshake header,
//! so the fuzzer reaches the body's parser. Nothing may panic; a parse
//! ends inside the stream and the cap; a wait asks for more than the
//! stream holds and no more than the cap; every prefix of a stream that
//! parsed waits for it; the views walk the whole extensions block.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slb_l7::names::matches as name_matches;
use slb_l7::tls::{client_hello, ClientHello, TlsError};

fn check(stream: &[u8], max_len: usize) {
    match client_hello(stream, max_len) {
        Ok(h) => {
            assert!(h.record_end <= stream.len() && h.record_end <= max_len);
            views(&h);
            let hello = &stream[..h.record_end];
            for cut in [0, 1, 4, 5, hello.len() / 2, hello.len() - 1] {
                match client_hello(&hello[..cut], max_len) {
                    Err(TlsError::Incomplete { need }) => assert!(need > cut),
                    other => panic!("prefix {cut} of a ClientHello: {other:?}"),
                }
            }
        }
        Err(TlsError::Incomplete { need }) => assert!(need > stream.len() && need <= max_len),
        Err(e) => assert!(e.as_str().starts_with("tls_")),
    }
}

fn views(h: &ClientHello<'_>) {
    let walked: usize = h.extensions().map(|(_, d)| d.len() + 4).sum();
    assert_eq!(walked, h.extensions.len());
    for p in h.alpn() {
        assert!(!p.is_empty() && h.offers_alpn(p));
    }
    if let Some(n) = h.server_name() {
        assert!(name_matches(n, n) && h.sni_matches(n));
        if let Some((_, rest)) = n.split_once('.') {
            assert!(name_matches(n, &format!("*.{rest}")));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let max_len = data.first().map_or(0, |&b| usize::from(b) * 16);
    check(data, max_len);
    check(data, usize::MAX);
    // The input as a ClientHello body, in one TLS 1.2 record.
    if data.len() + 4 <= 1 << 14 {
        let n = data.len();
        let mut s = vec![22, 3, 3];
        s.extend_from_slice(&((n + 4) as u16).to_be_bytes());
        s.extend_from_slice(&[1, (n >> 16) as u8, (n >> 8) as u8, n as u8]);
        s.extend_from_slice(data);
        check(&s, s.len());
    }
});
