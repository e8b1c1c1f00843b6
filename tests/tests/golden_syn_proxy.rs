//! Delayed binding (issue 16) on the deterministic rig, IPv4 and IPv6: a
//! `syn_proxy` service of plain clients over s1.
//!
//! - a SYN is answered by the worker with the cookie SYN-ACK (the bytes
//!   the wire layer's golden tables pin, under the rig's key and time),
//!   and nothing is held: no punt, no session, no label;
//! - the cookie ACK binds the session: one marked (TC 1) labelled SYN to
//!   the server with the client's ISN and the cookie's options, no table
//!   entry yet; the client's data after it is held;
//! - the server's SYN-ACK is consumed: the ACK replayed marked and byte
//!   for byte, the data after it unmarked, the session installed and
//!   `spliced`; from then on frames are switched by label (TC cleared on
//!   a client's labelled frame);
//! - bad cookies (forged, stale) are dropped as such; a SYN flood holds
//!   no label;
//! - a server that never answers gets the SYN three times, then the
//!   client is reset; one that answers with a reset too;
//! - a TCP-MD5 SYN is not proxied.

use serde_json::json;
use slb_appliance::counters::Event;
use slb_tests::golden::net::{port_mac, Net, CLIENT, PORT_MACS, SERVER};
use slb_tests::golden::row::Family;
use slb_tests::golden::{on, unlabel, Rig};
use slb_wire::syn_cookie::syn_ack::{self, Advertise};
use slb_wire::syn_cookie::{self, counter, replay};
use slb_wire::{mpls, FrameBuilder, TcpFlags};

/// Unix ms when the rig's clock reads 0 (the rig starts at 1 s).
const EPOCH_MS: u64 = 1_800_000_000_000;
const VPORT: u16 = 80;
const ACK: TcpFlags = TcpFlags::ACK;

fn syn_ack_flags() -> TcpFlags {
    TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0)
}

/// MSS 1460, SACK-permitted, timestamps (`tsval`, 0), window scale 7.
fn syn_options(tsval: u32) -> Vec<u8> {
    let mut o = vec![2, 4, 0x05, 0xb4, 4, 2, 8, 10];
    o.extend(tsval.to_be_bytes());
    o.extend([0, 0, 0, 0, 1, 3, 3, 7]);
    o
}

/// NOP NOP timestamps (`tsval`, `tsecr`).
fn ts_options(tsval: u32, tsecr: u32) -> Vec<u8> {
    let mut o = vec![1, 1, 8, 10];
    o.extend(tsval.to_be_bytes());
    o.extend(tsecr.to_be_bytes());
    o
}

fn rig(n: &Net) -> Rig {
    let service = n.service(
        "web",
        VPORT,
        json!({ "client_mode": "plain", "syn_proxy": true }),
        &[(0, json!({}))],
    );
    let neighbours: Vec<_> = n
        .servers
        .iter()
        .map(|h| json!({ "address": h.ip, "mac": h.mac.to_string() }))
        .collect();
    let cfg = n.config(json!({ "neighbours": neighbours }), vec![service]);
    let mut r = Rig::with_macs(&cfg, 2, &PORT_MACS);
    r.dp.shared.set_wall_epoch_ms(EPOCH_MS);
    r.settle();
    r
}

fn wall_ms(r: &Rig) -> u64 {
    EPOCH_MS + r.now / 1_000_000
}

/// The client's SYN from port `cport`, ISN 1000.
fn client_syn(n: &Net, cport: u16) -> Vec<u8> {
    n.from_client(n.c2, cport, VPORT)
        .flags(TcpFlags::SYN)
        .seq(1000)
        .window(64240)
        .tcp_options(&syn_options(77))
        .build()
}

/// The cookie SYN-ACK the rig must answer `syn` with, computed from the
/// wire layer under the rig's key and time.
fn expected_syn_ack(r: &Rig, n: &Net, syn: &[u8]) -> Vec<u8> {
    let s = syn_ack::parse_syn(syn).unwrap();
    let v6 = s.tuple.is_v6();
    let ms = wall_ms(r);
    let cookie = syn_cookie::encode(
        &r.dp.shared.cookie_key,
        &s.tuple,
        s.isn,
        counter(ms / 1000),
        &s.options.cookie_options(v6),
    );
    let mut f = syn.to_vec();
    f.resize(syn_ack::syn_ack_len(&s).max(f.len()), 0);
    let adv = Advertise {
        mss: n.mss,
        wscale: 7,
        window: if v6 { 1440 * 4 } else { 1460 * 4 },
    };
    let len = syn_ack::syn_ack_in_place(&mut f, &s, cookie, &adv, ms as u32).unwrap();
    f.truncate(len);
    f
}

