//! Services and the [`Core`] the scheduler drives.
//!
//! A [`Service`] (VIP, port, protocol, algorithm, limits, server pool) admits
//! new sessions: admission checks, server pick, label pair, session insert.
//! All services of an appliance share one label space and one session table,
//! so [`Core`] owns the [`LabelManager`], the [`SessionTable`] and the
//! services, and lends the first two to [`Service::admit`].

use std::net::IpAddr;

use hashbrown::HashMap;

use crate::admission::{AdmissionCounters, RateLimit, Refusal, TokenBucket};
use crate::balance::maglev::{is_prime, DEFAULT_TABLE_SIZE};
use crate::balance::{Algorithm, Picker};
use crate::labels::{LabelConfig, LabelError, LabelManager, LabelPair};
use crate::pool::{PoolError, ServerId, ServerPool};
use crate::session::{
    tcp_transition, Counters, Direction, EndReason, NewSession, Next, Protocol, Session, SessionId,
    SessionKey, SessionState, SessionTable, TcpFlags, Timeouts,
};

/// A service's index in its [`Core`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceId(pub u16);

/// Service configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceConfig {
    pub protocol: Protocol,
    pub vip: IpAddr,
    pub port: u16,
    pub algorithm: Algorithm,
    /// Session limit of the service; 0 = unlimited.
    pub max_sessions: u32,
    /// New-session rate limit; `None` = unlimited.
    pub rate_limit: Option<RateLimit>,
    /// Maglev table size (prime) for `Maglev` and `SourceHash`.
    pub maglev_table_size: u32,
}

impl ServiceConfig {
    /// A service with no limits and the default Maglev table size.
    pub fn new(protocol: Protocol, vip: IpAddr, port: u16, algorithm: Algorithm) -> ServiceConfig {
        ServiceConfig {
            protocol,
            vip,
            port,
            algorithm,
            max_sessions: 0,
            rate_limit: None,
            maglev_table_size: DEFAULT_TABLE_SIZE,
        }
    }
}

/// Configuration errors of the core.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    #[error("labels: {0}")]
    Labels(#[from] LabelError),
    #[error("servers: {0}")]
    Pool(#[from] PoolError),
    #[error("a service for {protocol:?} {vip} port {port} already exists")]
    DuplicateService {
        protocol: Protocol,
        vip: IpAddr,
        port: u16,
    },
    #[error("maglev_table_size {0} must be a prime (e.g. 65537)")]
    TableSize(u32),
    #[error("at most 65535 services")]
    TooManyServices,
    #[error("no service with id {0}")]
    NoSuchService(u16),
    #[error("service {0} still has {1} sessions")]
    ServiceHasSessions(u16, u32),
}

/// What the scheduler knows about the first packet of a session.
#[derive(Clone, Copy, Debug)]
pub struct PacketInfo {
    pub key: SessionKey,
    /// TCP flags (ignored for UDP).
    pub tcp_flags: TcpFlags,
    /// The client's next hop (client or gateway MAC) for S2C traffic.
    pub client_mac: [u8; 6],
    /// Port the packet came in on.
    pub ingress_port: u16,
    /// Frame length, for the counters.
    pub bytes: u32,
}

/// A session admitted by [`Service::admit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admitted {
    pub service: ServiceId,
    pub session: SessionId,
    pub server: ServerId,
    pub server_addr: IpAddr,
    pub labels: LabelPair,
}

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

/// One service: configuration, servers, algorithm state, limits, counters.
#[derive(Clone, Debug)]
pub struct Service {
    config: ServiceConfig,
    pool: ServerPool,
    picker: Picker,
    bucket: Option<TokenBucket>,
    sessions: u32,
    counters: AdmissionCounters,
    ended: [u64; EndReason::ALL.len()],
}

impl Service {
    fn new(config: ServiceConfig) -> Result<Service, CoreError> {
        if !is_prime(config.maglev_table_size) {
            return Err(CoreError::TableSize(config.maglev_table_size));
        }
        Ok(Service {
            config,
            pool: ServerPool::new(),
            picker: Picker::new(config.algorithm, config.maglev_table_size),
            bucket: config.rate_limit.map(TokenBucket::new),
            sessions: 0,
            counters: AdmissionCounters::default(),
            ended: [0; EndReason::ALL.len()],
        })
    }

    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    pub fn pool(&self) -> &ServerPool {
        &self.pool
    }

    /// Servers, for add/remove/state/weight/limit changes. None of these
    /// touches existing sessions.
    pub fn pool_mut(&mut self) -> &mut ServerPool {
        &mut self.pool
    }

    /// Live sessions of this service.
    pub fn sessions(&self) -> u32 {
        self.sessions
    }

    pub fn counters(&self) -> &AdmissionCounters {
        &self.counters
    }

    /// Ended sessions by [`EndReason::index`].
    pub fn ended(&self) -> &[u64; EndReason::ALL.len()] {
        &self.ended
    }

    /// Changes the session limit (0 = unlimited). Existing sessions stay.
    pub fn set_max_sessions(&mut self, max: u32) {
        self.config.max_sessions = max;
    }

