//! Read-only views of the scheduler's state for the control protocol
//! (services, servers, sessions, labels, health, the core's side of
//! stats). They run on the scheduler lcore, which alone may read the
//! session core, when it takes a command from its queue
//! ([`super::commands`]), with that round's clock. Each builds the
//! protocol's result type (`slb_proto`); the arguments arrive decoded
//! and checked ([`View`]).

use crate::channels::{Answer, CoreTotals, View};
use crate::frame::Frame;
use crate::scheduler::health::Probe;
use crate::scheduler::{Scheduler, ServiceRt};
use serde::Serialize;
use slb_config::HealthKind;
use slb_core::admission::Refusal;
use slb_core::session::{EndReason, Protocol, SessionId, SessionKey};
use slb_core::{ServerId, ServiceId};
use slb_proto as proto;
use slb_proto::{code, Counts, ErrorBody};
use std::collections::HashMap;

/// (service name, server name) by server.
type Names = HashMap<(ServiceId, ServerId), (String, String)>;

fn err(code: &str, message: impl Into<String>) -> ErrorBody {
    ErrorBody::new(code, message)
}

pub(crate) fn ms_ago(now: u64, t: u64) -> f64 {
    now.saturating_sub(t) as f64 / 1e6
}

fn mac_str(m: [u8; 6]) -> String {
    slb_config::format_mac(&m)
}

fn protocol(p: Protocol) -> proto::Protocol {
    match p {
        Protocol::Tcp => proto::Protocol::Tcp,
        Protocol::Udp => proto::Protocol::Udp,
    }
}

