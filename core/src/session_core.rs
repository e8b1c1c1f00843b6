//! [`Core`]: the session core of one appliance, the one object the
//! scheduler drives.
//!
//! All services of an appliance share one label space and one session
//! table, so [`Core`] owns the [`LabelManager`], the [`SessionTable`] and the
//! [`Service`]s, and lends the first two to [`Service::admit`]. It turns
//! the scheduler's events (a new packet, TCP flags on a labelled packet, a
//! first reply, traffic, the expiry tick) into session state changes, and
//! reports what ended.

use std::net::IpAddr;

use hashbrown::HashMap;

use crate::admission::Refusal;
use crate::error::CoreError;
use crate::ids::{ServerId, ServiceId, SessionId};
use crate::labels::{LabelConfig, LabelManager, LabelPair};
use crate::service::{Admitted, PacketInfo, Service, ServiceConfig};
use crate::session::{
    tcp_transition, Counters, Direction, EndReason, NewSession, Next, Origin, Protocol, Session,
    SessionKey, SessionState, SessionTable, TcpFlags, Timeouts, Transition,
};
use crate::session_record::SessionRecord;

/// A session that ended: its labels are in quarantine; the scheduler removes
/// its label table entries and flow cache entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ended {
    pub key: SessionKey,
    pub labels: LabelPair,
    pub service: ServiceId,
    pub server: ServerId,
    pub reason: EndReason,
    pub created: u64,
    pub ended_at: u64,
    pub first_reply: Option<u64>,
    pub counters: Counters,
    pub origin: Origin,
    /// A sync record was sent for it: peers hold a copy to drop.
    pub synced: bool,
}

/// Result of [`Core::install`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Installed {
    /// A new session with the record's labels.
    New {
        session: SessionId,
        service: ServiceId,
        server: ServerId,
    },
    /// The session was here already (same key, same labels): its state
    /// and timer follow the record.
    Updated(SessionId),
}

/// Why a record was not installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InstallError {
    #[error("no service {0:?} {1} port {2}")]
    NoService(Protocol, IpAddr, u16),
    #[error("server {0} is not in the service")]
    NoServer(IpAddr),
    #[error("label {0} is outside the label range")]
    LabelOutOfRange(u32),
    #[error("label {0} is held by another session")]
    LabelBusy(u32),
    #[error("the client's flow is held by another session (labels {0})")]
    KeyBusy(u32),
}

impl InstallError {
    /// A short name, for counters.
    pub fn as_str(self) -> &'static str {
        match self {
            InstallError::NoService(..) => "no_service",
            InstallError::NoServer(_) => "no_server",
            InstallError::LabelOutOfRange(_) => "label_out_of_range",
            InstallError::LabelBusy(_) => "label_busy",
            InstallError::KeyBusy(_) => "key_busy",
        }
    }
}

/// Result of [`Core::on_new_packet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewPacketOutcome {
    /// A new session; forward the packet with `labels.c2s()`. `replaced` is
    /// an old session with the same key that this SYN ended (port reuse).
    Admitted {
        admitted: Admitted,
        replaced: Option<Ended>,
    },
    /// The packet belongs to an existing session (no admission). `ended` is
    /// set if this packet ended it (RST).
    Existing {
        session: SessionId,
        labels: LabelPair,
        server: ServerId,
        ended: Option<Ended>,
    },
    /// Admission refused the session (RST or drop, as configured).
    Refused { service: ServiceId, reason: Refusal },
    /// TCP packet that is not a SYN without ACK, for no known session.
    NotSessionStart,
    /// No service for (protocol, VIP, port).
    NoService,
}

/// Result of [`Core::on_event`] and [`Core::on_first_reply`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventOutcome {
    /// No session holds this label (raced with expiry, or bogus).
    UnknownLabel,
    /// Invalid flag combination; nothing changed.
    Ignored,
    /// The session lives on in `state`.
    Updated {
        session: SessionId,
        state: SessionState,
        first_reply: bool,
    },
    /// The session ended; withdraw its label entries.
    Ended(Ended),
}

/// Result of one [`Core::expire`] slice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Sweep {
    /// Sessions ended in this slice.
    pub ended: usize,
    /// Label pairs moved from quarantine back to the free ring.
    pub labels_released: usize,
    /// False if the budget ran out with more sessions or labels due.
    pub done: bool,
}

/// Core configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CoreConfig {
    /// The slice this instance assigns from.
    pub labels: LabelConfig,
    /// The whole label range of the cluster, which `labels` is a slice
    /// of; `None`: the same as `labels` (no cluster). Sessions of other
    /// instances (synced) hold labels anywhere in it.
    pub space: Option<LabelConfig>,
    pub timeouts: Timeouts,
    /// Sessions to reserve room for up front (avoids rehash pauses on the
    /// scheduler; 0 = grow on demand).
    pub session_capacity_hint: usize,
}

/// Counters of events that belong to no service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CoreCounters {
    pub no_service: u64,
    pub not_session_start: u64,
    pub unknown_label: u64,
    pub ignored_flags: u64,
}

/// The session core of one appliance: label space, session table, services.
/// Owned by the scheduler lcore; nothing here locks, reads a clock or does
/// I/O: `now` (ns, monotonic, non-decreasing) is always passed in.
pub struct Core {
    labels: LabelManager,
    table: SessionTable,
    services: Vec<Option<Service>>,
    by_vip: HashMap<(Protocol, IpAddr, u16), ServiceId>,
    counters: CoreCounters,
}

impl Core {
    pub fn new(config: CoreConfig) -> Result<Core, CoreError> {
        let labels =
            LabelManager::with_space(config.space.unwrap_or(config.labels), config.labels)?;
        let table = SessionTable::new(
            labels.capacity(),
            config.session_capacity_hint,
            config.timeouts,
        );
        Ok(Core {
            labels,
            table,
            services: Vec::new(),
            by_vip: HashMap::new(),
            counters: CoreCounters::default(),
        })
    }

    pub fn add_service(&mut self, config: ServiceConfig) -> Result<ServiceId, CoreError> {
        let vip_key = (config.protocol, config.vip, config.port);
        if self.by_vip.contains_key(&vip_key) {
            return Err(CoreError::DuplicateService {
                protocol: config.protocol,
                vip: config.vip,
                port: config.port,
            });
        }
        let service = Service::new(config)?;
        let slot = match self.services.iter().position(Option::is_none) {
            Some(i) => i,
            None if self.services.len() >= u16::MAX as usize => {
                return Err(CoreError::TooManyServices)
            }
            None => {
                self.services.push(None);
                self.services.len() - 1
            }
        };
        self.services[slot] = Some(service);
        let id = ServiceId(slot as u16);
        self.by_vip.insert(vip_key, id);
        Ok(id)
    }

    /// Removes a service that has no sessions left (set its servers to
    /// draining first and let them end, or end them with `end_session`).
    pub fn remove_service(&mut self, id: ServiceId) -> Result<(), CoreError> {
        let s = self.service(id).ok_or(CoreError::NoSuchService(id.0))?;
        if s.sessions() > 0 {
            return Err(CoreError::ServiceHasSessions(id.0, s.sessions()));
        }
        let c = *s.config();
        self.by_vip.remove(&(c.protocol, c.vip, c.port));
        self.services[id.0 as usize] = None;
        Ok(())
    }

    pub fn service(&self, id: ServiceId) -> Option<&Service> {
        self.services.get(id.0 as usize).and_then(Option::as_ref)
    }

    pub fn service_mut(&mut self, id: ServiceId) -> Option<&mut Service> {
        self.services
            .get_mut(id.0 as usize)
            .and_then(Option::as_mut)
    }

    pub fn find_service(&self, protocol: Protocol, vip: IpAddr, port: u16) -> Option<ServiceId> {
        self.by_vip.get(&(protocol, vip, port)).copied()
    }

