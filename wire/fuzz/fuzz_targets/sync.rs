//! Fuzz what a peer's session sync datagram feeds slbd (issue 15): the
//! header view and the records after it. Nothing may panic; a datagram
//! the view accepts and whose records all decode must encode back to the
//! same bytes (records are canonical: one encoding per record).
#![no_main]

use libfuzzer_sys::fuzz_target;
use slb_core::SessionRecord;
use slb_wire::sync::{Kind, Packet};

fuzz_target!(|data: &[u8]| {
    let Ok(p) = Packet::new_checked(data) else {
        return;
    };
    let (_, _, _) = (p.kind(), p.sender(), p.count());
    if p.kind() != Kind::Records {
        return;
    }
    let mut rest = p.records();
    let mut again = Vec::new();
    let mut whole = true;
    while !rest.is_empty() {
        match SessionRecord::decode(rest) {
            Ok((r, n)) => {
                assert_eq!(n, r.len());
                r.encode(&mut again).expect("a decoded record encodes");
                rest = &rest[n..];
            }
            Err(_) => {
                whole = false;
                break;
            }
        }
    }
    if whole {
        assert_eq!(&again[..], p.records());
    }
});
