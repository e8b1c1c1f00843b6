//! Golden tables for SYN cookies: the SYN-ACK bytes for a matrix of
//! client option sets (IPv4 and IPv6), and cookie validation. One key, one
//! counter, one client ISN and one TSval clock, so every byte is fixed; the
//! cookies in the frames are pinned too, so a change of the construction,
//! the PRF or the option layout shows here.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]

use super::syn_ack::{parse_syn, syn_ack_in_place, syn_ack_len, Advertise, SynError};
use super::{check, check_ack, encode, CookieError, CookieKey, CookieOptions, Tuple, MAX_AGE};
use crate::builder::{checksums_valid, FrameBuilder};
use crate::classify::L4;
use crate::{classify, Classified, MacAddr, TcpFlags};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::vec::Vec;

const KEY: CookieKey = CookieKey(*b"slb golden key16");
/// The counter the cookies are made at.
const NOW: u32 = 0x0195_36a2;
const ISN: u32 = 0x1122_3344;
const CM: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const SM: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);
const ADV: Advertise = Advertise {
    mss: 1400,
    wscale: 7,
    window: 65535,
};
const TSVAL: u32 = 0x0a0b_0c0d;

fn client4() -> Ipv4Addr {
    Ipv4Addr::new(198, 18, 0, 10)
}
fn vip4() -> Ipv4Addr {
    Ipv4Addr::new(198, 18, 1, 1)
}
fn client6() -> Ipv6Addr {
    "2001:db8::10".parse().unwrap()
}
fn vip6() -> Ipv6Addr {
    "2001:db8:1::80".parse().unwrap()
}

/// A SYN 198.18.0.10:40000 -> 198.18.1.1:80 with MSS 1460.
fn syn4() -> FrameBuilder {
    FrameBuilder::tcp4(CM, SM, client4(), vip4(), 40000, 80)
        .flags(TcpFlags::SYN)
        .seq(ISN)
        .window(64240)
        .mss(1460)
}

/// A SYN [2001:db8::10]:40000 -> [2001:db8:1::80]:443 with MSS 1440.
fn syn6() -> FrameBuilder {
    FrameBuilder::tcp6(CM, SM, client6(), vip6(), 40000, 443)
        .flags(TcpFlags::SYN)
        .seq(ISN)
        .window(64800)
        .mss(1440)
}

/// NOP NOP SACK-permitted.
const SACK: [u8; 4] = [1, 1, 4, 2];
/// What Linux sends after the MSS: SACK-permitted, timestamps (TSval
/// 0xdeadbeef), NOP, window scale 7.
#[rustfmt::skip]
const LINUX: [u8; 16] = [
    4, 2, 8, 10, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0,
    1, 3, 3, 7,
];
/// A TFO cookie request (RFC 7413 §4.1.1) and MPTCP v1 MP_CAPABLE in a
/// SYN (RFC 8684 §3.1: subtype 0, version 1, flags A|H).
const TFO_MPTCP: [u8; 6] = [34, 2, 30, 4, 0x01, 0x81];

