//! slbctl's command line, and the request each command sends.

use clap::{Args, Parser, Subcommand};
use serde_json::{json, Value};
use slb_ctl::client::CallError;
use slb_proto::{
    ReloadArgs, Request, RulesFilter, ServerAdd, ServerRef, ServerSpec, ServerUpdate,
    ServiceFilter, ServiceName, ServiceSpec, DEFAULT_SOCKET,
};
use std::path::PathBuf;

const LONG_ABOUT: &str = "\
slbctl - administer slbd, the slb session-label load balancer

slbctl talks to a running slbd over its control socket (newline-delimited
JSON, see docs/operations.md). It shows what slbd is doing (status,
counters, services, servers, sessions, the label switching table, server
health, Prometheus metrics) and changes it while it runs (add, remove and
update services and servers, drain, enable or disable a server, reload the
configuration file). Changes apply to new sessions only: a session keeps
its server and its labels until it ends.

Every change is checked by the same rules as the configuration file; a
change that breaks one is refused whole and nothing changes. Errors are
printed as `slbctl: <message> (<code>)` and slbctl exits with status 1;
usage errors exit with status 2.

By default output is a table for people; --json prints slbd's raw answer.";

const AFTER: &str = "\
Examples:
  slbctl status
  slbctl stats --watch --count 10
  slbctl servers list web
  slbctl servers drain web s1          # no new sessions; existing ones finish
  slbctl servers update web s2 --weight 3
  slbctl sessions list --service web --state established --limit 20
  slbctl sessions show --label 17
  slbctl labels --limit 50
  slbctl health
  slbctl rules web                     # layer-7 rules: hits, default pool
  slbctl cluster
  slbctl drain-instance                # withdraw every VIP; sessions go on
  slbctl config reload                 # re-read slbd's --config file
  slbctl --json stats | jq .totals";

#[derive(Parser, Debug)]
#[command(name = "slbctl", version, about = "Administer a running slbd through its control socket.", long_about = LONG_ABOUT, after_long_help = AFTER)]
pub struct Cli {
    /// slbd's control socket.
    #[arg(long, global = true, value_name = "PATH", default_value = DEFAULT_SOCKET)]
    pub socket: PathBuf,

    /// Print slbd's answer as JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Version, uptime, lcores, ports and their links.
    Status,
    /// Counters: totals, rates, per port, per core, per service and server,
    /// every drop reason, refusal reasons.
    Stats {
        /// Print one line of per-second rates every interval.
        #[arg(long)]
        watch: bool,
        /// With --watch: stop after this many lines (default: until killed).
        #[arg(long, value_name = "N")]
        count: Option<u64>,
        /// With --watch: seconds between lines.
        #[arg(long, value_name = "SECS", default_value_t = 1.0)]
        interval: f64,
    },
    /// The counters in the Prometheus text exposition format.
    Metrics,
    /// List, add, remove or change services (virtual services: VIP, port,
    /// protocol, algorithm, limits, client mode).
    #[command(subcommand)]
    Services(ServicesCmd),
    /// List, add, remove or change real servers, and drain, enable or
    /// disable them.
    #[command(subcommand)]
    Servers(ServersCmd),
    /// Show sessions (the session table).
    #[command(subcommand)]
    Sessions(SessionsCmd),
    /// The label switching table: each live label, its direction, the port
    /// role it must come in on, where it goes out (port, next hop MAC), its
    /// session; and label usage (free, active, quarantined).
    Labels {
        /// Only this label.
        #[arg(long)]
        label: Option<u32>,
        /// At most this many rows.
        #[arg(long, default_value_t = 100)]
        limit: u64,
    },
    /// Server health: state, last check, response time, failures.
    Health {
        /// Only this service.
        #[arg(long)]
        service: Option<String>,
    },
    /// A service's layer-7 rules and how many sessions each one bound.
    ///
    /// A rule sends a new session to one of the service's server pools by
    /// what the client's first data asks for: an HTTP/1.x request (method,
    /// host, path prefix, a header), a TLS or QUIC ClientHello (server name,
    /// ALPN) or a DNS query (name suffix, type). Rules are tried in order;
    /// the first that matches wins. The table shows each rule in that
    /// order: its name, kind (http, tls, quic, dns), what it matches, its
    /// pool and the sessions it bound (HITS).
    ///
    /// The lines below it count the sessions the default pool took without
    /// a rule: no_match (the first data was read and no rule matched) and
    /// the fallbacks, which send a session to the default pool without the
    /// rules' say: timeout (no complete first data within
    /// first_data.wait_ms, e.g. a protocol where the server speaks first),
    /// segments and bytes (first_data.segments or .bytes of data without a
    /// complete request), malformed (a request that cannot be read, with
    /// first_data.malformed: default), unsupported (readable, but not by
    /// the rules: a QUIC version other than 1, a ClientHello over several
    /// TLS records), busy (too many sessions were already waiting). refused
    /// counts malformed requests refused (first_data.malformed: refuse).
    /// `slbctl sessions list` shows which rule bound each session.
    Rules {
        /// The service (one with rules).
        service: String,
    },
    /// The drop trace: the frames slbd dropped most recently, with the
    /// reason, the port, the 5-tuple, the label and TCP flags, and for a
    /// frame of an ended session how it ended and how long before. Off
    /// until `--on` (it then starts empty); each lcore keeps its newest
    /// 1024. The counters (`slbctl stats`) count every drop either way.
    Drops {
        /// Turn the trace on (starting empty), then show it.
        #[arg(long, conflicts_with = "off")]
        on: bool,
        /// Turn the trace off (what it holds stays readable).
        #[arg(long)]
        off: bool,
        /// Only this reason (a drop counter's name: `withdrawn_label`,
        /// `no_session`, `foreign_dst_mac`, ...).
        #[arg(long)]
        reason: Option<String>,
        /// The newest this many.
        #[arg(long, default_value_t = 100)]
        limit: u64,
    },
    /// This instance in its cluster: its id, the label range and its own
    /// slice of it, the client-side gateways, and the other instances
    /// with their slices and state (alive, dead, unknown before their first
    /// answer, unreachable when on none of slbd's subnets: from slbd's own
    /// ARP/ND probes every 200 ms), whether it is drained, and the VIPs it
    /// has the routing daemon announce.
    Cluster,
    /// Withdraw every VIP this instance announces (cluster.announce_table):
    /// the routers send new flows to the other instances; sessions already
    /// admitted go on, and new ones that still arrive are still admitted.
    DrainInstance,
    /// Announce the VIPs again (each one with a server in service).
    UndrainInstance,
    /// Write the sessions, the label quarantine and the changes made
    /// since start to slbd's --save-state file now (slbd also writes it
    /// as it stops), for a restart with --restore.
    SaveSessions,
    /// Show or reload the configuration.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Send any command with JSON arguments (for scripts and debugging).
    Raw {
        command: String,
        /// Arguments as a JSON object.
        #[arg(default_value = "{}")]
        args: String,
    },
}

