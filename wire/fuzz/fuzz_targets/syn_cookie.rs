//! Fuzz the SYN cookie groundwork (issue 16). The input is read twice:
//! as a raw frame (parse a SYN, answer it, check an ACK: nothing may
//! panic), and as the makings of a valid SYN (family, ISN, ports, then the
//! TCP options bytes, built with correct checksums so the fuzzer reaches
//! the option parser and the SYN-ACK writer): a SYN that parses gets a
//! SYN-ACK with valid checksums whose cookie validates with the SYN's
//! options.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slb_wire::syn_cookie::syn_ack::{parse_syn, syn_ack_in_place, Advertise};
use slb_wire::syn_cookie::{check, check_ack, encode, CookieKey, MAX_AGE};
use slb_wire::{FrameBuilder, MacAddr, TcpFlags};
use std::net::IpAddr;

const KEY: CookieKey = CookieKey(*b"slb-fuzz-cookie!");
const ADV: Advertise = Advertise {
    mss: 1400,
    wscale: 7,
    window: 65535,
};

fn answer(frame: &[u8]) {
    let Ok(syn) = parse_syn(frame) else {
        return;
    };
    let opts = syn.options.cookie_options(syn.tuple.is_v6());
    let cookie = encode(&KEY, &syn.tuple, syn.isn, 7, &opts);
    assert_eq!(
        check(&KEY, &syn.tuple, syn.isn, cookie, 7, MAX_AGE),
        Ok(opts)
    );
    assert_eq!(
        check_ack(&KEY, &syn.tuple, syn.isn.wrapping_add(1), cookie.wrapping_add(1), 8, MAX_AGE),
        Ok(opts)
    );
    let mut out = frame.to_vec();
    out.resize(frame.len() + 64, 0);
    if let Ok(n) = syn_ack_in_place(&mut out, &syn, cookie, &ADV, 0x0102_0304) {
        assert!(slb_wire::builder::checksums_valid(&out[..n]));
    }
}

fuzz_target!(|data: &[u8]| {
    answer(data);
    if data.len() < 7 {
        return;
    }
    let v6 = data[0] & 1 == 1;
    let isn = u32::from_be_bytes([data[1], data[2], data[3], data[4]]);
    let sport = u16::from_be_bytes([data[5], data[6]]);
    let options = &data[7..data.len().min(7 + 40)];
    let (client, vip): (IpAddr, IpAddr) = if v6 {
        ("2001:db8::10".parse().unwrap(), "2001:db8:100::1".parse().unwrap())
    } else {
        ("198.18.0.10".parse().unwrap(), "198.18.100.1".parse().unwrap())
    };
    let syn = FrameBuilder::tcp(
        MacAddr([2, 0, 0, 0, 0, 1]),
        MacAddr([2, 0, 0, 0, 0, 2]),
        client,
        vip,
        sport,
        80,
    )
    .flags(TcpFlags::SYN)
    .seq(isn)
    .tcp_options(options)
    .build();
    answer(&syn);
});