fn t4() -> Tuple {
    Tuple {
        src: client4().into(),
        dst: vip4().into(),
        src_port: 40000,
        dst_port: 80,
    }
}
fn t6() -> Tuple {
    Tuple {
        src: client6().into(),
        dst: vip6().into(),
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
/// MSS 1460 (IPv4) / 1440 (IPv6), nothing else.
const MSS4: CookieOptions = opts(3, None, false, false);
const MSS6: CookieOptions = opts(2, None, false, false);
const ALL4: CookieOptions = opts(3, Some(7), true, true);
const ALL6: CookieOptions = opts(2, Some(7), true, true);

/// v4 mss: cookie 0xd8c6a00e
#[rustfmt::skip]
const V4_MSS: [u8; 58] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // to the client's MAC
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // from the service's
    0x08, 0x00, // IPv4
    0x45, 0x00, 0x00, 0x2c, // version 4, IHL 5, TOS 0, total length 44
    0x00, 0x00, 0x40, 0x00, // ident 0, DF
    0x40, 0x06, 0xad, 0x9c, // TTL 64, TCP, header checksum
    0xc6, 0x12, 0x01, 0x01, // from the service, 198.18.1.1
    0xc6, 0x12, 0x00, 0x0a, // to the client, 198.18.0.10
    0x00, 0x50, 0x9c, 0x40, // port 80 -> 40000
    0xd8, 0xc6, 0xa0, 0x0e, // seq: the cookie
    0x11, 0x22, 0x33, 0x45, // ack: client ISN 0x11223344 + 1
    0x60, 0x12, 0xff, 0xff, // header 24 bytes, SYN|ACK, window 65535
    0xb1, 0x55, 0x00, 0x00, // checksum, urgent 0
    0x02, 0x04, 0x05, 0x78, // MSS 1400
];

/// v4 mss sack: cookie 0xd8c6a10e
#[rustfmt::skip]
const V4_MSS_SACK: [u8; 62] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // to the client's MAC
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // from the service's
    0x08, 0x00, // IPv4
    0x45, 0x00, 0x00, 0x30, // version 4, IHL 5, TOS 0, total length 48
    0x00, 0x00, 0x40, 0x00, // ident 0, DF
    0x40, 0x06, 0xad, 0x98, // TTL 64, TCP, header checksum
    0xc6, 0x12, 0x01, 0x01, // from the service, 198.18.1.1
    0xc6, 0x12, 0x00, 0x0a, // to the client, 198.18.0.10
    0x00, 0x50, 0x9c, 0x40, // port 80 -> 40000
    0xd8, 0xc6, 0xa1, 0x0e, // seq: the cookie
    0x11, 0x22, 0x33, 0x45, // ack: client ISN 0x11223344 + 1
    0x70, 0x12, 0xff, 0xff, // header 28 bytes, SYN|ACK, window 65535
    0x9b, 0x4e, 0x00, 0x00, // checksum, urgent 0
    0x02, 0x04, 0x05, 0x78, // MSS 1400
    0x01, 0x01, 0x04, 0x02, // NOP NOP SACK-permitted
];

/// v4 linux: cookie 0xd8c6a28e
#[rustfmt::skip]
const V4_ALL: [u8; 74] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // to the client's MAC
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // from the service's
    0x08, 0x00, // IPv4
    0x45, 0x00, 0x00, 0x3c, // version 4, IHL 5, TOS 0, total length 60
    0x00, 0x00, 0x40, 0x00, // ident 0, DF
    0x40, 0x06, 0xad, 0x8c, // TTL 64, TCP, header checksum
    0xc6, 0x12, 0x01, 0x01, // from the service, 198.18.1.1
    0xc6, 0x12, 0x00, 0x0a, // to the client, 198.18.0.10
    0x00, 0x50, 0x9c, 0x40, // port 80 -> 40000
    0xd8, 0xc6, 0xa2, 0x8e, // seq: the cookie
    0x11, 0x22, 0x33, 0x45, // ack: client ISN 0x11223344 + 1
    0xa0, 0x12, 0xff, 0xff, // header 40 bytes, SYN|ACK, window 65535
    0xaa, 0xf9, 0x00, 0x00, // checksum, urgent 0
    0x02, 0x04, 0x05, 0x78, // MSS 1400
    0x04, 0x02, 0x08, 0x0a, // SACK-permitted, timestamps:
    0x0a, 0x0b, 0x0c, 0x0d, // TSval: the caller's clock
    0xde, 0xad, 0xbe, 0xef, // TSecr: the client's TSval
    0x01, 0x03, 0x03, 0x07, // NOP, window scale 7
];