fn seq_of(tcp_frame: &[u8]) -> u32 {
    let k = slb_wire::classify::classify(tcp_frame).unwrap();
    let slb_wire::Classified::Ip(ip) = k else {
        panic!("not IP");
    };
    let o = ip.l4_offset;
    u32::from_be_bytes(tcp_frame[o + 4..o + 8].try_into().unwrap())
}

/// The client's handshake: SYN, the cookie SYN-ACK out; returns the
/// cookie.
fn handshake(r: &mut Rig, n: &Net, cport: u16) -> u32 {
    let syn = client_syn(n, cport);
    let out = r.send(CLIENT, &syn);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].0, CLIENT, "answered out of the port it came in on");
    assert_eq!(out[0].1, expected_syn_ack(r, n, &syn));
    seq_of(&out[0].1)
}

fn cookie_ack(n: &Net, cport: u16, cookie: u32, tsecr: u32) -> FrameBuilder {
    n.from_client(n.c2, cport, VPORT)
        .flags(ACK)
        .seq(1001)
        .ack(cookie.wrapping_add(1))
        .window(502)
        .tcp_options(&ts_options(78, tsecr))
}

fn bound_session(family: Family) {
    let n = Net::new(family);
    let mut r = rig(&n);
    let punted = r.event(Event::PuntedNew);
    let cookie = handshake(&mut r, &n, 40000);
    assert_eq!(r.event(Event::SynCookiesSent), 1);
    assert_eq!(r.event(Event::PuntedNew), punted, "the SYN went nowhere");
    assert_eq!(r.active_sessions(), 0, "no label for a SYN");

    // The cookie ACK: a marked SYN to s1, nothing installed yet.
    let tsecr = wall_ms(&r) as u32;
    let ack = cookie_ack(&n, 40000, cookie, tsecr).build();
    let out = r.send(CLIENT, &ack);
    let to_server = on(&out, SERVER);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(r.event(Event::SynCookiesValid), 1);
    assert_eq!(r.active_sessions(), 1);
    let (label, tc, syn) = unlabel(&to_server[0]);
    assert_eq!(label % 2, 1, "the client-to-server label");
    assert_eq!(tc, replay::SPLICE_TC, "the replayed SYN is marked");
    assert_eq!(&syn[..6], &n.servers[0].mac.0, "to s1");
    let s = syn_ack::parse_syn(&syn).unwrap();
    assert_eq!(s.isn, 1000, "the client's own ISN");
    assert_eq!(s.tuple.src, n.c2.ip);
    assert_eq!(s.tuple.dst, n.vip);
    assert_eq!(s.options.mss, Some(n.mss), "the cookie's MSS, clamped");
    assert_eq!(s.options.wscale, Some(7));
    assert!(s.options.sack_ok);
    assert_eq!(s.options.tsval, Some(78), "the ACK's TSval");
    assert!(
        r.dp.shared.tables.replica(0).get(label).is_none()
            && r.dp.shared.tables.replica(0).get(label + 1).is_none(),
        "no entry before the server answered"
    );

    // Data before the server answered: held.
    let data = n
        .from_client(n.c2, 40000, VPORT)
        .flags(TcpFlags(ACK.0 | TcpFlags::PSH.0))
        .seq(1001)
        .ack(cookie.wrapping_add(1))
        .payload(b"GET / HTTP/1.0\r\n\r\n")
        .build();
    assert!(r.send(CLIENT, &data).is_empty());
    assert_eq!(r.event(Event::SpliceHeld), 1);

    // The server's SYN-ACK: consumed; the ACK replayed marked, the data.
    let mut opts = vec![2, 4, 0x05, 0xb4, 4, 2, 8, 10];
    opts.extend(900u32.to_be_bytes());
    opts.extend(78u32.to_be_bytes());
    opts.extend([1, 3, 3, 7]);
    let server_syn_ack = n
        .from_server(0, n.c2, VPORT, 40000)
        .label(label + 1)
        .flags(syn_ack_flags())
        .seq(5000)
        .ack(1001)
        .tcp_options(&opts)
        .build();
    let out = r.send(SERVER, &server_syn_ack);
    assert!(on(&out, CLIENT).is_empty(), "the client never sees it");
    let to_server = on(&out, SERVER);
    assert_eq!(to_server.len(), 2, "{out:?}");
    let (l, tc, inner) = unlabel(&to_server[0]);
    assert_eq!((l, tc), (label, replay::SPLICE_TC), "the ACK, marked");
    assert_eq!(&inner[14..], &ack[14..], "byte for byte");
    let (l, tc, inner) = unlabel(&to_server[1]);
    assert_eq!((l, tc), (label, 0), "the data, unmarked");
    assert_eq!(&inner[14..], &data[14..]);
    assert_eq!(r.event(Event::SessionsSpliced), 1);
    assert_eq!(r.event(Event::SpliceOptionMismatch), 0);
    let list = r.ctl("sessions.list", json!({})).unwrap();
    assert_eq!(list["sessions"][0]["spliced"], true, "{list}");
    assert_eq!(list["sessions"][0]["state"], "established", "{list}");

    // The server sends its SYN-ACK again (the replayed ACK was lost on
    // the way): the ACK goes again, marked; the client, which had the
    // cookie's SYN-ACK, never sees the server's.
    let out = r.send(SERVER, &server_syn_ack);
    assert!(on(&out, CLIENT).is_empty(), "{out:?}");
    assert_eq!(r.drops("spliced_syn_ack"), 1);
    let to_server = on(&out, SERVER);
    assert_eq!(to_server.len(), 1, "{out:?}");
    let (l, tc, inner) = unlabel(&to_server[0]);
    assert_eq!((l, tc), (label, replay::SPLICE_TC));
    assert_eq!(&inner[14..], &ack[14..]);
    assert_eq!(r.event(Event::SpliceAckResent), 1);
    // Another 9 s on: still kept, still answered (Linux repeats its
    // SYN-ACK for 31 s).
    r.advance_ms(9000);
    let out = r.send(SERVER, &server_syn_ack);
    assert_eq!(on(&out, SERVER).len(), 1, "{out:?}");
    assert_eq!(r.event(Event::SpliceAckResent), 2);

    // From here on, by label: the client's next segment from the cache.
    let more = n
        .from_client(n.c2, 40000, VPORT)
        .flags(ACK)
        .seq(1019)
        .ack(cookie.wrapping_add(1))
        .payload(b"more")
        .build();
    let out = r.send(CLIENT, &more);
    assert_eq!(on(&out, SERVER).len(), 1, "{out:?}");
    assert_eq!(unlabel(&on(&out, SERVER)[0]).0, label);
    // A client's own mark is cleared.
    let mut forged = FrameBuilder::tcp(n.c2.mac, port_mac(CLIENT), n.c2.ip, n.vip, 40000, VPORT)
        .flags(ACK)
        .seq(1023)
        .ack(cookie.wrapping_add(1))
        .payload(b"x")
        .label(label)
        .build();
    let o = mpls::top_label(&forged).unwrap().offset;
    replay::mark_lse_in_place(&mut forged, o);
    let out = r.send(CLIENT, &forged);
    let to_server = on(&out, SERVER);
    assert_eq!(to_server.len(), 1, "{out:?}");
    assert_eq!(unlabel(&to_server[0]).1, 0, "TC cleared");
    // The server's answer, by label, popped toward the plain client.
    let answer = n
        .from_server(0, n.c2, VPORT, 40000)
        .label(label + 1)
        .flags(ACK)
        .seq(5001)
        .ack(1024)
        .payload(b"HTTP/1.0 200 OK\r\n")
        .build();
    let out = r.send(SERVER, &answer);
    assert_eq!(on(&out, CLIENT).len(), 1, "{out:?}");
    // That segment showed the ACK arrived: the copy is gone, a SYN-ACK
    // now is a stray (kept from the client, not answered).
    let out = r.send(SERVER, &server_syn_ack);
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(r.event(Event::SpliceAckResent), 2);
    assert_eq!(r.drops("spliced_syn_ack"), 3);
}

