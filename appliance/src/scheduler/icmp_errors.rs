//! ICMP errors about a session's packet, on the scheduler (the exception
//! path: rare, bounded by the workers' `icmp.errors_*` buckets and by
//! the punts the scheduler takes per round).
//!
//! A router beyond the client side (or the client itself) that cannot
//! deliver a server-to-client packet answers its source, the VIP:
//! destination unreachable (port unreachable, fragmentation needed),
//! time exceeded, ICMPv6 packet too big. The quoted packet names the
//! session: quoted source = VIP and source port = service port, quoted
//! destination = client and its port. The error goes to that session's
//! server like any client-to-server frame, labelled with the session's
//! client-to-server label, so the server's kernel (which owns the VIP)
//! learns the path MTU or that the client is gone. The error itself is
//! not changed.

use super::Scheduler;
use crate::counters::{Event, PathDrop};
use crate::frame::Frame;
use slb_core::session::SessionKey;
use slb_wire::classify::L4;
use slb_wire::{classify, icmp_reply, icmpv4, Classified};

impl<F: Frame> Scheduler<F> {
    /// An ICMP error to a VIP a worker punted ([`crate::channels::PuntKind::IcmpError`]).
    pub(crate) fn punted_icmp_error(
        &mut self,
        port: u8,
        f: F,
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) {
        let ip = match classify(f.data()) {
            Ok(Classified::Ip(ip)) if matches!(ip.l4, L4::Icmpv4 { .. } | L4::Icmpv6 { .. }) => ip,
            _ => return self.drop_frame(PathDrop::IcmpBadQuote, Some(port), &f, None),
        };
        let v6 = ip.flow.dst.is_ipv6();
        let quote = f
            .data()
            .get(ip.l4_offset + icmpv4::HEADER_LEN..ip.l3_end)
            .unwrap_or(&[]);
        // The quoted packet must be one the VIP sent.
        let q = match icmp_reply::quoted_flow(quote, v6) {
            Ok(q) if q.src == ip.flow.dst => q,
            _ => return self.drop_frame(PathDrop::IcmpBadQuote, Some(port), &f, None),
        };
        let Some(protocol) = crate::shared::core_protocol(q.protocol) else {
            return self.drop_frame(PathDrop::IcmpBadQuote, Some(port), &f, None);
        };
        let key = SessionKey {
            protocol,
            vip: q.src,
            vip_port: q.src_port,
            client: q.dst,
            client_port: q.dst_port,
        };
        let Some(id) = self.core.find(&key) else {
            return self.drop_frame(PathDrop::IcmpNoSession, Some(port), &f, None);
        };
        let s = self.core.session(id);
        let (c2s, service, server) = (s.labels().c2s(), s.service(), s.server());
        let Some(server) = self
            .core
            .service(service)
            .and_then(|sv| sv.pool().get(server).map(|srv| srv.addr()))
        else {
            return self.drop_frame(PathDrop::NoNextHop, Some(port), &f, None);
        };
        self.counters.event(Event::IcmpForwarded);
        self.send_c2s(f, c2s, server, now, out);
    }
}
