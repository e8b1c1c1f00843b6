//! The cookie SYN-ACK, written in place over the client's SYN: read the
//! SYN ([`parse_syn`]), make the cookie from what it says
//! ([`super::encode`] with [`SynOptions::cookie_options`]), then rewrite
//! the frame into the SYN-ACK ([`syn_ack_in_place`]). No allocation, no
//! panic on any input.
//!
//! ```text
//!  SYN (client -> service)                SYN-ACK (service -> client)
//! +----------+----------+---------+      +----------+-------+----------------+
//! | Ethernet | IPv4/v6  | TCP SYN |  ->  | MACs     | fresh | TCP SYN|ACK    |
//! | [802.1Q] | [opts,   | options |      | swapped, | IP    | seq = cookie   |
//! |          |  ext hdr]| [data]  |      | tag kept | hdr   | ack = ISN + 1  |
//! +----------+----------+---------+      +----------+-------+----------------+
//! ```
//!
//! The SYN-ACK's options, in the order Linux's `tcp_options_write` puts
//! them (so a capture looks like a Linux server's):
//!
//! ```text
//! MSS              02 04 mm mm            always: the service's MSS
//! SACK-perm + TS   04 02 08 0a val ecr    client sent both
//! NOP NOP + TS     01 01 08 0a val ecr    client sent TS only
//! NOP NOP SACK-p   01 01 04 02            client sent SACK-permitted only
//! NOP + WS         01 03 03 ws            client sent a window scale
//! ```
//!
//! TCP Fast Open (kind 34, or 254 with ExID 0xF989, RFC 7413 §4.1.1) and
//! MPTCP's MP_CAPABLE (kind 30, subtype 0, RFC 8684 §3.1) are noted in
//! [`SynOptions`] and never answered: the client then resends its TFO data
//! after the handshake (RFC 7413 §4.2.2) and MPTCP falls back to TCP
//! (RFC 8684 §3.7). A SYN signed with TCP-MD5 (kind 19, RFC 2385) or
//! TCP-AO (kind 29, RFC 5925) is noted too ([`SynOptions::signed`]): its
//! signature covers the segment and a key slbd does not have, so slbd can
//! neither answer it nor replay it (the caller admits it by L4 instead).
//! Any data in the SYN is dropped with it. IPv4 options
//! and IPv6 extension headers are not copied: the SYN-ACK's IP header is
//! a fresh one (TTL / hop limit 64, IPv4 DF set, identification 0 as RFC
//! 6864 §4.1 allows for an atomic datagram).
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use super::{mss_index, CookieOptions, Tuple};
use crate::classify::{IpFrame, L4};
use crate::icmp_reply::TTL;
use crate::ip::IpProtocol;
use crate::tcp::{self, TcpFlags, TcpOption};
use crate::{ipv4, ipv6, Classified, DropReason};
use core::net::IpAddr;

/// MPTCP (RFC 8684 §3).
const KIND_MPTCP: u8 = 30;
/// TCP Fast Open (RFC 7413 §4.1.1).
const KIND_FAST_OPEN: u8 = 34;
/// Shared experimental option (RFC 6994), TFO's before kind 34.
const KIND_EXPERIMENTAL: u8 = 254;
/// TFO's experiment identifier under kind 254.
const TFO_EXID: [u8; 2] = [0xf9, 0x89];
/// TCP MD5 signature (RFC 2385).
const KIND_MD5: u8 = 19;
/// TCP Authentication Option (RFC 5925).
const KIND_AO: u8 = 29;

/// The most option bytes a SYN-ACK gets: MSS 4, SACK-permitted and
/// timestamps 12, window scale 4.
pub const MAX_OPTIONS_LEN: usize = 20;