fn bad_cookies_and_flood(family: Family) {
    let n = Net::new(family);
    let mut r = rig(&n);
    // Forged: an ACK no SYN-ACK asked for.
    let forged = cookie_ack(&n, 41000, 0x1234_5678, 0).build();
    assert!(r.send(CLIENT, &forged).is_empty());
    // Stale: a good cookie, answered after two counters (over 128 s).
    let cookie = handshake(&mut r, &n, 41001);
    r.dp.shared.set_wall_epoch_ms(EPOCH_MS + 200_000);
    r.settle();
    let late = cookie_ack(&n, 41001, cookie, 0).build();
    assert!(r.send(CLIENT, &late).is_empty());
    assert_eq!(r.drops("cookie_forged") + r.drops("cookie_stale"), 2);
    assert!(r.drops("cookie_stale") >= 1, "the old cookie is stale");
    assert_eq!(r.active_sessions(), 0);
    assert_eq!(r.event(Event::SynCookiesValid), 0);

    // A SYN flood: every SYN answered, no label held, nothing punted.
    let punted = r.event(Event::PuntedNew);
    for i in 0..500u16 {
        let out = r.send(CLIENT, &client_syn(&n, 20000 + i));
        assert_eq!(out.len(), 1);
    }
    assert_eq!(r.event(Event::SynCookiesSent), 501);
    assert_eq!(r.event(Event::PuntedNew), punted);
    assert_eq!(
        r.active_sessions(),
        0,
        "0 label pairs for half-open sessions"
    );
    let labels = r.dp.scheduler.core().labels().counts();
    assert_eq!(labels.active, 0);
}

