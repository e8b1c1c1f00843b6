//! Fuzz the HTTP/1.x request head reader (`slb_l7::http`). The first byte
//! picks the size limit (0 to 255, or none of note: 64 KiB), the rest is
//! the client's data. Nothing may panic; a Complete head lies within the
//! limit and the input, every slice it gives lies within its head, its
//! header count is what the iterator yields, and the head read from just
//! its own bytes is the same; an error or a head is what every longer
//! input with the same start reads too (no error taken back).
#![no_main]

use libfuzzer_sys::fuzz_target;
use slb_l7::http::{parse_request, Parsed};

fn within(outer: &[u8], inner: &[u8]) -> bool {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    i >= o && i + inner.len() <= o + outer.len()
}

fuzz_target!(|data: &[u8]| {
    let Some((&limit, buf)) = data.split_first() else {
        return;
    };
    let max = if limit == 0xff {
        65536
    } else {
        usize::from(limit)
    };
    let whole = parse_request(buf, max);
    if let Ok(Parsed::Complete(r)) = &whole {
        assert!(r.head_len() <= max && r.head_len() <= buf.len());
        let head = &buf[..r.head_len()];
        for s in [
            Some(r.method()),
            Some(r.target()),
            Some(r.path()),
            r.query(),
            r.host(),
            r.port(),
        ]
        .into_iter()
        .flatten()
        {
            assert!(within(head, s.as_bytes()));
        }
        let mut n = 0;
        for (name, value) in r.headers() {
            assert!(within(head, name.as_bytes()) && within(head, value));
            assert!(r.has_header(name));
            n += 1;
        }
        assert_eq!(n, r.header_count());
        let _ = r.host_matches("*.example.com");
        let _ = r.path_has_prefix("/api");
        assert_eq!(parse_request(head, max), whole);
    }
    // Every prefix waits or reads the same.
    if whole != Err(slb_l7::http::HttpError::TooLong) {
        for cut in [buf.len() / 2, buf.len().saturating_sub(1)] {
            let part = parse_request(&buf[..cut], max);
            assert!(part == Ok(Parsed::Incomplete) || part == whole, "{cut}");
        }
    }
});