/// v6 mss: cookie 0x09c66d55
#[rustfmt::skip]
const V6_MSS: [u8; 78] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // to the client's MAC
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // from the service's
    0x86, 0xdd, // IPv6
    0x60, 0x00, 0x00, 0x00, // version 6, traffic class 0, flow label 0
    0x00, 0x18, 0x06, 0x40, // payload length 24, TCP, hop limit 64
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, // from the service, 2001:db8:1::80
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, // to the client, 2001:db8::10
    0x01, 0xbb, 0x9c, 0x40, // port 443 -> 40000
    0x09, 0xc6, 0x6d, 0x55, // seq: the cookie
    0x11, 0x22, 0x33, 0x45, // ack: client ISN 0x11223344 + 1
    0x60, 0x12, 0xff, 0xff, // header 24 bytes, SYN|ACK, window 65535
    0xe2, 0xd1, 0x00, 0x00, // checksum, urgent 0
    0x02, 0x04, 0x05, 0x78, // MSS 1400
];

/// v6 mss sack: cookie 0x09c66e55
#[rustfmt::skip]
const V6_MSS_SACK: [u8; 82] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // to the client's MAC
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // from the service's
    0x86, 0xdd, // IPv6
    0x60, 0x00, 0x00, 0x00, // version 6, traffic class 0, flow label 0
    0x00, 0x1c, 0x06, 0x40, // payload length 28, TCP, hop limit 64
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, // from the service, 2001:db8:1::80
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, // to the client, 2001:db8::10
    0x01, 0xbb, 0x9c, 0x40, // port 443 -> 40000
    0x09, 0xc6, 0x6e, 0x55, // seq: the cookie
    0x11, 0x22, 0x33, 0x45, // ack: client ISN 0x11223344 + 1
    0x70, 0x12, 0xff, 0xff, // header 28 bytes, SYN|ACK, window 65535
    0xcc, 0xca, 0x00, 0x00, // checksum, urgent 0
    0x02, 0x04, 0x05, 0x78, // MSS 1400
    0x01, 0x01, 0x04, 0x02, // NOP NOP SACK-permitted
];

/// v6 linux: cookie 0x09c66fd5
#[rustfmt::skip]
const V6_ALL: [u8; 94] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // to the client's MAC
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // from the service's
    0x86, 0xdd, // IPv6
    0x60, 0x00, 0x00, 0x00, // version 6, traffic class 0, flow label 0
    0x00, 0x28, 0x06, 0x40, // payload length 40, TCP, hop limit 64
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, // from the service, 2001:db8:1::80
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, // to the client, 2001:db8::10
    0x01, 0xbb, 0x9c, 0x40, // port 443 -> 40000
    0x09, 0xc6, 0x6f, 0xd5, // seq: the cookie
    0x11, 0x22, 0x33, 0x45, // ack: client ISN 0x11223344 + 1
    0xa0, 0x12, 0xff, 0xff, // header 40 bytes, SYN|ACK, window 65535
    0xdc, 0x75, 0x00, 0x00, // checksum, urgent 0
    0x02, 0x04, 0x05, 0x78, // MSS 1400
    0x04, 0x02, 0x08, 0x0a, // SACK-permitted, timestamps:
    0x0a, 0x0b, 0x0c, 0x0d, // TSval: the caller's clock
    0xde, 0xad, 0xbe, 0xef, // TSecr: the client's TSval
    0x01, 0x03, 0x03, 0x07, // NOP, window scale 7
];

/// One SYN-ACK row: the client's SYN, what its cookie must carry, the
/// SYN-ACK's bytes.
struct SynAckRow {
    name: &'static str,
    syn: fn() -> Vec<u8>,
    options: CookieOptions,
    expect: &'static [u8],
}

