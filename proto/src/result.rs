//! Results: the `result` of each command's answer, field by field as slbd
//! writes it. A field that slbd may write as null is an `Option` (it is
//! written as null, not left out); a field slbd leaves out when it has
//! nothing to say is an `Option` that is skipped.
//!
//! Counters keyed by reason (drops, refusals, session ends) are maps in
//! key order (JSON objects carry no order; slbd writes and slbctl prints
//! them sorted by name). Numbers keep their JSON kind: counters and sizes
//! are integers, times and rates floats.

use crate::protocol::Protocol;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;

/// Counters by reason name, in name order.
pub type Counts = BTreeMap<String, u64>;

/// A decoded `result`, by command (see [`crate::Request::reply`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Reply {
    Status(Status),
    Stats(Box<Stats>),
    Metrics(Metrics),
    ServicesList(ServiceList),
    ServersList(ServerList),
    SessionsList(SessionList),
    SessionsShow(Session),
    SessionsSave(SessionsSaved),
    Labels(Labels),
    Health(Health),
    RulesShow(crate::rules::Rules),
    Drops(crate::drops::Drops),
    Cluster(Cluster),
    /// `instance.drain` and `instance.undrain`.
    Announce(Announce),
    ConfigShow(ConfigShow),
    ConfigReload(Reload),
    /// Every change command (`services.add` ... `servers.disable`).
    Edit(Edit),
}

/// `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub version: String,
    pub pid: u32,
    pub uptime_s: f64,
    /// The configuration file; null when slbd runs without one.
    pub config: Option<String>,
    pub services: u64,
    pub servers: u64,
    pub workers: u64,
    /// Null when the control plane runs without lcores (the golden rig).
    pub lcores: Option<Lcores>,
    pub ports: Vec<Port>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lcores {
    pub main: u32,
    pub scheduler: u32,
    pub workers: Vec<u32>,
}

/// A port: its device, link and device counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    pub name: String,
    pub driver: String,
    pub mac: String,
    pub link: Link,
    pub stats: PortStats,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub up: bool,
    pub speed_mbps: u32,
    pub full_duplex: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortStats {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_missed: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    pub rx_nombuf: u64,
}

/// `stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub uptime_s: f64,
    pub totals: Totals,
    /// Every drop reason, summed over the lcores.
    pub drops: Counts,
    /// Every event, summed over the lcores.
    pub events: Events,
    /// Refused sessions by reason, summed over the services.
    pub refusals: Counts,
    pub labels: LabelUsage,
    pub health: HealthTotals,
    /// Per-second rates; `{}` (None) until slbd sampled twice.
    #[serde(with = "empty_object")]
    pub rates: Option<Rates>,
    pub ports: Vec<Port>,
    /// The scheduler, then each worker.
    pub cores: Vec<CoreStats>,
    pub services: Vec<ServiceStats>,
    /// Left out when slbd announces nothing (no `cluster.announce_table`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announce: Option<Announce>,
    /// The cluster's peers and their liveness (as in `cluster`); left out
    /// when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<PeerLiveness>,
}

/// A peer's liveness in `stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerLiveness {
    pub instance: u16,
    /// `alive`, `dead`, `unknown` or `unreachable` (see [`ClusterPeer`]).
    pub state: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Received by the workers' poll loops.
    pub rx_packets: u64,
    pub tx_packets: u64,
    /// Live sessions.
    pub sessions: u64,
    pub sessions_admitted: u64,
    pub sessions_ended: u64,
    pub drops: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    pub rx_pps: f64,
    pub tx_pps: f64,
    pub sessions_admitted_per_s: f64,
    pub drops_per_s: f64,
    pub refused_per_s: f64,
}

impl Rates {
    /// (name, rate) in name order, as slbctl prints them.
    pub fn by_name(&self) -> [(&'static str, f64); 5] {
        [
            ("drops_per_s", self.drops_per_s),
            ("refused_per_s", self.refused_per_s),
            ("rx_pps", self.rx_pps),
            ("sessions_admitted_per_s", self.sessions_admitted_per_s),
            ("tx_pps", self.tx_pps),
        ]
    }
}

/// `rates` is `{}` before the first sample: None.
mod empty_object {
    use super::*;