    /// Changes the rate limit; a new limit starts with a full bucket.
    pub fn set_rate_limit(&mut self, limit: Option<RateLimit>) {
        self.config.rate_limit = limit;
        self.bucket = limit.map(TokenBucket::new);
    }

    /// Admission + pick + label pair + session insert. The caller has checked
    /// that no session with this key exists.
    pub fn admit(
        &mut self,
        id: ServiceId,
        packet: &PacketInfo,
        now: u64,
        labels: &mut LabelManager,
        table: &mut SessionTable,
    ) -> Result<Admitted, Refusal> {
        let result = self.try_admit(id, packet, now, labels, table);
        match result {
            Ok(_) => self.counters.admitted += 1,
            Err(reason) => self.counters.refused[reason.index()] += 1,
        }
        result
    }

    fn try_admit(
        &mut self,
        id: ServiceId,
        packet: &PacketInfo,
        now: u64,
        labels: &mut LabelManager,
        table: &mut SessionTable,
    ) -> Result<Admitted, Refusal> {
        if self.config.max_sessions != 0 && self.sessions >= self.config.max_sessions {
            return Err(Refusal::SessionLimit);
        }
        if self.pool.available_count() == 0 {
            return Err(if self.pool.in_service_count() == 0 {
                Refusal::NoServer
            } else {
                Refusal::ServersFull
            });
        }
        if !labels.can_assign(now) {
            return Err(Refusal::LabelsExhausted);
        }
        if let Some(bucket) = &mut self.bucket {
            if !bucket.take(now) {
                return Err(Refusal::RateLimit);
            }
        }
        let Some(server) = self.picker.pick(&self.pool, &packet.key) else {
            // Unreachable: available_count() > 0 guarantees a pick.
            self.give_back_token();
            return Err(Refusal::NoServer);
        };
        let Ok(pair) = labels.assign(now) else {
            self.give_back_token();
            return Err(Refusal::LabelsExhausted);
        };
        let pair_index = labels
            .pair_index(pair.c2s())
            .expect("assigned label is in range");
        let session = table.insert(NewSession {
            key: packet.key,
            labels: pair,
            pair_index,
            server,
            service: id,
            client_mac: packet.client_mac,
            ingress_port: packet.ingress_port,
            now,
        });
        table.count(session, Direction::ClientToServer, 1, packet.bytes as u64);
        self.pool.session_started(server);
        self.sessions += 1;
        let server_addr = self.pool.get(server).expect("picked server exists").addr();
        Ok(Admitted {
            service: id,
            session,
            server,
            server_addr,
            labels: pair,
        })
    }

    fn give_back_token(&mut self) {
        if let Some(bucket) = &mut self.bucket {
            bucket.give_back();
        }
    }
}

/// Core configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CoreConfig {
    pub labels: LabelConfig,
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
        let labels = LabelManager::new(config.labels)?;
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
        if s.sessions > 0 {
            return Err(CoreError::ServiceHasSessions(id.0, s.sessions));
        }
        let c = s.config;
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
        let key = &packet.key;
        let mut replaced = None;
        if let Some(id) = self.table.find(key) {
            let state = self.table.get(id).state();
            let reuse = key.protocol == Protocol::Tcp
                && packet.tcp_flags.is_session_start()
                && matches!(state, SessionState::Closing(_) | SessionState::Linger);
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
        let service = self.services[service_id.0 as usize]
            .as_mut()
            .expect("indexed service exists");
        match service.admit(service_id, packet, now, &mut self.labels, &mut self.table) {
            Ok(admitted) => NewPacketOutcome::Admitted { admitted, replaced },
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
        true
    }

    /// Ends a session on the control plane's request.
    pub fn end_session(&mut self, id: SessionId, now: u64) -> Ended {
        self.end(id, EndReason::Administrative, now)
    }

    /// One bounded expiry slice: ends at most `max_visits` expired sessions
    /// (pushed to `ended`) and releases at most `max_visits` label pairs from
    /// quarantine. Call it often with a small budget; a full sweep of a burst
    /// of expiries spans several calls.
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
        let s = self.table.get(id);
        let (state, protocol, replied) = (s.state(), s.key().protocol, s.first_reply().is_some());
        let (service, server) = (s.service(), s.server());
        let transition = match protocol {
            Protocol::Tcp => tcp_transition(state, flags, dir),
            Protocol::Udp => crate::session::Transition {
                next: Next::Stay,
                first_reply: dir == Direction::ServerToClient && !replied,
            },
        };
        if transition.first_reply {
            if let Some(rt) = self.table.set_first_reply(id, now) {
                if let Some(svc) = self.service_mut(service) {
                    svc.pool.record_response_time(server, rt);
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
                        svc.pool.record_reset_before_reply(server);
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
            svc.sessions -= 1;
            svc.ended[reason.index()] += 1;
            if reason == EndReason::NoReply {
                svc.pool.record_no_reply(server);
            }
            svc.pool.session_ended(server);
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
        }
    }
}
