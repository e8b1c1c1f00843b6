//! Services: what a [`Service`] is and how it admits a new session.
//!
//! A [`Service`] (VIP, port, protocol, algorithm, limits, server pool) admits
//! new sessions: admission checks, server pick, label pair, session insert.
//! All services of an appliance share one label space and one session table,
//! which the [`Core`] (in `session_core`) owns and lends to
//! [`Service::admit`].

use std::net::IpAddr;

use crate::access::AccessLists;
use crate::admission::{AdmissionCounters, RateLimit, Refusal, TokenBucket};
use crate::balance::maglev::{is_prime, DEFAULT_TABLE_SIZE};
use crate::balance::{Algorithm, Picker};
use crate::ids::{ServerId, SessionId};
use crate::labels::{LabelManager, LabelPair};
use crate::pool::ServerPool;
use crate::session::{
    Direction, EndReason, NewSession, Protocol, SessionKey, SessionTable, TcpFlags,
};

// These lived here before `ids`, `error` and `session_core` were split off;
// re-exported so that `slb_core::service::...` paths keep working.
pub use crate::error::CoreError;
pub use crate::ids::ServiceId;
pub use crate::session_core::{
    Core, CoreConfig, CoreCounters, Ended, EventOutcome, NewPacketOutcome, Sweep,
};

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

/// One service: configuration, servers, algorithm state, limits, counters.
#[derive(Clone, Debug)]
pub struct Service {
    config: ServiceConfig,
    pool: ServerPool,
    /// One picker per pool (group) of `pool`'s servers: 0 is the default
    /// pool, with the service's algorithm; layer-7 rules choose another.
    pickers: Vec<Picker>,
    bucket: Option<TokenBucket>,
    access: AccessLists,
    sessions: u32,
    counters: AdmissionCounters,
    ended: [u64; EndReason::ALL.len()],
}

