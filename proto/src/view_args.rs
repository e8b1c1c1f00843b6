//! Arguments of the read-only commands: `services.list`, `servers.list`,
//! `health` (a service filter), `sessions.list`, `sessions.show`,
//! `labels`, `rules.show`.

use crate::args::Args;
use crate::error::ErrorBody;
use crate::protocol::Protocol;
use serde::Serialize;
use std::net::IpAddr;

/// Rows a list returns unless asked for fewer.
pub const DEFAULT_LIMIT: u32 = 100;
/// The largest `limit` a list accepts.
pub const MAX_LIMIT: u32 = 100_000;

/// Session states `sessions.list` filters on (a state matches the states
/// it prefixes: `closing` matches `closing_client_fin`).
pub const SESSION_STATES: &[&str] = &[
    "syn_sent",
    "established",
    "closing",
    "closing_client_fin",
    "closing_server_fin",
    "linger",
    "reset",
    "udp",
];

/// Session origins `sessions.list` filters on.
pub const SESSION_ORIGINS: &[&str] = &["local", "synced", "restored", "recovered_by_hash"];

/// `services.list`, `servers.list`, `health`: every service, or one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServiceFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// `sessions.list`: filters (all optional) and a row limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SessionFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Only with `service`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<IpAddr>,
    /// One of [`SESSION_STATES`]; matches the states it prefixes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// One of [`SESSION_ORIGINS`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// 1 to [`MAX_LIMIT`]; [`DEFAULT_LIMIT`] if absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl SessionFilter {
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_LIMIT)
    }
}

/// `sessions.show`: a session by either label of its pair, or by its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum SessionSelector {
    Label { label: u32 },
    Key(SessionKey),
}

/// What identifies a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionKey {
    pub client: IpAddr,
    pub client_port: u16,
    pub vip: IpAddr,
    pub vip_port: u16,
    /// `tcp` if absent on the wire.
    pub protocol: Protocol,
}

/// `labels`: one label, or the first `limit` rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LabelFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<u64>,
    /// 1 to [`MAX_LIMIT`]; [`DEFAULT_LIMIT`] if absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl LabelFilter {
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_LIMIT)
    }
}

pub(crate) fn limit(a: &Args) -> Result<Option<u32>, ErrorBody> {
    let Some(l) = a.opt_u64("limit")? else {
        return Ok(None);
    };
    match u32::try_from(l) {
        Ok(l) if (1..=MAX_LIMIT).contains(&l) => Ok(Some(l)),
        _ => Err(ErrorBody::invalid(format!(
            "limit: between 1 and {MAX_LIMIT} (got {l})"
        ))),
    }
}

impl SessionFilter {
    pub(crate) fn decode(a: &Args) -> Result<SessionFilter, ErrorBody> {
        let limit = limit(a)?;
        let service = a.opt_str("service")?;
        let server = a.opt_str("server")?;
        if server.is_some() && service.is_none() {
            return Err(ErrorBody::invalid("server: needs service"));
        }
        let client = a.opt_ip("client")?;
        let state = a.opt_str("state")?;
        if let Some(st) = &state {
            if !SESSION_STATES.contains(&st.as_str()) {
                return Err(ErrorBody::invalid(format!(
                    "state: one of {} (got {st})",
                    SESSION_STATES.join(", ")
                )));
            }
        }
        let origin = a.opt_str("origin")?;
        if let Some(o) = &origin {
            if !SESSION_ORIGINS.contains(&o.as_str()) {
                return Err(ErrorBody::invalid(format!(
                    "origin: one of {} (got {o})",
                    SESSION_ORIGINS.join(", ")
                )));
            }
        }
        Ok(SessionFilter {
            service,
            server,
            client,
            state,
            origin,
            limit,
        })
    }
}

impl SessionSelector {
    pub(crate) fn decode(a: &Args) -> Result<SessionSelector, ErrorBody> {
        if let Some(label) = a.opt_u64("label")? {
            let label =
                u32::try_from(label).map_err(|_| ErrorBody::invalid("label: at most 1048575"))?;
            return Ok(SessionSelector::Label { label });
        }
        let protocol = match a.opt_str("protocol")?.as_deref().unwrap_or("tcp") {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            p => {
                return Err(ErrorBody::invalid(format!(
                    "protocol: tcp or udp (got {p})"
                )))
            }
        };
        let ip = |n: &str| {
            a.opt_ip(n)?
                .ok_or_else(|| ErrorBody::invalid(format!("{n}: required (or give label)")))
        };
        let port = |n: &str| {
            a.opt_port(n)?
                .ok_or_else(|| ErrorBody::invalid(format!("{n}: required")))
        };
        let vip = ip("vip")?;
        let vip_port = port("vip_port")?;
        Ok(SessionSelector::Key(SessionKey {
            client: ip("client")?,
            client_port: port("client_port")?,
            vip,
            vip_port,
            protocol,
        }))
    }
}

impl ServiceFilter {
    pub(crate) fn decode(a: &Args) -> Result<ServiceFilter, ErrorBody> {
        Ok(ServiceFilter {
            service: a.opt_str("service")?,
        })
    }
}

/// `rules.show`: one service's layer-7 rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RulesFilter {
    pub service: String,
}

impl RulesFilter {
    pub(crate) fn decode(a: &Args) -> Result<RulesFilter, ErrorBody> {
        Ok(RulesFilter {
            service: a.str("service")?,
        })
    }
}

impl LabelFilter {
    pub(crate) fn decode(a: &Args) -> Result<LabelFilter, ErrorBody> {
        let limit = limit(a)?;
        Ok(LabelFilter {
            label: a.opt_u64("label")?,
            limit,
        })
    }
}