const SYN_ACK_ROWS: &[SynAckRow] = &[
    SynAckRow {
        name: "v4: MSS only",
        syn: || syn4().build(),
        options: MSS4,
        expect: &V4_MSS,
    },
    SynAckRow {
        name: "v4: MSS + SACK",
        syn: || syn4().tcp_options(&SACK).build(),
        options: opts(3, None, true, false),
        expect: &V4_MSS_SACK,
    },
    SynAckRow {
        name: "v4: MSS + SACK + TS + WS (Linux)",
        syn: || syn4().tcp_options(&LINUX).build(),
        options: ALL4,
        expect: &V4_ALL,
    },
    SynAckRow {
        name: "v4: TFO and MP_CAPABLE are not echoed (as MSS only)",
        syn: || syn4().tcp_options(&TFO_MPTCP).build(),
        options: MSS4,
        expect: &V4_MSS,
    },
    SynAckRow {
        name: "v4: a tagged SYN with data: tag kept, data dropped",
        syn: || syn4().vlan(7).payload(b"tfo data").build(),
        options: MSS4,
        expect: &[],
    },
    SynAckRow {
        name: "v6: MSS only",
        syn: || syn6().build(),
        options: MSS6,
        expect: &V6_MSS,
    },
    SynAckRow {
        name: "v6: MSS + SACK",
        syn: || syn6().tcp_options(&SACK).build(),
        options: opts(2, None, true, false),
        expect: &V6_MSS_SACK,
    },
    SynAckRow {
        name: "v6: MSS + SACK + TS + WS (Linux)",
        syn: || syn6().tcp_options(&LINUX).build(),
        options: ALL6,
        expect: &V6_ALL,
    },
    SynAckRow {
        name: "v6: a hop-by-hop header is not copied",
        syn: || {
            syn6()
                .ipv6_ext(crate::IpProtocol::HopByHop)
                .tcp_options(&LINUX)
                .build()
        },
        options: ALL6,
        expect: &V6_ALL,
    },
];

#[test]
fn syn_ack_golden() {
    for row in SYN_ACK_ROWS {
        let f = (row.syn)();
        let syn = parse_syn(&f).unwrap_or_else(|e| panic!("{}: {e}", row.name));
        let got = syn.options.cookie_options(syn.tuple.is_v6());
        assert_eq!(got, row.options, "{}", row.name);
        let cookie = encode(&KEY, &syn.tuple, syn.isn, NOW, &got);
        // Room after the SYN, filled so an unwritten byte shows.
        let mut b = f.clone();
        b.resize(f.len() + 64, 0xa5);
        let n = syn_ack_in_place(&mut b, &syn, cookie, &ADV, TSVAL).unwrap();
        assert_eq!(n, syn_ack_len(&syn), "{}", row.name);
        let out = &b[..n];
        if !row.expect.is_empty() {
            assert_eq!(out, row.expect, "{}", row.name);
        }
        assert!(checksums_valid(out), "{}: checksums", row.name);
        // The classifier reads it as a SYN-ACK from the service.
        let Ok(Classified::Ip(ip)) = classify(out) else {
            panic!("{}: not IP", row.name);
        };
        assert_eq!(
            ip.vlan_tci,
            classify(&f)
                .map(|c| match c {
                    Classified::Ip(i) => i.vlan_tci,
                    _ => None,
                })
                .unwrap(),
            "{}",
            row.name
        );
        assert_eq!(
            ip.l4,
            L4::Tcp {
                flags: TcpFlags::SYN | TcpFlags::ACK
            },
            "{}",
            row.name
        );
        assert_eq!((ip.flow.src, ip.flow.dst), (syn.tuple.dst, syn.tuple.src));
        assert_eq!(ip.l3_end, n, "{}: no data", row.name);
        // The client's ACK (seq ISN + 1, ack cookie + 1) checks, now and
        // one counter later, to the options of its SYN.
        for now in [NOW, NOW + 1] {
            assert_eq!(
                check_ack(
                    &KEY,
                    &syn.tuple,
                    ISN + 1,
                    cookie.wrapping_add(1),
                    now,
                    MAX_AGE
                ),
                Ok(row.options),
                "{}",
                row.name
            );
        }
    }
}

