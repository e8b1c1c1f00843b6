//! Requests: one [`Request`] variant per command, with its arguments.
//!
//! On the wire a request is `{"id": .., "command": "servers.drain",
//! "args": {"service": "web", "server": "s1"}}`: the variant's name is
//! `command`, its fields are `args`. `args` is omitted for commands
//! without arguments, and may be omitted or `{}` (or null) when every
//! argument is optional. An argument given as null is absent.
//!
//! Decoding ([`Request::decode`]) checks what the protocol itself fixes:
//! JSON types, ports, addresses, session states, list limits
//! ([`crate::view_args`]). The configuration fragments that changes carry
//! ([`crate::change_args`]) are typed as the configuration file writes
//! them; slbd checks them by the configuration's rules.

use crate::args::Args;
use crate::change_args::*;
use crate::drops::DropsArgs;
use crate::error::{code, ErrorBody};
pub use crate::protocol::Protocol;
use crate::result::Reply;
use crate::view_args::*;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Every command slbd serves, in [`Request`]'s order.
pub const COMMANDS: &[&str] = &[
    "status",
    "stats",
    "metrics",
    "services.list",
    "services.add",
    "services.remove",
    "services.update",
    "servers.list",
    "servers.add",
    "servers.remove",
    "servers.update",
    "servers.drain",
    "servers.enable",
    "servers.disable",
    "sessions.list",
    "sessions.show",
    "sessions.save",
    "labels",
    "health",
    "rules.show",
    "drops",
    "cluster",
    "instance.drain",
    "instance.undrain",
    "config.show",
    "config.reload",
];

/// A request: the command and its arguments (the id is the line's).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "command", content = "args")]
pub enum Request {
    /// Version, uptime, lcores, ports and links.
    #[serde(rename = "status")]
    Status,
    /// Every counter.
    #[serde(rename = "stats")]
    Stats,
    /// The counters in the Prometheus text format.
    #[serde(rename = "metrics")]
    Metrics,
    #[serde(rename = "services.list")]
    ServicesList(ServiceFilter),
    #[serde(rename = "services.add")]
    ServicesAdd(ServiceSpec),
    #[serde(rename = "services.remove")]
    ServicesRemove(ServiceName),
    #[serde(rename = "services.update")]
    ServicesUpdate(ServiceUpdate),
    #[serde(rename = "servers.list")]
    ServersList(ServiceFilter),
    #[serde(rename = "servers.add")]
    ServersAdd(ServerAdd),
    #[serde(rename = "servers.remove")]
    ServersRemove(ServerRef),
    #[serde(rename = "servers.update")]
    ServersUpdate(ServerUpdate),
    #[serde(rename = "servers.drain")]
    ServersDrain(ServerRef),
    #[serde(rename = "servers.enable")]
    ServersEnable(ServerRef),
    #[serde(rename = "servers.disable")]
    ServersDisable(ServerRef),
    #[serde(rename = "sessions.list")]
    SessionsList(SessionFilter),
    #[serde(rename = "sessions.show")]
    SessionsShow(SessionSelector),
    /// Writes the sessions, the label quarantine and the runtime changes
    /// to slbd's `--save-state` file (what a restart with `--restore`
    /// reinstalls).
    #[serde(rename = "sessions.save")]
    SessionsSave,
    #[serde(rename = "labels")]
    Labels(LabelFilter),
    #[serde(rename = "health")]
    Health(ServiceFilter),
    /// A service's layer-7 rules: each rule's match, pool and hits, and
    /// the sessions its default pool took without a rule.
    #[serde(rename = "rules.show")]
    RulesShow(RulesFilter),
    /// The drop trace: turn it on or off, read it.
    #[serde(rename = "drops")]
    Drops(DropsArgs),
    /// This instance in its cluster: its id, its label slice, the peers.
    #[serde(rename = "cluster")]
    Cluster,
    /// Withdraws every VIP this instance announces; sessions go on.
    #[serde(rename = "instance.drain")]
    InstanceDrain,
    /// Announces the VIPs again (those with a serving server).
    #[serde(rename = "instance.undrain")]
    InstanceUndrain,
    /// The running configuration.
    #[serde(rename = "config.show")]
    ConfigShow,
    #[serde(rename = "config.reload")]
    ConfigReload(ReloadArgs),
}

