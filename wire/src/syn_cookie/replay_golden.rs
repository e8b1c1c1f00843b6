//! Golden tables for the splice (`replay`): the replayed SYN's bytes for a
//! matrix of cookie options, IPv4 and IPv6, and a cookie ACK as slbd
//! replays it to the server: labelled, then marked. The tuples, ISN and
//! cookies are those of `golden.rs` (the ACKs acknowledge its SYN-ACKs),
//! so the two tables tell one handshake. Every frame's checksums are
//! verified with `builder::checksums_valid` (and were checked once by an
//! independent one's-complement sum when the tables were written).
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]

use super::replay::{
    mark_lse_in_place, parse_ack, replay_syn_len, write_replay_syn, AckInfo, SPLICE_TC,
};
use super::syn_ack::parse_syn;
use super::{CookieOptions, Tuple};
use crate::builder::{checksums_valid, FrameBuilder};
use crate::mpls::{push_label_rewrite, top_label, Label, Lse};
use crate::{MacAddr, TcpFlags};
use core::net::{Ipv4Addr, Ipv6Addr};
use std::vec::Vec;

/// The client's ISN (its ACK's seq - 1).
const ISN: u32 = 0x1122_3344;
/// The TSval of the client's cookie ACK, which the replayed SYN carries.
const ACK_TSVAL: u32 = 0xdead_beef;
/// The window the caller gives the replayed SYN.
const WINDOW: u16 = 64240;

fn t4() -> Tuple {
    Tuple {
        src: Ipv4Addr::new(198, 18, 0, 10).into(),
        dst: Ipv4Addr::new(198, 18, 1, 1).into(),
        src_port: 40000,
        dst_port: 80,
    }
}
fn t6() -> Tuple {
    Tuple {
        src: "2001:db8::10".parse::<Ipv6Addr>().unwrap().into(),
        dst: "2001:db8:1::80".parse::<Ipv6Addr>().unwrap().into(),
        src_port: 40000,
        dst_port: 443,
    }
}

const fn opts(mss_index: u8, wscale: Option<u8>, sack_ok: bool, ts_ok: bool) -> CookieOptions {
    CookieOptions {
        mss_index,
        wscale,
        sack_ok,
        ts_ok,
    }
}

/// v4, MSS 1460 only.
#[rustfmt::skip]
const V4_MSS: [u8; 58] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // MACs 0: the caller's
    0x08, 0x00, // IPv4
    0x45, 0x00, 0x00, 0x2c, // version 4, IHL 5, TOS 0, total length 44
    0x00, 0x00, 0x40, 0x00, // ident 0, DF
    0x40, 0x06, 0xad, 0x9c, // TTL 64, TCP, header checksum
    0xc6, 0x12, 0x00, 0x0a, // from the client, 198.18.0.10
    0xc6, 0x12, 0x01, 0x01, // to the service, 198.18.1.1
    0x9c, 0x40, 0x00, 0x50, // port 40000 -> 80
    0x11, 0x22, 0x33, 0x44, // seq: the client's ISN
    0x00, 0x00, 0x00, 0x00, // ack 0
    0x60, 0x02, 0xfa, 0xf0, // header 24 bytes, SYN, window 64240
    0x2f, 0x0f, 0x00, 0x00, // checksum, urgent 0
    0x02, 0x04, 0x05, 0xb4, // MSS 1460 (index 3)
];

/// v4, MSS + SACK-permitted.
#[rustfmt::skip]
const V4_MSS_SACK: [u8; 62] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // MACs 0: the caller's
    0x08, 0x00, // IPv4
    0x45, 0x00, 0x00, 0x30, // version 4, IHL 5, TOS 0, total length 48
    0x00, 0x00, 0x40, 0x00, // ident 0, DF
    0x40, 0x06, 0xad, 0x98, // TTL 64, TCP, header checksum
    0xc6, 0x12, 0x00, 0x0a, // from the client, 198.18.0.10
    0xc6, 0x12, 0x01, 0x01, // to the service, 198.18.1.1
    0x9c, 0x40, 0x00, 0x50, // port 40000 -> 80
    0x11, 0x22, 0x33, 0x44, // seq: the client's ISN
    0x00, 0x00, 0x00, 0x00, // ack 0
    0x70, 0x02, 0xfa, 0xf0, // header 28 bytes, SYN, window 64240
    0x1a, 0x08, 0x00, 0x00, // checksum, urgent 0
    0x02, 0x04, 0x05, 0xb4, // MSS 1460
    0x01, 0x01, 0x04, 0x02, // NOP NOP SACK-permitted
];

