//! TCP MSS clamping (RFC 9293 §3.7.1 option, RFC 1624 incremental checksum
//! update) on a whole frame, labelled or not, IPv4 or IPv6.
//!
//! slbd adds a 4-byte label to every frame it forwards to a server, so it
//! lowers the MSS that SYNs (and the first server reply) announce to what
//! fits the port MTU (BRIEF §6). Only the 2-byte MSS value and the TCP
//! checksum change; IP headers, lengths and the IPv4 header checksum do not.
//!
//! Checksum offload: the update assumes the TCP checksum in the frame is a
//! complete one (as on the wire). A frame whose checksum is still a partial
//! pseudo-header sum (TX offload pending) must not be clamped this way.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use crate::bytes::{u16_at, u8_at};
use crate::classify::{parse_l3, Classified, L4};
use crate::ethernet::{self, EtherType};
use crate::mpls::{Lse, LSE_LEN};
use crate::tcp::{Options, TcpOption};
use crate::{checksum, Error, IpVersion, Result};

/// Offset of the checksum in the TCP header.
const TCP_CHECKSUM: usize = 16;

/// Lower the MSS option of the TCP segment in `frame` to `max_mss` if it
/// announces more. `frame` is Ethernet (optionally one 802.1Q tag),
/// optionally one bottom-of-stack MPLS label, then IPv4 or IPv6 (extension
/// headers walked) and TCP. Returns `Ok(true)` if the frame changed,
/// `Ok(false)` if it had no MSS option or one already <= `max_mss`.
///
/// Errors (frame unchanged): `Unsupported` for a non-TCP or non-IP frame,
/// a label stack deeper than one, or a non-first fragment; `Truncated` /
/// `Malformed` / `Checksum` for what the classifier would drop; `Malformed`
/// for TCP options that do not parse.
pub fn clamp_mss(frame: &mut [u8], max_mss: u16) -> Result<bool> {
    let l2 = ethernet::l2(frame)?;
    let (l3, expect) = match l2.ethertype {
        EtherType::IPV4 => (l2.header_len, Some(IpVersion::V4)),
        EtherType::IPV6 => (l2.header_len, Some(IpVersion::V6)),
        EtherType::MPLS => {
            let w = crate::bytes::u32_at(frame, l2.header_len).ok_or(Error::Truncated)?;
            if !Lse::from_u32(w).bos {
                return Err(Error::Unsupported);
            }
            (l2.header_len + LSE_LEN, None)
        }
        _ => return Err(Error::Unsupported),
    };
    let ip = match parse_l3(frame, l3, l2.vlan_tci, expect).map_err(|r| r.to_error())? {
        Classified::Ip(ip) => ip,
        _ => return Err(Error::Unsupported),
    };
    if !matches!(ip.l4, L4::Tcp { .. }) {
        return Err(Error::Unsupported);
    }
    let seg_start = ip.l4_offset;
    let hl = usize::from(u8_at(frame, seg_start + 12).ok_or(Error::Truncated)? >> 4) * 4;
    let opts = frame
        .get(seg_start + 20..seg_start + hl)
        .ok_or(Error::Truncated)?;
    let mut it = Options::new(opts);
    let mut found = None;
    while let Some(o) = it.next_with_offset() {
        if let (at, TcpOption::Mss(v)) = o? {
            found = Some((at, v));
            break;
        }
    }
    let Some((at, mss)) = found else {
        return Ok(false);
    };
    if mss <= max_mss {
        return Ok(false);
    }
    let seg = frame
        .get_mut(seg_start..ip.l3_end)
        .ok_or(Error::Truncated)?;
    let old_check = u16_at(seg, TCP_CHECKSUM).ok_or(Error::Truncated)?;
    // Value bytes: options start at 20, then kind and length.
    let new_check = checksum::replace_bytes(seg, 20 + at + 2, &max_mss.to_be_bytes(), old_check)
        .ok_or(Error::Truncated)?;
    crate::bytes::put_u16(seg, TCP_CHECKSUM, new_check).ok_or(Error::Truncated)?;
    Ok(true)
}
