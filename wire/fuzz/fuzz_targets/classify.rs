//! Fuzz the per-packet entry points with arbitrary frames: the classifier,
//! flow key extraction, MPLS top/push/pop and MSS clamping must never panic,
//! and push then pop must give the frame back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slb_wire::mpls::{self, Label, Lse};

fuzz_target!(|data: &[u8]| {
    let _ = slb_wire::classify(data);
    let _ = slb_wire::flow::extract(data);
    let _ = slb_wire::flow::from_ip(data);
    let _ = mpls::top_label(data);

    let mut buf = data.to_vec();
    let _ = slb_wire::mss::clamp_mss(&mut buf, 1200);
    let mut buf = data.to_vec();
    let _ = mpls::pop_label(&mut buf);

    let mut pushed = vec![0u8; 4];
    pushed.extend_from_slice(data);
    if mpls::push_label(&mut pushed, Lse::pipe(Label::from_bits(1001))).is_ok() {
        let version_ok = data
            .get(if data.get(12..14) == Some(&[0x81, 0x00]) { 18 } else { 14 })
            .and_then(|b| slb_wire::IpVersion::of_first_byte(*b))
            .is_some_and(|v| {
                let ty = u16::from(v.ethertype()).to_be_bytes();
                let at = if data.get(12..14) == Some(&[0x81, 0x00]) { 16 } else { 12 };
                data.get(at..at + 2) == Some(&ty[..])
            });
        let _ = slb_wire::classify(&pushed);
        if let Ok(p) = mpls::pop_label(&mut pushed) {
            if version_ok {
                assert_eq!(&pushed[p.trim..], data, "push then pop changed the frame");
            }
        }
    }
});