/// How a cookie was made: tuple, counter, options (ISN is [`ISN`]).
type Made = (fn() -> Tuple, u32, CookieOptions);

/// One cookie validation row: the cookie is a literal, `made` says how
/// [`encode`] makes it (checked), `None` for a guessed one.
struct CheckRow {
    name: &'static str,
    tuple: fn() -> Tuple,
    made: Option<Made>,
    cookie: u32,
    now: u32,
    expect: Result<CookieOptions, CookieError>,
}

const CHECK_ROWS: &[CheckRow] = &[
    CheckRow {
        name: "good: the counter it was made in",
        tuple: t4,
        made: Some((t4, NOW, ALL4)),
        cookie: 0xd8c6_a28e,
        now: NOW,
        expect: Ok(ALL4),
    },
    CheckRow {
        name: "good: the next counter",
        tuple: t4,
        made: Some((t4, NOW, ALL4)),
        cookie: 0xd8c6_a28e,
        now: NOW + 1,
        expect: Ok(ALL4),
    },
    CheckRow {
        name: "good: MSS only",
        tuple: t4,
        made: Some((t4, NOW, MSS4)),
        cookie: 0xd8c6_a00e,
        now: NOW + 1,
        expect: Ok(MSS4),
    },
    CheckRow {
        name: "good: v6",
        tuple: t6,
        made: Some((t6, NOW, ALL6)),
        cookie: 0x09c6_6fd5,
        now: NOW,
        expect: Ok(ALL6),
    },
    CheckRow {
        name: "stale: two counters later",
        tuple: t4,
        made: Some((t4, NOW, ALL4)),
        cookie: 0xd8c6_a28e,
        now: NOW + 2,
        expect: Err(CookieError::Stale),
    },
    CheckRow {
        name: "stale: a day later (counter byte wrapped 5 times)",
        tuple: t4,
        made: Some((t4, NOW, ALL4)),
        cookie: 0xd8c6_a28e,
        now: NOW + 86_400 / 64,
        expect: Err(CookieError::Stale),
    },
    CheckRow {
        name: "stale: from the future",
        tuple: t4,
        made: Some((t4, NOW, ALL4)),
        cookie: 0xd8c6_a28e,
        now: NOW - 1,
        expect: Err(CookieError::Stale),
    },
    CheckRow {
        name: "wrong 4-tuple: another client port",
        tuple: || Tuple {
            src_port: 40001,
            ..t4()
        },
        made: Some((t4, NOW, ALL4)),
        cookie: 0xd8c6_a28e,
        now: NOW,
        expect: Err(CookieError::Stale),
    },
    CheckRow {
        name: "wrong 4-tuple: another client address",
        tuple: || Tuple {
            src: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 11)),
            ..t4()
        },
        made: Some((t4, NOW, ALL4)),
        cookie: 0xd8c6_a28e,
        now: NOW,
        expect: Err(CookieError::Stale),
    },
    CheckRow {
        name: "wrong 4-tuple: another service port",
        tuple: || Tuple {
            dst_port: 443,
            ..t4()
        },
        made: Some((t4, NOW, ALL4)),
        cookie: 0xd8c6_a28e,
        now: NOW,
        expect: Err(CookieError::Stale),
    },
    CheckRow {
        name: "wrong 4-tuple: source and destination swapped",
        tuple: || Tuple {
            src: vip4().into(),
            dst: client4().into(),
            src_port: 80,
            dst_port: 40000,
        },
        made: Some((t4, NOW, ALL4)),
        cookie: 0xd8c6_a28e,
        now: NOW,
        expect: Err(CookieError::Stale),
    },
    CheckRow {
        name: "wrong 4-tuple: v6 cookie, another client address",
        tuple: || Tuple {
            src: IpAddr::V6("2001:db8::11".parse().unwrap()),
            ..t6()
        },
        made: Some((t6, NOW, ALL6)),
        cookie: 0x09c6_6fd5,
        now: NOW,
        expect: Err(CookieError::Stale),
    },
    CheckRow {
        name: "forged: 0",
        tuple: t4,
        made: None,
        cookie: 0,
        now: NOW,
        expect: Err(CookieError::Stale),
    },
    CheckRow {
        name: "forged: 0xdeadbeef",
        tuple: t4,
        made: None,
        cookie: 0xdead_beef,
        now: NOW,
        expect: Err(CookieError::Stale),
    },
    CheckRow {
        name: "forged: right counter byte, data bits flipped",
        tuple: t4,
        made: None,
        cookie: 0xd8c6_a28e ^ 0x0040_0000,
        now: NOW,
        expect: Err(CookieError::Forged),
    },
    CheckRow {
        name: "bad data bits: MSS index 7 (past the table)",
        tuple: t4,
        made: Some((t4, NOW, opts(7, None, false, false))),
        cookie: 0xd8c6_a012,
        now: NOW,
        expect: Err(CookieError::BadData),
    },
];