#[derive(Subcommand, Debug)]
enum ServicesCmd {
    /// List services with sessions, servers available and counters.
    List,
    /// Add a service (with at least one --server).
    Add(ServiceAdd),
    /// Remove a service. Refused while it has live sessions: drain its
    /// servers first and remove it once they have ended.
    Remove { name: String },
    /// Change a service's algorithm, limits, client mode or refusal. A new
    /// algorithm recreates the service, so it needs no live sessions.
    Update(ServiceUpdate),
}

#[derive(Args, Debug)]
struct ServiceAdd {
    name: String,
    #[arg(long)]
    vip: String,
    #[arg(long)]
    port: u16,
    /// tcp or udp.
    #[arg(long, default_value = "tcp")]
    protocol: String,
    /// A server: NAME=ADDRESS[,weight=N][,max_sessions=N]; repeat it.
    #[arg(long = "server", required = true, value_name = "SPEC")]
    servers: Vec<String>,
    #[command(flatten)]
    opts: ServiceOpts,
}

#[derive(Args, Debug)]
struct ServiceUpdate {
    name: String,
    #[command(flatten)]
    opts: ServiceOpts,
}

#[derive(Args, Debug)]
struct ServiceOpts {
    /// round_robin, weighted_round_robin, least_connections,
    /// weighted_least_connections, least_response_time, source_hash, maglev.
    #[arg(long)]
    algorithm: Option<String>,
    /// plain (unmodified clients) or label (clients run slb-agent).
    #[arg(long)]
    client_mode: Option<String>,
    /// Session limit (0: none).
    #[arg(long)]
    max_sessions: Option<u32>,
    /// New sessions per second (0: no limit).
    #[arg(long)]
    rate: Option<u32>,
    /// Rate limit bucket depth.
    #[arg(long)]
    burst: Option<u32>,
    /// What refused sessions get: rst or drop.
    #[arg(long)]
    refuse: Option<String>,
}

#[derive(Subcommand, Debug)]
enum ServersCmd {
    /// List servers: weight, limits, operator and health state, sessions,
    /// response time.
    List {
        /// Only this service's.
        service: Option<String>,
    },
    /// Add a server to a service.
    Add {
        service: String,
        name: String,
        address: String,
        #[arg(long)]
        weight: Option<u16>,
        #[arg(long)]
        max_sessions: Option<u32>,
    },
    /// Remove a server: it takes no new sessions and goes when its last
    /// session ends.
    Remove { service: String, server: String },
    /// Change a server's weight or session limit (new sessions only).
    Update {
        service: String,
        server: String,
        /// 1 to 65535.
        #[arg(long)]
        weight: Option<u64>,
        /// 0: no limit.
        #[arg(long)]
        max_sessions: Option<u32>,
    },
    /// No new sessions for this server; its sessions finish normally.
    Drain { service: String, server: String },
    /// Back in service (state up): takes new sessions when healthy.
    Enable { service: String, server: String },
    /// Out of service: no new sessions, no health probes.
    Disable { service: String, server: String },
}

