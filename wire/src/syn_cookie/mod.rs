//! SYN cookies (RFC 4987 §3.6): the ISN of a SYN-ACK that carries, under a
//! keyed PRF, everything needed to accept the handshake's final ACK without
//! having kept any state for the SYN. Groundwork for delayed binding
//! (issue 16); nothing on the data path calls this yet. [`syn_ack`]
//! answers the client's SYN with a cookie; [`replay`] rebuilds the SYN for
//! the server once the cookie ACK has checked, marks the label, and reads
//! the server's SYN-ACK and the cookie ACK.
//!
//! The construction is Linux's (`net/ipv4/syncookies.c`,
//! `secure_tcp_syn_cookie`), with the client's options in the data bits as
//! DPVS's synproxy keeps them (`include/ipvs/synproxy.h`):
//!
//! ```text
//! cookie = H1(tuple) + client ISN + (counter << 24)
//!        + ((H2(tuple, counter) + data) mod 2^24)          (all mod 2^32)
//!
//!  data (24 bits):
//!  23                   10  9   8   7     4 3     0
//! +-----------------------+---+---+-------+-------+
//! |       must be 0       |TS |SACK|wscale|MSS idx|
//! +-----------------------+---+---+-------+-------+
//! ```
//!
//! * `H1`, `H2`: SipHash-2-4 (the PRF of Linux's syncookies) under one
//!   128-bit [`CookieKey`], over the tuple (and the counter for `H2`), kept
//!   apart by a domain byte; the low 32 bits of the 64-bit output.
//! * `counter`: a coarse clock the caller passes in ([`counter`]: 64 s
//!   units); only its low 8 bits are in the cookie. [`check`] accepts the
//!   current counter and the `max_age - 1` before it ([`MAX_AGE`] = 2, as
//!   Linux's `MAX_SYNCOOKIE_AGE`: a cookie lives 64 to 128 s).
//! * `MSS idx`: the client's MSS rounded down into [`MSS_TABLE_V4`] /
//!   [`MSS_TABLE_V6`] (Linux's `msstab`s; 4 bits, 4 entries used).
//! * `wscale`: the client's window scale, 0..=14 (RFC 7323 §2.3: a larger
//!   one counts as 14), 15 when the client sent none.
//! * `SACK`, `TS`: the client sent SACK-permitted, timestamps.
//!
//! Forgery odds: for a cookie guessed without the key, the value after
//! removing `H1 + ISN` is uniform, so the counter byte falls in the window
//! with probability `max_age / 256` and the 24 data bits decode to one of
//! the 4 x 16 x 2 x 2 = 256 valid values with probability `256 / 2^24`:
//! `max_age * 2^-24` per guess, 2^-23 (about 1.2e-7) with [`MAX_AGE`].
//! (Linux's 2-bit data gives 2^-29; the other 6 bits here carry options.)
//! The data bits are covered by the hash only through the sum: a client
//! holding a valid cookie for its own tuple can change its own option bits
//! (as with Linux and DPVS), which gains nothing a SYN with those options
//! would not have given it. Likewise the client's ISN enters by addition,
//! not through the hash (Linux's construction): an ACK whose seq or ack is
//! off by `d` reads as a cookie off by `d`, refused unless `d` only moves
//! option bits, and only the client itself can send that.
//!
//! No allocation, no panic on any input.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

pub mod replay;
pub mod syn_ack;

#[cfg(test)]
mod golden;
#[cfg(test)]
mod replay_golden;

use core::net::IpAddr;
use siphasher::sip::SipHasher24;

/// Seconds per counter tick ([`counter`]); Linux uses 60, a power of two
/// keeps the division a shift.
pub const COUNTER_SECONDS: u64 = 64;

/// Counters a cookie is accepted for: the one it was made in and the one
/// after (Linux's `MAX_SYNCOOKIE_AGE`).
pub const MAX_AGE: u8 = 2;

/// The MSS a cookie can carry for IPv4 (Linux's `msstab` in
/// `net/ipv4/syncookies.c`): the RFC 9293 default, and the common values
/// behind tunnels, PPPoE and plain Ethernet.
pub const MSS_TABLE_V4: [u16; 4] = [536, 1300, 1440, 1460];

/// The MSS a cookie can carry for IPv6 (Linux's `msstab` in
/// `net/ipv6/syncookies.c`: 1280, 1480, 1500 and 9000-byte MTUs less 60).
pub const MSS_TABLE_V6: [u16; 4] = [1220, 1420, 1440, 8940];

/// The largest window scale (RFC 7323 §2.3).
pub const WSCALE_MAX: u8 = 14;

