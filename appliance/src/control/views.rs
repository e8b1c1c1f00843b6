//! Read-only views of the scheduler's state for the control protocol
//! (services, servers, sessions, labels, health, the core's side of
//! stats). They run on the scheduler lcore, which alone may read the
//! session core, when it takes a command from its queue
//! ([`super::commands`]), with that round's clock.

use crate::frame::Frame;
use crate::scheduler::{Scheduler, ServiceRt};
use serde_json::{json, Map, Value};
use slb_config::HealthKind;
use slb_core::admission::Refusal;
use slb_core::session::{EndReason, Protocol, SessionId, SessionKey};
use slb_core::{ServerId, ServiceId};
use slb_ctl::protocol::{code, ErrorBody};
use std::collections::HashMap;
use std::net::IpAddr;

/// Rows a list returns unless asked for fewer (at most [`MAX_LIMIT`]).
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 100_000;

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

fn kind_str(k: HealthKind) -> &'static str {
    match k {
        HealthKind::Tcp { .. } => "tcp",
        HealthKind::Arp => "arp",
        HealthKind::Off => "none",
    }
}

fn json_enum<T: serde::Serialize>(v: T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
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

    pub(crate) fn view(&self, command: &str, args: &Value, now: u64) -> Result<Value, ErrorBody> {
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
            self.config
                .services
                .iter()
                .position(|s| s.name == name)
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

    pub(crate) fn health_json(&self, sid: ServiceId, id: ServerId, now: u64) -> Value {
        let Some(p) = self.health.probe((sid, id)) else {
            return Value::Null;
        };
        let h = &p.target.health;
        json!({
            "kind": kind_str(h.kind),
            "state": if h.kind == HealthKind::Off { "unchecked" } else if p.healthy { "up" } else { "down" },
            "probing": self.health.enabled && p.is_probed(),
            "last_check_ms_ago": p.last_check.map(|t| ms_ago(now, t)),
            "last_result": p.last_result,
            "response_time_us": p.rtt_ewma_ns.map(|n| n as f64 / 1e3),
            "rise": h.rise, "fall": h.fall,
            "interval_ms": h.interval.as_millis() as u64,
            "timeout_ms": h.timeout.as_millis() as u64,
            "on_down": json_enum(h.on_down),
            "consecutive_ok": p.ok_streak, "consecutive_failed": p.fail_streak,
            "probes_sent": p.sent, "successes": p.successes, "failures": p.failures,
            "passive_failures": p.passive_failures,
            "changed_ms_ago": p.changed_at.map(|t| ms_ago(now, t)),
        })
    }

    pub(crate) fn health_totals(&self) -> Value {
        json!({
            "enabled": self.health.enabled,
            "servers_down": self.health.servers_down(),
            "went_down": self.health.went_down,
            "went_up": self.health.went_up,
        })
    }

    pub(crate) fn view_health(&self, args: &Value, now: u64) -> Result<Value, ErrorBody> {
        let only = match args.get("service").and_then(|v| v.as_str()) {
            Some(n) => Some(self.service_by_name(n)?),
            None => None,
        };
        let mut rows: Vec<(usize, Value)> = Vec::new();
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
            let mut v = self.health_json(*sid, *id, now);
            v["service"] = p.target.service.clone().into();
            v["server"] = p.target.server.clone().into();
            v["address"] = p.target.addr.to_string().into();
            v["server_state"] = self
                .core
                .service(*sid)
                .and_then(|s| s.pool().get(*id))
                .map(|s| s.state().as_str())
                .into();
            rows.push((order * 65536 + id.0 as usize, v));
        }
        rows.sort_by_key(|r| r.0);
        Ok(
            json!({ "totals": self.health_totals(), "servers": rows.into_iter().map(|r| r.1).collect::<Vec<_>>() }),
        )
    }
}
