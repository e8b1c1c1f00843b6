//! How sessions end on the scheduler: FIN, RST and first-reply reports
//! from the workers, labelled frames no worker knew, and the withdrawal of
//! an ended session's labels, flow-cache entries and client next hop before
//! its pair goes to quarantine.

use super::late_frames::late_reason;
use super::Scheduler;
use crate::channels::{Report, ReportKind, WorkerOp};
use crate::counters::{Event, PathDrop};
use crate::frame::Frame;
use crate::shared::client_flow;
use slb_core::labels::LabelStatus;
use slb_core::service::{Ended, EventOutcome};
use slb_core::session::TcpFlags as CoreFlags;
use slb_wire::mpls;

impl<F: Frame> Scheduler<F> {
    /// replica (it may have raced the install), or count why it is dead.
    pub(crate) fn punted_label(&mut self, port: usize, f: F, out: &mut dyn FnMut(usize, F)) {
        // Not switched here means it came back on the local channel, where
        // the next round finds it dead (see `dead_label`).
        if let Some((o, f)) = self.local.process(port, f) {
            out(o, f);
        }
    }

    /// A label the scheduler's own replica does not hold: no session has
    /// it. An end's answer to a reset probe (`reset.rs`) gets its reset; in
    /// a cluster, a label that is not in quarantine here is switched
    /// without state when it is server-to-client (`stateless.rs`), and
    /// forwarded to its live owner or recovered by the hash when it is
    /// client-to-server (`foreign_label.rs`); anything else is counted as
    /// withdrawn (in quarantine) or unknown.
    pub(crate) fn dead_label(&mut self, port: u8, f: F, now: u64, out: &mut dyn FnMut(usize, F)) {
        // A server answering a replayed SYN (`splice.rs`).
        let Some(f) = self.server_handshake(port, f, now, out) else {
            return;
        };
        let Some(f) = self.reset_answer_labelled(f, now, out) else {
            return;
        };
        let label = mpls::top_label(f.data())
            .map(|t| t.lse.label.value())
            .unwrap_or(0);
        let labels = self.core.labels();
        let status = labels.status(label);
        // In a cluster, a label this instance did not withdraw may be
        // another's (or its own before a restart).
        if self.config.in_cluster() && status != LabelStatus::Quarantined {
            return if label & 1 == 0 {
                self.switch_stateless(port, f, now, out)
            } else {
                self.recover_labelled(port, label, f, now, out)
            };
        }
        let labels = self.core.labels();
        let (reason, late) = match status {
            LabelStatus::Quarantined => {
                let end = labels
                    .pair_index(label)
                    .and_then(|pi| self.recent_ends.by_pair(pi));
                late_reason(end, now, PathDrop::WithdrawnLabel)
            }
            _ => (PathDrop::UnknownLabel, None),
        };
        self.drop_frame(reason, Some(port), &f, late);
    }

    pub(crate) fn report(&mut self, r: Report, now: u64, out: &mut dyn FnMut(usize, F)) {
        let outcome = match r.kind {
            ReportKind::Fin => self.core.on_event(r.label, CoreFlags(CoreFlags::FIN), now),
            ReportKind::Rst => self.core.on_event(r.label, CoreFlags(CoreFlags::RST), now),
            ReportKind::SynAckAgain => {
                self.syn_ack_again(r.label, now, out);
                return;
            }
            ReportKind::FirstReply => {
                self.replay_answered(r.label);
                let o = self.core.on_first_reply(r.label, now);
                // The reply is seen: stop the workers reporting it.
                if let Some(mut e) = self.shared.tables.replica(self.local_id).get(r.label) {
                    if e.want_reply {
                        e.want_reply = false;
                        self.shared.tables.set(r.label, e);
                    }
                }
                o
            }
        };
        if let EventOutcome::Ended(e) = outcome {
            self.withdraw(&e);
        }
    }

    /// Ends session `id` here and now (an operator's request, a server
    /// gone down, a handshake given up, no next hop for its client), and
    /// withdraws it; what ended it is returned.
    pub(crate) fn end_now(
        &mut self,
        id: slb_core::SessionId,
        now: u64,
    ) -> slb_core::service::Ended {
        let e = self.core.end_session(id, now);
        self.withdraw(&e);
        e
    }

    /// A session ended: clear its entries on every worker, then its
    /// flow-cache entries and client next hop. The core has already put the
    /// pair in quarantine, so no new session gets it before late frames
    /// have drained.
    pub(crate) fn withdraw(&mut self, e: &Ended) {
        let (c2s, s2c) = (e.labels.c2s(), e.labels.s2c());
        self.shared.tables.clear(c2s);
        self.shared.tables.clear(s2c);
        self.splice_withdrawn(c2s);
        self.counters.event(Event::SessionsEnded);
        self.health_ended(e);
        self.sync_withdrawn(e);
        let Some(pi) = self.core.labels().pair_index(c2s) else {
            return;
        };
        self.recent_ends.ended(pi, &e.key, e.reason, e.ended_at);
        let side = std::mem::take(&mut self.sides[pi as usize]);
        if side.flow_workers != 0 {
            let flow = client_flow(&e.key);
            for (w, c) in self.chans.iter().enumerate() {
                if side.flow_workers & (1 << w) != 0 {
                    // If the queue is full the worker finds the entry stale
                    // (label not live) and drops it itself.
                    let _ = c.ops.push(WorkerOp::FlowRemove(flow));
                }
            }
        }
        self.slots
            .release_client(side.client_slot, &self.shared.nexthops);
    }
}