#[derive(Subcommand, Debug)]
enum SessionsCmd {
    /// List sessions, filtered.
    List {
        #[arg(long)]
        service: Option<String>,
        /// Needs --service.
        #[arg(long)]
        server: Option<String>,
        /// Client address.
        #[arg(long)]
        client: Option<String>,
        /// syn_sent, established, closing, linger, udp.
        #[arg(long)]
        state: Option<String>,
        /// Where sessions came from: local, synced (a cluster peer's sync
        /// record), restored (the state file at start), recovered_by_hash.
        #[arg(long)]
        origin: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u64,
    },
    /// One session, by one of its labels or by its key.
    Show {
        #[arg(long)]
        label: Option<u32>,
        #[arg(long)]
        client: Option<String>,
        #[arg(long)]
        client_port: Option<u16>,
        #[arg(long)]
        vip: Option<String>,
        #[arg(long)]
        vip_port: Option<u16>,
        #[arg(long, default_value = "tcp")]
        protocol: String,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigCmd {
    /// The running configuration, every default written out.
    Show,
    /// Re-read the configuration file (slbd's --config, or PATH) and apply
    /// the difference; existing sessions are untouched. An invalid file,
    /// or a change that needs a restart (ports, labels, control,
    /// timeouts), is refused whole.
    Reload { path: Option<PathBuf> },
}

/// What slbctl does for a command line.
pub enum Action {
    /// Send a request; print its result as a table (or as JSON).
    Request(Box<Request>),
    /// `stats --watch`: rates from successive `stats`.
    Watch { count: Option<u64>, interval: f64 },
    /// `raw`: any command with JSON arguments; the answer as JSON.
    Raw { command: String, args: Value },
    /// A command whose arguments slbctl takes as text: sent as written,
    /// so slbd (the authority) checks them; `typed` is the request they
    /// decode to here, for rendering the answer (None if they do not:
    /// slbd's error is then what the user sees).
    Checked {
        command: &'static str,
        args: Value,
        typed: Option<Box<Request>>,
    },
}

fn server_spec(s: &str) -> Result<ServerSpec, CallError> {
    let bad = || {
        CallError::Protocol(format!(
            "--server {s}: expected NAME=ADDRESS[,weight=N][,max_sessions=N]"
        ))
    };
    let mut parts = s.split(',');
    let (name, addr) = parts
        .next()
        .and_then(|p| p.split_once('='))
        .ok_or_else(bad)?;
    let mut v = ServerSpec {
        name: name.into(),
        address: addr.into(),
        weight: None,
        max_sessions: None,
        state: None,
    };
    for p in parts {
        let (k, n) = p.split_once('=').ok_or_else(bad)?;
        let n: u64 = n.parse().map_err(|_| bad())?;
        match k {
            "weight" => v.weight = Some(n),
            "max_sessions" => v.max_sessions = Some(n),
            _ => return Err(bad()),
        }
    }
    Ok(v)
}

fn server_ref(service: &str, server: &str) -> ServerRef {
    ServerRef {
        service: service.into(),
        server: server.into(),
    }
}

/// Requests whose arguments slbctl takes as text the protocol types
/// (addresses, session states, a session's key): sent as written, and
/// decoded by the protocol's own rules to render the answer.
fn checked(command: &'static str, args: Value) -> Action {
    let typed = Request::decode(command, &args).ok().map(Box::new);
    Action::Checked {
        command,
        args,
        typed,
    }
}

impl Cli {
    pub fn action(&self) -> Result<Action, CallError> {
        let req = match &self.cmd {
            Cmd::Status => Request::Status,
            Cmd::Stats {
                watch: true,
                count,
                interval,
            } => {
                return Ok(Action::Watch {
                    count: *count,
                    interval: *interval,
                })
            }
            Cmd::Stats { .. } => Request::Stats,
            Cmd::Metrics => Request::Metrics,
            Cmd::Services(ServicesCmd::List) => Request::ServicesList(ServiceFilter::default()),
            Cmd::Services(ServicesCmd::Add(a)) => {
                let o = &a.opts;
                Request::ServicesAdd(ServiceSpec {
                    name: a.name.clone(),
                    vip: a.vip.clone(),
                    port: a.port.into(),
                    protocol: a.protocol.clone(),
                    client_mode: o.client_mode.clone(),
                    algorithm: o.algorithm.clone(),
                    max_sessions: o.max_sessions.map(u64::from),
                    new_sessions_per_s: o.rate.map(u64::from),
                    burst: o.burst.map(u64::from),
                    refuse: o.refuse.clone(),
                    allow: None,
                    deny: None,
                    health: None,
                    servers: a
                        .servers
                        .iter()
                        .map(|s| server_spec(s))
                        .collect::<Result<_, _>>()?,
                })
            }
            Cmd::Services(ServicesCmd::Remove { name }) => {
                Request::ServicesRemove(ServiceName { name: name.clone() })
            }
            Cmd::Services(ServicesCmd::Update(u)) => {
                let o = &u.opts;
                Request::ServicesUpdate(slb_proto::ServiceUpdate {
                    name: u.name.clone(),
                    client_mode: o.client_mode.clone(),
                    algorithm: o.algorithm.clone(),
                    max_sessions: o.max_sessions.map(u64::from),
                    new_sessions_per_s: o.rate.map(u64::from),
                    burst: o.burst.map(u64::from),
                    refuse: o.refuse.clone(),
                    ..Default::default()
                })
            }
            Cmd::Servers(ServersCmd::List { service }) => Request::ServersList(ServiceFilter {
                service: service.clone(),
            }),
            Cmd::Servers(ServersCmd::Add {
                service,
                name,
                address,
                weight,
                max_sessions,
            }) => Request::ServersAdd(ServerAdd {
                service: service.clone(),
                server: ServerSpec {
                    name: name.clone(),
                    address: address.clone(),
                    weight: weight.map(u64::from),
                    max_sessions: max_sessions.map(u64::from),
                    state: None,
                },
            }),
            Cmd::Servers(ServersCmd::Remove { service, server }) => {
                Request::ServersRemove(server_ref(service, server))
            }
            Cmd::Servers(ServersCmd::Update {
                service,
                server,
                weight,
                max_sessions,
            }) => Request::ServersUpdate(ServerUpdate {
                service: service.clone(),
                server: server.clone(),
                weight: *weight,
                max_sessions: max_sessions.map(u64::from),
                address: None,
                state: None,
            }),
            Cmd::Servers(ServersCmd::Drain { service, server }) => {
                Request::ServersDrain(server_ref(service, server))
            }
            Cmd::Servers(ServersCmd::Enable { service, server }) => {
                Request::ServersEnable(server_ref(service, server))
            }
            Cmd::Servers(ServersCmd::Disable { service, server }) => {
                Request::ServersDisable(server_ref(service, server))
            }
            Cmd::Sessions(SessionsCmd::List {
                service,
                server,
                client,
                state,
                origin,
                limit,
            }) => {
                return Ok(checked(
                    "sessions.list",
                    json!({ "service": service, "server": server, "client": client, "state": state, "origin": origin, "limit": limit }),
                ))
            }
            Cmd::Sessions(SessionsCmd::Show {
                label,
                client,
                client_port,
                vip,
                vip_port,
                protocol,
            }) => {
                return Ok(checked(
                    "sessions.show",
                    json!({ "label": label, "client": client, "client_port": client_port, "vip": vip, "vip_port": vip_port, "protocol": protocol }),
                ))
            }
            Cmd::Labels { label, limit } => {
                return Ok(checked("labels", json!({ "label": label, "limit": limit })))
            }
            Cmd::Drops {
                on,
                off,
                reason,
                limit,
            } => {
                let enable = match (on, off) {
                    (true, _) => Some(true),
                    (_, true) => Some(false),
                    _ => None,
                };
                return Ok(checked(
                    "drops",
                    json!({ "enable": enable, "reason": reason, "limit": limit }),
                ));
            }
            Cmd::Health { service } => Request::Health(ServiceFilter {
                service: service.clone(),
            }),
            Cmd::Rules { service } => Request::RulesShow(RulesFilter {
                service: service.clone(),
            }),
            Cmd::Cluster => Request::Cluster,
            Cmd::DrainInstance => Request::InstanceDrain,
            Cmd::UndrainInstance => Request::InstanceUndrain,
            Cmd::SaveSessions => Request::SessionsSave,
            Cmd::Config(ConfigCmd::Show) => Request::ConfigShow,
            Cmd::Config(ConfigCmd::Reload { path }) => Request::ConfigReload(ReloadArgs {
                path: path.as_ref().map(|p| p.display().to_string()),
            }),
            Cmd::Raw { command, args } => {
                let args: Value = serde_json::from_str(args)
                    .map_err(|e| CallError::Protocol(format!("args: not JSON: {e}")))?;
                return Ok(Action::Raw {
                    command: command.clone(),
                    args,
                });
            }
        };
        Ok(Action::Request(Box::new(req)))
    }
}