/// The data bits (the low 24 of the cookie).
const DATA_MASK: u32 = 0x00ff_ffff;
/// Window scale field value for "no window scale option".
const WSCALE_NONE: u32 = 0xf;
const SACK_BIT: u32 = 1 << 8;
const TS_BIT: u32 = 1 << 9;
/// Data bits that must be zero.
const RESERVED_MASK: u32 = DATA_MASK & !0x3ff;

/// The 128-bit PRF key. Its `Debug` does not print it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CookieKey(pub [u8; 16]);

impl core::fmt::Debug for CookieKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CookieKey(..)")
    }
}

/// The connection a cookie is bound to, in the client's direction (as the
/// SYN and the final ACK both go): client address and port, service
/// address and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tuple {
    /// Client address (the SYN's source).
    pub src: IpAddr,
    /// Service address (the SYN's destination).
    pub dst: IpAddr,
    /// Client port.
    pub src_port: u16,
    /// Service port.
    pub dst_port: u16,
}

impl Tuple {
    /// IPv6 (decides the MSS table): the client's address is.
    pub fn is_v6(&self) -> bool {
        self.src.is_ipv6()
    }
}

/// The client's SYN options a cookie carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CookieOptions {
    /// Index into [`MSS_TABLE_V4`] / [`MSS_TABLE_V6`] ([`mss_index`]).
    /// [`encode`] keeps its low 4 bits; [`check`] refuses an index past
    /// the table ([`CookieError::BadData`]).
    pub mss_index: u8,
    /// The client's window scale; [`encode`] lowers one over
    /// [`WSCALE_MAX`] to it.
    pub wscale: Option<u8>,
    /// The client sent SACK-permitted.
    pub sack_ok: bool,
    /// The client sent timestamps.
    pub ts_ok: bool,
}

impl CookieOptions {
    /// The MSS the index stands for, from the table of the family (`None`
    /// for an index past the table).
    pub fn mss(&self, v6: bool) -> Option<u16> {
        mss_table(v6).get(usize::from(self.mss_index)).copied()
    }

    /// The 24 data bits.
    fn data(&self) -> u32 {
        let ws = match self.wscale {
            Some(w) => u32::from(w.min(WSCALE_MAX)),
            None => WSCALE_NONE,
        };
        let mut d = u32::from(self.mss_index & 0xf) | ws << 4;
        if self.sack_ok {
            d |= SACK_BIT;
        }
        if self.ts_ok {
            d |= TS_BIT;
        }
        d
    }

    /// Decode 24 data bits.
    fn from_data(data: u32) -> Result<CookieOptions, CookieError> {
        if data & RESERVED_MASK != 0 {
            return Err(CookieError::Forged);
        }
        let mss_index = (data & 0xf) as u8;
        if usize::from(mss_index) >= MSS_TABLE_V4.len() {
            return Err(CookieError::BadData);
        }
        let ws = (data >> 4) & 0xf;
        Ok(CookieOptions {
            mss_index,
            wscale: (ws != WSCALE_NONE).then_some(ws as u8),
            sack_ok: data & SACK_BIT != 0,
            ts_ok: data & TS_BIT != 0,
        })
    }
}

/// Why [`check`] refused a cookie. Every refusal is a drop to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CookieError {
    /// The counter bits are outside the accepted window: a cookie older
    /// than `max_age` counters (or from the future), or, 254 times in 256,
    /// a guessed one.
    Stale,
    /// The data bits that must be zero are not: the hash does not match
    /// (a wrong tuple, ISN or key, or a guessed cookie).
    Forged,
    /// The hash matched but the data names no MSS in the table (made from
    /// options [`encode`] was wrongly given, or a guess that got 14 bits
    /// right).
    BadData,
}

impl CookieError {
    /// A stable counter name.
    pub const fn as_str(self) -> &'static str {
        match self {
            CookieError::Stale => "cookie_stale",
            CookieError::Forged => "cookie_forged",
            CookieError::BadData => "cookie_bad_data",
        }
    }
}

impl core::fmt::Display for CookieError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            CookieError::Stale => "SYN cookie: counter out of the accepted window",
            CookieError::Forged => "SYN cookie: hash does not match",
            CookieError::BadData => "SYN cookie: data bits name no MSS",
        })
    }
}

impl core::error::Error for CookieError {}

/// The MSS table of the family.
pub const fn mss_table(v6: bool) -> &'static [u16; 4] {
    if v6 {
        &MSS_TABLE_V6
    } else {
        &MSS_TABLE_V4
    }
}

