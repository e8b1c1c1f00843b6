//! The scheduler's side of the control plane: commands arrive on a bounded
//! lock-free queue from the control thread, a few per scheduler round, and
//! run on the scheduler lcore (which owns the session core), with that
//! round's clock. Each carries a reply slot the control thread waits on.
//!
//! Two kinds of command:
//! - views ([`Call::View`]): read-only pictures of sessions, labels,
//!   services, servers and health, built here because only this lcore may
//!   read the core;
//! - [`Call::Apply`]: a new, already validated configuration. Every change
//!   (`services.*`, `servers.*`, `config.reload`) is an edit of the running
//!   configuration that the control thread validates; the scheduler applies
//!   the difference ([`slb_config::Config::diff`]) without touching
//!   existing sessions, or refuses it whole.

use crate::fast_path::{ServiceKey, WorkerOp};
use crate::frame::Frame;
use crate::scheduler::{Scheduler, ServiceRt};
use crossbeam::queue::ArrayQueue;
use serde_json::{json, Map, Value};
use slb_config::{Config, ServerChange, ServiceChange};
use slb_core::admission::Refusal;
use slb_core::session::{EndReason, Protocol, SessionId, SessionKey};
use slb_core::{RateLimit, ServerConfig, ServerId, ServiceConfig, ServiceId};
use slb_ctl::protocol::{code, ErrorBody};
use slb_wire::IpProtocol;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::mpsc::SyncSender;
use std::sync::Arc;

/// What the control thread asks of the scheduler.
pub enum Call {
    /// A read-only view: `command` as in the protocol, with its arguments.
    View { command: String, args: Value },
    /// Apply this configuration (validated by the caller).
    Apply(Box<Config>),
}

/// One command and where its answer goes.
pub struct Command {
    pub call: Call,
    pub reply: SyncSender<Result<Value, ErrorBody>>,
}

pub type CommandQueue = ArrayQueue<Command>;

/// Commands the scheduler runs per round at most: control never delays
/// new sessions by more than a few views.
pub const COMMANDS_PER_POLL: usize = 2;
/// Commands waiting at most; a full queue answers `busy`.
pub const QUEUE_LEN: usize = 64;
/// Rows a list returns unless asked for fewer (at most [`MAX_LIMIT`]).
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 100_000;

/// Control state the scheduler keeps.
pub struct SchedControl {
    pub(crate) queue: Arc<CommandQueue>,
    /// The configuration the data path runs (after every applied change).
    pub(crate) config: Option<Config>,
}

impl SchedControl {
    pub fn new() -> Self {
        SchedControl {
            queue: Arc::new(ArrayQueue::new(QUEUE_LEN)),
            config: None,
        }
    }
}

impl Default for SchedControl {
    fn default() -> Self {
        Self::new()
    }
}

fn err(code: &str, message: impl Into<String>) -> ErrorBody {
    ErrorBody::new(code, message)
}

pub(crate) fn ms_ago(now: u64, t: u64) -> f64 {
    now.saturating_sub(t) as f64 / 1e6
}

fn mac_str(m: [u8; 6]) -> String {
    slb_config::format_mac(&m)
}

fn arg_str<'a>(args: &'a Value, name: &str) -> Result<Option<&'a str>, ErrorBody> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(err(
            code::INVALID_ARGUMENT,
            format!("{name}: must be a string (got {v})"),
        )),
    }
}

fn arg_u64(args: &Value, name: &str) -> Result<Option<u64>, ErrorBody> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            err(
                code::INVALID_ARGUMENT,
                format!("{name}: must be a non-negative integer (got {v})"),
            )
        }),
    }
}

fn limit(args: &Value) -> Result<usize, ErrorBody> {
    let l = arg_u64(args, "limit")?.unwrap_or(DEFAULT_LIMIT as u64) as usize;
    if l == 0 || l > MAX_LIMIT {
        return Err(err(
            code::INVALID_ARGUMENT,
            format!("limit: between 1 and {MAX_LIMIT} (got {l})"),
        ));
    }
    Ok(l)
}

fn protocol_str(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    }
}

fn core_protocol(p: slb_config::Protocol) -> Protocol {
    match p {
        slb_config::Protocol::Tcp => Protocol::Tcp,
        slb_config::Protocol::Udp => Protocol::Udp,
    }
}