/// v4, MSS + SACK-permitted + timestamps + window scale (Linux's SYN).
#[rustfmt::skip]
const V4_ALL: [u8; 74] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // MACs 0: the caller's
    0x08, 0x00, // IPv4
    0x45, 0x00, 0x00, 0x3c, // version 4, IHL 5, TOS 0, total length 60
    0x00, 0x00, 0x40, 0x00, // ident 0, DF
    0x40, 0x06, 0xad, 0x8c, // TTL 64, TCP, header checksum
    0xc6, 0x12, 0x00, 0x0a, // from the client, 198.18.0.10
    0xc6, 0x12, 0x01, 0x01, // to the service, 198.18.1.1
    0x9c, 0x40, 0x00, 0x50, // port 40000 -> 80
    0x11, 0x22, 0x33, 0x44, // seq: the client's ISN
    0x00, 0x00, 0x00, 0x00, // ack 0
    0xa0, 0x02, 0xfa, 0xf0, // header 40 bytes, SYN, window 64240
    0x41, 0x4b, 0x00, 0x00, // checksum, urgent 0
    0x02, 0x04, 0x05, 0xb4, // MSS 1460
    0x04, 0x02, 0x08, 0x0a, // SACK-permitted, timestamps:
    0xde, 0xad, 0xbe, 0xef, // TSval: the cookie ACK's
    0x00, 0x00, 0x00, 0x00, // TSecr 0
    0x01, 0x03, 0x03, 0x07, // NOP, window scale 7 (the client's)
];

/// v4, timestamps without SACK-permitted.
#[rustfmt::skip]
const V4_TS: [u8; 70] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // MACs 0: the caller's
    0x08, 0x00, // IPv4
    0x45, 0x00, 0x00, 0x38, // version 4, IHL 5, TOS 0, total length 56
    0x00, 0x00, 0x40, 0x00, // ident 0, DF
    0x40, 0x06, 0xad, 0x90, // TTL 64, TCP, header checksum
    0xc6, 0x12, 0x00, 0x0a, // from the client, 198.18.0.10
    0xc6, 0x12, 0x01, 0x01, // to the service, 198.18.1.1
    0x9c, 0x40, 0x00, 0x50, // port 40000 -> 80
    0x11, 0x22, 0x33, 0x44, // seq: the client's ISN
    0x00, 0x00, 0x00, 0x00, // ack 0
    0x90, 0x02, 0xfa, 0xf0, // header 36 bytes, SYN, window 64240
    0x58, 0x5a, 0x00, 0x00, // checksum, urgent 0
    0x02, 0x04, 0x05, 0xb4, // MSS 1460
    0x01, 0x01, 0x08, 0x0a, // NOP NOP timestamps:
    0xde, 0xad, 0xbe, 0xef, // TSval: the cookie ACK's
    0x00, 0x00, 0x00, 0x00, // TSecr 0
];

/// v6, MSS 1440 only.
#[rustfmt::skip]
const V6_MSS: [u8; 78] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // MACs 0: the caller's
    0x86, 0xdd, // IPv6
    0x60, 0x00, 0x00, 0x00, // version 6, traffic class 0, flow label 0
    0x00, 0x18, 0x06, 0x40, // payload length 24, TCP, hop limit 64
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, // from the client, 2001:db8::10
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, // to the service, 2001:db8:1::80
    0x9c, 0x40, 0x01, 0xbb, // port 40000 -> 443
    0x11, 0x22, 0x33, 0x44, // seq: the client's ISN
    0x00, 0x00, 0x00, 0x00, // ack 0
    0x60, 0x02, 0xfa, 0xf0, // header 24 bytes, SYN, window 64240
    0x5e, 0xe5, 0x00, 0x00, // checksum, urgent 0
    0x02, 0x04, 0x05, 0xa0, // MSS 1440 (index 2)
];