impl Request {
    /// The typed request for `command` and its `args`, or the error slbd
    /// answers: `invalid_argument` if `args` is not an object (null is
    /// none), `unknown_command` (listing the commands), or
    /// `invalid_argument` naming the first bad argument.
    pub fn decode(command: &str, args: &Value) -> Result<Request, ErrorBody> {
        let none = Map::new();
        let map = match args {
            Value::Null => &none,
            Value::Object(m) => m,
            _ => return Err(ErrorBody::invalid("args: must be an object")),
        };
        let a = Args::new(map);
        Ok(match command {
            "status" => Request::Status,
            "stats" => Request::Stats,
            "metrics" => Request::Metrics,
            "services.list" => Request::ServicesList(ServiceFilter::decode(&a)?),
            "services.add" => Request::ServicesAdd(ServiceSpec::decode(&a)?),
            "services.remove" => Request::ServicesRemove(ServiceName::decode(&a)?),
            "services.update" => Request::ServicesUpdate(ServiceUpdate::decode(&a)?),
            "servers.list" => Request::ServersList(ServiceFilter::decode(&a)?),
            "servers.add" => Request::ServersAdd(ServerAdd::decode(&a)?),
            "servers.remove" => Request::ServersRemove(ServerRef::decode(&a)?),
            "servers.update" => Request::ServersUpdate(ServerUpdate::decode(&a)?),
            "servers.drain" => Request::ServersDrain(ServerRef::decode(&a)?),
            "servers.enable" => Request::ServersEnable(ServerRef::decode(&a)?),
            "servers.disable" => Request::ServersDisable(ServerRef::decode(&a)?),
            "sessions.list" => Request::SessionsList(SessionFilter::decode(&a)?),
            "sessions.show" => Request::SessionsShow(SessionSelector::decode(&a)?),
            "sessions.save" => Request::SessionsSave,
            "labels" => Request::Labels(LabelFilter::decode(&a)?),
            "health" => Request::Health(ServiceFilter::decode(&a)?),
            "rules.show" => Request::RulesShow(RulesFilter::decode(&a)?),
            "drops" => Request::Drops(DropsArgs::decode(&a)?),
            "cluster" => Request::Cluster,
            "instance.drain" => Request::InstanceDrain,
            "instance.undrain" => Request::InstanceUndrain,
            "config.show" => Request::ConfigShow,
            "config.reload" => Request::ConfigReload(ReloadArgs::decode(&a)?),
            other => {
                return Err(ErrorBody::new(
                    code::UNKNOWN_COMMAND,
                    format!(
                        "unknown command {other:?}; commands: {}",
                        COMMANDS.join(", ")
                    ),
                ))
            }
        })
    }

