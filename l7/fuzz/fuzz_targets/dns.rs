//! Fuzz the DNS query reader (`slb_l7::dns`): arbitrary UDP payloads.
//! Nothing may panic; a question read lies within the input (its name
//! right after the 12-byte header, QTYPE and QCLASS after it), its labels
//! are 1 to 63 bytes and add up to its name of at most 255 bytes, the
//! question alone (the input cut at its end) reads the same, and the
//! name has each of its own label suffixes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slb_l7::dns::{parse_query, HEADER_LEN, MAX_LABEL_LEN, MAX_NAME_LEN};

fuzz_target!(|data: &[u8]| {
    let Ok(q) = parse_query(data) else {
        return;
    };
    let name = q.name_wire();
    assert_eq!(name.as_ptr() as usize, data.as_ptr() as usize + HEADER_LEN);
    assert_eq!(HEADER_LEN + name.len() + 4, q.end());
    assert!(q.end() <= data.len() && name.len() <= MAX_NAME_LEN);
    let mut total = 1;
    for l in q.labels() {
        assert!((1..=MAX_LABEL_LEN).contains(&l.len()));
        total += 1 + l.len();
    }
    assert_eq!(total, name.len());
    assert_eq!(parse_query(&data[..q.end()]), Ok(q));
    assert!(q.name_has_suffix("."));
    // The last label, when it is text without dots, is a suffix.
    if let Some(last) = q.labels().last() {
        if let Ok(s) = core::str::from_utf8(last) {
            if !s.contains('.') && !s.is_empty() {
                assert!(q.name_has_suffix(s));
            }
        }
    }
});