    pub fn serialize<S: Serializer>(r: &Option<Rates>, s: S) -> Result<S::Ok, S::Error> {
        match r {
            Some(r) => r.serialize(s),
            None => serde_json::Map::new().serialize(s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Rates>, D::Error> {
        let v = Value::deserialize(d)?;
        if v.as_object().is_some_and(|m| m.is_empty()) {
            return Ok(None);
        }
        serde_json::from_value(v)
            .map(Some)
            .map_err(serde::de::Error::custom)
    }
}

macro_rules! events {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// What the data path did, by event (one lcore's, or summed). An
        /// event an older slbd does not count reads as 0.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(default)]
        pub struct Events {
            $($(#[$doc])* pub $name: u64,)*
        }

        impl Events {
            /// Every event as (name, count).
            pub fn by_name(&self) -> Vec<(&'static str, u64)> {
                vec![$((stringify!($name), self.$name),)*]
            }
        }
    };
}

events! {
    switched_c2s,
    switched_s2c,
    pushed,
    popped,
    punted_new,
    punted_label,
    punted_neighbour,
    arp_replies,
    nd_replies,
    reports,
    reports_lost,
    mss_clamped,
    sessions_admitted,
    sessions_ended,
    resets_sent,
    neighbour_requests,
    scheduler_tx,
    punted_probe,
    probes_sent,
    reset_probes_sent,
    session_resets_sent,
    echo_replies,
    frag_needed_sent,
    packet_too_big_sent,
    punted_icmp,
    icmp_forwarded,
    flows_evicted,
    switched_stateless,
    recovered_by_hash,
    punted_exception,
    exception_to_kernel,
    exception_from_kernel,
    forwarded_to_owner,
    sync_records_sent,
    sync_records_received,
    sync_bad_datagrams,
    sync_dumps_sent,
    sync_installed,
    sync_updated,
    sync_ended,
    restored,
    install_no_service,
    install_no_server,
    install_label_out_of_range,
    install_label_busy,
    install_key_busy,
    install_no_next_hop,
    punted_sync,
    syn_cookies_sent,
    syn_proxy_bypassed,
    syn_cookies_valid,
    sessions_spliced,
    splice_syn_retries,
    splice_timeouts,
    splice_refused,
    splice_held,
    splice_option_mismatch,
    splice_ack_resent,
    l7_waits,
    l7_held,
    l7_rule_matched,
    l7_no_match,
    l7_fallback_timeout,
    l7_fallback_segments,
    l7_fallback_bytes,
    l7_fallback_malformed,
    l7_fallback_unsupported,
    l7_fallback_busy,
    l7_refused_sessions,
}

/// One lcore's counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoreStats {
    /// `scheduler`, `worker0`, ...
    pub core: String,
    pub drops: Counts,
    pub events: Events,
    /// A worker's poll loop; left out for the scheduler (and when slbd
    /// has no lcores).
    #[serde(rename = "loop", default, skip_serializing_if = "Option::is_none")]
    pub poll_loop: Option<LoopStats>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopStats {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub tx_full_drops: u64,
}

/// A service and its servers (`stats`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceStats {
    #[serde(flatten)]
    pub service: Service,
    pub server_stats: Vec<Server>,
    /// Its layer-7 rules (as `rules.show`); left out for a service
    /// without rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<crate::rules::Rules>,
}

/// `metrics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metrics {
    /// The Prometheus text exposition format (0.0.4).
    pub text: String,
}

/// `services.list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceList {
    pub services: Vec<Service>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    pub vip: String,
    pub port: u16,
    pub protocol: Protocol,
    /// Null if the service is missing from the running configuration.
    pub algorithm: Option<String>,
    /// `plain` or `label`.
    pub client_mode: String,
    /// `rst` or `drop`.
    pub refuse: String,
    pub max_sessions: u32,
    pub new_sessions_per_s: u32,
    pub burst: u32,
    /// Live sessions.
    pub sessions: u64,
    pub servers: u64,
    pub servers_available: u64,
    pub admitted: u64,
    /// Refused sessions by reason.
    pub refused: Counts,
    /// Ended sessions by reason.
    pub ended: Counts,
    /// Delayed binding: what the cookie SYN-ACKs advertise; absent: off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syn_proxy: Option<SynProxy>,
    /// `md5` or `ao` when the servers sign their segments; absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_signatures: Option<String>,
    /// Its server pools, `default` first; left out for a service without
    /// pools or rules (every server is then in the default pool).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pools: Vec<crate::rules::PoolRow>,
    /// How many layer-7 rules it has (`rules.show`); left out when none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rules: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A service's `syn_proxy`: the MSS and window scale its cookie SYN-ACKs
/// advertise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SynProxy {
    pub mss: u16,
    pub window_scale: u8,
}

/// `servers.list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerList {
    pub servers: Vec<Server>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Server {
    pub service: String,
    /// The server's address while it is being removed.
    pub name: String,
    pub address: String,
    pub weight: u32,
    pub max_sessions: u32,
    /// The operator's: `up`, `drain`, `disabled`, `removing`.
    pub admin_state: String,
    /// What admission sees: `up`, `down`, `draining`, `disabled`,
    /// `removing`.
    pub state: String,
    /// Null when the server has no health monitor (being removed).
    pub health: Option<ServerHealth>,
    pub sessions: u64,
    /// Null before the first measured session.
    pub response_time_us: Option<f64>,
    pub response_time_samples: u64,
    pub failures: ServerFailures,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerFailures {
    pub no_reply: u64,
    pub reset_before_reply: u64,
    pub reported: u64,
}

/// A server's health monitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerHealth {
    /// `tcp`, `udp`, `dns`, `http`, `tls`, `arp` or `none`.
    pub kind: String,
    /// `up`, `down` or `unchecked`.
    pub state: String,
    pub probing: bool,
    /// Null before the first probe.
    pub last_check_ms_ago: Option<f64>,
    /// A success (`syn_ack`, `neighbour_reply`, `udp_reply`, `noerror`,
    /// `status 200`, `handshake TLSv1_3`) or why the check failed (`rst`, `timeout`,
    /// `session_no_reply`, `reply without the expected bytes`, `no
    /// NOERROR: SERVFAIL`, `status 503`, ...); null before the first
    /// result.
    pub last_result: Option<String>,
    /// Probe round trip (EWMA); null before the first answer.
    pub response_time_us: Option<f64>,
    pub rise: u8,
    pub fall: u8,
    pub interval_ms: u64,
    pub timeout_ms: u64,
    /// `keep` or `reset`.
    pub on_down: String,
    pub consecutive_ok: u64,
    pub consecutive_failed: u64,
    pub probes_sent: u64,
    pub successes: u64,
    pub failures: u64,
    pub passive_failures: u64,
    /// Null while the server never changed state.
    pub changed_ms_ago: Option<f64>,
}

/// `health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub totals: HealthTotals,
    pub servers: Vec<HealthRow>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthTotals {
    /// Whether slbd sends probes at all.
    pub enabled: bool,
    pub servers_down: u64,
    pub went_down: u64,
    pub went_up: u64,
}

/// One server's monitor in `health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthRow {
    pub service: String,
    pub server: String,
    pub address: String,
    /// What admission sees (as [`Server::state`]); null if the server
    /// left the pool.
    pub server_state: Option<String>,
    #[serde(flatten)]
    pub health: ServerHealth,
}

/// `sessions.list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionList {
    /// At most `limit`.
    pub sessions: Vec<Session>,
    /// Every session that matched.
    pub matched: u64,
    /// Every session.
    pub total: u64,
}