    /// The command's name on the wire.
    pub fn command(&self) -> &'static str {
        match self {
            Request::Status => "status",
            Request::Stats => "stats",
            Request::Metrics => "metrics",
            Request::ServicesList(_) => "services.list",
            Request::ServicesAdd(_) => "services.add",
            Request::ServicesRemove(_) => "services.remove",
            Request::ServicesUpdate(_) => "services.update",
            Request::ServersList(_) => "servers.list",
            Request::ServersAdd(_) => "servers.add",
            Request::ServersRemove(_) => "servers.remove",
            Request::ServersUpdate(_) => "servers.update",
            Request::ServersDrain(_) => "servers.drain",
            Request::ServersEnable(_) => "servers.enable",
            Request::ServersDisable(_) => "servers.disable",
            Request::SessionsList(_) => "sessions.list",
            Request::SessionsShow(_) => "sessions.show",
            Request::SessionsSave => "sessions.save",
            Request::Labels(_) => "labels",
            Request::Health(_) => "health",
            Request::RulesShow(_) => "rules.show",
            Request::Drops(_) => "drops",
            Request::Cluster => "cluster",
            Request::InstanceDrain => "instance.drain",
            Request::InstanceUndrain => "instance.undrain",
            Request::ConfigShow => "config.show",
            Request::ConfigReload(_) => "config.reload",
        }
    }

    /// Whether this is a change command: an edit of the running
    /// configuration (`services.*` and `servers.*` changes), which slbd
    /// applies, logs for its state file, and answers with an `Edit`.
    pub fn is_change(&self) -> bool {
        matches!(
            self,
            Request::ServicesAdd(_)
                | Request::ServicesRemove(_)
                | Request::ServicesUpdate(_)
                | Request::ServersAdd(_)
                | Request::ServersRemove(_)
                | Request::ServersUpdate(_)
                | Request::ServersDrain(_)
                | Request::ServersEnable(_)
                | Request::ServersDisable(_)
        )
    }

    /// The request line (newline excluded) with this `id`:
    /// `{"id":..,"command":..,"args":{..}}`.
    pub fn to_line(&self, id: impl Into<Value>) -> String {
        #[derive(Serialize)]
        struct Line<'a> {
            id: Value,
            #[serde(flatten)]
            request: &'a Request,
        }
        let line = Line {
            id: id.into(),
            request: self,
        };
        // Serializing these types into a string cannot fail: every map
        // key is a string and no Serialize impl here returns an error.
        serde_json::to_string(&line).unwrap_or_default()
    }

    /// Decodes the `result` slbd answered this request with into its
    /// type.
    pub fn reply(&self, result: Value) -> Result<Reply, serde_json::Error> {
        use serde_json::from_value as from;
        Ok(match self {
            Request::Status => Reply::Status(from(result)?),
            Request::Stats => Reply::Stats(Box::new(from(result)?)),
            Request::Metrics => Reply::Metrics(from(result)?),
            Request::ServicesList(_) => Reply::ServicesList(from(result)?),
            Request::ServersList(_) => Reply::ServersList(from(result)?),
            Request::SessionsList(_) => Reply::SessionsList(from(result)?),
            Request::SessionsShow(_) => Reply::SessionsShow(from(result)?),
            Request::SessionsSave => Reply::SessionsSave(from(result)?),
            Request::Labels(_) => Reply::Labels(from(result)?),
            Request::Health(_) => Reply::Health(from(result)?),
            Request::RulesShow(_) => Reply::RulesShow(from(result)?),
            Request::Drops(_) => Reply::Drops(from(result)?),
            Request::Cluster => Reply::Cluster(from(result)?),
            Request::InstanceDrain | Request::InstanceUndrain => Reply::Announce(from(result)?),
            Request::ConfigShow => Reply::ConfigShow(from(result)?),
            Request::ConfigReload(_) => Reply::ConfigReload(from(result)?),
            Request::ServicesAdd(_)
            | Request::ServicesRemove(_)
            | Request::ServicesUpdate(_)
            | Request::ServersAdd(_)
            | Request::ServersRemove(_)
            | Request::ServersUpdate(_)
            | Request::ServersDrain(_)
            | Request::ServersEnable(_)
            | Request::ServersDisable(_) => Reply::Edit(from(result)?),
        })
    }
}

/// From a request object (`{"command": .., "args": ..}`; other fields,
/// such as `id`, are ignored), with [`Request::decode`]'s checks.
impl<'de> Deserialize<'de> for Request {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Request, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            command: String,
            #[serde(default)]
            args: Value,
        }
        let w = Wire::deserialize(d)?;
        Request::decode(&w.command, &w.args).map_err(|e| D::Error::custom(e.message))
    }
}