pub(crate) fn core_algorithm(a: slb_config::Algorithm) -> slb_core::Algorithm {
    use slb_config::Algorithm as A;
    use slb_core::Algorithm as B;
    match a {
        A::RoundRobin => B::RoundRobin,
        A::WeightedRoundRobin => B::WeightedRoundRobin,
        A::LeastConnections => B::LeastConnections,
        A::WeightedLeastConnections => B::WeightedLeastConnections,
        A::LeastResponseTime => B::LeastResponseTime,
        A::SourceHash => B::SourceHash,
        A::Maglev => B::Maglev,
    }
}

fn json_enum<T: serde::Serialize>(v: T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

impl<F: Frame> Scheduler<F> {
    /// The queue the control thread submits commands on.
    pub fn command_queue(&self) -> Arc<CommandQueue> {
        self.ctl.queue.clone()
    }

    /// The configuration the data path was assembled from (server names,
    /// operator states, health settings). Called once by `assemble`.
    pub fn attach_config(&mut self, cfg: &Config) {
        self.ctl.config = Some(cfg.clone());
        self.sync_health();
    }

    /// The running configuration, if attached.
    pub fn running_config(&self) -> Option<&Config> {
        self.ctl.config.as_ref()
    }

    /// Runs up to [`COMMANDS_PER_POLL`] queued commands.
    pub(crate) fn run_commands(&mut self, now: u64, out: &mut dyn FnMut(usize, F)) -> usize {
        let mut n = 0;
        while n < COMMANDS_PER_POLL {
            let Some(cmd) = self.ctl.queue.pop() else {
                break;
            };
            let result = match cmd.call {
                Call::View { command, args } => self.view(&command, &args, now),
                Call::Apply(cfg) => self.apply_config(*cfg, now, out),
            };
            // The asker may have given up (timeout, vanished client).
            let _ = cmd.reply.try_send(result);
            n += 1;
        }
        n
    }

    /// The service of a configuration name.
    pub(crate) fn service_by_name(&self, name: &str) -> Result<ServiceId, ErrorBody> {
        self.services
            .iter()
            .find(|(_, rt)| rt.name == name)
            .map(|(id, _)| *id)
            .ok_or_else(|| err(code::UNKNOWN_SERVICE, format!("no service {name}")))
    }

    fn config_service(&self, name: &str) -> Option<&slb_config::Service> {
        self.ctl.config.as_ref().and_then(|c| c.service(name))
    }

    /// The server `server` of service `service` (configuration names).
    pub(crate) fn server_by_name(
        &self,
        service: &str,
        server: &str,
    ) -> Result<(ServiceId, ServerId), ErrorBody> {
        let sid = self.service_by_name(service)?;
        let addr = self
            .config_service(service)
            .and_then(|s| s.server(server))
            .map(|s| s.address)
            .ok_or_else(|| {
                err(
                    code::UNKNOWN_SERVER,
                    format!("service {service} has no server {server}"),
                )
            })?;
        let id = self.server_id(sid, addr).ok_or_else(|| {
            err(
                code::UNKNOWN_SERVER,
                format!("service {service} has no server {server}"),
            )
        })?;
        Ok((sid, id))
    }

    fn server_id(&self, sid: ServiceId, addr: IpAddr) -> Option<ServerId> {
        self.core
            .service(sid)?
            .pool()
            .iter()
            .find(|(_, s)| s.addr() == addr && !s.is_removing())
            .map(|(id, _)| id)
    }

    /// (service name, server name) of every server the configuration names,
    /// plus servers being removed (named by address).
    fn names(&self) -> HashMap<(ServiceId, ServerId), (String, String)> {
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

    fn view(&mut self, command: &str, args: &Value, now: u64) -> Result<Value, ErrorBody> {
        match command {
            "services.list" => Ok(self.view_services(args)?),
            "servers.list" => self.view_servers(args, now),
            "sessions.list" => self.view_sessions(args, now),
            "sessions.show" => self.view_session(args, now),
            "labels" => self.view_labels(args, now),
            "health" => self.view_health(args, now),
            "stats" => self.view_stats(now),
            other => Err(err(code::UNKNOWN_COMMAND, format!("no view {other}"))),
        }
    }

    fn service_json(&self, sid: ServiceId, rt: &ServiceRt) -> Value {
        let Some(svc) = self.core.service(sid) else {
            return Value::Null;
        };
        let c = svc.config();
        let cfg = self.config_service(&rt.name);
        let refused: Map<String, Value> = Refusal::ALL
            .iter()
            .map(|r| (r.as_str().to_string(), svc.counters().refused(*r).into()))
            .collect();
        let ended: Map<String, Value> = EndReason::ALL
            .iter()
            .map(|r| (r.as_str().to_string(), svc.ended()[r.index()].into()))
            .collect();
        json!({
            "name": rt.name,
            "vip": c.vip.to_string(),
            "port": c.port,
            "protocol": protocol_str(c.protocol),
            "algorithm": cfg.map(|s| json_enum(s.algorithm)).unwrap_or(Value::Null),
            "client_mode": if rt.plain_clients { "plain" } else { "label" },
            "refuse": if rt.refuse_rst { "rst" } else { "drop" },
            "max_sessions": c.max_sessions,
            "new_sessions_per_s": c.rate_limit.map(|r| r.per_second).unwrap_or(0),
            "burst": c.rate_limit.map(|r| r.burst).unwrap_or(0),
            "sessions": svc.sessions(),
            "servers": svc.pool().len(),
            "servers_available": svc.pool().available_count(),
            "admitted": svc.counters().admitted,
            "refused": refused,
            "ended": ended,
        })
    }

    fn sorted_services(&self) -> Vec<(ServiceId, &ServiceRt)> {
        let mut v: Vec<_> = self.services.iter().map(|(id, rt)| (*id, rt)).collect();
        // Configuration order where known.
        let order = |name: &str| {
            self.ctl
                .config
                .as_ref()
                .and_then(|c| c.services.iter().position(|s| s.name == name))
                .unwrap_or(usize::MAX)
        };
        v.sort_by_key(|(id, rt)| (order(&rt.name), id.0));
        v
    }

    fn view_services(&self, args: &Value) -> Result<Value, ErrorBody> {
        let only = arg_str(args, "service")?;
        if let Some(name) = only {
            self.service_by_name(name)?;
        }
        let list: Vec<Value> = self
            .sorted_services()
            .into_iter()
            .filter(|(_, rt)| only.is_none_or(|n| n == rt.name))
            .map(|(sid, rt)| self.service_json(sid, rt))
            .collect();
        Ok(json!({ "services": list }))
    }

    fn server_json(
        &self,
        sid: ServiceId,
        id: ServerId,
        names: &HashMap<(ServiceId, ServerId), (String, String)>,
        now: u64,
    ) -> Value {
        let Some(s) = self.core.service(sid).and_then(|v| v.pool().get(id)) else {
            return Value::Null;
        };
        let (svc_name, name) = names.get(&(sid, id)).cloned().unwrap_or_default();
        let admin = self
            .config_service(&svc_name)
            .and_then(|c| c.server(&name))
            .map(|v| json_enum(v.state))
            .unwrap_or_else(|| json!("removing"));
        let f = s.failures();
        json!({
            "service": svc_name,
            "name": name,
            "address": s.addr().to_string(),
            "weight": s.weight(),
            "max_sessions": s.max_sessions(),
            "admin_state": admin,
            "state": if s.is_removing() { "removing" } else { s.state().as_str() },
            "health": self.health_json(sid, id, now),
            "sessions": s.active_sessions(),
            "response_time_us": s.response_time_ns().map(|n| n as f64 / 1e3),
            "response_time_samples": s.response_time_samples(),
            "failures": { "no_reply": f.no_reply, "reset_before_reply": f.reset_before_reply, "reported": f.reported },
        })
    }

    fn view_servers(&self, args: &Value, now: u64) -> Result<Value, ErrorBody> {
        let only = arg_str(args, "service")?;
        if let Some(name) = only {
            self.service_by_name(name)?;
        }
        let names = self.names();
        let mut list = Vec::new();
        for (sid, rt) in self.sorted_services() {
            if only.is_some_and(|n| n != rt.name) {
                continue;
            }
            let Some(svc) = self.core.service(sid) else {
                continue;
            };
            for (id, _) in svc.pool().iter() {
                list.push(self.server_json(sid, id, &names, now));
            }
        }
        Ok(json!({ "servers": list }))
    }

    fn session_json(
        &self,
        id: SessionId,
        names: &HashMap<(ServiceId, ServerId), (String, String)>,
        now: u64,
    ) -> Value {
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
        json!({
            "service": svc,
            "server": srv,
            "server_address": addr,
            "protocol": protocol_str(k.protocol),
            "client": k.client.to_string(),
            "client_port": k.client_port,
            "vip": k.vip.to_string(),
            "vip_port": k.vip_port,
            "state": s.state().as_str(),
            "c2s_label": s.labels().c2s(),
            "s2c_label": s.labels().s2c(),
            "ingress_port": self.shared.ports.get(s.ingress_port() as usize).map(|p| p.name.clone()),
            "client_mac": mac_str(s.client_mac()),
            "age_ms": ms_ago(now, s.created()),
            "idle_ms": ms_ago(now, s.last_seen()),
            "response_time_us": s.first_reply().map(|t| t.saturating_sub(s.created()) as f64 / 1e3),
            "packets": { "c2s": c.packets[0], "s2c": c.packets[1] },
            "bytes": { "c2s": c.bytes[0], "s2c": c.bytes[1] },
        })
    }

    fn view_sessions(&self, args: &Value, now: u64) -> Result<Value, ErrorBody> {
        let limit = limit(args)?;
        let service = match arg_str(args, "service")? {
            Some(n) => Some(self.service_by_name(n)?),
            None => None,
        };
        let server = match (arg_str(args, "server")?, arg_str(args, "service")?) {
            (Some(srv), Some(svc)) => Some(self.server_by_name(svc, srv)?),
            (Some(_), None) => return Err(err(code::INVALID_ARGUMENT, "server: needs service")),
            _ => None,
        };
        let client: Option<IpAddr> = match arg_str(args, "client")? {
            Some(c) => Some(c.parse().map_err(|_| {
                err(
                    code::INVALID_ARGUMENT,
                    format!("client: not an IP address: {c}"),
                )
            })?),
            None => None,
        };
        let state = arg_str(args, "state")?;
        const STATES: &[&str] = &[
            "syn_sent",
            "established",
            "closing",
            "closing_client_fin",
            "closing_server_fin",
            "linger",
            "udp",
        ];
        if let Some(st) = state {
            if !STATES.contains(&st) {
                return Err(err(
                    code::INVALID_ARGUMENT,
                    format!("state: one of {} (got {st})", STATES.join(", ")),
                ));
            }
        }
        let names = self.names();
        let mut list = Vec::new();
        let mut matched = 0usize;
        for (id, s) in self.core.sessions().iter() {
            if service.is_some_and(|v| v != s.service())
                || server.is_some_and(|(v, r)| v != s.service() || r != s.server())
                || client.is_some_and(|c| c != s.key().client)
                || state.is_some_and(|st| !s.state().as_str().starts_with(st))
            {
                continue;
            }
            matched += 1;
            if list.len() < limit {
                list.push(self.session_json(id, &names, now));
            }
        }
        Ok(json!({ "sessions": list, "matched": matched, "total": self.core.sessions().len() }))
    }

    fn view_session(&self, args: &Value, now: u64) -> Result<Value, ErrorBody> {
        let id = if let Some(label) = arg_u64(args, "label")? {
            let label = u32::try_from(label)
                .map_err(|_| err(code::INVALID_ARGUMENT, "label: at most 1048575"))?;
            self.core.find_by_label(label).ok_or_else(|| {
                err(
                    code::UNKNOWN_SESSION,
                    format!("no session holds label {label}"),
                )
            })?
        } else {
            let need = |n: &str| {
                arg_str(args, n)?.ok_or_else(|| {
                    err(
                        code::INVALID_ARGUMENT,
                        format!("{n}: required (or give label)"),
                    )
                })
            };
            let ip = |n: &str| -> Result<IpAddr, ErrorBody> {
                let s = need(n)?;
                s.parse().map_err(|_| {
                    err(
                        code::INVALID_ARGUMENT,
                        format!("{n}: not an IP address: {s}"),
                    )
                })
            };
            let port = |n: &str| -> Result<u16, ErrorBody> {
                let v = arg_u64(args, n)?
                    .ok_or_else(|| err(code::INVALID_ARGUMENT, format!("{n}: required")))?;
                u16::try_from(v).map_err(|_| {
                    err(
                        code::INVALID_ARGUMENT,
                        format!("{n}: at most 65535 (got {v})"),
                    )
                })
            };
            let protocol = match arg_str(args, "protocol")?.unwrap_or("tcp") {
                "tcp" => Protocol::Tcp,
                "udp" => Protocol::Udp,
                p => {
                    return Err(err(
                        code::INVALID_ARGUMENT,
                        format!("protocol: tcp or udp (got {p})"),
                    ))
                }
            };
            let key = SessionKey {
                protocol,
                vip: ip("vip")?,
                vip_port: port("vip_port")?,
                client: ip("client")?,
                client_port: port("client_port")?,
            };
            self.core
                .find(&key)
                .ok_or_else(|| err(code::UNKNOWN_SESSION, "no session with that key"))?
        };
        Ok(self.session_json(id, &self.names(), now))
    }

    fn view_labels(&self, args: &Value, now: u64) -> Result<Value, ErrorBody> {
        let limit = limit(args)?;
        let counts = self.core.labels().counts();
        let names = self.names();
        let table = self.shared.tables.replica(self.local_id);
        let only = arg_u64(args, "label")?;
        let mut rows = Vec::new();
        let mut total = 0usize;
        for (_, s) in self.core.sessions().iter() {
            let pair = s.labels();
            for (label, c2s) in [(pair.c2s(), true), (pair.s2c(), false)] {
                if only.is_some_and(|l| l != u64::from(label)) {
                    continue;
                }
                total += 1;
                if rows.len() >= limit {
                    continue;
                }
                let entry = table.get(label);
                let nh = entry.and_then(|e| self.shared.nexthops.get(e.nexthop));
                let (svc, srv) = names
                    .get(&(s.service(), s.server()))
                    .cloned()
                    .unwrap_or_default();
                rows.push(json!({
                    "label": label,
                    "direction": if c2s { "c2s" } else { "s2c" },
                    "in_port_role": if c2s { "client" } else { "server" },
                    "installed": entry.is_some(),
                    "out_port": nh.and_then(|n| self.shared.ports.get(n.port as usize)).map(|p| p.name.clone()),
                    "next_hop_mac": nh.map(|n| mac_str(n.mac)),
                    "pop": entry.map(|e| e.pop),
                    "session": {
                        "service": svc, "server": srv,
                        "client": s.key().client.to_string(), "client_port": s.key().client_port,
                        "state": s.state().as_str(), "age_ms": ms_ago(now, s.created()),
                    },
                }));
            }
        }
        Ok(json!({
            "usage": {
                "capacity_pairs": self.core.labels().capacity(),
                "free_pairs": counts.free, "active_pairs": counts.active, "quarantined_pairs": counts.quarantined,
            },
            "labels": rows,
            "matched": total,
        }))
    }

    fn view_stats(&self, now: u64) -> Result<Value, ErrorBody> {
        let names = self.names();
        let services: Vec<Value> = self
            .sorted_services()
            .into_iter()
            .map(|(sid, rt)| {
                let mut v = self.service_json(sid, rt);
                let servers: Vec<Value> = self
                    .core
                    .service(sid)
                    .map(|s| {
                        s.pool()
                            .iter()
                            .map(|(id, _)| self.server_json(sid, id, &names, now))
                            .collect()
                    })
                    .unwrap_or_default();
                v["server_stats"] = servers.into();
                v
            })
            .collect();
        let mut refusals = Map::new();
        for r in Refusal::ALL {
            let n: u64 = self
                .core
                .services()
                .map(|(_, s)| s.counters().refused(r))
                .sum();
            refusals.insert(r.as_str().into(), n.into());
        }
        let counts = self.core.labels().counts();
        Ok(json!({
            "sessions": self.core.sessions().len(),
            "labels": { "capacity_pairs": self.core.labels().capacity(), "free_pairs": counts.free,
                        "active_pairs": counts.active, "quarantined_pairs": counts.quarantined },
            "refusals": refusals,
            "health": self.health_totals(),
            "services": services,
        }))
    }

    /// Adds a configured service: core service, servers, workers' match.
    fn add_config_service(&mut self, s: &slb_config::Service) -> Result<ServiceId, ErrorBody> {
        let mut sc = ServiceConfig::new(
            core_protocol(s.protocol),
            s.vip,
            s.port,
            core_algorithm(s.algorithm),
        );
        sc.max_sessions = s.max_sessions;
        if s.new_sessions_per_s > 0 {
            sc.rate_limit = Some(RateLimit {
                per_second: s.new_sessions_per_s,
                burst: s.burst.max(1),
            });
        }
        let id = self
            .core
            .add_service(sc)
            .map_err(|e| err(code::INVALID_ARGUMENT, format!("service {}: {e}", s.name)))?;
        for v in &s.servers {
            self.add_config_server(id, v)?;
        }
        self.add_service(
            id,
            ServiceRt {
                name: s.name.clone(),
                key: service_key(s),
                plain_clients: s.client_mode == slb_config::ClientMode::Plain,
                refuse_rst: s.refuse == slb_config::Refuse::Rst,
            },
        );
        Ok(id)
    }

    fn add_config_server(
        &mut self,
        sid: ServiceId,
        v: &slb_config::Server,
    ) -> Result<ServerId, ErrorBody> {
        let svc = self
            .core
            .service_mut(sid)
            .ok_or_else(|| err(code::INTERNAL, "service vanished"))?;
        let mut c = ServerConfig::new(v.address);
        c.weight = u32::from(v.weight);
        c.max_sessions = v.max_sessions;
        let id = svc
            .pool_mut()
            .add(c)
            .map_err(|e| err(code::INVALID_ARGUMENT, format!("server {}: {e}", v.name)))?;
        self.watch_neighbour(v.address);
        Ok(id)
    }

    fn remove_service_now(&mut self, sid: ServiceId) -> Result<(), ErrorBody> {
        self.core
            .remove_service(sid)
            .map_err(|e| err(code::SERVICE_BUSY, e.to_string()))?;
        if let Some(rt) = self.services.remove(&sid) {
            for c in &self.chans {
                let _ = c.ops.push(WorkerOp::ServiceRemove(rt.key));
            }
            self.local.apply_ops();
        }
        Ok(())
    }

    /// Applies `new` in place of the running configuration, or refuses it
    /// whole (nothing changed). Existing sessions are never touched.
    fn apply_config(
        &mut self,
        new: Config,
        now: u64,
        out: &mut dyn FnMut(usize, F),
    ) -> Result<Value, ErrorBody> {
        let _ = out;
        let old = self
            .ctl
            .config
            .clone()
            .ok_or_else(|| err(code::INTERNAL, "no running configuration"))?;
        let d = old.diff(&new);
        if d.needs_restart() {
            let what: Vec<String> = d.not_live.iter().map(|n| n.to_string()).collect();
            return Err(err(
                code::RESTART_REQUIRED,
                format!("{}; nothing changed", what.join("; ")),
            ));
        }
        if d.timeouts_changed {
            return Err(err(
                code::RESTART_REQUIRED,
                "timeouts changed: the running session core keeps its timeouts, needs a restart; nothing changed",
            ));
        }
        // Services that must go (removed, or recreated because their
        // identity or algorithm changed) must have no sessions.
        let mut recreate: Vec<String> = Vec::new();
        for sd in &d.services_changed {
            if sd
                .changes
                .iter()
                .any(|c| c.is_identity() || matches!(c, ServiceChange::Algorithm { .. }))
            {
                recreate.push(sd.name.clone());
            }
        }
        for name in d.services_removed.iter().chain(&recreate) {
            let sid = self.service_by_name(name)?;
            let n = self.core.service(sid).map(|s| s.sessions()).unwrap_or(0);
            if n > 0 {
                return Err(err(
                    code::SERVICE_BUSY,
                    format!(
                        "service {name} has {n} live session(s): drain its servers (slbctl servers drain) \
                         and change or remove it once they have ended; nothing changed"
                    ),
                ));
            }
        }
        // A new (protocol, VIP, port) must not clash with a service that
        // stays.
        for s in new
            .services
            .iter()
            .filter(|s| d.services_added.contains(&s.name) || recreate.contains(&s.name))
        {
            if let Some(other) = self
                .core
                .find_service(core_protocol(s.protocol), s.vip, s.port)
            {
                let other_name = self
                    .services
                    .get(&other)
                    .map(|r| r.name.clone())
                    .unwrap_or_default();
                if !d.services_removed.contains(&other_name) && !recreate.contains(&other_name) {
                    return Err(err(
                        code::ALREADY_EXISTS,
                        format!(
                            "service {}: {}:{} is service {other_name}'s; nothing changed",
                            s.name, s.vip, s.port
                        ),
                    ));
                }
            }
        }
        // Past this point every step is expected to succeed.
        for name in d.services_removed.iter().chain(&recreate) {
            let sid = self.service_by_name(name)?;
            self.remove_service_now(sid)?;
        }
        for s in new
            .services
            .iter()
            .filter(|s| d.services_added.contains(&s.name) || recreate.contains(&s.name))
        {
            self.add_config_service(s)?;
        }
        for sd in d
            .services_changed
            .iter()
            .filter(|sd| !recreate.contains(&sd.name))
        {
            let sid = self.service_by_name(&sd.name)?;
            let ns = new
                .service(&sd.name)
                .ok_or_else(|| err(code::INTERNAL, "service vanished"))?;
            for c in &sd.changes {
                match c {
                    ServiceChange::MaxSessions { new, .. } => {
                        if let Some(s) = self.core.service_mut(sid) {
                            s.set_max_sessions(*new);
                        }
                    }
                    ServiceChange::RateLimit {
                        new: (rate, burst), ..
                    } => {
                        let limit = (*rate > 0).then(|| RateLimit {
                            per_second: *rate,
                            burst: (*burst).max(1),
                        });
                        if let Some(s) = self.core.service_mut(sid) {
                            s.set_rate_limit(limit);
                        }
                    }
                    ServiceChange::ClientMode { new, .. } => {
                        if let Some(rt) = self.services.get_mut(&sid) {
                            rt.plain_clients = *new == slb_config::ClientMode::Plain;
                        }
                    }
                    ServiceChange::Refuse { new, .. } => {
                        if let Some(rt) = self.services.get_mut(&sid) {
                            rt.refuse_rst = *new == slb_config::Refuse::Rst;
                        }
                    }
                    // Health settings are picked up by `sync_health` below.
                    ServiceChange::Health { .. } => {}
                    _ => {}
                }
            }
            let old_s = old
                .service(&sd.name)
                .ok_or_else(|| err(code::INTERNAL, "service vanished"))?;
            for name in &sd.servers_removed {
                if let Some(v) = old_s.server(name) {
                    if let Some(id) = self.server_id(sid, v.address) {
                        if let Some(s) = self.core.service_mut(sid) {
                            let _ = s.pool_mut().remove(id);
                        }
                    }
                }
            }
            for vd in &sd.servers_changed {
                let (Some(ov), Some(nv)) = (old_s.server(&vd.name), ns.server(&vd.name)) else {
                    continue;
                };
                if vd
                    .changes
                    .iter()
                    .any(|c| matches!(c, ServerChange::Address { .. }))
                {
                    if let Some(id) = self.server_id(sid, ov.address) {
                        if let Some(s) = self.core.service_mut(sid) {
                            let _ = s.pool_mut().remove(id);
                        }
                    }
                    self.add_config_server(sid, nv)?;
                    continue;
                }
                let Some(id) = self.server_id(sid, ov.address) else {
                    continue;
                };
                let Some(s) = self.core.service_mut(sid) else {
                    continue;
                };
                for c in &vd.changes {
                    match c {
                        ServerChange::Weight { new, .. } => {
                            let _ = s.pool_mut().set_weight(id, u32::from(*new));
                        }
                        ServerChange::MaxSessions { new, .. } => {
                            let _ = s.pool_mut().set_max_sessions(id, *new);
                        }
                        // Operator state: combined with health below.
                        ServerChange::State { .. } | ServerChange::Address { .. } => {}
                    }
                }
            }
            for name in &sd.servers_added {
                if let Some(v) = ns.server(name) {
                    self.add_config_server(sid, v)?;
                }
            }
        }
        if d.neighbours_changed {
            for n in &new.neighbours {
                self.static_neighbour(n.address, n.mac);
            }
        }
        let summary = if d.is_empty() {
            "no change".to_string()
        } else {
            d.to_string()
        };
        if !d.is_empty() {
            tracing::info!(changes = %summary.replace('\n', "; "), "configuration applied");
        }
        self.ctl.config = Some(new);
        // Operator states, health settings, new and removed servers.
        self.sync_health();
        let _ = now;
        Ok(json!({ "changed": !d.is_empty(), "changes": summary.lines().collect::<Vec<_>>() }))
    }
}

fn service_key(s: &slb_config::Service) -> ServiceKey {
    ServiceKey {
        protocol: match s.protocol {
            slb_config::Protocol::Tcp => IpProtocol::Tcp,
            slb_config::Protocol::Udp => IpProtocol::Udp,
        },
        vip: s.vip,
        port: s.port,
    }
}