/// A session (`sessions.show`, and each of `sessions.list`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub service: String,
    pub server: String,
    /// Null if the server left the pool.
    pub server_address: Option<String>,
    pub protocol: Protocol,
    pub client: String,
    pub client_port: u16,
    pub vip: String,
    pub vip_port: u16,
    pub state: String,
    pub c2s_label: u32,
    pub s2c_label: u32,
    /// The port the client's first frame came in on; null if unknown.
    pub ingress_port: Option<String>,
    pub client_mac: String,
    pub age_ms: f64,
    pub idle_ms: f64,
    /// First packet to first server reply; null until the server replied,
    /// and for a session not admitted here (see `origin`).
    pub response_time_us: Option<f64>,
    pub packets: PerDirection,
    pub bytes: PerDirection,
    /// Where the session came from: `local` (admitted here), `synced` (a
    /// peer's sync record), `restored` (the state file at start),
    /// `recovered_by_hash` (a flow of no session here, re-admitted by the
    /// consistent hash).
    #[serde(default = "local")]
    pub origin: String,
    /// Bound by its handshake ACK's SYN cookie (`syn_proxy`): the
    /// server's agent splices its sequence numbers. (False for a session
    /// admitted elsewhere: the instance that bound it knows.)
    #[serde(default)]
    pub spliced: bool,
    /// What bound it to its pool (layer-7 rules): the rule's name,
    /// `default` (no rule matched), `fallback:<reason>` (`timeout`,
    /// `segments`, `bytes`, `malformed`, `unsupported`, `busy`), `copied`
    /// (synced or restored: the rule is not carried); null for a service
    /// without rules.
    #[serde(default)]
    pub rule: Option<String>,
    /// The pool of its server: `default` or the pool's name; null if the
    /// server left the service.
    #[serde(default)]
    pub pool: Option<String>,
}

fn local() -> String {
    "local".into()
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerDirection {
    pub c2s: u64,
    pub s2c: u64,
}

/// `labels`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Labels {
    pub usage: LabelUsage,
    /// At most `limit`.
    pub labels: Vec<LabelRow>,
    /// Every label that matched.
    pub matched: u64,
}

