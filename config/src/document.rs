//! The JSON document as written: serde's view of the file. Numbers are
//! read wide (`u64`) and addresses as strings so that `validate` can report
//! range and format errors with the field's path and the value it got,
//! all at once, rather than serde stopping at the first.
//!
//! The same structs are written back by `Config::to_json_pretty`, with
//! every default filled in.

use serde::{Deserialize, Serialize};

use crate::l7::Malformed;

use crate::model::{
    Algorithm, ClientMode, DnsType, OnDown, Protocol, Refuse, Role, ServerState, TcpSignatures,
    VipEcho,
};

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Document {
    pub ports: Vec<PortDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<LabelsDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<TimeoutsDoc>,
    #[serde(default)]
    pub neighbours: Vec<NeighbourDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<ControlDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp: Option<IcmpDoc>,
    #[serde(default)]
    pub services: Vec<ServiceDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterDoc>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClusterDoc {
    pub instance: u64,
    pub instances: u64,
    #[serde(default)]
    pub peers: Vec<PeerDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_gateway_ipv4: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_gateway_ipv6: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announce_table: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<ExceptionDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncDoc>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SyncDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_packets: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dump_wait_ms: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExceptionDoc {
    pub device: String,
    pub port: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PeerDoc {
    pub instance: u64,
    pub address: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PortDoc {
    pub name: String,
    pub device: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LabelsDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine_ms: Option<u64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TimeoutsDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_syn_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_established_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_closing_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_linger_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub udp_s: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NeighbourDoc {
    pub address: String,
    pub mac: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ControlDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_listen: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IcmpDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vip_echo: Option<VipEcho>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo_per_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo_burst: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub too_big_per_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub too_big_burst: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors_per_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors_burst: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceDoc {
    pub name: String,
    pub vip: String,
    pub port: u64,
    pub protocol: Protocol,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_mode: Option<ClientMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<Algorithm>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_sessions: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_sessions_per_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refuse: Option<Refuse>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syn_proxy: Option<SynProxyDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_signatures: Option<TcpSignatures>,
    pub servers: Vec<ServerDoc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pools: Vec<PoolDoc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_data: Option<FirstDataDoc>,
}

/// `pools[k]` as written.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PoolDoc {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<Algorithm>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthDoc>,
}

/// `rules[k]` as written: exactly one of `http`, `tls`, `dns`, `quic`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleDoc {
    pub name: String,
    pub pool: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpRuleDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<HelloRuleDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsRuleDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quic: Option<HelloRuleDoc>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HttpRuleDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<HeaderDoc>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HeaderDoc {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HelloRuleDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DnsRuleDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    /// A type name (`AAAA`) or number.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub qtype: Option<DnsTypeDoc>,
}

/// A DNS type as written: a name or a number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum DnsTypeDoc {
    Number(u64),
    Name(String),
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FirstDataDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub malformed: Option<Malformed>,
}

/// `syn_proxy` as written: `true`/`false`, or the advertised values.
/// (Not `#[serde(untagged)]`: its one error, "did not match any variant",
/// would hide which key of the object is wrong.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub(crate) enum SynProxyDoc {
    On(bool),
    Advertise(SynProxyAdvertiseDoc),
}

impl<'de> Deserialize<'de> for SynProxyDoc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = SynProxyDoc;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("true, false or {\"mss\": N, \"window_scale\": N}")
            }
            fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<SynProxyDoc, E> {
                Ok(SynProxyDoc::On(b))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                m: A,
            ) -> Result<SynProxyDoc, A::Error> {
                SynProxyAdvertiseDoc::deserialize(serde::de::value::MapAccessDeserializer::new(m))
                    .map(SynProxyDoc::Advertise)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SynProxyAdvertiseDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mss: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_scale: Option<u64>,
}

/// `health.kind` as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum HealthKindDoc {
    Tcp,
    Udp,
    Dns,
    Http,
    Tls,
    Arp,
    None,
}

impl HealthKindDoc {
    /// As written in the file.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            HealthKindDoc::Tcp => "tcp",
            HealthKindDoc::Udp => "udp",
            HealthKindDoc::Dns => "dns",
            HealthKindDoc::Http => "http",
            HealthKindDoc::Tls => "tls",
            HealthKindDoc::Arp => "arp",
            HealthKindDoc::None => "none",
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HealthDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<HealthKindDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u64>,
    /// `udp`: the payload as text, or as hex in `send_hex`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_hex: Option<String>,
    /// `udp`: bytes the reply must contain, as text or hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_hex: Option<String>,
    /// `dns`: the name to query and its type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_type: Option<DnsType>,
    /// `http`: the request and what the response must hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// `"200-399"` or `"200"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// `tls`: the server name to send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rise: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fall: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_down: Option<OnDown>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServerDoc {
    pub name: String,
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_sessions: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<ServerState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
}