/// The index of the largest table entry not above the client's MSS (index
/// 0 when the MSS is below every entry or absent: RFC 9293 §3.7.1's
/// default, 536 for IPv4, and IPv6's 1220, are the first entries). As
/// Linux's `__cookie_v4_init_sequence`.
pub fn mss_index(v6: bool, mss: Option<u16>) -> u8 {
    let Some(mss) = mss else { return 0 };
    let mut best = 0u8;
    for (i, &m) in mss_table(v6).iter().enumerate() {
        if mss >= m {
            best = i as u8;
        }
    }
    best
}

/// The counter for a time in seconds (any epoch the instances share, e.g.
/// Unix time): `seconds / 64`, truncated to 32 bits.
pub const fn counter(seconds: u64) -> u32 {
    (seconds / COUNTER_SECONDS) as u32
}

/// Domain bytes keeping `H1` and `H2` apart under one key.
const H1: u8 = 0;
const H2: u8 = 1;

/// SipHash-2-4 of `[domain, families, src (16), dst (16), src port,
/// dst port, counter]`, an IPv4 address in the first 4 of its 16 bytes
/// (the families byte tells them apart); the low 32 bits.
fn prf(key: &CookieKey, domain: u8, t: &Tuple, count: u32) -> u32 {
    let mut m = [0u8; 42];
    let (head, rest) = m.split_at_mut(2);
    let (src, rest) = rest.split_at_mut(16);
    let (dst, rest) = rest.split_at_mut(16);
    let (ports, count_bytes) = rest.split_at_mut(4);
    let fam = |a: &IpAddr, out: &mut [u8]| match a {
        IpAddr::V4(a) => {
            out.iter_mut().zip(a.octets()).for_each(|(o, b)| *o = b);
            0u8
        }
        IpAddr::V6(a) => {
            out.iter_mut().zip(a.octets()).for_each(|(o, b)| *o = b);
            1u8
        }
    };
    let fs = fam(&t.src, src);
    let fd = fam(&t.dst, dst);
    head.copy_from_slice(&[domain, fs | fd << 1]);
    let p = (u32::from(t.src_port) << 16 | u32::from(t.dst_port)).to_be_bytes();
    ports.copy_from_slice(&p);
    count_bytes.copy_from_slice(&count.to_be_bytes());
    SipHasher24::new_with_key(&key.0).hash(&m) as u32
}

/// The cookie (the SYN-ACK's sequence number) for a SYN of `tuple` with
/// sequence number `client_isn`, made at `counter` ([`counter`]), carrying
/// `opts` (the client's options, [`syn_ack::SynOptions::cookie_options`]).
pub fn encode(
    key: &CookieKey,
    tuple: &Tuple,
    client_isn: u32,
    counter: u32,
    opts: &CookieOptions,
) -> u32 {
    let low = prf(key, H2, tuple, counter).wrapping_add(opts.data()) & DATA_MASK;
    prf(key, H1, tuple, 0)
        .wrapping_add(client_isn)
        .wrapping_add(counter << 24)
        .wrapping_add(low)
}

/// Check the cookie of a handshake's final ACK of `tuple`, at counter
/// `now`, accepting cookies made in `now` and the `max_age - 1` counters
/// before it (`max_age` 0 accepts nothing); returns the options the
/// client's SYN had.
///
/// What to pass, from the ACK: `client_isn` = its sequence number - 1 (the
/// client's ISN: the ACK's seq is ISN + 1), `cookie` = its acknowledgment
/// number - 1 (the SYN-ACK's seq, acknowledged + 1). [`check_ack`] does
/// the subtractions.
pub fn check(
    key: &CookieKey,
    tuple: &Tuple,
    client_isn: u32,
    cookie: u32,
    now: u32,
    max_age: u8,
) -> Result<CookieOptions, CookieError> {
    let c = cookie
        .wrapping_sub(prf(key, H1, tuple, 0))
        .wrapping_sub(client_isn);
    let age = now.wrapping_sub(c >> 24) & 0xff;
    if age >= u32::from(max_age) {
        return Err(CookieError::Stale);
    }
    let made = now.wrapping_sub(age);
    CookieOptions::from_data(c.wrapping_sub(prf(key, H2, tuple, made)) & DATA_MASK)
}