#[test]
fn cookie_check_golden() {
    for row in CHECK_ROWS {
        if let Some((t, count, o)) = row.made {
            assert_eq!(
                encode(&KEY, &t(), ISN, count, &o),
                row.cookie,
                "{}: encode",
                row.name
            );
        }
        assert_eq!(
            check(&KEY, &(row.tuple)(), ISN, row.cookie, row.now, MAX_AGE),
            row.expect,
            "{}",
            row.name
        );
    }
}

/// Frames that get no SYN-ACK, each with its named error.
#[test]
fn syn_errors_golden() {
    let udp = FrameBuilder::udp4(CM, SM, client4(), vip4(), 5353, 53).build();
    let mut bad_sum = syn4().build();
    *bad_sum.last_mut().unwrap() ^= 1;
    let rows: [(&str, Vec<u8>, SynError); 8] = [
        ("UDP", udp, SynError::NotTcp),
        (
            "SYN-ACK",
            syn4().flags(TcpFlags::SYN | TcpFlags::ACK).build(),
            SynError::NotSyn,
        ),
        ("RST", syn4().flags(TcpFlags::RST).build(), SynError::NotSyn),
        (
            "SYN|FIN",
            syn4().flags(TcpFlags::SYN | TcpFlags::FIN).build(),
            SynError::NotSyn,
        ),
        ("bad TCP checksum", bad_sum, SynError::Checksum),
        (
            "window scale 4 bytes long",
            syn4().tcp_options(&[3, 4, 7, 0]).build(),
            SynError::BadOption { at: 4, kind: 3 },
        ),
        (
            "timestamps running past the header",
            syn4().tcp_options(&[1, 1, 8, 10]).build(),
            SynError::BadOption { at: 6, kind: 8 },
        ),
        (
            "an option of length 1",
            syn6().tcp_options(&[30, 1, 0, 0]).build(),
            SynError::BadOption { at: 4, kind: 30 },
        ),
    ];
    for (name, f, want) in rows {
        assert_eq!(parse_syn(&f), Err(want), "{name}");
    }
    // A first fragment.
    let frag = syn4().dont_frag(false).fragment(0, true).build();
    assert_eq!(parse_syn(&frag), Err(SynError::Fragment));
    // Not enough room: the frame is left as it was.
    let f = syn4().build();
    let syn = parse_syn(&f).unwrap();
    let mut short = syn6().tcp_options(&LINUX).build();
    let syn6 = parse_syn(&short).unwrap();
    let before = short.clone();
    short.truncate(syn_ack_len(&syn6) - 1);
    let before = &before[..short.len()];
    assert_eq!(
        syn_ack_in_place(&mut short, &syn6, 1, &ADV, 0),
        Err(SynError::NoRoom { need: 94 })
    );
    assert_eq!(short, before);
    let mut b = f.clone();
    assert_eq!(syn_ack_in_place(&mut b, &syn, 1, &ADV, 0), Ok(58));
}
