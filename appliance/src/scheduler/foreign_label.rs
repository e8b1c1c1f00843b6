//! Label-aware clients' frames on client-to-server labels this instance
//! holds no session for, in a cluster (issue 14).
//!
//! A label-aware client's agent sends each labelled frame to the instance
//! that owns its label (`docs/agent.md`, "Cluster"). When that owner is
//! gone, the agent falls back to a live instance, which receives an odd
//! label of another instance's slice (or of its own, after a restart).
//! The label names the session's service and server only through the
//! owner's table, which died with it, so the frame is recovered like a
//! plain client's packet that ECMP moved (`admission.rs`,
//! `recovered_by_hash`): its label is popped, and for a service of
//! label-aware clients with a consistent algorithm (Maglev, source hash)
//! the flow is re-admitted to the server the hash picks, with a fresh
//! pair from this instance's slice; the frame goes on with the new
//! client-to-server label. The server's agent learns the new label from
//! it, its answers carry the new server-to-client label to this instance
//! (the new owner), and the client's agent learns the new label from
//! those. Until it does, the client's frames on the old label come here
//! again and join the recovered session by their 5-tuple.
//!
//! While the owner lives (it answers this instance's probes, `peers.rs`),
//! the frame is not recovered but forwarded to it unchanged but for its
//! MACs (`forwarded_to_owner`): the owner holds the session, and an agent
//! that sent it here was wrong (a probe of its own lost, no cluster map).
//!
//! Not recoverable, dropped as before (`unknown_label`): another
//! algorithm (the choice was live state the owner held), a service of
//! plain clients (a labelled client frame is not theirs), anything out of
//! a cluster. A label this instance withdrew is a late frame of an ended
//! session (`withdrawn_label`), never recovered.

use super::admission::Origin;
use super::Scheduler;
use crate::counters::{Event, PathDrop};
use crate::frame::Frame;
use crate::shared::ports::PortRole;
use slb_core::LabelSlices;
use slb_wire::{ethernet, mpls, MacAddr};

impl<F: Frame> Scheduler<F> {
    /// Forwards or recovers a label-aware client's frame on `label`, its
    /// top label, which no session here holds (see the module's
    /// documentation), or drops it.
    pub(crate) fn recover_labelled(
        &mut self,
        port: u8,
        label: u32,
        mut f: F,
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) {
        if !self.port_role(port).is_some_and(PortRole::faces_clients) {
            return self.drop_frame(PathDrop::WrongPortRole, Some(port), &f, None);
        }
        // The owner lives: it holds the session.
        let owner = LabelSlices::from(&self.config)
            .owner_of(label)
            .filter(|&o| o != self.config.instance());
        if let Some((p, mac)) = owner.and_then(|o| self.peers.live(o, now)) {
            let ours = self.shared.ports.get(usize::from(p)).map(|q| q.mac);
            return match ours {
                Some(ours)
                    if ethernet::rewrite_macs(f.data_mut(), MacAddr(ours), MacAddr(mac))
                        .is_ok() =>
                {
                    self.counters.event(Event::ForwardedToOwner);
                    out(usize::from(p), f);
                }
                _ => self.drop_frame(PathDrop::Rewrite, Some(port), &f, None),
            };
        }
        // Only a label-aware service's flows: the inner packet names it.
        let aware = slb_wire::flow::extract(f.data()).ok().is_some_and(|k| {
            crate::shared::core_protocol(k.protocol)
                .and_then(|p| self.core.find_service(p, k.dst, k.dst_port))
                .and_then(|id| self.services.get(&id))
                .is_some_and(|rt| !rt.plain_clients)
        });
        if !aware {
            return self.drop_frame(PathDrop::UnknownLabel, Some(port), &f, None);
        }
        // The frame as the client would send it unlabelled (same MACs).
        let macs = f
            .data()
            .get(..12)
            .map(|m| (MacAddr::from_bytes(&m[6..12]), MacAddr::from_bytes(&m[..6])));
        let popped =
            macs.and_then(|(src, dst)| mpls::pop_label_rewrite(f.data_mut(), src, dst).ok());
        match popped {
            Some(p) if f.adj(p.trim as u16) => {
                self.admit_unlabelled(self.local_id, port, f, Origin::ForeignLabel, now, out)
            }
            _ => self.drop_frame(PathDrop::Rewrite, Some(port), &f, None),
        }
    }
}
