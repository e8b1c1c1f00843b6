//! Neighbour resolution driven by the scheduler: the addresses it must
//! reach (servers, static entries), ARP requests and neighbour
//! solicitations out of the right port, and the answers the workers hand
//! over, which release the frames held for that neighbour.

use super::neighbours::Resolve;
use super::Scheduler;
use crate::counters::Event;
use crate::frame::Frame;
use crate::worker::arp_nd;
use slb_wire::{classify, Classified};
use std::net::IpAddr;

impl<F: Frame> Scheduler<F> {
    /// Starts resolving `addr`, reachable on the port whose subnet holds it.
    pub fn watch_neighbour(&mut self, addr: IpAddr) -> bool {
        let Some(port) = self.port_for(addr) else {
            return false;
        };
        self.neighbours
            .ensure(addr, port, &mut self.slots)
            .is_some()
    }

    /// A MAC from the configuration (never resolved, never expires).
    pub fn static_neighbour(&mut self, addr: IpAddr, mac: [u8; 6]) -> bool {
        let Some(port) = self.port_for(addr) else {
            return false;
        };
        self.neighbours
            .set_static(addr, port, mac, &mut self.slots, &self.shared.nexthops)
    }

    pub fn neighbour_mac(&self, addr: IpAddr) -> Option<[u8; 6]> {
        self.neighbours.get(&addr).and_then(|n| n.mac)
    }

    pub(crate) fn punted_neighbour(
        &mut self,
        port: u8,
        f: F,
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) {
        let learned = match classify(f.data()) {
            Ok(Classified::Arp(a)) => Some((IpAddr::V4(a.sender_ip), a.sender_mac.0)),
            Ok(Classified::Nd(n)) => {
                let mac = n.lladdr.map(|m| m.0).or_else(|| {
                    f.data()
                        .get(6..12)
                        .map(|m| [m[0], m[1], m[2], m[3], m[4], m[5]])
                });
                mac.map(|m| (IpAddr::V6(n.target), m))
            }
            _ => None,
        };
        drop(self.to_kernel(port, f, out));
        let Some((addr, mac)) = learned else {
            return;
        };
        if self.peers.answered(addr, mac, port, now) {
            return;
        }
        self.health_neighbour(addr, now);
        if let Some(Resolve::Release { port, mac, frames }) =
            self.neighbours
                .learn(addr, mac, port, now, &self.shared.nexthops)
        {
            for f in frames {
                self.transmit(port, mac, f, out);
            }
        }
    }

    pub(crate) fn request_neighbours(&mut self, now: u64, out: &mut dyn FnMut(usize, F)) -> usize {
        self.due.clear();
        let mut due = std::mem::take(&mut self.due);
        self.neighbours.due(now, 64, &mut due);
        let n = due.len();
        self.send_requests(&due, out);
        self.due = due;
        n
    }

    /// Asks the cluster's peers for their MACs when due
    /// (`peers.rs`): their answers say they are alive.
    pub(crate) fn probe_peers(&mut self, now: u64, out: &mut dyn FnMut(usize, F)) -> usize {
        let due = self.peers.due(now);
        self.send_requests(&due, out);
        due.len()
    }

    /// An ARP request or neighbour solicitation for each (port, address).
    fn send_requests(&self, due: &[(u8, IpAddr)], out: &mut dyn FnMut(usize, F)) {
        for &(port, addr) in due {
            let Some(p) = self.shared.ports.get(port as usize) else {
                continue;
            };
            let bytes = match addr {
                IpAddr::V4(a) => p.ipv4.map(|(ours, _)| arp_nd::arp_request(p.mac, ours, a)),
                IpAddr::V6(a) => p
                    .ipv6
                    .map(|(ours, _)| arp_nd::neighbour_solicitation(p.mac, ours, a)),
            };
            if let Some(f) = bytes.and_then(|b| (self.alloc)(&b)) {
                self.counters.event(Event::NeighbourRequests);
                out(port as usize, f);
            }
        }
    }
}
