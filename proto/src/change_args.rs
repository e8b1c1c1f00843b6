//! Arguments of the change commands (`services.*`, `servers.*` but the
//! lists, `config.reload`). The configuration fragments they carry are
//! typed as the configuration file writes them: numbers wide, addresses
//! and names as strings, unknown fields refused; slbd checks ranges and
//! names by the configuration's rules, whose messages give the JSON path.

use crate::args::Args;
use crate::error::ErrorBody;
use serde::Serialize;
use serde_json::{Map, Value};

/// `services.remove`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceName {
    pub name: String,
}

/// `services.add`: a service as in the configuration file
/// (`docs/config-reference.md`), at least one server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceSpec {
    pub name: String,
    pub vip: String,
    pub port: u64,
    /// `tcp` or `udp`.
    pub protocol: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_sessions: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_sessions_per_s: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burst: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refuse: Option<String>,
    /// Allowed client prefixes (`198.18.0.0/24`, `2001:db8::/32`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow: Option<Vec<String>>,
    /// Denied client prefixes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deny: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthSpec>,
    pub servers: Vec<ServerSpec>,
}

/// A service's `health` as in the configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HealthSpec {
    /// `tcp`, `arp` or `none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rise: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fall: Option<u64>,
    /// `keep` or `reset`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_down: Option<String>,
}

/// A server as in the configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerSpec {
    pub name: String,
    pub address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_sessions: Option<u64>,
    /// `up`, `drain` or `disabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// `services.update`: the service `name` and the fields to change, as in
/// the configuration file (servers change through `servers.*`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServiceUpdate {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_sessions: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_sessions_per_s: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burst: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refuse: Option<String>,
    /// Allowed client prefixes (`198.18.0.0/24`, `2001:db8::/32`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow: Option<Vec<String>>,
    /// Denied client prefixes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deny: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthSpec>,
}

impl ServiceUpdate {
    /// The fields to change, as configuration fields (without `name`).
    pub fn fields(&self) -> Map<String, Value> {
        let mut m = object(self);
        m.remove("name");
        m
    }
}

/// `servers.add`: the service and the server, as in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerAdd {
    pub service: String,
    #[serde(flatten)]
    pub server: ServerSpec,
}

/// `servers.remove`, `.drain`, `.enable`, `.disable`: one server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerRef {
    pub service: String,
    pub server: String,
}

/// `servers.update`: the server and what to change (at least one field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerUpdate {
    pub service: String,
    pub server: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_sessions: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// `up`, `drain` or `disabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

impl ServerUpdate {
    /// The fields to change, as configuration fields of the server.
    pub fn fields(&self) -> Map<String, Value> {
        let mut m = object(self);
        m.remove("service");
        m.remove("server");
        m
    }
}

/// `config.reload`: the file to read (slbd's `--config` if absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReloadArgs {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

