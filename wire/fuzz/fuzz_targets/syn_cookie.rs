//! Fuzz the SYN cookie groundwork (issue 16). The input is read twice:
//! as a raw frame (parse a SYN, answer it, check an ACK: nothing may
//! panic), and as the makings of a valid SYN (family, ISN, ports, then the
//! TCP options bytes, built with correct checksums so the fuzzer reaches
//! the option parser and the SYN-ACK writer): a SYN that parses gets a
//! SYN-ACK with valid checksums whose cookie validates with the SYN's
//! options; that SYN-ACK reads back with `parse_syn_ack`, and the SYN
//! replayed from the cookie (`write_replay_syn`) reads back as the SYN.
//! The raw input also goes, as a TCP segment, to `parse_syn_ack` and
//! `parse_ack` (with a claimed IP payload length from its first byte).
#![no_main]

use libfuzzer_sys::fuzz_target;
use slb_wire::syn_cookie::replay::{parse_ack, parse_syn_ack, replay_syn_len, write_replay_syn};
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
        let Ok(slb_wire::Classified::Ip(ip)) = slb_wire::classify(&out[..n]) else {
            panic!("the SYN-ACK does not classify");
        };
        let back = parse_syn_ack(&out[ip.l4_offset..n]).expect("own SYN-ACK");
        assert_eq!((back.isn, back.ack), (cookie, syn.isn.wrapping_add(1)));
        assert_eq!(back.mss, Some(ADV.mss));
        assert_eq!(back.sack_ok, opts.sack_ok);
        assert_eq!(back.tsecr, syn.options.tsval);
    }
    // The SYN replayed to the server, from the cookie's options and the
    // TSval an ACK would carry.
    let tsval = syn.options.tsval.map(|v| v.wrapping_add(1));
    let mut replay = [0u8; 128];
    let n = write_replay_syn(&mut replay, &syn.tuple, syn.isn, &opts, tsval, 1000)
        .expect("a parsed SYN's cookie options replay");
    assert_eq!(n, replay_syn_len(&syn.tuple, &opts, tsval.is_some()));
    assert!(slb_wire::builder::checksums_valid(&replay[..n]));
    let again = parse_syn(&replay[..n]).expect("the replayed SYN parses");
    assert_eq!((again.tuple, again.isn), (syn.tuple, syn.isn));
    assert_eq!(again.options.cookie_options(syn.tuple.is_v6()), opts);
    assert_eq!(again.options.tsval, tsval);
}

fuzz_target!(|data: &[u8]| {
    answer(data);
    let _ = parse_syn_ack(data);
    if let Some((&len, seg)) = data.split_first() {
        if let Ok(a) = parse_ack(seg, usize::from(len)) {
            assert!(a.payload_len + 20 <= usize::from(len) && usize::from(len) <= seg.len());
        }
    }
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