/// What the client's SYN asked for, as its options say (the last of a
/// repeated option counts, as in Linux's `tcp_parse_options`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SynOptions {
    /// MSS option.
    pub mss: Option<u16>,
    /// Window scale option (the shift as sent).
    pub wscale: Option<u8>,
    /// SACK-permitted option.
    pub sack_ok: bool,
    /// The TSval of the timestamps option.
    pub tsval: Option<u32>,
    /// A TCP Fast Open option (cookie request or cookie), not echoed.
    pub fast_open: bool,
    /// An MPTCP MP_CAPABLE option, not echoed.
    pub mp_capable: bool,
    /// A TCP-MD5 (kind 19, RFC 2385) or TCP-AO (kind 29, RFC 5925)
    /// option: the SYN is signed with a key only the two ends have, so
    /// the connection cannot be proxied (no SYN-ACK of slbd's, no replayed
    /// SYN would verify); the caller admits it by L4 instead.
    pub signed: bool,
}

impl SynOptions {
    /// What the cookie keeps of them, for a client of this family: a
    /// window scale over 14 is 14 (RFC 7323, section 2.3: the receiver
    /// uses 14), as the cookie carries it, so what a cookie gives back
    /// is what this says.
    pub fn cookie_options(&self, v6: bool) -> CookieOptions {
        CookieOptions {
            mss_index: mss_index(v6, self.mss),
            wscale: self.wscale.map(|w| w.min(super::WSCALE_MAX)),
            sack_ok: self.sack_ok,
            ts_ok: self.tsval.is_some(),
        }
    }
}

/// A client's SYN, read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Syn {
    /// Client and service addresses and ports.
    pub tuple: Tuple,
    /// The client's ISN (the SYN's sequence number).
    pub isn: u32,
    /// Its options.
    pub options: SynOptions,
    /// Offset of the IP header in the frame.
    l3_offset: usize,
}

/// What the service advertises in its SYN-ACKs (set per service to match
/// its servers: the client keeps them for the whole connection, after the
/// server has taken over).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advertise {
    /// MSS option value.
    pub mss: u16,
    /// Window scale, sent when the client sent one (over 14 sends 14).
    pub wscale: u8,
    /// The window field (never scaled in a SYN, RFC 7323 §2.2).
    pub window: u16,
}

/// Why a frame cannot be answered with a cookie SYN-ACK. Each is a drop
/// to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SynError {
    /// The classifier dropped the frame ([`parse_syn`] only).
    Classify(DropReason),
    /// Not a plain (unlabelled) IP packet carrying TCP.
    NotTcp,
    /// TCP, but not a bare SYN: ACK, RST or FIN set, or SYN clear.
    NotSyn,
    /// A fragment: slbd answers only a SYN that came whole.
    Fragment,
    /// The TCP header is cut short or its data offset is under 5.
    BadHeader,
    /// The TCP checksum does not verify.
    Checksum,
    /// The options block is malformed at byte `at` of the options, an
    /// option of kind `kind`: a length under 2 or past the header, or one
    /// its kind forbids (an MSS option that is not 4 bytes long...).
    BadOption {
        /// Offset in the options.
        at: usize,
        /// The option's kind.
        kind: u8,
    },
    /// The buffer is shorter than the SYN-ACK (`need` bytes).
    NoRoom {
        /// Length the frame needs.
        need: usize,
    },
    /// The tuple's two addresses are not of one family.
    MixedFamily,
    /// The cookie options' MSS index names no entry of the MSS table
    /// ([`super::replay::write_replay_syn`]).
    BadMssIndex {
        /// The index.
        index: u8,
    },
    /// A segment taken for the server's SYN-ACK that is not one: SYN or
    /// ACK clear, or RST set ([`super::replay::parse_syn_ack`]).
    NotSynAck,
    /// A segment taken for the cookie ACK that is not one: ACK clear, or
    /// SYN or RST set ([`super::replay::parse_ack`]).
    NotAck,
}