fn object<T: Serialize>(v: &T) -> Map<String, Value> {
    match serde_json::to_value(v) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

const SERVICE_FIELDS: &[&str] = &[
    "name",
    "vip",
    "port",
    "protocol",
    "client_mode",
    "algorithm",
    "max_sessions",
    "new_sessions_per_s",
    "burst",
    "refuse",
    "allow",
    "deny",
    "health",
    "servers",
];

const SERVER_FIELDS: &[&str] = &["name", "address", "weight", "max_sessions", "state"];

const HEALTH_FIELDS: &[&str] = &[
    "kind",
    "port",
    "interval_ms",
    "timeout_ms",
    "rise",
    "fall",
    "on_down",
];

impl HealthSpec {
    pub(crate) fn decode(a: &Args) -> Result<HealthSpec, ErrorBody> {
        a.only(HEALTH_FIELDS)?;
        Ok(HealthSpec {
            kind: a.opt_str("kind")?,
            port: a.opt_u64("port")?,
            interval_ms: a.opt_u64("interval_ms")?,
            timeout_ms: a.opt_u64("timeout_ms")?,
            rise: a.opt_u64("rise")?,
            fall: a.opt_u64("fall")?,
            on_down: a.opt_str("on_down")?,
        })
    }
}

impl ServerSpec {
    /// The server fields of `a` (which may hold others, e.g. `service`).
    pub(crate) fn decode(a: &Args) -> Result<ServerSpec, ErrorBody> {
        Ok(ServerSpec {
            name: a.str("name")?,
            address: a.str("address")?,
            weight: a.opt_u64("weight")?,
            max_sessions: a.opt_u64("max_sessions")?,
            state: a.opt_str("state")?,
        })
    }
}

impl ServiceSpec {
    pub(crate) fn decode(a: &Args) -> Result<ServiceSpec, ErrorBody> {
        let name = a.str("name")?;
        a.only(SERVICE_FIELDS)?;
        let health = a
            .opt_object("health")?
            .map(|h| HealthSpec::decode(&h))
            .transpose()?;
        let servers = a
            .objects("servers")?
            .iter()
            .map(|s| {
                s.only(SERVER_FIELDS)?;
                ServerSpec::decode(s)
            })
            .collect::<Result<_, _>>()?;
        Ok(ServiceSpec {
            name,
            vip: a.str("vip")?,
            port: a.u64("port")?,
            protocol: a.str("protocol")?,
            client_mode: a.opt_str("client_mode")?,
            algorithm: a.opt_str("algorithm")?,
            max_sessions: a.opt_u64("max_sessions")?,
            new_sessions_per_s: a.opt_u64("new_sessions_per_s")?,
            burst: a.opt_u64("burst")?,
            refuse: a.opt_str("refuse")?,
            allow: a.opt_strs("allow")?,
            deny: a.opt_strs("deny")?,
            health,
            servers,
        })
    }
}

impl ServiceUpdate {
    pub(crate) fn decode(a: &Args) -> Result<ServiceUpdate, ErrorBody> {
        let name = a.str("name")?;
        if a.has("servers") {
            return Err(ErrorBody::invalid(
                "servers: change servers with servers.add/remove/update",
            ));
        }
        a.only(SERVICE_FIELDS)?;
        Ok(ServiceUpdate {
            name,
            vip: a.opt_str("vip")?,
            port: a.opt_u64("port")?,
            protocol: a.opt_str("protocol")?,
            client_mode: a.opt_str("client_mode")?,
            algorithm: a.opt_str("algorithm")?,
            max_sessions: a.opt_u64("max_sessions")?,
            new_sessions_per_s: a.opt_u64("new_sessions_per_s")?,
            burst: a.opt_u64("burst")?,
            refuse: a.opt_str("refuse")?,
            allow: a.opt_strs("allow")?,
            deny: a.opt_strs("deny")?,
            health: a
                .opt_object("health")?
                .map(|h| HealthSpec::decode(&h))
                .transpose()?,
        })
    }
}

impl ServerUpdate {
    pub(crate) fn decode(a: &Args) -> Result<ServerUpdate, ErrorBody> {
        let u = ServerUpdate {
            service: a.str("service")?,
            server: a.str("server")?,
            weight: a.opt_u64("weight")?,
            max_sessions: a.opt_u64("max_sessions")?,
            address: a.opt_str("address")?,
            state: a.opt_str("state")?,
        };
        if u.fields().is_empty() {
            return Err(ErrorBody::invalid(
                "nothing to update: give weight, max_sessions, address or state",
            ));
        }
        Ok(u)
    }
}

impl ServerRef {
    pub(crate) fn decode(a: &Args) -> Result<ServerRef, ErrorBody> {
        Ok(ServerRef {
            service: a.str("service")?,
            server: a.str("server")?,
        })
    }
}

impl ServerAdd {
    pub(crate) fn decode(a: &Args) -> Result<ServerAdd, ErrorBody> {
        let service = a.str("service")?;
        let mut known = SERVER_FIELDS.to_vec();
        known.push("service");
        a.only(&known)?;
        Ok(ServerAdd {
            service,
            server: ServerSpec::decode(a)?,
        })
    }
}

impl ServiceName {
    pub(crate) fn decode(a: &Args) -> Result<ServiceName, ErrorBody> {
        Ok(ServiceName {
            name: a.str("name")?,
        })
    }
}

impl ReloadArgs {
    pub(crate) fn decode(a: &Args) -> Result<ReloadArgs, ErrorBody> {
        Ok(ReloadArgs {
            path: a.opt_str("path")?,
        })
    }
}