/// v6, MSS + SACK-permitted.
#[rustfmt::skip]
const V6_MSS_SACK: [u8; 82] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // MACs 0: the caller's
    0x86, 0xdd, // IPv6
    0x60, 0x00, 0x00, 0x00, // version 6, traffic class 0, flow label 0
    0x00, 0x1c, 0x06, 0x40, // payload length 28, TCP, hop limit 64
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, // from the client, 2001:db8::10
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, // to the service, 2001:db8:1::80
    0x9c, 0x40, 0x01, 0xbb, // port 40000 -> 443
    0x11, 0x22, 0x33, 0x44, // seq: the client's ISN
    0x00, 0x00, 0x00, 0x00, // ack 0
    0x70, 0x02, 0xfa, 0xf0, // header 28 bytes, SYN, window 64240
    0x49, 0xde, 0x00, 0x00, // checksum, urgent 0
    0x02, 0x04, 0x05, 0xa0, // MSS 1440
    0x01, 0x01, 0x04, 0x02, // NOP NOP SACK-permitted
];

/// v6, MSS + SACK-permitted + timestamps + window scale (Linux's SYN).
#[rustfmt::skip]
const V6_ALL: [u8; 94] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // MACs 0: the caller's
    0x86, 0xdd, // IPv6
    0x60, 0x00, 0x00, 0x00, // version 6, traffic class 0, flow label 0
    0x00, 0x28, 0x06, 0x40, // payload length 40, TCP, hop limit 64
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, // from the client, 2001:db8::10
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, // to the service, 2001:db8:1::80
    0x9c, 0x40, 0x01, 0xbb, // port 40000 -> 443
    0x11, 0x22, 0x33, 0x44, // seq: the client's ISN
    0x00, 0x00, 0x00, 0x00, // ack 0
    0xa0, 0x02, 0xfa, 0xf0, // header 40 bytes, SYN, window 64240
    0x71, 0x21, 0x00, 0x00, // checksum, urgent 0
    0x02, 0x04, 0x05, 0xa0, // MSS 1440
    0x04, 0x02, 0x08, 0x0a, // SACK-permitted, timestamps:
    0xde, 0xad, 0xbe, 0xef, // TSval: the cookie ACK's
    0x00, 0x00, 0x00, 0x00, // TSecr 0
    0x01, 0x03, 0x03, 0x07, // NOP, window scale 7 (the client's)
];

/// One replayed SYN row: the cookie's tuple and options, the cookie ACK's
/// TSval, the frame.
struct ReplayRow {
    name: &'static str,
    tuple: fn() -> Tuple,
    options: CookieOptions,
    tsval: Option<u32>,
    expect: &'static [u8],
}

const REPLAY_ROWS: &[ReplayRow] = &[
    ReplayRow {
        name: "v4: MSS only",
        tuple: t4,
        options: opts(3, None, false, false),
        tsval: None,
        expect: &V4_MSS,
    },
    ReplayRow {
        name: "v4: MSS only, the ACK's TSval not asked for (no TS in the cookie)",
        tuple: t4,
        options: opts(3, None, false, false),
        tsval: Some(ACK_TSVAL),
        expect: &V4_MSS,
    },
    ReplayRow {
        name: "v4: MSS + SACK",
        tuple: t4,
        options: opts(3, None, true, false),
        tsval: None,
        expect: &V4_MSS_SACK,
    },
    ReplayRow {
        name: "v4: MSS + SACK + TS + WS",
        tuple: t4,
        options: opts(3, Some(7), true, true),
        tsval: Some(ACK_TSVAL),
        expect: &V4_ALL,
    },
    ReplayRow {
        name: "v4: MSS + TS",
        tuple: t4,
        options: opts(3, None, false, true),
        tsval: Some(ACK_TSVAL),
        expect: &V4_TS,
    },
    ReplayRow {
        name: "v6: MSS only",
        tuple: t6,
        options: opts(2, None, false, false),
        tsval: None,
        expect: &V6_MSS,
    },
    ReplayRow {
        name: "v6: MSS + SACK",
        tuple: t6,
        options: opts(2, None, true, false),
        tsval: None,
        expect: &V6_MSS_SACK,
    },
    ReplayRow {
        name: "v6: MSS + SACK + TS + WS",
        tuple: t6,
        options: opts(2, Some(7), true, true),
        tsval: Some(ACK_TSVAL),
        expect: &V6_ALL,
    },
];