impl SynError {
    /// A stable counter name.
    pub const fn as_str(&self) -> &'static str {
        match self {
            SynError::Classify(r) => r.as_str(),
            SynError::NotTcp => "syn_not_tcp",
            SynError::NotSyn => "syn_not_bare_syn",
            SynError::Fragment => "syn_fragment",
            SynError::BadHeader => "syn_bad_tcp_header",
            SynError::Checksum => "syn_bad_tcp_checksum",
            SynError::BadOption { .. } => "syn_bad_tcp_option",
            SynError::NoRoom { .. } => "syn_ack_no_room",
            SynError::MixedFamily => "syn_mixed_family",
            SynError::BadMssIndex { .. } => "syn_bad_mss_index",
            SynError::NotSynAck => "syn_ack_not_syn_ack",
            SynError::NotAck => "syn_ack_not_ack",
        }
    }
}

impl core::fmt::Display for SynError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SynError::Classify(r) => write!(f, "SYN: dropped by the classifier: {}", r.as_str()),
            SynError::NotTcp => f.write_str("SYN: not an IP packet carrying TCP"),
            SynError::NotSyn => f.write_str("SYN: TCP flags are not a bare SYN"),
            SynError::Fragment => f.write_str("SYN: fragmented"),
            SynError::BadHeader => f.write_str("SYN: TCP header truncated or data offset < 5"),
            SynError::Checksum => f.write_str("SYN: bad TCP checksum"),
            SynError::BadOption { at, kind } => {
                write!(
                    f,
                    "SYN: TCP option kind {kind} at option byte {at} malformed"
                )
            }
            SynError::NoRoom { need } => write!(f, "SYN-ACK: needs a {need}-byte buffer"),
            SynError::MixedFamily => f.write_str("SYN: tuple addresses of two families"),
            SynError::BadMssIndex { index } => {
                write!(f, "SYN: cookie MSS index {index} past the table")
            }
            SynError::NotSynAck => f.write_str("SYN-ACK: TCP flags are not SYN|ACK without RST"),
            SynError::NotAck => f.write_str("ACK: TCP flags are not ACK without SYN and RST"),
        }
    }
}

impl core::error::Error for SynError {}

/// Read the client's SYN in `frame` (Ethernet, at most one 802.1Q tag,
/// IPv4 or IPv6, TCP): classifies it, then [`parse_syn_at`].
pub fn parse_syn(frame: &[u8]) -> Result<Syn, SynError> {
    match crate::classify(frame) {
        Ok(Classified::Ip(ip)) => parse_syn_at(frame, &ip),
        Ok(_) => Err(SynError::NotTcp),
        Err(r) => Err(SynError::Classify(r)),
    }
}

/// Read the SYN in `frame`, which the classifier has already read as
/// `ip` (this frame, unchanged since). Checks the flags (a bare SYN), that
/// it is no fragment, the TCP header and checksum, and the options.
pub fn parse_syn_at(frame: &[u8], ip: &IpFrame) -> Result<Syn, SynError> {
    let L4::Tcp { flags } = ip.l4 else {
        return Err(SynError::NotTcp);
    };
    if ip.first_fragment {
        return Err(SynError::Fragment);
    }
    let handshake = TcpFlags::SYN | TcpFlags::ACK | TcpFlags::RST | TcpFlags::FIN;
    if TcpFlags(flags.0 & handshake.0) != TcpFlags::SYN {
        return Err(SynError::NotSyn);
    }
    let seg = frame
        .get(ip.l4_offset..ip.l3_end)
        .ok_or(SynError::BadHeader)?;
    let tcp = tcp::Packet::new_checked(seg).map_err(|_| SynError::BadHeader)?;
    if !tcp.verify_checksum(ip.flow.src, ip.flow.dst) {
        return Err(SynError::Checksum);
    }
    Ok(Syn {
        tuple: Tuple {
            src: ip.flow.src,
            dst: ip.flow.dst,
            src_port: tcp.src_port(),
            dst_port: tcp.dst_port(),
        },
        isn: tcp.seq_number(),
        options: parse_options(tcp.options())?,
        l3_offset: ip.l3_offset,
    })
}

