//! Unlabelled frames that match no service: ICMP (`icmp.rs`), answers to
//! slbd's own health probes, peers' session sync datagrams and, with a
//! cluster's exception path, the routing daemon's BGP and BFD (all to the
//! scheduler); the rest is dropped as addressed to slbd or a VIP
//! (`to_appliance`) or to nothing slbd serves (`not_for_vip`).

use super::fast_path::FastPath;
use crate::channels::{PuntKind, PROBE_PORTS};
use crate::counters::PathDrop;
use crate::frame::Frame;
use crate::shared::exception::is_routing_protocol;
use slb_wire::classify::{IpFrame, L4};
use slb_wire::IpProtocol;

impl<F: Frame> FastPath<F> {
    /// An unlabelled frame whose (protocol, destination, port) is no
    /// service's.
    #[inline(never)]
    pub(super) fn not_to_service(
        &mut self,
        in_port: usize,
        ip: &IpFrame,
        f: F,
    ) -> Option<(usize, F)> {
        if matches!(ip.l4, L4::Icmpv4 { .. } | L4::Icmpv6 { .. }) {
            return self.icmp(in_port, ip, f);
        }
        let key = &ip.flow;
        let shared = &*self.shared;
        // Which of slbd's ports the destination is the address of.
        let Some(own) = shared.ports.iter().position(|p| p.owns(key.dst)) else {
            let r = if self.vips.contains_key(&key.dst) {
                PathDrop::ToAppliance
            } else {
                PathDrop::NotForVip
            };
            return self.discard(r, in_port, &f);
        };
        // The routing daemon's: to the address of the port it peers
        // through, received there (a fragment has no ports to tell).
        let via = shared.exception.map(|x| usize::from(x.via));
        if via == Some(in_port)
            && own == in_port
            && !ip.first_fragment
            && is_routing_protocol(key.protocol, key.src_port, key.dst_port)
        {
            return self.punt(in_port, PuntKind::Exception, f);
        }
        // A peer's session sync datagram (the scheduler checks its sender).
        if key.protocol == IpProtocol::Udp
            && !ip.first_fragment
            && key.dst_port != 0
            && key.dst_port == shared.sync_port
        {
            return self.punt(in_port, PuntKind::Sync, f);
        }
        let tcp_or_udp = matches!(key.protocol, IpProtocol::Tcp | IpProtocol::Udp);
        if tcp_or_udp && PROBE_PORTS.contains(&key.dst_port) {
            return self.punt(in_port, PuntKind::Probe, f);
        }
        self.discard(PathDrop::ToAppliance, in_port, &f)
    }
}