/// A configuration enum as the configuration file writes it (its serde
/// name: `weighted_round_robin`, `drain`, `keep`).
fn file_name<T: Serialize>(v: T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

impl<F: Frame> Scheduler<F> {
    /// The service of a configuration name, or `unknown_service`.
    pub(crate) fn service_by_name(&self, name: &str) -> Result<ServiceId, ErrorBody> {
        self.service_id(name)
            .ok_or_else(|| err(code::UNKNOWN_SERVICE, format!("no service {name}")))
    }

    /// Server `server` of service `service`, or `unknown_service` /
    /// `unknown_server`.
    pub(crate) fn server_by_name(
        &self,
        service: &str,
        server: &str,
    ) -> Result<(ServiceId, ServerId), ErrorBody> {
        self.service_by_name(service)?;
        self.server_key(service, server).ok_or_else(|| {
            err(
                code::UNKNOWN_SERVER,
                format!("service {service} has no server {server}"),
            )
        })
    }

    fn config_service(&self, name: &str) -> Option<&slb_config::Service> {
        self.config.service(name)
    }

    /// (service name, server name) of every server the configuration names,
    /// plus servers being removed (named by address).
    fn names(&self) -> Names {
        let mut m = HashMap::new();
        for (sid, rt) in &self.services {
            let Some(svc) = self.core.service(*sid) else {
                continue;
            };
            let cfg = self.config_service(&rt.name);
            for (id, s) in svc.pool().iter() {
                let name = cfg
                    .and_then(|c| c.servers.iter().find(|v| v.address == s.addr()))
                    .filter(|_| !s.is_removing())
                    .map(|v| v.name.clone())
                    .unwrap_or_else(|| s.addr().to_string());
                m.insert((*sid, id), (rt.name.clone(), name));
            }
        }
        m
    }

    /// Answers a read-only view at time `now`.
    pub(crate) fn view(&self, view: View, now: u64) -> Result<Answer, ErrorBody> {
        Ok(match view {
            View::Services(f) => Answer::Services(self.view_services(&f)?),
            View::Servers(f) => Answer::Servers(self.view_servers(&f, now)?),
            View::Sessions(f) => Answer::Sessions(self.view_sessions(&f, now)?),
            View::Session(s) => Answer::Session(Box::new(self.view_session(&s, now)?)),
            View::Labels(f) => Answer::Labels(self.view_labels(&f, now)),
            View::Health(f) => Answer::Health(self.view_health(&f, now)?),
            View::Rules(f) => Answer::Rules(self.view_rules(&f)?),
            View::Drops(a) => Answer::Drops(self.view_drops(&a)?),
            View::Stats => Answer::Stats(Box::new(self.view_stats(now))),
            View::Vips => Answer::Vips(self.view_vips()),
            View::Peers => {
                let now = self.shared.clock.load(std::sync::atomic::Ordering::Relaxed);
                Answer::Peers(self.peers.status(now))
            }
            View::SyncHolding => {
                Answer::SyncHolding(crate::channels::SyncHolding(self.sync.holding()))
            }
        })
    }

    /// Every service's VIP, serving while one of its servers is in
    /// service (up and healthy, weighted, not being removed; a server at
    /// its session limit still counts: it frees up, and withdrawing on a
    /// full pool would make the route flap).
    fn view_vips(&self) -> Vec<crate::announce::VipHealth> {
        self.services
            .keys()
            .filter_map(|sid| self.core.service(*sid))
            .map(|svc| crate::announce::VipHealth {
                vip: svc.config().vip,
                // Not before the peers' sessions are here (`sync.rs`).
                serving: svc.pool().in_service_count() > 0 && !self.sync.holding(),
            })
            .collect()
    }

    fn service_row(&self, sid: ServiceId, rt: &ServiceRt) -> Option<proto::Service> {
        let svc = self.core.service(sid)?;
        let c = svc.config();
        let cfg = self.config_service(&rt.name);
        let refused: Counts = Refusal::ALL
            .iter()
            .map(|r| (r.as_str().to_string(), svc.counters().refused(*r)))
            .collect();
        let ended: Counts = EndReason::ALL
            .iter()
            .map(|r| (r.as_str().to_string(), svc.ended()[r.index()]))
            .collect();
        Some(proto::Service {
            name: rt.name.clone(),
            vip: c.vip.to_string(),
            port: c.port,
            protocol: protocol(c.protocol),
            algorithm: cfg.map(|s| file_name(s.algorithm)),
            client_mode: if rt.plain_clients { "plain" } else { "label" }.into(),
            refuse: if rt.refuse_rst { "rst" } else { "drop" }.into(),
            max_sessions: c.max_sessions,
            new_sessions_per_s: c.rate_limit.map(|r| r.per_second).unwrap_or(0),
            burst: c.rate_limit.map(|r| r.burst).unwrap_or(0),
            sessions: u64::from(svc.sessions()),
            servers: svc.pool().len() as u64,
            servers_available: u64::from(svc.pool().available_count()),
            admitted: svc.counters().admitted,
            refused,
            ended,
            syn_proxy: cfg.and_then(|s| s.syn_proxy).map(|sp| proto::SynProxy {
                mss: sp.mss,
                window_scale: sp.window_scale,
            }),
            tcp_signatures: cfg
                .and_then(|s| s.tcp_signatures)
                .map(|t| t.as_str().into()),
            pools: cfg.map(super::rules_view::pool_rows).unwrap_or_default(),
            rules: cfg.map_or(0, |s| s.rules.len() as u64),
        })
    }

    fn sorted_services(&self) -> Vec<(ServiceId, &ServiceRt)> {
        let mut v: Vec<_> = self.services.iter().map(|(id, rt)| (*id, rt)).collect();
        // Configuration order where known.
        let order = |name: &str| {
            self.config
                .services
                .iter()
                .position(|s| s.name == name)
                .unwrap_or(usize::MAX)
        };
        v.sort_by_key(|(id, rt)| (order(&rt.name), id.0));
        v
    }

    /// The services `f` names (every service, or one), in configuration
    /// order; `unknown_service` if it names none.
    fn filtered_services(
        &self,
        f: &proto::ServiceFilter,
    ) -> Result<Vec<(ServiceId, &ServiceRt)>, ErrorBody> {
        if let Some(name) = &f.service {
            self.service_by_name(name)?;
        }
        let mut v = self.sorted_services();
        v.retain(|(_, rt)| f.service.as_ref().is_none_or(|n| *n == rt.name));
        Ok(v)
    }

    fn view_services(&self, f: &proto::ServiceFilter) -> Result<proto::ServiceList, ErrorBody> {
        let services = self
            .filtered_services(f)?
            .into_iter()
            .filter_map(|(sid, rt)| self.service_row(sid, rt))
            .collect();
        Ok(proto::ServiceList { services })
    }

    fn server_row(
        &self,
        sid: ServiceId,
        id: ServerId,
        names: &Names,
        now: u64,
    ) -> Option<proto::Server> {
        let s = self.core.service(sid).and_then(|v| v.pool().get(id))?;
        let (svc_name, name) = names.get(&(sid, id)).cloned().unwrap_or_default();
        let admin = self
            .config_service(&svc_name)
            .and_then(|c| c.server(&name))
            .map(|v| file_name(v.state))
            .unwrap_or_else(|| "removing".into());
        let f = s.failures();
        Some(proto::Server {
            service: svc_name,
            name,
            address: s.addr().to_string(),
            weight: s.weight(),
            max_sessions: s.max_sessions(),
            admin_state: admin,
            state: if s.is_removing() {
                "removing"
            } else {
                s.state().as_str()
            }
            .into(),
            health: self.server_health(sid, id, now),
            sessions: u64::from(s.active_sessions()),
            response_time_us: s.response_time_ns().map(|n| n as f64 / 1e3),
            response_time_samples: s.response_time_samples(),
            failures: proto::ServerFailures {
                no_reply: f.no_reply,
                reset_before_reply: f.reset_before_reply,
                reported: f.reported,
            },
        })
    }

    /// Every server of service `sid`, in pool order.
    fn server_rows(&self, sid: ServiceId, names: &Names, now: u64) -> Vec<proto::Server> {
        let Some(svc) = self.core.service(sid) else {
            return Vec::new();
        };
        svc.pool()
            .iter()
            .filter_map(|(id, _)| self.server_row(sid, id, names, now))
            .collect()
    }

    fn view_servers(
        &self,
        f: &proto::ServiceFilter,
        now: u64,
    ) -> Result<proto::ServerList, ErrorBody> {
        let names = self.names();
        let servers = self
            .filtered_services(f)?
            .into_iter()
            .flat_map(|(sid, _)| self.server_rows(sid, &names, now))
            .collect();
        Ok(proto::ServerList { servers })
    }

    fn session_row(&self, id: SessionId, names: &Names, now: u64) -> proto::Session {
        let s = self.core.session(id);
        let k = s.key();
        let (svc, srv) = names
            .get(&(s.service(), s.server()))
            .cloned()
            .unwrap_or_default();
        let addr = self
            .core
            .service(s.service())
            .and_then(|v| v.pool().get(s.server()))
            .map(|v| v.addr().to_string());
        let c = s.counters();
        let svc_cfg = self.config_service(&svc);
        let pool = self
            .core
            .service(s.service())
            .and_then(|v| v.pool().get(s.server()))
            .map(|v| super::rules_view::pool_name(svc_cfg, v.group()));
        proto::Session {
            service: svc,
            server: srv,
            server_address: addr,
            protocol: protocol(k.protocol),
            client: k.client.to_string(),
            client_port: k.client_port,
            vip: k.vip.to_string(),
            vip_port: k.vip_port,
            state: s.state().as_str().into(),
            c2s_label: s.labels().c2s(),
            s2c_label: s.labels().s2c(),
            ingress_port: self
                .shared
                .ports
                .get(s.ingress_port() as usize)
                .map(|p| p.name.clone()),
            client_mac: mac_str(s.client_mac()),
            age_ms: ms_ago(now, s.created()),
            idle_ms: ms_ago(now, s.last_seen()),
            // (A session admitted elsewhere has no response time here.)
            response_time_us: s
                .first_reply()
                .filter(|_| s.origin() == slb_core::Origin::Local)
                .map(|t| t.saturating_sub(s.created()) as f64 / 1e3),
            packets: proto::PerDirection {
                c2s: c.packets[0],
                s2c: c.packets[1],
            },
            bytes: proto::PerDirection {
                c2s: c.bytes[0],
                s2c: c.bytes[1],
            },
            origin: s.origin().as_str().into(),
            // The server-to-client entry says so (`scheduler/splice.rs`).
            spliced: self
                .shared
                .tables
                .replica(self.local_id)
                .get(s.labels().s2c())
                .is_some_and(|e| e.spliced),
            rule: super::rules_view::bound_by_name(svc_cfg, s.bound_by()),
            pool,
        }
    }

    fn view_sessions(
        &self,
        f: &proto::SessionFilter,
        now: u64,
    ) -> Result<proto::SessionList, ErrorBody> {
        let limit = f.limit() as usize;
        let service = match &f.service {
            Some(n) => Some(self.service_by_name(n)?),
            None => None,
        };
        let server = match (&f.service, &f.server) {
            (Some(svc), Some(srv)) => Some(self.server_by_name(svc, srv)?),
            (None, Some(_)) => return Err(err(code::INVALID_ARGUMENT, "server: needs service")),
            (_, None) => None,
        };
        let state = f.state.as_deref();
        let names = self.names();
        let mut sessions = Vec::new();
        let mut matched = 0u64;
        for (id, s) in self.core.sessions().iter() {
            if service.is_some_and(|v| v != s.service())
                || server.is_some_and(|(v, r)| v != s.service() || r != s.server())
                || f.client.is_some_and(|c| c != s.key().client)
                || state.is_some_and(|st| !s.state().as_str().starts_with(st))
                || f.origin
                    .as_deref()
                    .is_some_and(|o| o != s.origin().as_str())
            {
                continue;
            }
            matched += 1;
            if sessions.len() < limit {
                sessions.push(self.session_row(id, &names, now));
            }
        }
        Ok(proto::SessionList {
            sessions,
            matched,
            total: self.core.sessions().len() as u64,
        })
    }

    fn view_session(
        &self,
        which: &proto::SessionSelector,
        now: u64,
    ) -> Result<proto::Session, ErrorBody> {
        let id = match which {
            proto::SessionSelector::Label { label } => {
                self.core.find_by_label(*label).ok_or_else(|| {
                    err(
                        code::UNKNOWN_SESSION,
                        format!("no session holds label {label}"),
                    )
                })?
            }
            proto::SessionSelector::Key(k) => {
                let key = SessionKey {
                    protocol: match k.protocol {
                        proto::Protocol::Tcp => Protocol::Tcp,
                        proto::Protocol::Udp => Protocol::Udp,
                    },
                    vip: k.vip,
                    vip_port: k.vip_port,
                    client: k.client,
                    client_port: k.client_port,
                };
                self.core
                    .find(&key)
                    .ok_or_else(|| err(code::UNKNOWN_SESSION, "no session with that key"))?
            }
        };
        Ok(self.session_row(id, &self.names(), now))
    }

    fn label_usage(&self) -> proto::LabelUsage {
        let counts = self.core.labels().counts();
        proto::LabelUsage {
            capacity_pairs: u64::from(counts.capacity),
            free_pairs: u64::from(counts.free),
            active_pairs: u64::from(counts.active),
            quarantined_pairs: u64::from(counts.quarantined),
            peer_pairs: u64::from(counts.peers_active),
        }
    }

    fn view_labels(&self, f: &proto::LabelFilter, now: u64) -> proto::Labels {
        let limit = f.limit() as usize;
        let names = self.names();
        let table = self.shared.tables.replica(self.local_id);
        let mut labels = Vec::new();
        let mut matched = 0u64;
        for (_, s) in self.core.sessions().iter() {
            let pair = s.labels();
            for (label, c2s) in [(pair.c2s(), true), (pair.s2c(), false)] {
                if f.label.is_some_and(|l| l != u64::from(label)) {
                    continue;
                }
                matched += 1;
                if labels.len() >= limit {
                    continue;
                }
                let entry = table.get(label);
                let nh = entry.and_then(|e| self.shared.nexthops.get(e.nexthop));
                let (svc, srv) = names
                    .get(&(s.service(), s.server()))
                    .cloned()
                    .unwrap_or_default();
                labels.push(proto::LabelRow {
                    label,
                    direction: if c2s { "c2s" } else { "s2c" }.into(),
                    in_port_role: if c2s { "client" } else { "server" }.into(),
                    installed: entry.is_some(),
                    out_port: nh
                        .and_then(|n| self.shared.ports.get(n.port as usize))
                        .map(|p| p.name.clone()),
                    next_hop_mac: nh.map(|n| mac_str(n.mac)),
                    pop: entry.map(|e| e.pop),
                    session: proto::LabelSession {
                        service: svc,
                        server: srv,
                        client: s.key().client.to_string(),
                        client_port: s.key().client_port,
                        state: s.state().as_str().into(),
                        age_ms: ms_ago(now, s.created()),
                    },
                });
            }
        }
        proto::Labels {
            usage: self.label_usage(),
            labels,
            matched,
        }
    }

    fn view_stats(&self, now: u64) -> CoreTotals {
        let names = self.names();
        let services = self
            .sorted_services()
            .into_iter()
            .filter_map(|(sid, rt)| {
                Some(proto::ServiceStats {
                    service: self.service_row(sid, rt)?,
                    server_stats: self.server_rows(sid, &names, now),
                    rules: self.rules_of_service(sid, &rt.name),
                })
            })
            .collect();
        let refusals = Refusal::ALL
            .iter()
            .map(|r| {
                let n: u64 = self
                    .core
                    .services()
                    .map(|(_, s)| s.counters().refused(*r))
                    .sum();
                (r.as_str().to_string(), n)
            })
            .collect();
        CoreTotals {
            sessions: self.core.sessions().len() as u64,
            labels: self.label_usage(),
            refusals,
            health: self.health_totals(),
            services,
            peers: self.peers.status(now),
        }
    }

    /// The health monitor of server `id` of service `sid`; None when it
    /// has none (being removed).
    pub(crate) fn server_health(
        &self,
        sid: ServiceId,
        id: ServerId,
        now: u64,
    ) -> Option<proto::ServerHealth> {
        self.health
            .probe((sid, id))
            .map(|p| self.probe_health(p, now))
    }

    fn probe_health(&self, p: &Probe, now: u64) -> proto::ServerHealth {
        let h = &p.target.health;
        proto::ServerHealth {
            kind: h.kind.as_str().into(),
            state: if h.kind == HealthKind::Off {
                "unchecked"
            } else if p.healthy {
                "up"
            } else {
                "down"
            }
            .into(),
            probing: self.health.enabled && p.is_probed(),
            last_check_ms_ago: p.last_check.map(|t| ms_ago(now, t)),
            last_result: p.last_result.clone(),
            response_time_us: p.rtt_ewma_ns.map(|n| n as f64 / 1e3),
            rise: h.rise,
            fall: h.fall,
            interval_ms: h.interval.as_millis() as u64,
            timeout_ms: h.timeout.as_millis() as u64,
            on_down: file_name(h.on_down),
            consecutive_ok: u64::from(p.ok_streak),
            consecutive_failed: u64::from(p.fail_streak),
            probes_sent: p.sent,
            successes: p.successes,
            failures: p.failures,
            passive_failures: p.passive_failures,
            changed_ms_ago: p.changed_at.map(|t| ms_ago(now, t)),
        }
    }

    pub(crate) fn health_totals(&self) -> proto::HealthTotals {
        proto::HealthTotals {
            enabled: self.health.enabled,
            servers_down: self.health.servers_down() as u64,
            went_down: self.health.went_down,
            went_up: self.health.went_up,
        }
    }

    pub(crate) fn view_health(
        &self,
        f: &proto::ServiceFilter,
        now: u64,
    ) -> Result<proto::Health, ErrorBody> {
        let only = match &f.service {
            Some(n) => Some(self.service_by_name(n)?),
            None => None,
        };
        let mut rows: Vec<((usize, u64), proto::HealthRow)> = Vec::new();
        for ((sid, id), p) in self.health.probes() {
            if only.is_some_and(|o| o != *sid) {
                continue;
            }
            let order = self
                .config
                .services
                .iter()
                .position(|s| s.name == p.target.service)
                .unwrap_or(usize::MAX);
            let row = proto::HealthRow {
                service: p.target.service.clone(),
                server: p.target.server.clone(),
                address: p.target.addr.to_string(),
                server_state: self
                    .core
                    .service(*sid)
                    .and_then(|s| s.pool().get(*id))
                    .map(|s| s.state().as_str().to_string()),
                health: self.probe_health(p, now),
            };
            rows.push(((order, u64::from(id.0)), row));
        }
        rows.sort_by_key(|r| r.0);
        Ok(proto::Health {
            totals: self.health_totals(),
            servers: rows.into_iter().map(|r| r.1).collect(),
        })
    }
}
