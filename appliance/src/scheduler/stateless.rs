//! Stateless server-to-client switching in a cluster (issue 14).
//!
//! Several instances share one label range, each assigning from its own
//! slice (`slb_core::LabelSlices`). A server's frame on a server-to-client
//! (even) label may reach an instance that holds no session for it: the
//! session is another instance's, or this instance lost it (a restart).
//! The frame needs no session state to be delivered: the label's parity
//! says it goes to a client, the inner source (VIP, port, protocol) names
//! the service, and the service says whether its clients are plain (pop
//! the label) or label-aware (keep it). It goes to the next hop of its
//! inner destination: the client itself when it is on the subnet of a
//! client-facing port, else the configured client-side gateway of its
//! family (`cluster.client_gateway_ipv4` / `_ipv6`), resolved by ARP/ND
//! like any neighbour.
//!
//! The checks a session's entry would give are kept where they do not
//! need the session: the frame must come in on a server-facing port
//! (`wrong_port_role`) from the MAC of one of the service's servers
//! (`foreign_server`). Only in cluster mode (`cluster.instances` > 1):
//! one box drops such frames as `unknown_label`, as before. A label this
//! instance withdrew (in quarantine) is a late frame of an ended session
//! and is dropped as before, never switched.
//!
//! This runs on the scheduler, for frames the workers punted because
//! their label table has no live entry for the label: the workers' path
//! is unchanged.

use super::Scheduler;
use crate::counters::{Event, PathDrop};
use crate::frame::Frame;
use crate::shared::ports::PortRole;
use slb_wire::{classify, mpls, mss, Classified, MacAddr, TcpFlags};
use std::net::IpAddr;

impl<F: Frame> Scheduler<F> {
    /// Switches a server-to-client frame without a session (see the
    /// module's documentation), or drops it with its reason.
    pub(crate) fn switch_stateless(
        &mut self,
        port: u8,
        mut f: F,
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) {
        if !self.port_role(port).is_some_and(PortRole::faces_servers) {
            return self.drop_frame(PathDrop::WrongPortRole, Some(port), &f, None);
        }
        let lf = match classify(f.data()) {
            Ok(Classified::Labelled(lf)) => lf,
            Ok(_) => return self.drop_frame(PathDrop::Rewrite, Some(port), &f, None),
            Err(r) => return self.drop_frame(r, Some(port), &f, None),
        };
        // The inner packet, parsed in full (ports, non-first fragments).
        let flow = match slb_wire::flow::extract(f.data()) {
            Ok(k) => k,
            Err(r) => return self.drop_frame(r, Some(port), &f, None),
        };
        // The service whose VIP and port the server answers from.
        let service = crate::shared::core_protocol(flow.protocol)
            .and_then(|p| self.core.find_service(p, flow.src, flow.src_port))
            .and_then(|id| Some((id, self.services.get(&id)?.plain_clients)));
        let Some((sid, plain)) = service else {
            return self.drop_frame(PathDrop::StatelessNoService, Some(port), &f, None);
        };
        // From one of its servers: the source MAC is a resolved server's.
        let src_mac = f.data().get(6..12);
        let from_server = self.core.service(sid).is_some_and(|s| {
            s.pool().iter().any(|(_, srv)| {
                self.neighbours
                    .get(&srv.addr())
                    .and_then(|n| n.mac)
                    .is_some_and(|m| src_mac == Some(&m[..]))
            })
        });
        if !from_server {
            return self.drop_frame(PathDrop::ForeignServer, Some(port), &f, None);
        }
        let client = flow.dst;
        let Some((hop, hop_port)) = self.client_next_hop(client) else {
            return self.drop_frame(PathDrop::NoNextHop, Some(port), &f, None);
        };
        if let Some(flags) = lf.tcp_flags {
            if flags.contains(TcpFlags::SYN) {
                let v6 = matches!(client, IpAddr::V6(_));
                match mss::clamp_mss(f.data_mut(), self.shared.max_mss(v6)) {
                    Ok(true) => self.counters.event(Event::MssClamped),
                    Err(slb_wire::Error::BadOption) => {
                        return self.drop_frame(
                            slb_wire::DropReason::BadMssOption,
                            Some(port),
                            &f,
                            None,
                        );
                    }
                    _ => {}
                }
            }
        }
        if plain {
            // The MACs are set when the frame leaves (`transmit`).
            let own = MacAddr(self.shared.ports[usize::from(hop_port)].mac);
            match mpls::pop_label_rewrite(f.data_mut(), own, own) {
                Ok(p) if f.adj(p.trim as u16) => self.counters.event(Event::Popped),
                _ => return self.drop_frame(PathDrop::Rewrite, Some(port), &f, None),
            }
        }
        // The MPLS payload (label included while it stays) must fit the
        // out port, checked here so that what is counted as switched
        // leaves (or waits for the neighbour's MAC).
        let mtu = self.shared.ports[usize::from(hop_port)].mtu;
        if f.len().saturating_sub(slb_wire::ethernet::HEADER_LEN) > usize::from(mtu) {
            return self.drop_frame(PathDrop::Oversize, Some(port), &f, None);
        }
        self.counters.event(Event::SwitchedStateless);
        self.send_to_neighbour(f, hop, hop_port, now, out);
    }

    /// Where a frame to `client` goes: the client itself when it is on
    /// the subnet of a client-facing port, else the client-side gateway
    /// of its family; with the port that reaches it.
    fn client_next_hop(&self, client: IpAddr) -> Option<(IpAddr, u8)> {
        let faces_clients = |a: IpAddr| {
            self.port_for(a).filter(|&p| {
                self.shared
                    .ports
                    .get(usize::from(p))
                    .is_some_and(|p| p.role.faces_clients())
            })
        };
        if let Some(p) = faces_clients(client) {
            return Some((client, p));
        }
        let gateway = slb_config::convert::client_gateway(&self.config, client)?;
        Some((gateway, faces_clients(gateway)?))
    }

    /// Sends `f` to the neighbour `addr` on `port`: at once when its MAC
    /// is known, else held (at most `neighbours::HOLD` frames) while it is
    /// resolved.
    pub(crate) fn send_to_neighbour(
        &mut self,
        f: F,
        addr: IpAddr,
        port: u8,
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) {
        let Some(n) = self.neighbours.ensure(addr, port, &mut self.slots) else {
            return self.drop_frame(PathDrop::NoNextHop, None, &f, None);
        };
        let (port, mac) = (n.port, n.mac);
        self.send_or_hold(f, addr, port, mac, now, out);
    }
}