/// Label pairs by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelUsage {
    /// This instance's pairs (its slice of the range, in a cluster);
    /// `free + active + quarantined = capacity`.
    pub capacity_pairs: u64,
    pub free_pairs: u64,
    pub active_pairs: u64,
    pub quarantined_pairs: u64,
    /// Pairs of other instances' slices held by their sessions, synced
    /// here (cluster session sync; not part of the capacity).
    #[serde(default)]
    pub peer_pairs: u64,
}

/// One live label of the switching table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelRow {
    pub label: u32,
    /// `c2s` or `s2c`.
    pub direction: String,
    /// The port role the label must come in on: `client` or `server`.
    pub in_port_role: String,
    pub installed: bool,
    /// Null while the next hop is unresolved.
    pub out_port: Option<String>,
    /// Null while the next hop is unresolved.
    pub next_hop_mac: Option<String>,
    /// Null when the label is not installed.
    pub pop: Option<bool>,
    pub session: LabelSession,
}

/// The session a label belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelSession {
    pub service: String,
    pub server: String,
    pub client: String,
    pub client_port: u16,
    pub state: String,
    pub age_ms: f64,
}

/// `cluster`: this instance, its label slice and the other instances.
/// Without a `cluster` section slbd is instance 0 of 1 and its slice is
/// the whole range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    pub instance: u16,
    pub instances: u16,
    /// The configured label range every instance shares.
    pub range: LabelRange,
    /// This instance's slice: the labels it assigns.
    pub labels: LabelRange,
    /// Null when not configured.
    pub client_gateway_ipv4: Option<String>,
    /// Null when not configured.
    pub client_gateway_ipv6: Option<String>,
    /// The other instances, as configured.
    pub peers: Vec<ClusterPeer>,
    /// Left out when slbd announces nothing (no `cluster.announce_table`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announce: Option<Announce>,
    /// Session sync (`cluster.sync`); left out without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<ClusterSync>,
}

/// Session sync as configured, and whether the routes still wait for the
/// peers' dumps (part of `cluster`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSync {
    pub port: u16,
    pub after_ms: u64,
    /// 0: off.
    pub after_packets: u32,
    pub refresh_ms: u64,
    pub dump_wait_ms: u64,
    /// The VIPs are not announced yet: this instance waits for its peers'
    /// dumps (at start).
    pub holding_routes: bool,
}

/// What this instance has the routing daemon announce: the answer of
/// `instance.drain` and `instance.undrain`, and part of `cluster` and
/// `stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announce {
    /// The kernel routing table slbd keeps a blackhole route per
    /// announced VIP in (`cluster.announce_table`).
    pub table: u32,
    /// Drained: every VIP withdrawn, whatever the servers' health.
    pub draining: bool,
    /// The VIPs with a route in the table now, in address order.
    pub announced: Vec<String>,
    /// Table requests that failed since start (each failure is logged
    /// once until it mends).
    pub errors: u64,
}

/// A range of labels: first and last label, and the (C2S, S2C) pairs in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelRange {
    pub first: u32,
    pub last: u32,
    pub pairs: u64,
}

/// Another instance of the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterPeer {
    pub instance: u16,
    pub address: String,
    /// The labels it assigns (its slice).
    pub labels: LabelRange,
    /// What this instance's probes (ARP / ND every 200 ms) say: `alive`
    /// (answered within a second), `dead`, `unknown` (never answered),
    /// `unreachable` (on none of its subnets: never probed); `configured`
    /// from an slbd that does not probe.
    pub state: String,
}

/// `config.show`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigShow {
    /// The configuration file; null when slbd runs without one.
    pub path: Option<String>,
    /// The running configuration with every default written out
    /// (`docs/config-reference.md`; `slb-config` owns its shape).
    pub config: Value,
}

/// What applying a configuration changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub changed: bool,
    /// One line per change; `no change` when there was none.
    pub changes: Vec<String>,
}

/// A change command's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    #[serde(flatten)]
    pub applied: Applied,
    /// What was done, e.g. `server s1 of service web: drain`.
    pub done: String,
}

/// `config.reload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reload {
    #[serde(flatten)]
    pub applied: Applied,
    /// The file read.
    pub path: String,
}

/// `sessions.save`: what was written to the state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsSaved {
    /// The state file (slbd's `--save-state`).
    pub path: String,
    /// Sessions written.
    pub sessions: u64,
    /// Sessions not written: their server is no longer in their service
    /// (removed, its sessions finishing).
    pub left_out: u64,
    /// Label pairs in quarantine written.
    pub quarantined_labels: u64,
    /// Runtime changes written (change requests since start or since the
    /// last reload).
    pub changes: u64,
    /// The file's size.
    pub bytes: u64,
}
