//! Sessions admitted elsewhere, installed here with the labels, server and
//! state they have there (issue 15): another instance's sync records
//! (`sync.rs`) and this instance's state file at start (`slbd --restore`).
//!
//! The session core takes the record ([`slb_core::Core::install`]); the
//! data path then gets what admission would have given it: both label
//! entries on every core, the client's next hop, and for a plain client's
//! service a flow-cache entry on every worker (the record does not say
//! which worker RSS gives the flow here; the scheduler's own fast path
//! learns it from the first frame its queue gets). An ended record ends the copy
//! here. Every record that is not installed is counted by reason
//! (`install_*`), and changes nothing.

use super::Scheduler;
use crate::counters::Event;
use crate::frame::Frame;
use crate::shared::client_flow;
use slb_core::service::Admitted;
use slb_core::{InstallError, Installed, Origin, SessionRecord};

/// Why a record was not installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallRefusal {
    /// The session core refused it (its service, server or labels).
    Core(InstallError),
    /// No next-hop slot for its client.
    NoNextHop,
}

impl InstallRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            InstallRefusal::Core(e) => e.as_str(),
            InstallRefusal::NoNextHop => "no_next_hop",
        }
    }
}

impl<F: Frame> Scheduler<F> {
    /// Installs `rec` (see the module's documentation); `origin` is
    /// [`Origin::Synced`] or [`Origin::Restored`]. An ended record ends the
    /// session it names instead (`Ok(None)`).
    pub fn install_record(
        &mut self,
        rec: &SessionRecord,
        origin: Origin,
        now: u64,
    ) -> Result<Option<Installed>, InstallRefusal> {
        if rec.ended {
            if let Some(e) = self.core.end_synced(rec, now) {
                self.withdraw(&e);
                self.counters.event(Event::SyncEnded);
            }
            return Ok(None);
        }
        let installed = match self.core.install(rec, origin, now) {
            Ok(i) => i,
            Err(e) => {
                self.counters.event(match e {
                    InstallError::NoService(..) => Event::InstallNoService,
                    InstallError::NoServer(_) => Event::InstallNoServer,
                    InstallError::LabelOutOfRange(_) => Event::InstallLabelOutOfRange,
                    InstallError::LabelBusy(_) => Event::InstallLabelBusy,
                    InstallError::KeyBusy(_) => Event::InstallKeyBusy,
                });
                return Err(InstallRefusal::Core(e));
            }
        };
        let Installed::New {
            session,
            service,
            server,
        } = installed
        else {
            self.counters.event(Event::SyncUpdated);
            return Ok(Some(installed));
        };
        let s = self.core.session(session);
        let labels = s.labels();
        let admitted = Admitted {
            service,
            session,
            server,
            server_addr: rec.server,
            labels,
        };
        // The port the client came in on where it was admitted, if it
        // faces clients here too (the instances of a cluster share their
        // client-side segment); else this instance's first such port.
        let port = u8::try_from(rec.ingress_port)
            .ok()
            .filter(|&p| self.port_role(p).is_some_and(|r| r.faces_clients()))
            .or_else(|| {
                self.shared
                    .ports
                    .iter()
                    .position(|p| p.role.faces_clients())
                    .and_then(|i| u8::try_from(i).ok())
            });
        let flow = client_flow(&rec.key);
        let ok = match port {
            Some(port) => self.install(
                0,
                &admitted,
                &rec.key,
                port,
                rec.client_mac,
                &flow,
                !rec.replied,
                now,
            ),
            None => {
                self.end_now(session, now);
                false
            }
        };
        if !ok {
            self.counters.event(Event::InstallNoNextHop);
            return Err(InstallRefusal::NoNextHop);
        }
        let plain = self.services.get(&service).is_none_or(|s| s.plain_clients);
        if plain {
            // Worker 0 has it from `install`; every other worker too. Not
            // the scheduler's own fast path (the last channel): its small
            // flow cache would churn under a dump, and a frame its RX
            // queue gets for the flow comes back as a punt that joins the
            // session and installs the flow there (`admission.rs`).
            for w in 1..self.local_id {
                self.install_flow(w, flow, labels.c2s());
            }
        }
        self.counters.event(match origin {
            Origin::Restored => Event::Restored,
            _ => Event::SyncInstalled,
        });
        Ok(Some(installed))
    }
}