#[test]
fn replay_syn_golden() {
    for row in REPLAY_ROWS {
        let t = (row.tuple)();
        // Room after the frame, filled so an unwritten byte shows.
        let mut b = [0xa5u8; 128];
        let n = write_replay_syn(&mut b, &t, ISN, &row.options, row.tsval, WINDOW)
            .unwrap_or_else(|e| panic!("{}: {e}", row.name));
        assert_eq!(
            n,
            replay_syn_len(&t, &row.options, row.tsval.is_some()),
            "{}",
            row.name
        );
        let out = &b[..n];
        assert_eq!(out, row.expect, "{}", row.name);
        assert!(checksums_valid(out), "{}: checksums", row.name);
        assert_eq!(b[n], 0xa5, "{}: wrote past the frame", row.name);
        // It reads back as the client's SYN it stands for.
        let syn = parse_syn(out).unwrap_or_else(|e| panic!("{}: {e}", row.name));
        assert_eq!((syn.tuple, syn.isn), (t, ISN), "{}", row.name);
        assert_eq!(
            syn.options.cookie_options(t.is_v6()),
            row.options,
            "{}",
            row.name
        );
        assert_eq!(
            syn.options.tsval,
            row.tsval.filter(|_| row.options.ts_ok),
            "{}",
            row.name
        );
    }
}

const CM: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const SM: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);
/// slbd's MAC and the server's, as the replayed frames carry them.
const SLBD: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x10]);
const SERVER: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x20]);
/// The session's client-to-server label (odd).
const LABEL: u32 = 101;

/// The client's cookie ACK for `golden.rs`'s v4 SYN-ACK (cookie
/// 0xd8c6a28e, TSval 0x0a0b0c0d): seq ISN + 1, ack cookie + 1, its own
/// TSval 0xdeadbef0, window 502.
fn ack4() -> Vec<u8> {
    FrameBuilder::tcp4(
        CM,
        SM,
        Ipv4Addr::new(198, 18, 0, 10),
        Ipv4Addr::new(198, 18, 1, 1),
        40000,
        80,
    )
    .seq(ISN + 1)
    .ack(0xd8c6_a28f)
    .window(502)
    .tcp_options(&[1, 1, 8, 10, 0xde, 0xad, 0xbe, 0xf0, 0x0a, 0x0b, 0x0c, 0x0d])
    .build()
}

/// The same for the v6 SYN-ACK (cookie 0x09c66fd5), behind VLAN 7, with
/// two bytes of data and PSH.
fn ack6() -> Vec<u8> {
    FrameBuilder::tcp6(
        CM,
        SM,
        "2001:db8::10".parse().unwrap(),
        "2001:db8:1::80".parse().unwrap(),
        40000,
        443,
    )
    .vlan(7)
    .flags(TcpFlags::ACK | TcpFlags::PSH)
    .seq(ISN + 1)
    .ack(0x09c6_6fd6)
    .window(502)
    .tcp_options(&[1, 1, 8, 10, 0xde, 0xad, 0xbe, 0xf0, 0x0a, 0x0b, 0x0c, 0x0d])
    .payload(b"hi")
    .build()
}

/// v4 cookie ACK, labelled 101 and marked.
#[rustfmt::skip]
const V4_MARKED_ACK: [u8; 70] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x20, // to the server's MAC
    0x02, 0x00, 0x00, 0x00, 0x00, 0x10, // from slbd's
    0x88, 0x47, // MPLS
    0x00, 0x06, 0x53, 0x40, // label 101, TC 1 (the mark), S, TTL 64
    0x45, 0x00, 0x00, 0x34, // the client's packet, unchanged from here:
    0x00, 0x00, 0x40, 0x00, // ident 0, DF
    0x40, 0x06, 0xad, 0x94, // TTL 64, TCP, header checksum
    0xc6, 0x12, 0x00, 0x0a, // from the client, 198.18.0.10
    0xc6, 0x12, 0x01, 0x01, // to the service, 198.18.1.1
    0x9c, 0x40, 0x00, 0x50, // port 40000 -> 80
    0x11, 0x22, 0x33, 0x45, // seq: ISN + 1
    0xd8, 0xc6, 0xa2, 0x8f, // ack: cookie + 1
    0x80, 0x10, 0x01, 0xf6, // header 32 bytes, ACK, window 502
    0xd7, 0x92, 0x00, 0x00, // checksum, urgent 0
    0x01, 0x01, 0x08, 0x0a, // NOP NOP timestamps:
    0xde, 0xad, 0xbe, 0xf0, // TSval: the client's clock
    0x0a, 0x0b, 0x0c, 0x0d, // TSecr: slbd's SYN-ACK TSval
];