/// [`check`] from the ACK's own `seq` and `ack` numbers.
pub fn check_ack(
    key: &CookieKey,
    tuple: &Tuple,
    seq: u32,
    ack: u32,
    now: u32,
    max_age: u8,
) -> Result<CookieOptions, CookieError> {
    check(
        key,
        tuple,
        seq.wrapping_sub(1),
        ack.wrapping_sub(1),
        now,
        max_age,
    )
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr};
    use proptest::prelude::*;

    const KEY: CookieKey = CookieKey(*b"slb cookie key!!");

    fn t4() -> Tuple {
        Tuple {
            src: Ipv4Addr::new(198, 18, 0, 10).into(),
            dst: Ipv4Addr::new(198, 19, 0, 1).into(),
            src_port: 40000,
            dst_port: 80,
        }
    }

    /// The PRF is the reference SipHash-2-4: the paper's test vector (key
    /// 00..0f, message 00..0e) through the crate as `prf` calls it.
    #[test]
    fn siphash_reference_vector() {
        let key: [u8; 16] = core::array::from_fn(|i| i as u8);
        let msg: [u8; 15] = core::array::from_fn(|i| i as u8);
        assert_eq!(
            SipHasher24::new_with_key(&key).hash(&msg),
            0xa129_ca61_49be_45e5
        );
    }

    #[test]
    fn mss_index_rounds_down() {
        assert_eq!(mss_index(false, None), 0);
        assert_eq!(mss_index(false, Some(100)), 0);
        assert_eq!(mss_index(false, Some(1299)), 0);
        assert_eq!(mss_index(false, Some(1300)), 1);
        assert_eq!(mss_index(false, Some(1459)), 2);
        assert_eq!(mss_index(false, Some(1460)), 3);
        assert_eq!(mss_index(false, Some(9000)), 3);
        assert_eq!(mss_index(true, Some(1440)), 2);
        assert_eq!(mss_index(true, Some(8940)), 3);
        assert_eq!(mss_index(true, Some(1460)), 2);
        let o = CookieOptions {
            mss_index: 3,
            wscale: None,
            sack_ok: false,
            ts_ok: false,
        };
        assert_eq!((o.mss(false), o.mss(true)), (Some(1460), Some(8940)));
    }

    #[test]
    fn counter_is_64_second_ticks() {
        assert_eq!(counter(0), 0);
        assert_eq!(counter(63), 0);
        assert_eq!(counter(64), 1);
        assert_eq!(counter(1_700_000_000), 26_562_500);
    }

    #[test]
    fn window_wraps_with_the_counter_byte() {
        let o = CookieOptions {
            mss_index: 1,
            wscale: Some(7),
            sack_ok: true,
            ts_ok: false,
        };
        // Made at 0x1ff (counter byte 0xff), checked at 0x200 (byte 0x00).
        let c = encode(&KEY, &t4(), 5, 0x1ff, &o);
        assert_eq!(check(&KEY, &t4(), 5, c, 0x200, MAX_AGE), Ok(o));
        assert_eq!(
            check(&KEY, &t4(), 5, c, 0x201, MAX_AGE),
            Err(CookieError::Stale)
        );
        // From the future.
        assert_eq!(
            check(&KEY, &t4(), 5, c, 0x1fe, MAX_AGE),
            Err(CookieError::Stale)
        );
        assert_eq!(check(&KEY, &t4(), 5, c, 0x1ff, 0), Err(CookieError::Stale));
        // A long max age reaches further back.
        assert_eq!(check(&KEY, &t4(), 5, c, 0x210, 32), Ok(o));
    }

    #[test]
    fn wscale_over_14_counts_as_14_and_ack_numbers_are_off_by_one() {
        let mut o = CookieOptions {
            mss_index: 0,
            wscale: Some(200),
            sack_ok: false,
            ts_ok: true,
        };
        let c = encode(&KEY, &t4(), u32::MAX, 9, &o);
        o.wscale = Some(14);
        assert_eq!(check(&KEY, &t4(), u32::MAX, c, 9, MAX_AGE), Ok(o));
        // The ACK: seq = ISN + 1 (wraps to 0), ack = cookie + 1.
        assert_eq!(
            check_ack(&KEY, &t4(), 0, c.wrapping_add(1), 10, MAX_AGE),
            Ok(o)
        );
        // An ack one short reads as data - 1: MSS index 0 - 1 = 15.
        assert_eq!(
            check_ack(&KEY, &t4(), 0, c, 10, MAX_AGE),
            Err(CookieError::BadData)
        );
    }

    #[test]
    fn debug_hides_the_key() {
        assert_eq!(std::format!("{KEY:?}"), "CookieKey(..)");
    }

    /// A deterministic generator for the forgery count (splitmix64).
    fn splitmix(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// 200 000 random cookies for one tuple and ISN: each is accepted
    /// with probability 2^-23, so the expected count is 0.024, and P(>= 3)
    /// is about 2e-6 (and the loop is deterministic: a fixed seed). The
    /// refusals split as the construction says: the counter byte rejects
    /// 254/256 of them, the reserved bits nearly all the rest.
    #[test]
    fn random_cookies_are_refused_at_the_predicted_rate() {
        const N: u32 = 200_000;
        let (mut ok, mut stale, mut forged, mut bad) = (0u32, 0u32, 0u32, 0u32);
        let mut s = 0x5eed_u64;
        for _ in 0..N {
            let cookie = splitmix(&mut s) as u32;
            match check(&KEY, &t4(), 1234, cookie, 1000, MAX_AGE) {
                Ok(_) => ok += 1,
                Err(CookieError::Stale) => stale += 1,
                Err(CookieError::Forged) => forged += 1,
                Err(CookieError::BadData) => bad += 1,
            }
        }
        assert!(ok <= 2, "{ok} forged cookies accepted");
        // Expected 198 437.5 stale (sd ~ 88) and 1 562.5 forged (sd ~ 39).
        assert!((197_500..=199_400).contains(&stale), "stale {stale}");
        assert!((1_300..=1_800).contains(&forged), "forged {forged}");
        assert!(bad <= 2, "bad data {bad}");
    }

    /// Two addresses of one family (proptest).
    pub(crate) fn any_addr_pair() -> impl Strategy<Value = (IpAddr, IpAddr)> {
        prop_oneof![
            (any::<u32>(), any::<u32>())
                .prop_map(|(a, b)| (IpAddr::V4(Ipv4Addr::from(a)), IpAddr::V4(Ipv4Addr::from(b)))),
            (any::<u128>(), any::<u128>())
                .prop_map(|(a, b)| (IpAddr::V6(Ipv6Addr::from(a)), IpAddr::V6(Ipv6Addr::from(b)))),
        ]
    }

    /// Any options a cookie can carry (proptest).
    pub(crate) fn any_options() -> impl Strategy<Value = CookieOptions> {
        (
            0u8..4,
            proptest::option::of(0u8..=14),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(mss_index, wscale, sack_ok, ts_ok)| CookieOptions {
                mss_index,
                wscale,
                sack_ok,
                ts_ok,
            })
    }

    proptest! {
        // A fixed seed: the wrong-tuple checks below fail with probability
        // 2^-23 each (a true false accept, not a bug), so a random seed
        // would make the test fail about once in 1 400 runs.
        #![proptest_config(ProptestConfig {
            cases: 2000,
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x51b_c00c),
            ..ProptestConfig::default()
        })]

        /// Encode then check gives the options back, in the counter made
        /// and the next; a changed port, ISN or key is refused.
        #[test]
        fn round_trip(
            (src, dst) in any_addr_pair(),
            sp in any::<u16>(),
            dp in any::<u16>(),
            isn in any::<u32>(),
            count in any::<u32>(),
            later in 0u32..2,
            opts in any_options(),
        ) {
            let t = Tuple { src, dst, src_port: sp, dst_port: dp };
            let c = encode(&KEY, &t, isn, count, &opts);
            let now = count.wrapping_add(later);
            prop_assert_eq!(check(&KEY, &t, isn, c, now, MAX_AGE), Ok(opts));
            prop_assert_eq!(
                check(&KEY, &t, isn, c, count.wrapping_add(2), MAX_AGE),
                Err(CookieError::Stale)
            );
            // Wrong tuple / ISN / key: refused unless the 2^-23 chance.
            let other = Tuple { src_port: sp.wrapping_add(1), ..t };
            prop_assert!(check(&KEY, &other, isn, c, now, MAX_AGE).is_err());
            // The ISN enters by addition: off by 4 << 24, the counter
            // byte is 4 off.
            prop_assert_eq!(
                check(&KEY, &t, isn.wrapping_add(4 << 24), c, now, MAX_AGE),
                Err(CookieError::Stale)
            );
            let k2 = CookieKey(*b"another key.....");
            prop_assert!(check(&k2, &t, isn, c, now, MAX_AGE).is_err());
        }

        /// Never panics, whatever the input.
        #[test]
        fn check_takes_anything(
            (src, dst) in any_addr_pair(),
            isn in any::<u32>(), cookie in any::<u32>(),
            now in any::<u32>(), max_age in any::<u8>(),
        ) {
            let t = Tuple { src, dst, src_port: 1, dst_port: 2 };
            let _ = check(&KEY, &t, isn, cookie, now, max_age);
        }
    }
}
