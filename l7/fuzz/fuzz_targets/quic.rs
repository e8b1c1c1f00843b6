//! Fuzz what a client's first QUIC datagram feeds slbd (issue 17): the
//! coalesced packets, the Initial's header protection and AEAD, and the
//! CRYPTO reassembly. Nothing may panic. Two modes, by the first byte:
//! the rest as a datagram (keys from its own DCID), or as the plaintext
//! frames of an Initial this target protects, which must decrypt back to
//! them (so the frame walk and the reassembly see what a real client's
//! keys would let through).
#![no_main]

use libfuzzer_sys::fuzz_target;
use slb_l7::quic::{
    decrypt_initial, packets, protect_initial, CryptoReassembly, Frames, Header, InitialKeys,
};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let mut d = rest.to_vec();
        let dcid = Header::parse(&d).map(|h| h.dcid.to_vec()).unwrap_or_default();
        let keys = InitialKeys::client(&dcid);
        let mut copy = d.clone();
        for p in packets(&mut copy).flatten() {
            if let Ok(i) = decrypt_initial(p.bytes, &keys) {
                for _ in Frames::new(i.payload) {}
            }
        }
        let mut r = CryptoReassembly::new();
        let _ = r.feed_datagram(&mut d, &keys);
        if let Some(h) = r.client_hello() {
            assert_eq!(h.first(), Some(&1));
        }
        return;
    }
    // An Initial around `rest`: DCID of (mode >> 1) % 21 bytes, 4-byte
    // packet number, Length as a 2-byte varint.
    if rest.is_empty() || rest.len() > 4000 {
        return;
    }
    let dcid = vec![0x5a; usize::from(mode >> 1) % 21];
    let mut p = vec![0xc3, 0, 0, 0, 1, dcid.len() as u8];
    p.extend_from_slice(&dcid);
    p.extend_from_slice(&[0, 0]);
    let length = (4 + rest.len() + 16) as u16 | 0x4000;
    p.extend_from_slice(&length.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 7]);
    p.extend_from_slice(rest);
    p.extend_from_slice(&[0; 16]);
    let keys = InitialKeys::client(&dcid);
    protect_initial(&mut p, &keys).expect("a well-formed Initial protects");
    let mut protected = p.clone();
    let i = decrypt_initial(&mut p, &keys).expect("a protected Initial decrypts");
    assert_eq!(i.payload, rest);
    assert_eq!(i.packet_number, 7);
    let mut r = CryptoReassembly::new();
    let plain = r.feed_frames(rest);
    let mut again = CryptoReassembly::new();
    let fed = again.feed_datagram(&mut protected, &InitialKeys::client(&dcid));
    assert_eq!(fed, plain.map(|()| 1));
    assert_eq!(r.contiguous(), again.contiguous());
});