/// v6 cookie ACK behind VLAN 7, labelled 101 and marked.
#[rustfmt::skip]
const V6_MARKED_ACK: [u8; 96] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x20, // to the server's MAC
    0x02, 0x00, 0x00, 0x00, 0x00, 0x10, // from slbd's
    0x81, 0x00, 0x00, 0x07, // 802.1Q, VLAN 7
    0x88, 0x47, // MPLS
    0x00, 0x06, 0x53, 0x40, // label 101, TC 1 (the mark), S, TTL 64
    0x60, 0x00, 0x00, 0x00, // the client's packet, unchanged from here:
    0x00, 0x22, 0x06, 0x40, // payload length 34, TCP, hop limit 64
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, // from the client, 2001:db8::10
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, // to the service, 2001:db8:1::80
    0x9c, 0x40, 0x01, 0xbb, // port 40000 -> 443
    0x11, 0x22, 0x33, 0x45, // seq: ISN + 1
    0x09, 0xc6, 0x6f, 0xd6, // ack: cookie + 1
    0x80, 0x18, 0x01, 0xf6, // header 32 bytes, ACK|PSH, window 502
    0xa0, 0x9b, 0x00, 0x00, // checksum, urgent 0
    0x01, 0x01, 0x08, 0x0a, // NOP NOP timestamps:
    0xde, 0xad, 0xbe, 0xf0, // TSval: the client's clock
    0x0a, 0x0b, 0x0c, 0x0d, // TSecr: slbd's SYN-ACK TSval
    0x68, 0x69, // data "hi"
];

/// The held cookie ACK as slbd replays it: label pushed (with slbd's and
/// the server's MACs, as the data path pushes), then marked; the client's
/// bytes are untouched, and clearing the mark gives the plain labelled
/// frame back.
#[test]
fn marked_ack_golden() {
    let rows: [(&str, Vec<u8>, &[u8]); 2] = [
        ("v4", ack4(), &V4_MARKED_ACK),
        ("v6, tagged, with data", ack6(), &V6_MARKED_ACK),
    ];
    for (name, client, expect) in &rows {
        let mut f = std::vec![0u8; 4];
        f.extend_from_slice(client);
        push_label_rewrite(&mut f, Lse::pipe(Label::from_bits(LABEL)), SLBD, SERVER).unwrap();
        let top = top_label(&f).unwrap();
        assert_eq!(top.lse.tc, 0, "{name}");
        let plain = f.clone();
        assert!(mark_lse_in_place(&mut f, top.offset), "{name}");
        assert_eq!(&f[..], *expect, "{name}");
        assert!(checksums_valid(&f), "{name}: checksums");
        let top = top_label(&f).unwrap();
        assert_eq!(
            top.lse,
            Lse {
                tc: SPLICE_TC,
                ..Lse::pipe(Label::from_bits(LABEL))
            },
            "{name}"
        );
        // The client's IP packet, byte for byte.
        let l2 = client.len() - (f.len() - top.payload_offset());
        assert_eq!(&f[top.payload_offset()..], &client[l2..], "{name}");
        // Clearing the mark gives the unmarked labelled frame.
        let mut cleared = f.clone();
        assert_ne!(f, plain, "{name}: marked");
        crate::mpls::clear_tc(&mut cleared, top.offset);
        assert_eq!(cleared, plain, "{name}");
    }
    // What the scheduler reads of them (the inner TCP segment).
    let v4 = &V4_MARKED_ACK[38..];
    assert_eq!(
        parse_ack(v4, v4.len()),
        Ok(AckInfo {
            seq: ISN + 1,
            ack: 0xd8c6_a28f,
            tsval: Some(0xdead_bef0),
            tsecr: Some(0x0a0b_0c0d),
            payload_len: 0,
            flags: TcpFlags::ACK,
        })
    );
    let v6 = &V6_MARKED_ACK[62..];
    assert_eq!(
        parse_ack(v6, 34),
        Ok(AckInfo {
            seq: ISN + 1,
            ack: 0x09c6_6fd6,
            tsval: Some(0xdead_bef0),
            tsecr: Some(0x0a0b_0c0d),
            payload_len: 2,
            flags: TcpFlags::ACK | TcpFlags::PSH,
        })
    );
}