    pub fn services(&self) -> impl Iterator<Item = (ServiceId, &Service)> {
        self.services
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (ServiceId(i as u16), s)))
    }

    pub fn labels(&self) -> &LabelManager {
        &self.labels
    }

    pub fn sessions(&self) -> &SessionTable {
        &self.table
    }

    pub fn counters(&self) -> &CoreCounters {
        &self.counters
    }

    /// Replaces the idle timeouts (a live reload). New sessions and every
    /// session already waiting use the new values at once: a session's
    /// deadline becomes the last restart of its timer plus the new timeout
    /// of its state (O(1), see `session`'s module docs). A shorter timeout
    /// can make many sessions due at once; [`Core::expire`] ends them in its
    /// bounded slices.
    pub fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.table.set_timeouts(timeouts);
    }

    /// The idle timeouts in force.
    pub fn timeouts(&self) -> Timeouts {
        self.table.timeouts()
    }

    pub fn session(&self, id: SessionId) -> &Session {
        self.table.get(id)
    }

    pub fn find(&self, key: &SessionKey) -> Option<SessionId> {
        self.table.find(key)
    }

    /// The session holding `label` (its C2S or its S2C label).
    pub fn find_by_label(&self, label: u32) -> Option<SessionId> {
        self.table.find_by_pair(self.labels.pair_index(label)?)
    }

    /// Heap bytes held by the label manager and the session table.
    pub fn heap_bytes(&self) -> usize {
        self.labels.heap_bytes() + self.table.heap_bytes()
    }

    /// An unlabelled packet to a VIP that missed the worker's flow cache.
    /// Existing session: the packet is a C2S event of it, never admitted
    /// again. Otherwise TCP needs a SYN without ACK; then admission.
    pub fn on_new_packet(&mut self, packet: &PacketInfo, now: u64) -> NewPacketOutcome {
        self.on_new_packet_in(packet, 0, now)
    }

    /// [`Core::on_new_packet`], admitting to pool `group` of the service
    /// (what its layer-7 rules chose from the first data; 0: the default
    /// pool).
    pub fn on_new_packet_in(
        &mut self,
        packet: &PacketInfo,
        group: u16,
        now: u64,
    ) -> NewPacketOutcome {
        let key = &packet.key;
        let key_hash = self.table.hash_key(key);
        let mut replaced = None;
        if let Some(id) = self.table.find_hashed(key_hash, key) {
            let state = self.table.get(id).state();
            let reuse = key.protocol == Protocol::Tcp
                && packet.tcp_flags.is_session_start()
                && matches!(
                    state,
                    SessionState::Closing(_) | SessionState::Linger | SessionState::Reset
                );
            if !reuse {
                let s = self.table.get(id);
                let (labels, server) = (s.labels(), s.server());
                self.table
                    .count(id, Direction::ClientToServer, 1, packet.bytes as u64);
                let ended = match self.apply(id, packet.tcp_flags, Direction::ClientToServer, now) {
                    EventOutcome::Ended(e) => Some(e),
                    _ => None,
                };
                return NewPacketOutcome::Existing {
                    session: id,
                    labels,
                    server,
                    ended,
                };
            }
            replaced = Some(self.end(id, EndReason::Replaced, now));
        }
        let Some(&service_id) = self.by_vip.get(&(key.protocol, key.vip, key.vip_port)) else {
            self.counters.no_service += 1;
            return NewPacketOutcome::NoService;
        };
        if key.protocol == Protocol::Tcp && !packet.tcp_flags.is_session_start() {
            self.counters.not_session_start += 1;
            return NewPacketOutcome::NotSessionStart;
        }
        match self.admit(service_id, packet, group, key_hash, now) {
            Ok(admitted) => NewPacketOutcome::Admitted { admitted, replaced },
            Err(reason) => NewPacketOutcome::Refused {
                service: service_id,
                reason,
            },
        }
    }

    /// Admits `packet` to `service_id` (the service's checks, a server,
    /// a label pair, a session in the table).
    fn admit(
        &mut self,
        service_id: ServiceId,
        packet: &PacketInfo,
        group: u16,
        key_hash: u64,
        now: u64,
    ) -> Result<Admitted, Refusal> {
        self.services[service_id.0 as usize]
            .as_mut()
            .expect("indexed service exists")
            .admit(
                service_id,
                packet,
                group,
                key_hash,
                now,
                &mut self.labels,
                &mut self.table,
            )
    }

    /// Client-to-server recovery (issue 14): a TCP packet of no session
    /// that does not start one (`on_new_packet` said `NotSessionStart`),
    /// for a service whose algorithm is consistent
    /// ([`crate::Algorithm::is_consistent`]): the flow was admitted by another
    /// appliance (or by this one before a restart) and moved here. It is
    /// admitted again, by the same checks as a SYN, to the server the hash
    /// picks (the one that appliance picked, while both have the same
    /// servers and none is full), with a fresh label pair, straight into
    /// `established` with its first reply taken as seen (no response-time
    /// sample from the middle of a flow). Anything else is
    /// `NotSessionStart`, changing nothing.
    pub fn recover(&mut self, packet: &PacketInfo, now: u64) -> NewPacketOutcome {
        let key = &packet.key;
        // A RST ends a connection: one of no session here (a client's
        // answer to a late duplicate, from TIME_WAIT) must not start a
        // session that would then wait out the established timeout.
        if key.protocol != Protocol::Tcp
            || packet.tcp_flags.is_session_start()
            || packet.tcp_flags.has(TcpFlags::RST)
        {
            return NewPacketOutcome::NotSessionStart;
        }
        let key_hash = self.table.hash_key(key);
        if self.table.find_hashed(key_hash, key).is_some() {
            return NewPacketOutcome::NotSessionStart;
        }
        let Some(&service_id) = self.by_vip.get(&(key.protocol, key.vip, key.vip_port)) else {
            return NewPacketOutcome::NoService;
        };
        let consistent = self.services[service_id.0 as usize]
            .as_ref()
            .is_some_and(|s| s.config().algorithm.is_consistent());
        if !consistent {
            return NewPacketOutcome::NotSessionStart;
        }
        // Recovery picks from the default pool: the frame in hand is from
        // the middle of the flow, not the first data the rules read.
        match self.admit(service_id, packet, 0, key_hash, now) {
            Ok(admitted) => {
                self.table
                    .set_state(admitted.session, SessionState::Established, now);
                self.table.set_first_reply(admitted.session, now);
                self.table
                    .set_origin(admitted.session, Origin::RecoveredByHash);
                NewPacketOutcome::Admitted {
                    admitted,
                    replaced: None,
                }
            }
            Err(reason) => NewPacketOutcome::Refused {
                service: service_id,
                reason,
            },
        }
    }

    /// A worker reported TCP flags (FIN, RST, first reply) on a labelled
    /// packet. The direction follows from the label: odd = C2S, even = S2C.
    pub fn on_event(&mut self, label: u32, flags: TcpFlags, now: u64) -> EventOutcome {
        let Some(id) = self.find_by_label(label) else {
            self.counters.unknown_label += 1;
            return EventOutcome::UnknownLabel;
        };
        self.apply(id, flags, Direction::of_label(label), now)
    }

    /// The server's first reply on the session holding `label` (either
    /// label): records the response time; establishes a TCP session.
    pub fn on_first_reply(&mut self, label: u32, now: u64) -> EventOutcome {
        let Some(id) = self.find_by_label(label) else {
            self.counters.unknown_label += 1;
            return EventOutcome::UnknownLabel;
        };
        self.apply(id, TcpFlags(TcpFlags::ACK), Direction::ServerToClient, now)
    }

    /// Traffic reported for the session holding `label` (direction from the
    /// label): adds to its counters and restarts its idle timer. False if no
    /// session holds the label.
    pub fn on_traffic(&mut self, label: u32, packets: u64, bytes: u64, now: u64) -> bool {
        let Some(id) = self.find_by_label(label) else {
            return false;
        };
        self.table
            .count(id, Direction::of_label(label), packets, bytes);
        self.table.touch(id, now);
        self.table.mark_here(id);
        true
    }

    /// Records what bound session `id` to its pool (layer-7 rules).
    pub fn set_bound_by(&mut self, id: SessionId, by: crate::bound_by::BoundBy) {
        self.table.set_bound_by(id, by);
    }

    /// Ends a session on the control plane's request.
    pub fn end_session(&mut self, id: SessionId, now: u64) -> Ended {
        self.end(id, EndReason::Administrative, now)
    }

    /// One bounded expiry slice: ends at most `max_visits` expired sessions
    /// (pushed to `ended`) and releases at most `max_visits` label pairs from
    /// quarantine. Call it often with a small budget; a full sweep of a burst
    /// of expiries spans several calls.
    /// As [`Core::expire`], but asks `recent(c2s_label, reason)` before
    /// ending a session for inactivity (`Idle`, `NoReply`): when it answers
    /// true (traffic the session core was not told about, e.g. frames the
    /// data path switched on its own), the session's timer restarts instead.
    /// Linger (`Closed`) always ends. Each restart counts as a visit.
    pub fn expire_unless_recent(
        &mut self,
        now: u64,
        max_visits: usize,
        recent: &mut dyn FnMut(u32, EndReason) -> bool,
        ended: &mut Vec<Ended>,
    ) -> Sweep {
        let mut sweep = Sweep::default();
        let mut visits = 0;
        while visits < max_visits {
            let Some((id, reason)) = self.table.pop_expired(now) else {
                break;
            };
            visits += 1;
            if matches!(reason, EndReason::Idle | EndReason::NoReply)
                && recent(self.table.get(id).labels().c2s(), reason)
            {
                self.table.touch(id, now);
                self.table.mark_here(id);
                continue;
            }
            ended.push(self.end(id, reason, now));
            sweep.ended += 1;
        }
        sweep.labels_released = self.labels.release_expired(now, max_visits);
        sweep.done = self.table.pop_expired(now).is_none() && !self.labels.release_due(now);
        sweep
    }

    pub fn expire(&mut self, now: u64, max_visits: usize, ended: &mut Vec<Ended>) -> Sweep {
        let mut sweep = Sweep::default();
        while sweep.ended < max_visits {
            let Some((id, reason)) = self.table.pop_expired(now) else {
                break;
            };
            ended.push(self.end(id, reason, now));
            sweep.ended += 1;
        }
        sweep.labels_released = self.labels.release_expired(now, max_visits);
        sweep.done = self.table.pop_expired(now).is_none() && !self.labels.release_due(now);
        sweep
    }

    fn apply(&mut self, id: SessionId, flags: TcpFlags, dir: Direction, now: u64) -> EventOutcome {
        self.table.mark_here(id);
        let s = self.table.get(id);
        let (state, protocol, replied) = (s.state(), s.key().protocol, s.first_reply().is_some());
        let (service, server) = (s.service(), s.server());
        let transition = match protocol {
            Protocol::Tcp => tcp_transition(state, flags, dir),
            Protocol::Udp => Transition {
                next: Next::Stay,
                first_reply: dir == Direction::ServerToClient && !replied,
            },
        };
        if transition.first_reply {
            if let Some(rt) = self.table.set_first_reply(id, now) {
                if let Some(svc) = self.service_mut(service) {
                    svc.pool_mut().record_response_time(server, rt);
                }
            }
        }
        match transition.next {
            Next::Ignore => {
                self.counters.ignored_flags += 1;
                EventOutcome::Ignored
            }
            Next::Stay => {
                self.table.touch(id, now);
                EventOutcome::Updated {
                    session: id,
                    state,
                    first_reply: transition.first_reply,
                }
            }
            Next::Enter(next) => {
                if next == SessionState::Reset && dir == Direction::ServerToClient && !replied {
                    if let Some(svc) = self.service_mut(service) {
                        svc.pool_mut().record_reset_before_reply(server);
                    }
                }
                self.table.set_state(id, next, now);
                EventOutcome::Updated {
                    session: id,
                    state: next,
                    first_reply: transition.first_reply,
                }
            }
            Next::End(reason) => {
                if reason == EndReason::Reset && dir == Direction::ServerToClient && !replied {
                    if let Some(svc) = self.service_mut(service) {
                        svc.pool_mut().record_reset_before_reply(server);
                    }
                }
                EventOutcome::Ended(self.end(id, reason, now))
            }
        }
    }

    fn end(&mut self, id: SessionId, reason: EndReason, now: u64) -> Ended {
        let s = self.table.remove(id);
        let labels = s.labels();
        self.labels
            .withdraw(labels.c2s(), now)
            .expect("a live session's labels are active");
        let (service, server) = (s.service(), s.server());
        if let Some(svc) = self.service_mut(service) {
            svc.session_ended(server, reason);
        }
        Ended {
            key: *s.key(),
            labels,
            service,
            server,
            reason,
            created: s.created(),
            ended_at: now,
            first_reply: s.first_reply(),
            counters: *s.counters(),
            origin: s.origin(),
            synced: s.last_synced().is_some(),
        }
    }

    /// The session at `id` as a record (session sync, state file).
    /// `None` if its server is no longer in its service.
    pub fn record(&self, id: SessionId, now: u64) -> Option<SessionRecord> {
        let s = self.table.get(id);
        let server = self.service(s.service())?.pool().get(s.server())?.addr();
        let ms = |ns: u64| u32::try_from(ns / 1_000_000).unwrap_or(u32::MAX);
        Some(SessionRecord {
            key: *s.key(),
            c2s: s.labels().c2s(),
            server,
            client_mac: s.client_mac(),
            ingress_port: s.ingress_port(),
            state: s.state(),
            remaining_ms: ms(self.table.deadline(id).saturating_sub(now)),
            age_ms: ms(now.saturating_sub(s.created())),
            replied: s.first_reply().is_some(),
            ended: false,
        })
    }

    /// Records that `id`'s frames arrived here: a peer's copy becomes this
    /// instance's to sync (its origin stays).
    pub fn mark_here(&mut self, id: SessionId) {
        self.table.mark_here(id);
    }

    /// Records that a sync record of `id` was sent at `now`.
    pub fn mark_synced(&mut self, id: SessionId, now: u64) {
        self.table.mark_synced(id, now);
    }

    /// Installs a session admitted elsewhere (another instance's sync
    /// record, or this instance's state file) with the labels, server and
    /// state it has there. Nothing is checked but that its service and
    /// server exist here and its labels and flow are free: the session
    /// exists already, so no admission check (limits, access lists,
    /// rate) applies again. A record of a session that is here with the
    /// same labels updates its state and timer. `origin` is
    /// [`Origin::Synced`] or [`Origin::Restored`].
    pub fn install(
        &mut self,
        rec: &SessionRecord,
        origin: Origin,
        now: u64,
    ) -> Result<Installed, InstallError> {
        let key = &rec.key;
        let Some(&service_id) = self.by_vip.get(&(key.protocol, key.vip, key.vip_port)) else {
            return Err(InstallError::NoService(key.protocol, key.vip, key.vip_port));
        };
        let ms = |v: u32| u64::from(v) * 1_000_000;
        let created = now.saturating_sub(ms(rec.age_ms));
        let replied = rec.replied.then_some(created);
        let key_hash = self.table.hash_key(key);
        if let Some(id) = self.table.find_hashed(key_hash, key) {
            let held = self.table.get(id).labels().c2s();
            if held != rec.c2s {
                return Err(InstallError::KeyBusy(held));
            }
            let s = self.table.get(id);
            let (created, replied) = (s.created(), s.first_reply());
            self.table
                .set_installed(id, rec.state, ms(rec.remaining_ms), created, replied, now);
            return Ok(Installed::Updated(id));
        }
        let service = self.services[service_id.0 as usize]
            .as_mut()
            .expect("indexed service exists");
        let Some(server) = service
            .pool()
            .iter()
            .find(|(_, srv)| srv.addr() == rec.server)
            .map(|(id, _)| id)
        else {
            return Err(InstallError::NoServer(rec.server));
        };
        let pair = match self.labels.claim(rec.c2s) {
            Ok(p) => p,
            Err(crate::labels::LabelError::OutOfSpace(l)) => {
                return Err(InstallError::LabelOutOfRange(l))
            }
            Err(_) => return Err(InstallError::LabelBusy(rec.c2s)),
        };
        let pair_index = self
            .labels
            .pair_index(pair.c2s())
            .expect("claimed label is in range");
        let id = self.table.insert_hashed(
            key_hash,
            NewSession {
                key: *key,
                labels: pair,
                pair_index,
                server,
                service: service_id,
                client_mac: rec.client_mac,
                ingress_port: rec.ingress_port,
                now,
            },
        );
        service.session_installed(server);
        self.table.set_origin(id, origin);
        self.table
            .set_bound_by(id, crate::bound_by::BoundBy::COPIED);
        self.table
            .set_installed(id, rec.state, ms(rec.remaining_ms), created, replied, now);
        Ok(Installed::New {
            session: id,
            service: service_id,
            server,
        })
    }

    /// An `ended` record: the session it names (same key, same labels)
    /// ends here too ([`EndReason::Peer`]). `None` if it is not here.
    pub fn end_synced(&mut self, rec: &SessionRecord, now: u64) -> Option<Ended> {
        let id = self.table.find(&rec.key)?;
        if self.table.get(id).labels().c2s() != rec.c2s {
            return None;
        }
        Some(self.end(id, EndReason::Peer, now))
    }

    /// When the session at `id` times out.
    pub fn deadline(&self, id: SessionId) -> u64 {
        self.table.deadline(id)
    }

    /// Quarantines the free pair containing `label` until `until` (a
    /// restored label allocation: the pairs a stopped run had withdrawn,
    /// whose late frames may still arrive). A pair in use or outside the
    /// range is an error and changes nothing. At most one quarantine from
    /// `now` (see [`LabelManager::quarantine_until`]).
    pub fn quarantine_label(
        &mut self,
        label: u32,
        until: u64,
        now: u64,
    ) -> Result<(), crate::labels::LabelError> {
        self.labels.quarantine_until(label, until, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::RateLimit;
    use crate::balance::Algorithm;
    use crate::labels::LabelStatus;
    use crate::pool::{ServerConfig, ServerState};
    use proptest::prelude::*;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000_000_000;
    const SYN: TcpFlags = TcpFlags(TcpFlags::SYN);
    const SYN_ACK: TcpFlags = TcpFlags(TcpFlags::SYN | TcpFlags::ACK);
    const ACK: TcpFlags = TcpFlags(TcpFlags::ACK);
    const FIN_ACK: TcpFlags = TcpFlags(TcpFlags::FIN | TcpFlags::ACK);
    const RST: TcpFlags = TcpFlags(TcpFlags::RST);

    fn vip() -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))
    }

    fn server(i: u8) -> ServerConfig {
        ServerConfig::new(IpAddr::V4(Ipv4Addr::new(10, 1, 0, i)))
    }

    fn core_with(config: CoreConfig, service: ServiceConfig, servers: u8) -> (Core, ServiceId) {
        let mut core = Core::new(config).unwrap();
        let id = core.add_service(service).unwrap();
        for i in 1..=servers {
            core.service_mut(id)
                .unwrap()
                .pool_mut()
                .add(server(i))
                .unwrap();
        }
        (core, id)
    }

    fn tcp_core(servers: u8) -> (Core, ServiceId) {
        core_with(
            CoreConfig::default(),
            ServiceConfig::new(Protocol::Tcp, vip(), 80, Algorithm::RoundRobin),
            servers,
        )
    }

    fn packet(protocol: Protocol, client: u32, port: u16, flags: TcpFlags) -> PacketInfo {
        PacketInfo {
            key: SessionKey {
                protocol,
                vip: vip(),
                vip_port: if protocol == Protocol::Tcp { 80 } else { 53 },
                client: IpAddr::V4(Ipv4Addr::from(0xc0a8_0000 + client)),
                client_port: port,
            },
            tcp_flags: flags,
            client_mac: [2, 0, 0, 0, 0, 9],
            ingress_port: 1,
            bytes: 60,
        }
    }

    fn admit(core: &mut Core, p: &PacketInfo, now: u64) -> Admitted {
        match core.on_new_packet(p, now) {
            NewPacketOutcome::Admitted { admitted, .. } => admitted,
            other => panic!("not admitted: {other:?}"),
        }
    }

    /// A flow that moved from another appliance (its SYN went there) is
    /// re-admitted here, for consistent algorithms only, to the server
    /// that appliance picked, established at once.
    #[test]
    fn recover_re_admits_to_the_hashed_server_for_consistent_algorithms() {
        for algorithm in Algorithm::ALL {
            let service = ServiceConfig::new(Protocol::Tcp, vip(), 80, algorithm);
            // The other appliance: same servers, the flow's SYN.
            let (mut there, _) = core_with(CoreConfig::default(), service, 5);
            let (mut here, _) = core_with(CoreConfig::default(), service, 5);
            for client in 1..=20u32 {
                let picked = admit(&mut there, &packet(Protocol::Tcp, client, 40000, SYN), 0);
                let ack = packet(Protocol::Tcp, client, 40000, ACK);
                assert_eq!(
                    here.on_new_packet(&ack, S),
                    NewPacketOutcome::NotSessionStart
                );
                match here.recover(&ack, S) {
                    NewPacketOutcome::Admitted { admitted, replaced } => {
                        assert!(algorithm.is_consistent(), "{algorithm:?}");
                        assert_eq!(replaced, None);
                        assert_eq!(admitted.server_addr, picked.server_addr, "{algorithm:?}");
                        let s = here.session(admitted.session);
                        assert_eq!(s.state(), SessionState::Established);
                        assert!(s.first_reply().is_some());
                        // Now a session: the next packet is part of it.
                        assert!(matches!(
                            here.on_new_packet(&ack, S),
                            NewPacketOutcome::Existing { .. }
                        ));
                        // And recover leaves it alone.
                        assert_eq!(here.recover(&ack, S), NewPacketOutcome::NotSessionStart);
                    }
                    NewPacketOutcome::NotSessionStart => {
                        assert!(!algorithm.is_consistent(), "{algorithm:?}");
                        assert_eq!(here.labels().counts().active, 0);
                    }
                    other => panic!("{algorithm:?}: {other:?}"),
                }
            }
        }
        // A SYN, a RST, or UDP, is never recovered; admission still refuses.
        let (mut core, svc) = core_with(
            CoreConfig::default(),
            ServiceConfig::new(Protocol::Tcp, vip(), 80, Algorithm::Maglev),
            2,
        );
        let syn = packet(Protocol::Tcp, 1, 40000, SYN);
        assert_eq!(core.recover(&syn, 0), NewPacketOutcome::NotSessionStart);
        for flags in [
            TcpFlags(TcpFlags::RST),
            TcpFlags(TcpFlags::RST | TcpFlags::ACK),
        ] {
            let rst = packet(Protocol::Tcp, 3, 40000, flags);
            assert_eq!(core.recover(&rst, 0), NewPacketOutcome::NotSessionStart);
        }
        assert_eq!(core.labels().counts().active, 0);
        core.service_mut(svc).unwrap().set_max_sessions(1);
        admit(&mut core, &syn, 0);
        assert_eq!(
            core.recover(&packet(Protocol::Tcp, 2, 40000, ACK), 0),
            NewPacketOutcome::Refused {
                service: svc,
                reason: Refusal::SessionLimit
            }
        );
    }

    /// Two instances of a cluster: A's sessions as records, installed on
    /// B with A's labels and servers; B never assigns A's labels, and
    /// least connections counts them on B.
    #[test]
    fn records_install_on_a_peer_with_their_labels() {
        let space = LabelConfig {
            first: 16,
            last: 115,
            quarantine_ns: S,
        };
        let slice = |k: u32| LabelConfig {
            first: 16 + 50 * k,
            last: 65 + 50 * k,
            quarantine_ns: S,
        };
        let cfg = |k| CoreConfig {
            labels: slice(k),
            space: Some(space),
            ..CoreConfig::default()
        };
        let service = ServiceConfig::new(Protocol::Tcp, vip(), 80, Algorithm::LeastConnections);
        let (mut a, _) = core_with(cfg(0), service, 3);
        let (mut b, svc_b) = core_with(cfg(1), service, 3);
        let mut records = Vec::new();
        for client in 1..=6u32 {
            let adm = admit(&mut a, &packet(Protocol::Tcp, client, 40000, SYN), 0);
            a.on_first_reply(adm.labels.s2c(), MS);
            let rec = a.record(adm.session, 2 * S).unwrap();
            assert_eq!(
                (rec.c2s, rec.server, rec.state),
                (adm.labels.c2s(), adm.server_addr, SessionState::Established)
            );
            assert_eq!(
                (rec.age_ms, rec.remaining_ms, rec.replied),
                (2000, 898_001, true)
            );
            records.push(rec);
        }
        for rec in &records {
            let Installed::New { session, .. } = b.install(rec, Origin::Synced, 10 * S).unwrap()
            else {
                panic!("not new");
            };
            let s = b.session(session);
            assert_eq!(
                (s.origin(), s.is_here(), s.state()),
                (Origin::Synced, false, SessionState::Established)
            );
            assert_eq!(s.labels().c2s(), rec.c2s);
            assert_eq!(b.find_by_label(rec.c2s + 1), Some(session));
            // Its timer: what was left on A, from now.
            assert_eq!(b.deadline(session), 10 * S + 898_001 * MS);
            assert!(!b.labels().is_own(rec.c2s));
        }
        // Least connections on B counts the installed sessions: 2 each.
        let pool = b.service(svc_b).unwrap().pool();
        assert!(pool.iter().all(|(_, srv)| srv.active_sessions() == 2));
        // B's own sessions get B's labels, never A's.
        let own = admit(&mut b, &packet(Protocol::Tcp, 50, 1, SYN), 10 * S);
        assert!(b.labels().is_own(own.labels.c2s()));
        assert_eq!(
            (b.labels().counts().active, b.labels().counts().peers_active),
            (1, 6)
        );
        assert_eq!(b.labels().counts().free, b.labels().own_capacity() - 1);
        // The same record again updates; a record on the same flow with
        // other labels, or other labels' holder, is refused.
        let mut rec = records[0];
        rec.state = SessionState::Closing(Direction::ClientToServer);
        assert!(matches!(
            b.install(&rec, Origin::Synced, 11 * S),
            Ok(Installed::Updated(_))
        ));
        assert_eq!(b.session(b.find(&rec.key).unwrap()).state(), rec.state);
        let mut other = rec;
        other.c2s = records[1].c2s;
        assert_eq!(
            b.install(&other, Origin::Synced, 11 * S),
            Err(InstallError::KeyBusy(rec.c2s))
        );
        other.key.client_port = 1;
        assert_eq!(
            b.install(&other, Origin::Synced, 11 * S),
            Err(InstallError::LabelBusy(records[1].c2s))
        );
        other.c2s = 1001;
        assert_eq!(
            b.install(&other, Origin::Synced, 11 * S),
            Err(InstallError::LabelOutOfRange(1001))
        );
        other.c2s = 99;
        other.server = "10.9.9.9".parse().unwrap();
        assert_eq!(
            b.install(&other, Origin::Synced, 11 * S),
            Err(InstallError::NoServer(other.server))
        );
        other.key.vip_port = 81;
        assert!(matches!(
            b.install(&other, Origin::Synced, 11 * S),
            Err(InstallError::NoService(..))
        ));
        // Frames of a synced session arriving here make it B's.
        b.on_traffic(records[2].c2s, 1, 100, 12 * S);
        assert!(b.session(b.find(&records[2].key).unwrap()).is_here());
        // An ended record ends B's copy, once.
        let e = b.end_synced(&records[3], 13 * S).unwrap();
        assert_eq!((e.reason, e.origin), (EndReason::Peer, Origin::Synced));
        assert_eq!(b.end_synced(&records[3], 13 * S), None);
        assert_eq!(
            (b.labels().counts().active, b.labels().counts().peers_active),
            (1, 5)
        );
        // A's label, quarantined on B, may be installed again at once
        // (A decides when it reuses its labels).
        let mut again = records[3];
        again.key.client_port = 2;
        assert!(matches!(
            b.install(&again, Origin::Synced, 13 * S),
            Ok(Installed::New { .. })
        ));
    }

    /// A restart: this instance's own labels come back as they were, and
    /// assignment skips them until they are withdrawn.
    #[test]
    fn restored_own_labels_are_not_assigned_again() {
        let cfg = CoreConfig {
            labels: LabelConfig {
                first: 16,
                last: 24,
                quarantine_ns: S,
            },
            ..CoreConfig::default()
        };
        let service = ServiceConfig::new(Protocol::Tcp, vip(), 80, Algorithm::RoundRobin);
        let (mut before, _) = core_with(cfg, service, 2);
        let mut recs = Vec::new();
        for c in 1..=2 {
            let adm = admit(&mut before, &packet(Protocol::Tcp, c, 1, SYN), 0);
            recs.push(before.record(adm.session, S).unwrap());
        }
        let (mut after, _) = core_with(cfg, service, 2);
        // Restored in the opposite order: pairs 1 then 0.
        for r in recs.iter().rev() {
            after.install(r, Origin::Restored, 0).unwrap();
        }
        let mut got = Vec::new();
        loop {
            match after.on_new_packet(&packet(Protocol::Tcp, 9, got.len() as u16, SYN), 0) {
                NewPacketOutcome::Admitted { admitted, .. } => got.push(admitted.labels.c2s()),
                other => {
                    assert!(
                        matches!(
                            other,
                            NewPacketOutcome::Refused {
                                reason: Refusal::LabelsExhausted,
                                ..
                            }
                        ),
                        "{other:?}"
                    );
                    break;
                }
            }
        }
        assert_eq!(got, [21, 23]);
        assert_eq!(after.labels().counts().free, 0);
        let id = after.find(&recs[0].key).unwrap();
        assert_eq!(after.session(id).origin(), Origin::Restored);
        assert!(after.session(id).is_here());
        let e = after.end_session(id, 0);
        after.expire(2 * S, 10, &mut Vec::new());
        assert_eq!(e.labels.c2s(), 17);
        assert_eq!(after.labels().counts().free, 1);
        let a = admit(&mut after, &packet(Protocol::Tcp, 9, 100, SYN), 2 * S);
        assert_eq!(a.labels.c2s(), 17);
    }

    #[test]
    fn tcp_session_lifecycle() {
        let (mut core, svc) = tcp_core(2);
        let syn = packet(Protocol::Tcp, 1, 40000, SYN);
        let a = admit(&mut core, &syn, 0);
        assert_eq!(a.labels.c2s() % 2, 1);
        assert_eq!(a.server_addr, server(1).addr);
        assert_eq!(core.labels().status(a.labels.c2s()), LabelStatus::Active);
        assert_eq!(core.find_by_label(a.labels.c2s()), Some(a.session));
        assert_eq!(core.find_by_label(a.labels.s2c()), Some(a.session));
        let s = core.session(a.session);
        assert_eq!(
            (s.state(), s.client_mac(), s.ingress_port()),
            (SessionState::SynSent, [2, 0, 0, 0, 0, 9], 1)
        );
        // A retransmitted SYN is the same session, never admitted again.
        match core.on_new_packet(&syn, MS) {
            NewPacketOutcome::Existing {
                session, labels, ..
            } => {
                assert_eq!((session, labels), (a.session, a.labels))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(core.service(svc).unwrap().counters().admitted, 1);
        // Server's SYN-ACK 2 ms after the SYN: established, RT measured.
        let out = core.on_event(a.labels.s2c(), SYN_ACK, 2 * MS);
        assert_eq!(
            out,
            EventOutcome::Updated {
                session: a.session,
                state: SessionState::Established,
                first_reply: true
            }
        );
        let pool = core.service(svc).unwrap().pool();
        assert_eq!(pool.get(a.server).unwrap().response_time_ns(), Some(2 * MS));
        assert_eq!(core.session(a.session).first_reply(), Some(2 * MS));
        assert!(core.on_traffic(a.labels.c2s(), 10, 1000, 3 * MS));
        assert!(core.on_traffic(a.labels.s2c(), 20, 30000, 3 * MS));
        let c = core.session(a.session).counters();
        assert_eq!((c.packets, c.bytes), ([12, 20], [1120, 30000]));
        // FIN from the client, then from the server: linger.
        let out = core.on_event(a.labels.c2s(), FIN_ACK, 10 * MS);
        assert!(matches!(
            out,
            EventOutcome::Updated {
                state: SessionState::Closing(Direction::ClientToServer),
                ..
            }
        ));
        let out = core.on_event(a.labels.s2c(), FIN_ACK, 11 * MS);
        assert!(matches!(
            out,
            EventOutcome::Updated {
                state: SessionState::Linger,
                ..
            }
        ));
        core.on_event(a.labels.c2s(), ACK, 12 * MS);
        let linger = Timeouts::default().tcp_linger_ns;
        let mut ended = Vec::new();
        core.expire(11 * MS + linger - 1, 100, &mut ended);
        assert!(ended.is_empty());
        let sweep = core.expire(11 * MS + linger, 100, &mut ended);
        assert_eq!(sweep.ended, 1);
        assert_eq!(ended[0].reason, EndReason::Closed);
        assert_eq!(ended[0].labels, a.labels);
        assert_eq!(
            core.labels().status(a.labels.c2s()),
            LabelStatus::Quarantined
        );
        assert_eq!(core.find_by_label(a.labels.c2s()), None);
        let svc = core.service(svc).unwrap();
        assert_eq!(svc.sessions(), 0);
        assert_eq!(svc.pool().get(a.server).unwrap().active_sessions(), 0);
        assert_eq!(svc.ended()[EndReason::Closed.index()], 1);
    }

    #[test]
    fn only_syn_creates_tcp_sessions() {
        let (mut core, _) = tcp_core(1);
        for bits in 0u8..64 {
            let p = packet(Protocol::Tcp, bits as u32, 1000, TcpFlags(bits));
            let out = core.on_new_packet(&p, 0);
            if TcpFlags(bits).is_session_start() {
                assert!(
                    matches!(out, NewPacketOutcome::Admitted { .. }),
                    "{bits:#x}"
                );
            } else {
                assert_eq!(out, NewPacketOutcome::NotSessionStart, "{bits:#x}");
            }
        }
        assert_eq!(core.counters().not_session_start, 60);
        let mut p = packet(Protocol::Tcp, 1, 1, SYN);
        p.key.vip_port = 81;
        assert_eq!(core.on_new_packet(&p, 0), NewPacketOutcome::NoService);
    }

    #[test]
    fn refusal_reasons() {
        // No server at all.
        let (mut core, svc) = tcp_core(0);
        let out = core.on_new_packet(&packet(Protocol::Tcp, 1, 1, SYN), 0);
        assert_eq!(
            out,
            NewPacketOutcome::Refused {
                service: svc,
                reason: Refusal::NoServer
            }
        );
        // Servers down / draining / disabled.
        let (mut core, svc) = tcp_core(3);
        let pool = core.service_mut(svc).unwrap().pool_mut();
        pool.set_state(ServerId(0), ServerState::Down).unwrap();
        pool.set_state(ServerId(1), ServerState::Draining).unwrap();
        pool.set_state(ServerId(2), ServerState::Disabled).unwrap();
        let out = core.on_new_packet(&packet(Protocol::Tcp, 1, 1, SYN), 0);
        assert_eq!(
            out,
            NewPacketOutcome::Refused {
                service: svc,
                reason: Refusal::NoServer
            }
        );
        // All at max.
        let (mut core, svc) = tcp_core(2);
        for id in [ServerId(0), ServerId(1)] {
            core.service_mut(svc)
                .unwrap()
                .pool_mut()
                .set_max_sessions(id, 1)
                .unwrap();
        }
        admit(&mut core, &packet(Protocol::Tcp, 1, 1, SYN), 0);
        admit(&mut core, &packet(Protocol::Tcp, 2, 1, SYN), 0);
        let out = core.on_new_packet(&packet(Protocol::Tcp, 3, 1, SYN), 0);
        assert_eq!(
            out,
            NewPacketOutcome::Refused {
                service: svc,
                reason: Refusal::ServersFull
            }
        );
        // Existing sessions still pass.
        assert!(matches!(
            core.on_new_packet(&packet(Protocol::Tcp, 1, 1, ACK), 0),
            NewPacketOutcome::Existing { .. }
        ));
        // Service session limit.
        let mut cfg = ServiceConfig::new(Protocol::Tcp, vip(), 80, Algorithm::LeastConnections);
        cfg.max_sessions = 1;
        let (mut core, svc) = core_with(CoreConfig::default(), cfg, 2);
        admit(&mut core, &packet(Protocol::Tcp, 1, 1, SYN), 0);
        let out = core.on_new_packet(&packet(Protocol::Tcp, 2, 1, SYN), 0);
        assert_eq!(
            out,
            NewPacketOutcome::Refused {
                service: svc,
                reason: Refusal::SessionLimit
            }
        );
        // Rate limit: burst 2, 1/s.
        let mut cfg = ServiceConfig::new(Protocol::Tcp, vip(), 80, Algorithm::Maglev);
        cfg.rate_limit = Some(RateLimit {
            per_second: 1,
            burst: 2,
        });
        let (mut core, svc) = core_with(CoreConfig::default(), cfg, 2);
        admit(&mut core, &packet(Protocol::Tcp, 1, 1, SYN), 0);
        admit(&mut core, &packet(Protocol::Tcp, 2, 1, SYN), 0);
        let out = core.on_new_packet(&packet(Protocol::Tcp, 3, 1, SYN), 0);
        assert_eq!(
            out,
            NewPacketOutcome::Refused {
                service: svc,
                reason: Refusal::RateLimit
            }
        );
        admit(&mut core, &packet(Protocol::Tcp, 3, 1, SYN), S);
        // Labels: a range of two pairs.
        let config = CoreConfig {
            labels: LabelConfig {
                first: 16,
                last: 20,
                quarantine_ns: S,
            },
            ..CoreConfig::default()
        };
        let cfg = ServiceConfig::new(Protocol::Tcp, vip(), 80, Algorithm::WeightedRoundRobin);
        let (mut core, svc) = core_with(config, cfg, 1);
        let a = admit(&mut core, &packet(Protocol::Tcp, 1, 1, SYN), 0);
        admit(&mut core, &packet(Protocol::Tcp, 2, 1, SYN), 0);
        let out = core.on_new_packet(&packet(Protocol::Tcp, 3, 1, SYN), 0);
        assert_eq!(
            out,
            NewPacketOutcome::Refused {
                service: svc,
                reason: Refusal::LabelsExhausted
            }
        );
        // A RST ends one after the linger time; then its pair is in
        // quarantine: still exhausted until that passes too.
        core.on_event(a.labels.c2s(), RST, 10);
        let linger = Timeouts::default().tcp_linger_ns;
        let mut ended = Vec::new();
        core.expire(10 + linger - 1, 10, &mut ended);
        assert!(ended.is_empty(), "ended before the linger time");
        core.expire(10 + linger, 10, &mut ended);
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].reason, EndReason::Reset);
        let out = core.on_new_packet(&packet(Protocol::Tcp, 3, 1, SYN), linger + 20);
        assert_eq!(
            out,
            NewPacketOutcome::Refused {
                service: svc,
                reason: Refusal::LabelsExhausted
            }
        );
        let b = admit(
            &mut core,
            &packet(Protocol::Tcp, 3, 1, SYN),
            linger + S + 10,
        );
        assert_eq!(b.labels, a.labels);
        let counters = core.service(svc).unwrap().counters();
        assert_eq!(counters.refused(Refusal::LabelsExhausted), 2);
        assert_eq!(counters.admitted, 3);
    }

    #[test]
    fn access_lists_refuse_before_everything_else_and_count_per_list() {
        use crate::access::{AccessLists, PrefixSet};
        let mut cfg = ServiceConfig::new(Protocol::Tcp, vip(), 80, Algorithm::RoundRobin);
        cfg.rate_limit = Some(RateLimit {
            per_second: 1,
            burst: 1,
        });
        let (mut core, svc) = core_with(CoreConfig::default(), cfg, 1);
        let net = |a: [u8; 4], l| (IpAddr::V4(Ipv4Addr::from(a)), l);
        core.service_mut(svc).unwrap().set_access(AccessLists {
            // Clients are 192.168.x.y (see `packet`).
            allow: PrefixSet::from_iter([net([192, 168, 0, 0], 30)]),
            deny: PrefixSet::from_iter([net([192, 168, 0, 2], 32)]),
        });
        let refused = |core: &mut Core, client, reason| {
            let out = core.on_new_packet(&packet(Protocol::Tcp, client, 1, SYN), 0);
            assert_eq!(
                out,
                NewPacketOutcome::Refused {
                    service: svc,
                    reason
                }
            );
        };
        refused(&mut core, 2, Refusal::Denied);
        refused(&mut core, 4, Refusal::NotAllowed);
        refused(&mut core, 4, Refusal::NotAllowed);
        // Neither spent the one token.
        admit(&mut core, &packet(Protocol::Tcp, 1, 1, SYN), 0);
        let c = core.service(svc).unwrap().counters();
        assert_eq!(
            (
                c.refused(Refusal::Denied),
                c.refused(Refusal::NotAllowed),
                c.admitted
            ),
            (1, 2, 1)
        );
        // Lists changed live: existing sessions stay, new ones follow them.
        core.service_mut(svc)
            .unwrap()
            .set_access(AccessLists::none());
        assert_eq!(core.sessions().len(), 1);
        admit(&mut core, &packet(Protocol::Tcp, 4, 1, SYN), S);
    }

    #[test]
    fn resets_and_timeouts_feed_server_failures() {
        let (mut core, svc) = tcp_core(1);
        let a = admit(&mut core, &packet(Protocol::Tcp, 1, 1, SYN), 0);
        let out = core.on_event(a.labels.s2c(), TcpFlags(TcpFlags::RST | TcpFlags::ACK), MS);
        assert!(
            matches!(
                out,
                EventOutcome::Updated {
                    state: SessionState::Reset,
                    ..
                }
            ),
            "{out:?}"
        );
        admit(&mut core, &packet(Protocol::Tcp, 2, 1, SYN), 2 * MS);
        let mut ended = Vec::new();
        core.expire(2 * MS + Timeouts::default().tcp_syn_sent_ns, 10, &mut ended);
        let mut reasons: Vec<EndReason> = ended.iter().map(|e| e.reason).collect();
        reasons.sort_by_key(|r| r.as_str());
        assert_eq!(reasons, [EndReason::NoReply, EndReason::Reset]);
        let f = core
            .service(svc)
            .unwrap()
            .pool()
            .get(ServerId(0))
            .unwrap()
            .failures();
        assert_eq!((f.reset_before_reply, f.no_reply), (1, 1));
        assert_eq!(
            core.on_event(a.labels.c2s(), ACK, 3 * MS),
            EventOutcome::UnknownLabel
        );
        // Invalid flags change nothing.
        let b = admit(&mut core, &packet(Protocol::Tcp, 3, 1, SYN), 4 * MS);
        let bad = TcpFlags(TcpFlags::SYN | TcpFlags::FIN);
        assert_eq!(
            core.on_event(b.labels.c2s(), bad, 5 * MS),
            EventOutcome::Ignored
        );
        assert_eq!(core.session(b.session).last_seen(), 4 * MS);
    }

    #[test]
    fn port_reuse_replaces_a_closing_session() {
        let (mut core, _) = tcp_core(2);
        let syn = packet(Protocol::Tcp, 1, 1, SYN);
        let a = admit(&mut core, &syn, 0);
        core.on_first_reply(a.labels.c2s(), MS);
        core.on_event(a.labels.c2s(), FIN_ACK, 2 * MS);
        core.on_event(a.labels.s2c(), FIN_ACK, 3 * MS);
        match core.on_new_packet(&syn, 4 * MS) {
            NewPacketOutcome::Admitted {
                admitted,
                replaced: Some(old),
            } => {
                assert_eq!(old.reason, EndReason::Replaced);
                assert_eq!(old.labels, a.labels);
                assert_ne!(admitted.labels, a.labels);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(core.sessions().len(), 1);
    }

    #[test]
    fn udp_sessions() {
        let cfg = ServiceConfig::new(Protocol::Udp, vip(), 53, Algorithm::SourceHash);
        let (mut core, svc) = core_with(CoreConfig::default(), cfg, 3);
        let p = packet(Protocol::Udp, 1, 5353, TcpFlags(0));
        let a = admit(&mut core, &p, 0);
        assert_eq!(core.session(a.session).state(), SessionState::Udp);
        assert!(matches!(
            core.on_new_packet(&p, MS),
            NewPacketOutcome::Existing { ended: None, .. }
        ));
        let out = core.on_event(a.labels.s2c(), TcpFlags(0), 3 * MS);
        assert!(matches!(
            out,
            EventOutcome::Updated {
                first_reply: true,
                ..
            }
        ));
        let rt = core
            .service(svc)
            .unwrap()
            .pool()
            .get(a.server)
            .unwrap()
            .response_time_ns();
        assert_eq!(rt, Some(3 * MS));
        // Same client, other port: same server (affinity).
        let b = admit(
            &mut core,
            &packet(Protocol::Udp, 1, 5354, TcpFlags(0)),
            3 * MS,
        );
        assert_eq!(a.server, b.server);
        let mut ended = Vec::new();
        core.expire(3 * MS + Timeouts::default().udp_ns, 10, &mut ended);
        assert_eq!(ended.len(), 2);
        assert!(ended.iter().all(|e| e.reason == EndReason::Idle));
    }

    #[test]
    fn ipv6_sessions() {
        let v6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
        let mut core = Core::new(CoreConfig::default()).unwrap();
        let svc = core
            .add_service(ServiceConfig::new(
                Protocol::Tcp,
                v6,
                443,
                Algorithm::Maglev,
            ))
            .unwrap();
        let pool = core.service_mut(svc).unwrap().pool_mut();
        pool.add(ServerConfig::new("2001:db8::10".parse().unwrap()))
            .unwrap();
        let mut p = packet(Protocol::Tcp, 1, 1, SYN);
        p.key.vip = v6;
        p.key.vip_port = 443;
        p.key.client = "2001:db8:1::5".parse().unwrap();
        let a = admit(&mut core, &p, 0);
        assert_eq!(core.find(&p.key), Some(a.session));
        assert!(core
            .add_service(ServiceConfig::new(
                Protocol::Tcp,
                v6,
                443,
                Algorithm::Maglev
            ))
            .is_err());
    }

    #[test]
    fn removing_a_server_keeps_its_sessions() {
        let (mut core, svc) = tcp_core(2);
        let a = admit(&mut core, &packet(Protocol::Tcp, 1, 1, SYN), 0);
        let pool = core.service_mut(svc).unwrap().pool_mut();
        assert_eq!(
            pool.remove(a.server),
            Ok(crate::pool::Removal::Deferred { active: 1 })
        );
        for i in 2..6 {
            let b = admit(&mut core, &packet(Protocol::Tcp, i, 1, SYN), 0);
            assert_ne!(b.server, a.server);
        }
        assert_eq!(core.session(a.session).server(), a.server);
        core.end_session(a.session, MS);
        assert!(core.service(svc).unwrap().pool().get(a.server).is_none());
        assert_eq!(
            core.remove_service(svc),
            Err(CoreError::ServiceHasSessions(0, 4))
        );
    }

    #[test]
    fn expiry_runs_in_bounded_slices() {
        let (mut core, _) = tcp_core(1);
        for i in 0..10 {
            admit(&mut core, &packet(Protocol::Tcp, i, 1, SYN), 0);
        }
        let now = Timeouts::default().tcp_syn_sent_ns;
        let mut ended = Vec::new();
        let mut calls = 0;
        loop {
            let sweep = core.expire(now, 3, &mut ended);
            calls += 1;
            assert!(sweep.ended <= 3);
            if sweep.done {
                break;
            }
        }
        assert_eq!((ended.len(), calls), (10, 4));
        assert!(core.sessions().is_empty());
    }

    #[test]
    fn set_timeouts_applies_to_new_and_waiting_sessions() {
        let (mut core, _) = tcp_core(1);
        let old = core.timeouts();
        assert_eq!(old, Timeouts::default());
        // One established session (restart at 1 s), one half open (at 0).
        let a = admit(&mut core, &packet(Protocol::Tcp, 1, 1, SYN), 0);
        core.on_first_reply(a.labels.s2c(), S);
        admit(&mut core, &packet(Protocol::Tcp, 2, 1, SYN), 0);
        core.set_timeouts(Timeouts {
            tcp_established_ns: 5 * S,
            tcp_syn_sent_ns: 2 * S,
            ..old
        });
        let mut ended = Vec::new();
        core.expire(2 * S - 1, 16, &mut ended);
        assert!(ended.is_empty());
        core.expire(2 * S, 16, &mut ended);
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].reason, EndReason::NoReply);
        // The established one: 1 s + 5 s, not 1 s + 900 s.
        core.expire(6 * S - 1, 16, &mut ended);
        assert_eq!(ended.len(), 1);
        core.expire(6 * S, 16, &mut ended);
        assert_eq!(ended.len(), 2);
        assert_eq!(ended[1].reason, EndReason::Idle);
        // A new session takes the new value too.
        admit(&mut core, &packet(Protocol::Tcp, 3, 1, SYN), 10 * S);
        core.expire(12 * S - 1, 16, &mut ended);
        assert_eq!(ended.len(), 2);
        core.expire(12 * S, 16, &mut ended);
        assert_eq!(ended.len(), 3);
        assert!(core.sessions().is_empty());
    }

    #[test]
    fn config_errors() {
        let mut core = Core::new(CoreConfig::default()).unwrap();
        let mut cfg = ServiceConfig::new(Protocol::Tcp, vip(), 80, Algorithm::Maglev);
        cfg.maglev_table_size = 65_536;
        assert_eq!(core.add_service(cfg), Err(CoreError::TableSize(65_536)));
        let bad = CoreConfig {
            labels: LabelConfig {
                first: 2,
                last: 100,
                quarantine_ns: 0,
            },
            ..CoreConfig::default()
        };
        let e = Core::new(bad).err().unwrap();
        assert!(e.to_string().contains("reserved"), "{e}");
    }

    #[derive(Debug, Clone)]
    enum Op {
        New {
            client: u8,
            port: u8,
            flags: u8,
            udp: bool,
        },
        Event {
            pick: usize,
            flags: u8,
            s2c: bool,
        },
        Traffic {
            pick: usize,
        },
        Advance(u64),
        Expire(usize),
        ServerState {
            server: u8,
            state: u8,
        },
        End {
            pick: usize,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u8..16, 0u8..4, 0u8..64, any::<bool>())
                .prop_map(|(client, port, flags, udp)| Op::New { client, port, flags, udp }),
            4 => (any::<usize>(), 0u8..64, any::<bool>()).prop_map(|(pick, flags, s2c)| Op::Event { pick, flags, s2c }),
            1 => any::<usize>().prop_map(|pick| Op::Traffic { pick }),
            2 => (0u64..3_000).prop_map(|ms| Op::Advance(ms * MS)),
            2 => (0usize..5).prop_map(Op::Expire),
            1 => (0u8..4, 0u8..4).prop_map(|(server, state)| Op::ServerState { server, state }),
            1 => any::<usize>().prop_map(|pick| Op::End { pick }),
        ]
    }

    fn check_invariants(core: &Core) -> Result<(), TestCaseError> {
        let labels = core.labels().counts();
        prop_assert_eq!(labels.active as usize, core.sessions().len());
        prop_assert_eq!(
            labels.free + labels.active + labels.quarantined,
            labels.capacity
        );
        let mut per_server = std::collections::HashMap::new();
        let mut per_service = std::collections::HashMap::new();
        for (id, s) in core.sessions().iter() {
            let l = s.labels();
            prop_assert_eq!(core.labels().status(l.c2s()), LabelStatus::Active);
            prop_assert_eq!(core.find_by_label(l.c2s()), Some(id));
            prop_assert_eq!(core.find_by_label(l.s2c()), Some(id));
            prop_assert_eq!(core.find(s.key()), Some(id));
            *per_server.entry((s.service(), s.server())).or_insert(0u32) += 1;
            *per_service.entry(s.service()).or_insert(0u32) += 1;
        }
        for (sid, svc) in core.services() {
            prop_assert_eq!(svc.sessions(), per_service.get(&sid).copied().unwrap_or(0));
            let mut available = 0;
            for (id, server) in svc.pool().iter() {
                prop_assert_eq!(
                    server.active_sessions(),
                    per_server.get(&(sid, id)).copied().unwrap_or(0)
                );
                available += server.available() as u32;
            }
            prop_assert_eq!(svc.pool().available_count(), available);
        }
        Ok(())
    }

    proptest! {
        /// Installed sessions (records in any order, any state, any time
        /// left) never time out before the time their record left them,
        /// and all of them do time out.
        #[test]
        fn installed_sessions_get_at_least_their_time(
            recs in proptest::collection::vec((0u8..6, 0u32..20_000, 0u64..5_000), 1..60),
        ) {
            let service = ServiceConfig::new(Protocol::Tcp, vip(), 80, Algorithm::Maglev);
            let (mut core, _) = core_with(CoreConfig::default(), service, 2);
            let states = [
                SessionState::SynSent,
                SessionState::Established,
                SessionState::Closing(Direction::ClientToServer),
                SessionState::Closing(Direction::ServerToClient),
                SessionState::Linger,
                SessionState::Reset,
            ];
            let timeouts = Timeouts::default();
            let mut due = std::collections::HashMap::new();
            let mut now = 0;
            for (k, &(st, remaining_ms, gap_ms)) in recs.iter().enumerate() {
                now += gap_ms * MS;
                let state = states[st as usize];
                let rec = SessionRecord {
                    key: packet(Protocol::Tcp, k as u32, 1000, SYN).key,
                    c2s: 17 + 2 * k as u32,
                    server: server(1).addr,
                    client_mac: [2, 0, 0, 0, 0, 1],
                    ingress_port: 0,
                    state,
                    remaining_ms,
                    age_ms: 0,
                    replied: true,
                    ended: false,
                };
                core.install(&rec, Origin::Synced, now).unwrap();
                // A record never gets more than its state's timeout.
                let timeout = match state {
                    SessionState::SynSent => timeouts.tcp_syn_sent_ns,
                    SessionState::Established => timeouts.tcp_established_ns,
                    SessionState::Closing(_) => timeouts.tcp_closing_ns,
                    _ => timeouts.tcp_linger_ns,
                };
                due.insert(rec.c2s, now + (u64::from(remaining_ms) * MS).min(timeout));
            }
            let mut ended = Vec::new();
            let end = now + 1_000 * S;
            while now < end && !due.is_empty() {
                now += 100 * MS;
                ended.clear();
                core.expire(now, 1_000, &mut ended);
                for e in &ended {
                    let d = due.remove(&e.labels.c2s()).unwrap();
                    prop_assert!(now >= d, "label {} ended at {} before {}", e.labels.c2s(), now, d);
                }
            }
            prop_assert!(due.is_empty(), "never ended: {:?}", due);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
        /// Random traffic against a small label space: the session table, the
        /// label manager and the server counts always agree, and nothing
        /// leaks once every session has ended and quarantine has passed.
        #[test]
        fn core_invariants(algo in 0usize..7, ops in proptest::collection::vec(op(), 0..300)) {
            let config = CoreConfig {
                labels: LabelConfig { first: 16, last: 16 + 2 * 24, quarantine_ns: 500 * MS },
                space: None,
                timeouts: Timeouts {
                    tcp_syn_sent_ns: 2 * S,
                    tcp_established_ns: 10 * S,
                    tcp_closing_ns: 5 * S,
                    tcp_linger_ns: S,
                    udp_ns: 3 * S,
                },
                session_capacity_hint: 0,
            };
            let mut core = Core::new(config).unwrap();
            let algorithm = Algorithm::ALL[algo];
            for (protocol, port) in [(Protocol::Tcp, 80), (Protocol::Udp, 53)] {
                let mut cfg = ServiceConfig::new(protocol, vip(), port, algorithm);
                cfg.maglev_table_size = 251;
                cfg.max_sessions = 20;
                cfg.rate_limit = Some(RateLimit { per_second: 50, burst: 10 });
                let svc = core.add_service(cfg).unwrap();
                for i in 1..=3 {
                    let mut s = server(i);
                    s.weight = i as u32;
                    s.max_sessions = 6;
                    core.service_mut(svc).unwrap().pool_mut().add(s).unwrap();
                }
            }
            let mut now = 0u64;
            let mut ended = Vec::new();
            for op in ops {
                let live: Vec<SessionId> = core.sessions().iter().map(|(id, _)| id).collect();
                match op {
                    Op::New { client, port, flags, udp } => {
                        let protocol = if udp { Protocol::Udp } else { Protocol::Tcp };
                        let p = packet(protocol, client as u32, port as u16, TcpFlags(flags));
                        let existed = core.find(&p.key).is_some();
                        let out = core.on_new_packet(&p, now);
                        if existed {
                            let admitted_again = matches!(out, NewPacketOutcome::Admitted { replaced: None, .. });
                            prop_assert!(!admitted_again, "an existing session went through admission");
                        }
                    }
                    Op::Event { pick, flags, s2c } => {
                        if !live.is_empty() {
                            let l = core.session(live[pick % live.len()]).labels();
                            core.on_event(if s2c { l.s2c() } else { l.c2s() }, TcpFlags(flags), now);
                        }
                    }
                    Op::Traffic { pick } => {
                        if !live.is_empty() {
                            let l = core.session(live[pick % live.len()]).labels();
                            prop_assert!(core.on_traffic(l.s2c(), 1, 100, now));
                        }
                    }
                    Op::Advance(d) => now += d,
                    Op::Expire(budget) => {
                        let before = ended.len();
                        let sweep = core.expire(now, budget, &mut ended);
                        prop_assert!(sweep.ended <= budget);
                        prop_assert_eq!(ended.len() - before, sweep.ended);
                    }
                    Op::ServerState { server, state } => {
                        let state = [ServerState::Up, ServerState::Down, ServerState::Draining, ServerState::Disabled][state as usize];
                        let svc = core.service_mut(ServiceId(0)).unwrap();
                        let _ = svc.pool_mut().set_state(ServerId(server as u32 % 3), state);
                    }
                    Op::End { pick } => {
                        if !live.is_empty() {
                            core.end_session(live[pick % live.len()], now);
                        }
                    }
                }
                check_invariants(&core)?;
            }
            // Let everything time out and quarantine pass: nothing leaks.
            now += 20 * S;
            while !core.expire(now, 7, &mut ended).done {}
            now += S;
            while !core.expire(now, 7, &mut ended).done {}
            check_invariants(&core)?;
            prop_assert!(core.sessions().is_empty());
            let c = core.labels().counts();
            prop_assert_eq!(c.free, c.capacity);
            for (_, svc) in core.services() {
                prop_assert_eq!(svc.sessions(), 0);
                prop_assert!(svc.pool().iter().all(|(_, s)| s.active_sessions() == 0));
            }
        }
    }
}