/// Bytes an option that parsed took.
fn option_len(o: &TcpOption<'_>) -> usize {
    match o {
        TcpOption::EndOfList | TcpOption::NoOperation => 1,
        TcpOption::Mss(_) => 4,
        TcpOption::WindowScale(_) => 3,
        TcpOption::SackPermitted => 2,
        TcpOption::Timestamp { .. } => 10,
        TcpOption::Unknown { data, .. } => 2 + data.len(),
    }
}

/// Walk an options block with [`tcp::Options`], handing each option to
/// `each`; the first malformed one is an error naming it (its offset in
/// the options and its kind).
pub(super) fn walk_options<'a>(
    raw: &'a [u8],
    mut each: impl FnMut(TcpOption<'a>),
) -> Result<(), SynError> {
    let mut it = tcp::Options::new(raw);
    // Where the next option starts: where a malformed one sits.
    let mut next = 0;
    while let Some(r) = it.next_with_offset() {
        let (at, opt) = r.map_err(|_| SynError::BadOption {
            at: next,
            kind: raw.get(next).copied().unwrap_or(0),
        })?;
        next = at + option_len(&opt);
        each(opt);
    }
    Ok(())
}

/// Read a SYN's options; the first malformed one is an error naming it.
fn parse_options(raw: &[u8]) -> Result<SynOptions, SynError> {
    let mut o = SynOptions::default();
    walk_options(raw, |opt| match opt {
        TcpOption::Mss(m) => o.mss = Some(m),
        TcpOption::WindowScale(w) => o.wscale = Some(w),
        TcpOption::SackPermitted => o.sack_ok = true,
        TcpOption::Timestamp { tsval, .. } => o.tsval = Some(tsval),
        TcpOption::Unknown {
            kind: KIND_FAST_OPEN,
            ..
        } => o.fast_open = true,
        TcpOption::Unknown {
            kind: KIND_EXPERIMENTAL,
            data,
        } if data.get(..2) == Some(&TFO_EXID[..]) => o.fast_open = true,
        TcpOption::Unknown {
            kind: KIND_MPTCP,
            data,
        } if data.first().is_some_and(|b| b >> 4 == 0) => o.mp_capable = true,
        TcpOption::Unknown {
            kind: KIND_MD5 | KIND_AO,
            ..
        } => o.signed = true,
        _ => {}
    })?;
    Ok(o)
}

/// The SYN-ACK's options for `opts`, in Linux's order; returns them and
/// their length (a multiple of 4).
fn write_options(opts: &SynOptions, adv: &Advertise, tsval: u32) -> ([u8; MAX_OPTIONS_LEN], usize) {
    linux_options(
        adv.mss,
        opts.sack_ok,
        opts.tsval.map(|ecr| (tsval, ecr)),
        opts.wscale.map(|_| adv.wscale.min(super::WSCALE_MAX)),
    )
}

/// Handshake options in the order Linux's `tcp_options_write` puts them
/// (the table in the module doc): MSS `mss`; SACK-permitted and / or
/// timestamps `(TSval, TSecr)`; window scale `wscale` as given. Returns
/// them and their length (a multiple of 4).
pub(super) fn linux_options(
    mss: u16,
    sack_ok: bool,
    ts: Option<(u32, u32)>,
    wscale: Option<u8>,
) -> ([u8; MAX_OPTIONS_LEN], usize) {
    let mut b = [0u8; MAX_OPTIONS_LEN];
    let mut n = 0;
    let mut put = |bytes: &[u8]| {
        if let Some(dst) = b.get_mut(n..n + bytes.len()) {
            dst.copy_from_slice(bytes);
            n += bytes.len();
        }
    };
    let [m0, m1] = mss.to_be_bytes();
    put(&[tcp::kind::MSS, 4, m0, m1]);
    if let Some((tsval, ecr)) = ts {
        if sack_ok {
            put(&[tcp::kind::SACK_PERMITTED, 2]);
        } else {
            put(&[tcp::kind::NOP, tcp::kind::NOP]);
        }
        put(&[tcp::kind::TIMESTAMP, 10]);
        put(&tsval.to_be_bytes());
        put(&ecr.to_be_bytes());
    } else if sack_ok {
        put(&[tcp::kind::NOP, tcp::kind::NOP, tcp::kind::SACK_PERMITTED, 2]);
    }
    if let Some(ws) = wscale {
        put(&[tcp::kind::NOP, tcp::kind::WINDOW_SCALE, 3, ws]);
    }
    (b, n)
}