impl Service {
    pub(crate) fn new(config: ServiceConfig) -> Result<Service, CoreError> {
        if !is_prime(config.maglev_table_size) {
            return Err(CoreError::TableSize(config.maglev_table_size));
        }
        Ok(Service {
            config,
            pool: ServerPool::new(),
            pickers: vec![Picker::new(config.algorithm, config.maglev_table_size)],
            bucket: config.rate_limit.map(TokenBucket::new),
            access: AccessLists::none(),
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

    /// Sets the algorithms of the pools after the default one: pool `k + 1`
    /// picks with `algorithms[k]` among the servers of group `k + 1`. A
    /// pool whose algorithm stays keeps its picker (its rotation and
    /// weights); sessions are never touched.
    pub fn set_pools(&mut self, algorithms: &[crate::balance::Algorithm]) {
        let size = self.config.maglev_table_size;
        self.pickers.truncate(algorithms.len() + 1);
        for (k, &a) in algorithms.iter().enumerate() {
            let group = k as u16 + 1;
            match self.pickers.get_mut(group as usize) {
                Some(p) if p.algorithm() == a => {}
                Some(p) => *p = Picker::for_group(a, size, group),
                None => self.pickers.push(Picker::for_group(a, size, group)),
            }
        }
    }

    /// Replaces the access lists. Existing sessions stay: the lists are
    /// checked for new sessions only.
    pub fn set_access(&mut self, access: AccessLists) {
        self.access = access;
    }

    pub fn access(&self) -> &AccessLists {
        &self.access
    }

    /// Admission + pick + label pair + session insert. The caller has checked
    /// that no session with this key exists; `key_hash` is
    /// [`SessionTable::hash_key`] of the packet's key. `group` is the pool
    /// to pick from (0: the default pool).
    #[allow(clippy::too_many_arguments)]
    pub fn admit(
        &mut self,
        id: ServiceId,
        packet: &PacketInfo,
        group: u16,
        key_hash: u64,
        now: u64,
        labels: &mut LabelManager,
        table: &mut SessionTable,
    ) -> Result<Admitted, Refusal> {
        let result = self.try_admit(id, packet, group, key_hash, now, labels, table);
        match result {
            Ok(_) => self.counters.admitted += 1,
            Err(reason) => self.counters.refused[reason.index()] += 1,
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn try_admit(
        &mut self,
        id: ServiceId,
        packet: &PacketInfo,
        group: u16,
        key_hash: u64,
        now: u64,
        labels: &mut LabelManager,
        table: &mut SessionTable,
    ) -> Result<Admitted, Refusal> {
        // First: a refused client must not learn whether the service is
        // full, and costs no token.
        self.access.check(packet.key.client)?;
        if self.config.max_sessions != 0 && self.sessions >= self.config.max_sessions {
            return Err(Refusal::SessionLimit);
        }
        if self.pool.available_in(group) == 0 {
            return Err(if self.pool.in_service_in(group) == 0 {
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
        let picked = match self.pickers.get_mut(group as usize) {
            Some(picker) => picker.pick(&self.pool, &packet.key),
            None => None,
        };
        let Some(server) = picked else {
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
        let session = table.insert_hashed(
            key_hash,
            NewSession {
                key: packet.key,
                labels: pair,
                pair_index,
                server,
                service: id,
                client_mac: packet.client_mac,
                ingress_port: packet.ingress_port,
                now,
            },
        );
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

    /// Accounts for one of this service's sessions ending, once [`Core`] has
    /// taken it out of the table: the live count, the ended counters, and
    /// the server's no-reply record and session count.
    pub(crate) fn session_ended(&mut self, server: ServerId, reason: EndReason) {
        self.sessions -= 1;
        self.ended[reason.index()] += 1;
        if reason == EndReason::NoReply {
            self.pool.record_no_reply(server);
        }
        self.pool.session_ended(server);
    }

    /// Accounts for a session installed with its server already chosen
    /// (synced or restored, [`Core::install`]).
    pub(crate) fn session_installed(&mut self, server: ServerId) {
        self.sessions += 1;
        self.pool.session_started(server);
    }

    fn give_back_token(&mut self) {
        if let Some(bucket) = &mut self.bucket {
            bucket.give_back();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::LabelConfig;
    use crate::pool::ServerConfig;
    use crate::session::Timeouts;
    use std::net::Ipv4Addr;

    fn vip() -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))
    }

    fn packet(client_port: u16) -> PacketInfo {
        PacketInfo {
            key: SessionKey {
                protocol: Protocol::Tcp,
                vip: vip(),
                vip_port: 80,
                client: IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1)),
                client_port,
            },
            tcp_flags: TcpFlags(TcpFlags::SYN),
            client_mac: [2, 0, 0, 0, 0, 9],
            ingress_port: 1,
            bytes: 60,
        }
    }

    #[test]
    fn table_size_must_be_prime() {
        let mut config = ServiceConfig::new(Protocol::Tcp, vip(), 80, Algorithm::Maglev);
        config.maglev_table_size = 65536;
        assert_eq!(
            Service::new(config).unwrap_err(),
            CoreError::TableSize(65536)
        );
        config.maglev_table_size = 65537;
        assert!(Service::new(config).is_ok());
    }

    /// `admit` and `session_ended` keep the service's and the server's
    /// counts in step, without a `Core` around them.
    #[test]
    fn admit_then_end_keeps_counts() {
        let mut config = ServiceConfig::new(Protocol::Tcp, vip(), 80, Algorithm::RoundRobin);
        config.max_sessions = 1;
        let mut service = Service::new(config).unwrap();
        let mut labels = LabelManager::new(LabelConfig::default()).unwrap();
        let mut table = SessionTable::new(labels.capacity(), 0, Timeouts::default());
        let id = ServiceId(3);
        let admit = |service: &mut Service, labels: &mut _, table: &mut SessionTable, port| {
            let p = packet(port);
            let hash = table.hash_key(&p.key);
            service.admit(id, &p, 0, hash, 0, labels, table)
        };

        assert_eq!(
            admit(&mut service, &mut labels, &mut table, 1),
            Err(Refusal::NoServer)
        );
        let server = service
            .pool_mut()
            .add(ServerConfig::new(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 1))))
            .unwrap();
        let a = admit(&mut service, &mut labels, &mut table, 1).unwrap();
        assert_eq!((a.service, a.server), (id, server));
        assert_eq!(table.get(a.session).service(), id);
        assert_eq!(service.sessions(), 1);
        assert_eq!(service.pool().get(server).unwrap().active_sessions(), 1);
        assert_eq!(
            admit(&mut service, &mut labels, &mut table, 2),
            Err(Refusal::SessionLimit)
        );
        assert_eq!(service.counters().admitted, 1);
        assert_eq!(service.counters().refused[Refusal::SessionLimit.index()], 1);

        table.remove(a.session);
        service.session_ended(server, EndReason::NoReply);
        assert_eq!(service.sessions(), 0);
        assert_eq!(service.ended()[EndReason::NoReply.index()], 1);
        let s = service.pool().get(server).unwrap();
        assert_eq!((s.active_sessions(), s.failures().no_reply), (0, 1));
        assert!(admit(&mut service, &mut labels, &mut table, 2).is_ok());
    }
}