fn silent_and_refusing_servers(family: Family) {
    let n = Net::new(family);
    let mut r = rig(&n);
    // Silent: the SYN at 0, 1 and 2 s, then the client is reset.
    let cookie = handshake(&mut r, &n, 42000);
    let ack = cookie_ack(&n, 42000, cookie, wall_ms(&r) as u32).build();
    assert_eq!(on(&r.send(CLIENT, &ack), SERVER).len(), 1);
    let out = r.advance_ms(1000);
    assert_eq!(on(&out, SERVER).len(), 1, "again after 1 s");
    let out = r.advance_ms(1000);
    assert_eq!(on(&out, SERVER).len(), 1, "and after 2 s");
    let out = r.advance_ms(1000);
    let to_client = on(&out, CLIENT);
    assert_eq!(to_client.len(), 1, "{out:?}");
    assert_eq!(
        seq_of(&to_client[0]),
        cookie.wrapping_add(1),
        "in the client's window"
    );
    assert_eq!(r.event(Event::SpliceSynRetries), 2);
    assert_eq!(r.event(Event::SpliceTimeouts), 1);
    assert_eq!(r.active_sessions(), 0);

    // Refusing: the server's reset resets the client; held data goes.
    let cookie = handshake(&mut r, &n, 42001);
    let ack = cookie_ack(&n, 42001, cookie, wall_ms(&r) as u32).build();
    let out = r.send(CLIENT, &ack);
    let (label, _, _) = unlabel(&on(&out, SERVER)[0]);
    let rst = n
        .from_server(0, n.c2, VPORT, 42001)
        .label(label + 1)
        .flags(TcpFlags(TcpFlags::RST.0 | ACK.0))
        .seq(0)
        .ack(1001)
        .build();
    let out = r.send(SERVER, &rst);
    assert_eq!(on(&out, CLIENT).len(), 1, "{out:?}");
    assert_eq!(r.event(Event::SpliceRefused), 1);
    assert_eq!(r.active_sessions(), 0);
}

fn signed_syn_is_not_proxied(family: Family) {
    let n = Net::new(family);
    let mut r = rig(&n);
    // MSS 1460, TCP-MD5 (kind 19, 18 bytes), NOP NOP.
    let mut opts = vec![2, 4, 0x05, 0xb4, 19, 18];
    opts.extend([0xab; 16]);
    opts.extend([1, 1]);
    let syn = n
        .from_client(n.c2, 43000, VPORT)
        .flags(TcpFlags::SYN)
        .seq(1000)
        .tcp_options(&opts)
        .build();
    let out = r.send(CLIENT, &syn);
    let to_server = on(&out, SERVER);
    assert_eq!(to_server.len(), 1, "{out:?}");
    let (_, tc, _) = unlabel(&to_server[0]);
    assert_eq!(tc, 0, "an ordinary session");
    assert_eq!(r.event(Event::SynProxyBypassed), 1);
    assert_eq!(r.event(Event::SynCookiesSent), 0);
    assert_eq!(r.active_sessions(), 1);
}

macro_rules! both {
    ($($f:ident),*) => {
        mod v4 {
            $(#[test] fn $f() { super::$f(super::Family::V4) })*
        }
        mod v6 {
            $(#[test] fn $f() { super::$f(super::Family::V6) })*
        }
    };
}

both!(
    bound_session,
    bad_cookies_and_flood,
    silent_and_refusing_servers,
    signed_syn_is_not_proxied
);