/// How long the frame is once [`syn_ack_in_place`] has written the
/// SYN-ACK for `syn`.
pub fn syn_ack_len(syn: &Syn) -> usize {
    let (_, n) = write_options(&syn.options, &ADV_ANY, 0);
    syn.l3_offset + ip_header_len(syn) + tcp::HEADER_LEN + n
}

/// Option lengths do not depend on the advertised values.
const ADV_ANY: Advertise = Advertise {
    mss: 0,
    wscale: 0,
    window: 0,
};

fn ip_header_len(syn: &Syn) -> usize {
    if syn.tuple.is_v6() {
        ipv6::HEADER_LEN
    } else {
        ipv4::HEADER_LEN
    }
}

/// A fresh IP header from `src` to `dst` over a TCP segment of `tcp_len`
/// bytes into `hdr` (exactly [`ipv4::HEADER_LEN`] or
/// [`ipv6::HEADER_LEN`] long, as the family): TTL / hop limit 64, IPv4 DF
/// set and identification 0 (RFC 6864 §4.1), header checksum computed.
/// `MixedFamily` (nothing written) for addresses of two families,
/// `NoRoom` for a `hdr` of the wrong length.
pub(super) fn write_ip_header(
    hdr: &mut [u8],
    src: IpAddr,
    dst: IpAddr,
    tcp_len: usize,
) -> Result<(), SynError> {
    match (src, dst) {
        (IpAddr::V4(src_addr), IpAddr::V4(dst_addr)) if hdr.len() == ipv4::HEADER_LEN => {
            ipv4::Repr {
                src_addr,
                dst_addr,
                protocol: IpProtocol::Tcp,
                payload_len: tcp_len,
                ttl: TTL,
                ident: 0,
                dont_frag: true,
            }
            .emit(&mut ipv4::Packet::new_unchecked(hdr));
            Ok(())
        }
        (IpAddr::V6(src_addr), IpAddr::V6(dst_addr)) if hdr.len() == ipv6::HEADER_LEN => {
            ipv6::Repr {
                src_addr,
                dst_addr,
                next_header: IpProtocol::Tcp,
                payload_len: tcp_len,
                hop_limit: TTL,
            }
            .emit(&mut ipv6::Packet::new_unchecked(hdr));
            Ok(())
        }
        (IpAddr::V4(_), IpAddr::V4(_)) => Err(SynError::NoRoom {
            need: ipv4::HEADER_LEN,
        }),
        (IpAddr::V6(_), IpAddr::V6(_)) => Err(SynError::NoRoom {
            need: ipv6::HEADER_LEN,
        }),
        _ => Err(SynError::MixedFamily),
    }
}

