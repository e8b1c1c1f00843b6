//! ICMP on a worker (and on the scheduler's own fast path), out of the
//! hot path: only frames no service matches (ICMP has no ports, so never
//! one) and frames too big for the egress get here.
//!
//! - Echo requests to the receiving port's own address, or to a VIP on a
//!   client-facing port (unless `icmp.vip_echo: drop`), are answered in
//!   place, out of the port they came in on.
//! - ICMP errors to a VIP on a client-facing port (destination
//!   unreachable, time exceeded; ICMPv6 packet too big too) may be about
//!   a session's server-to-client packet: handed to the scheduler, which
//!   matches the quote to the session (`scheduler/icmp_errors.rs`).
//! - A plain client's packet too big for the egress once labelled is
//!   answered with "fragmentation needed" / "packet too big" from the VIP
//!   it was sent to, with the MTU that leaves room for the label; an IPv4
//!   packet with DF clear is dropped (`oversize_df_clear`: slbd does not
//!   fragment).
//!
//! Each has its own token bucket per lcore (`icmp_limits.rs`): an echo
//! flood neither costs a worker more than its echo budget nor silences
//! the PMTU errors, and a flood of ICMP errors cannot fill the queue that
//! carries new sessions to the scheduler. The buckets run on the
//! scheduler's coarse clock (`Shared::clock`, one relaxed load): no clock
//! read, lock, allocation or system call per frame.

use super::icmp_limits::IcmpLimits;
use super::FastPath;
use crate::channels::PuntKind;
use crate::counters::{Event, PathDrop};
use crate::frame::Frame;
use slb_config::{Icmp, VipEcho};
use slb_wire::classify::{IpFrame, L4};
use slb_wire::{ethernet, icmp_reply, icmpv4, icmpv6, mpls, MacAddr};
use std::sync::atomic::Ordering;

/// What an ICMP message to slbd or a VIP is, to this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Echo,
    SessionError,
    Other,
}

fn kind(l4: L4) -> Kind {
    match l4 {
        L4::Icmpv4 {
            msg: icmpv4::Message::EchoRequest,
            ..
        }
        | L4::Icmpv6 {
            msg: icmpv6::Message::EchoRequest,
            ..
        } => Kind::Echo,
        L4::Icmpv4 { msg, .. } if icmp_reply::v4_error_for_session(msg) => Kind::SessionError,
        L4::Icmpv6 { msg, .. } if icmp_reply::v6_error_for_session(msg) => Kind::SessionError,
        _ => Kind::Other,
    }
}

impl<F: Frame> FastPath<F> {
    /// The scheduler's time at its last round.
    #[inline]
    fn coarse_now(&self) -> u64 {
        self.shared.clock.load(Ordering::Relaxed)
    }

    /// New ICMP settings (from the scheduler's op queue).
    pub(super) fn set_icmp(&mut self, c: &Icmp) {
        self.icmp = IcmpLimits::new(c);
    }

    /// An unlabelled ICMP or ICMPv6 message (not ND) on `in_port`, which
    /// matched no service. Returns the answer and its port, or consumes
    /// the frame.
    #[inline(never)]
    pub(super) fn icmp(&mut self, in_port: usize, ip: &IpFrame, f: F) -> Option<(usize, F)> {
        let dst = ip.flow.dst;
        let Some(port) = self.shared.ports.get(in_port) else {
            return self.discard(PathDrop::WrongPortRole, in_port, &f);
        };
        let own = port.owns(dst);
        let vip = !own && port.role.faces_clients() && self.vips.contains_key(&dst);
        let now = self.coarse_now();
        match kind(ip.l4) {
            Kind::Echo if own || vip => {
                if vip && self.icmp.vip_echo == VipEcho::Drop {
                    return self.discard(PathDrop::VipEchoDropped, in_port, &f);
                }
                if ip.first_fragment {
                    return self.discard(PathDrop::Fragment, in_port, &f);
                }
                if !self.icmp.echo.take(now) {
                    return self.discard(PathDrop::EchoRateLimited, in_port, &f);
                }
                self.echo_reply(in_port, ip, f)
            }
            Kind::SessionError if vip => {
                if !self.icmp.errors.take(now) {
                    return self.discard(PathDrop::IcmpErrorRateLimited, in_port, &f);
                }
                self.punt(in_port, PuntKind::IcmpError, f)
            }
            _ if own || self.vips.contains_key(&dst) => {
                self.discard(PathDrop::ToAppliance, in_port, &f)
            }
            _ if self.shared.ports.iter().any(|p| p.owns(dst)) => {
                self.discard(PathDrop::ToAppliance, in_port, &f)
            }
            _ => self.discard(PathDrop::NotForVip, in_port, &f),
        }
    }