/// Rewrite the SYN `syn` (read from this very `frame` by [`parse_syn`] or
/// [`parse_syn_at`]) into its SYN-ACK: MACs swapped (an 802.1Q tag kept),
/// a fresh IP header from the service to the client, TCP from the service
/// port, seq = `cookie`, ack = ISN + 1, SYN|ACK, the service's window and
/// options as [`Advertise`] and the module doc say, `tsval` as the TSval
/// when the client sent timestamps (TSecr = the client's TSval), and every
/// checksum computed. Returns the frame's new length ([`syn_ack_len`]):
/// `frame` may be longer than the SYN (the buffer's room after it), and
/// must be at least that long (`NoRoom`, frame unchanged).
pub fn syn_ack_in_place(
    frame: &mut [u8],
    syn: &Syn,
    cookie: u32,
    adv: &Advertise,
    tsval: u32,
) -> Result<usize, SynError> {
    let (opts, n) = write_options(&syn.options, adv, tsval);
    let l3 = syn.l3_offset;
    let l4 = l3 + ip_header_len(syn);
    let tcp_len = tcp::HEADER_LEN + n;
    let need = l4 + tcp_len;
    if frame.len() < need || l3 < 12 {
        return Err(SynError::NoRoom { need });
    }
    let t = &syn.tuple;
    // A Syn from parse_syn has both addresses of one family; check before
    // anything is written.
    if t.src.is_ipv6() != t.dst.is_ipv6() {
        return Err(SynError::MixedFamily);
    }
    if let Some(macs) = frame.get_mut(0..12) {
        let (dst, src) = macs.split_at_mut(6);
        dst.swap_with_slice(src);
    }
    let hdr = frame.get_mut(l3..l4).ok_or(SynError::NoRoom { need })?;
    write_ip_header(hdr, t.dst, t.src, tcp_len)?;
    let seg = frame.get_mut(l4..need).ok_or(SynError::NoRoom { need })?;
    let mut p = tcp::Packet::new_unchecked(seg);
    p.set_src_port(t.dst_port);
    p.set_dst_port(t.src_port);
    p.set_seq_number(cookie);
    p.set_ack_number(syn.isn.wrapping_add(1));
    p.set_header_len(tcp_len as u8);
    p.set_flags(TcpFlags::SYN | TcpFlags::ACK);
    p.set_window_len(adv.window);
    p.set_urgent_at(0);
    p.options_mut()
        .copy_from_slice(opts.get(..n).unwrap_or_default());
    p.fill_checksum(t.dst, t.src);
    Ok(need)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::builder::{checksums_valid, FrameBuilder};
    use crate::MacAddr;
    use core::net::Ipv4Addr;
    use proptest::prelude::*;
    use std::vec::Vec;

    const M: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);

    fn syn(options: &[u8]) -> Vec<u8> {
        FrameBuilder::tcp4(
            M,
            M,
            Ipv4Addr::new(198, 18, 0, 10),
            Ipv4Addr::new(198, 18, 1, 1),
            1,
            80,
        )
        .flags(TcpFlags::SYN)
        .tcp_options(options)
        .build()
    }

    #[test]
    fn tfo_mptcp_and_repeats_are_noted() {
        // TFO under the experimental kind, with its ExID and a cookie.
        let o = parse_syn(&syn(&[254, 6, 0xf9, 0x89, 1, 2]))
            .unwrap()
            .options;
        assert!(o.fast_open && !o.mp_capable);
        // Kind 254 with another ExID is not TFO; MP_JOIN (subtype 1) is
        // not MP_CAPABLE.
        let o = parse_syn(&syn(&[254, 4, 0x12, 0x34, 30, 3, 0x10, 1]))
            .unwrap()
            .options;
        assert!(!o.fast_open && !o.mp_capable);
        // The last MSS and window scale count; End of List ends the walk.
        let o = parse_syn(&syn(&[2, 4, 5, 0xb4, 2, 4, 2, 0x18, 3, 3, 2, 0, 3, 3, 9]))
            .unwrap()
            .options;
        assert_eq!((o.mss, o.wscale), (Some(536), Some(2)));
        // No MSS: index 0 (RFC 9293's default 536).
        let o = parse_syn(&syn(&[])).unwrap().options;
        assert_eq!(o, SynOptions::default());
        assert_eq!(o.cookie_options(false).mss_index, 0);
    }

    /// TCP-MD5 (kind 19, 18 bytes) and TCP-AO (kind 29: KeyID, RNextKeyID,
    /// a 12-byte MAC) mark the SYN signed, alone or among the usual
    /// options; a kind next to them (28, User Timeout) does not.
    #[test]
    fn md5_and_ao_mark_the_syn_signed() {
        let mut md5 = [0u8; 18];
        md5[..2].copy_from_slice(&[19, 18]);
        let mut ao = [0u8; 16];
        ao[..4].copy_from_slice(&[29, 16, 1, 1]);
        for (name, opts) in [("MD5", &md5[..]), ("AO", &ao[..])] {
            let o = parse_syn(&syn(opts)).unwrap().options;
            assert!(o.signed, "{name}");
            let mut with = std::vec![1, 3, 3, 7, 4, 2];
            with.extend_from_slice(opts);
            let o = parse_syn(&syn(&with)).unwrap().options;
            assert!(o.signed && o.sack_ok && o.wscale == Some(7), "{name}");
        }
        let o = parse_syn(&syn(&[28, 4, 0x80, 10])).unwrap().options;
        assert!(!o.signed);
        assert!(!parse_syn(&syn(&[])).unwrap().options.signed);
        // A signature option cut short is malformed, not "signed".
        assert_eq!(
            parse_syn(&syn(&[1, 1, 19, 18])),
            Err(SynError::BadOption { at: 2, kind: 19 })
        );
    }

    #[test]
    fn window_scale_over_14_is_sent_as_14() {
        let f = syn(&[1, 3, 3, 2]);
        let s = parse_syn(&f).unwrap();
        // The SYN-ACK adds an MSS option the SYN did not have.
        let mut b = f.clone();
        b.resize(f.len() + 4, 0);
        let adv = Advertise {
            mss: 1460,
            wscale: 15,
            window: 1000,
        };
        let n = syn_ack_in_place(&mut b, &s, 7, &adv, 0).unwrap();
        assert_eq!(b[n - 4..n], [1, 3, 3, 14]);
        assert!(checksums_valid(&b[..n]));
    }

    /// Found by `scripts/fuzz syn_cookie`: a client's window scale over
    /// 14 is 14 in its cookie options, as the cookie gives it back (it
    /// gave 248 before, and the cookie 14).
    #[test]
    fn a_client_window_scale_over_14_is_14_in_the_cookie() {
        let s = parse_syn(&syn(&[1, 3, 3, 248])).unwrap();
        assert_eq!(s.options.wscale, Some(248));
        let opts = s.options.cookie_options(false);
        assert_eq!(opts.wscale, Some(14));
        let key = super::super::CookieKey(*b"slb cookie key!!");
        let cookie = super::super::encode(&key, &s.tuple, s.isn, 3, &opts);
        assert_eq!(
            super::super::check(&key, &s.tuple, s.isn, cookie, 3, super::super::MAX_AGE),
            Ok(opts)
        );
    }

    proptest! {
        /// Any bytes: an error or a SYN, never a panic; and what parses
        /// gets a SYN-ACK whose checksums verify, in any buffer length.
        #[test]
        fn any_frame(mut f in proptest::collection::vec(any::<u8>(), 0..120), room in 0usize..40) {
            if let Ok(s) = parse_syn(&f) {
                f.resize(f.len() + room, 0);
                if let Ok(n) = syn_ack_in_place(&mut f, &s, 1, &Advertise { mss: 1, wscale: 1, window: 1 }, 2) {
                    prop_assert!(checksums_valid(&f[..n]));
                }
            }
        }

        /// Random option bytes after a well-formed SYN header.
        #[test]
        fn any_options(opts in proptest::collection::vec(any::<u8>(), 0..40)) {
            let mut f = syn(&opts);
            if let Ok(s) = parse_syn(&f) {
                let need = syn_ack_len(&s);
                f.resize(f.len().max(need), 0);
                let n = syn_ack_in_place(&mut f, &s, 9, &Advertise { mss: 1400, wscale: 7, window: 9 }, 3).unwrap();
                prop_assert_eq!(n, need);
                prop_assert!(checksums_valid(&f[..n]));
                let back = crate::tcp::Packet::new_checked(&f[34..n]).unwrap();
                prop_assert_eq!(back.options_iter().filter(|o| o.is_err()).count(), 0);
            }
        }
    }
}