    fn echo_reply(&mut self, in_port: usize, ip: &IpFrame, mut f: F) -> Option<(usize, F)> {
        let Some(port) = self.shared.ports.get(in_port) else {
            return self.discard(PathDrop::WrongPortRole, in_port, &f);
        };
        let mac = port.mac;
        let peer = MacAddr::from_bytes(f.data().get(6..12).unwrap_or(&[0; 6]));
        let n = match icmp_reply::echo_reply_in_place(
            f.data_mut(),
            ip.l3_offset,
            ip.l4_offset,
            ip.l3_end,
        ) {
            Ok(n) => n,
            Err(_) => return self.discard(PathDrop::BadEcho, in_port, &f),
        };
        if !f.set_len(n) || ethernet::rewrite_macs(f.data_mut(), MacAddr(mac), peer).is_err() {
            return self.discard(PathDrop::Rewrite, in_port, &f);
        }
        self.counters.event(Event::EchoReplies);
        Some((in_port, f))
    }

    /// A plain client's packet on `in_port`, too big for an egress of
    /// `egress_mtu` once labelled: "fragmentation needed" (DF set) or
    /// "packet too big" back to the client, from the VIP it addressed,
    /// with the MTU that leaves room for the label.
    #[inline(never)]
    pub(crate) fn too_big(
        &mut self,
        in_port: usize,
        ip: &IpFrame,
        egress_mtu: u16,
        mut f: F,
    ) -> Option<(usize, F)> {
        let v6 = ip.flow.dst.is_ipv6();
        let l3 = ip.l3_offset;
        // DF: bit 0x40 of the flags byte (RFC 791), IPv4 header byte 6.
        if !v6 && f.data().get(l3 + 6).is_none_or(|b| b & 0x40 == 0) {
            return self.discard(PathDrop::OversizeDfClear, in_port, &f);
        }
        if !self.icmp.too_big.take(self.coarse_now()) {
            return self.discard(PathDrop::TooBigRateLimited, in_port, &f);
        }
        let Some(port) = self.shared.ports.get(in_port) else {
            return self.discard(PathDrop::WrongPortRole, in_port, &f);
        };
        let mac = port.mac;
        let peer = MacAddr::from_bytes(f.data().get(6..12).unwrap_or(&[0; 6]));
        let need = icmp_reply::too_big_len(l3, ip.l3_end, v6);
        if need > f.len() && !f.set_len(need) {
            return self.discard(PathDrop::Rewrite, in_port, &f);
        }
        let mtu = egress_mtu.saturating_sub(mpls::LSE_LEN as u16);
        let n = match icmp_reply::too_big_in_place(f.data_mut(), l3, ip.l3_end, mtu) {
            Ok(n) => n,
            Err(_) => return self.discard(PathDrop::Rewrite, in_port, &f),
        };
        if !f.set_len(n) || ethernet::rewrite_macs(f.data_mut(), MacAddr(mac), peer).is_err() {
            return self.discard(PathDrop::Rewrite, in_port, &f);
        }
        self.counters.event(if v6 {
            Event::PacketTooBigSent
        } else {
            Event::FragNeededSent
        });
        Some((in_port, f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_told_apart() {
        let echo = L4::Icmpv4 {
            msg: icmpv4::Message::EchoRequest,
            code: 0,
        };
        assert_eq!(kind(echo), Kind::Echo);
        let echo6 = L4::Icmpv6 {
            msg: icmpv6::Message::EchoRequest,
            code: 0,
        };
        assert_eq!(kind(echo6), Kind::Echo);
        let unreach = L4::Icmpv6 {
            msg: icmpv6::Message::PacketTooBig,
            code: 0,
        };
        assert_eq!(kind(unreach), Kind::SessionError);
        let ttl = L4::Icmpv4 {
            msg: icmpv4::Message::TimeExceeded,
            code: 0,
        };
        assert_eq!(kind(ttl), Kind::SessionError);
        let reply = L4::Icmpv4 {
            msg: icmpv4::Message::EchoReply,
            code: 0,
        };
        assert_eq!(kind(reply), Kind::Other);
        assert_eq!(kind(L4::Udp), Kind::Other);
    }
}
