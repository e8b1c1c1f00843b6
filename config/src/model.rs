//! The validated configuration: what slbd runs with. Every value here has
//! passed the rules in `validate`; defaults are filled in.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::address::{on_subnet, Ipv4Cidr, Ipv6Cidr, Prefix};
use crate::l7::{FirstData, Rule, DEFAULT_POOL};

/// The whole configuration of one slbd.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// 1..=16 ports, in file order (a port's index is its id).
    pub ports: Vec<Port>,
    pub labels: Labels,
    pub timeouts: Timeouts,
    /// Static MAC overrides (no ARP/ND for these addresses).
    pub neighbours: Vec<Neighbour>,
    pub control: Control,
    /// What slbd answers and forwards of ICMP, and how fast.
    pub icmp: Icmp,
    /// 0..=256 services, in file order.
    pub services: Vec<Service>,
    /// This instance's place in a cluster; `None`: one instance owning
    /// the whole label range.
    pub cluster: Option<Cluster>,
}

impl Config {
    /// This instance's id (0 without a `cluster` section).
    pub fn instance(&self) -> u16 {
        self.cluster.as_ref().map_or(0, |c| c.instance)
    }

    /// The number of instances sharing the label range (1 without a
    /// `cluster` section).
    pub fn instances(&self) -> u16 {
        self.cluster.as_ref().map_or(1, |c| c.instances)
    }

    /// Whether other instances share the label range: only then does
    /// slbd switch other instances' labels without state.
    pub fn in_cluster(&self) -> bool {
        self.instances() > 1
    }

    /// The first port whose subnet holds `address`.
    pub fn port_for(&self, address: IpAddr) -> Option<&Port> {
        self.ports.iter().find(|p| p.contains(address))
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }
}

/// One DPDK port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    /// `[a-z0-9_-]{1,32}`, unique.
    pub name: String,
    /// DPDK device name (`net_tap0`, `0000:01:00.0`, ...), unique.
    pub device: String,
    pub role: Role,
    /// At least one of `ipv4` / `ipv6` is set.
    pub ipv4: Option<Ipv4Cidr>,
    pub ipv6: Option<Ipv6Cidr>,
    /// 576..=9000; >= 1280 when `ipv6` is set.
    pub mtu: u16,
}

impl Port {
    /// Whether `address` is on one of this port's subnets.
    pub fn contains(&self, address: IpAddr) -> bool {
        on_subnet(self.ipv4, self.ipv6, address)
    }

    /// Whether `address` is one of this port's own addresses.
    pub fn is_own_address(&self, address: IpAddr) -> bool {
        match address {
            IpAddr::V4(a) => self.ipv4.is_some_and(|c| c.address == a),
            IpAddr::V6(a) => self.ipv6.is_some_and(|c| c.address == a),
        }
    }
}

/// Which side of the appliance a port faces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Clients (and the routers in front of them).
    Client,
    /// Servers, reached on-link.
    Server,
    /// One-arm: clients and servers on the same port.
    Both,
}

impl Role {
    pub fn faces_clients(self) -> bool {
        matches!(self, Role::Client | Role::Both)
    }

    pub fn faces_servers(self) -> bool {
        matches!(self, Role::Server | Role::Both)
    }
}

/// The MPLS label range slbd assigns from (RFC 3032: 20 bits, 0-15
/// reserved). Client-to-server labels are odd, server-to-client = C2S + 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Labels {
    /// >= 16.
    pub first: u32,
    /// <= 1048575; the range holds at least one pair.
    pub last: u32,
    /// How long a withdrawn label waits before reuse (<= 600 s).
    pub quarantine: Duration,
}

impl Labels {
    pub const MIN: u32 = 16;
    pub const MAX: u32 = (1 << 20) - 1;

    /// The lowest client-to-server (odd) label in the range.
    pub fn first_c2s(&self) -> u32 {
        self.first | 1
    }

    /// How many (C2S, S2C) pairs the range holds.
    pub fn pairs(&self) -> u32 {
        let first = self.first_c2s();
        if first >= self.last {
            0
        } else {
            (self.last - first).div_ceil(2)
        }
    }
}

impl Default for Labels {
    fn default() -> Labels {
        Labels {
            first: Labels::MIN,
            last: Labels::MAX,
            quarantine: Duration::from_millis(2000),
        }
    }
}

/// `cluster`: this slbd among several that share one label range
/// (issue 14). Each instance assigns labels only from its own slice of
/// `labels` (`slb_core::LabelSlices`), so a label names its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cluster {
    /// This instance's id, `0..instances`.
    pub instance: u16,
    /// Instances sharing the label range, 1..=64.
    pub instances: u16,
    /// The other instances, by id (unique, not this one's), in file order.
    pub peers: Vec<Peer>,
    /// Where server-to-client frames of sessions this instance does not
    /// know go when their client is not on a client-facing port's subnet
    /// (IPv4); on the subnet of a client-facing port.
    pub client_gateway_ipv4: Option<std::net::Ipv4Addr>,
    /// The same for IPv6 clients.
    pub client_gateway_ipv6: Option<std::net::Ipv6Addr>,
    /// The kernel routing table (in slbd's network namespace) where slbd
    /// keeps one blackhole route per VIP it announces, for the routing
    /// daemon to import and announce by BGP; `None`: slbd announces
    /// nothing. Never 0, 253, 254 or 255 (the kernel's own tables).
    pub announce_table: Option<u32>,
    /// The exception path: where the routing daemon's frames (BGP, BFD)
    /// meet the kernel.
    pub exception: Option<Exception>,
    /// Session sync with the peers (issue 15); `None`: none.
    pub sync: Option<Sync>,
}

/// `cluster.sync`: which sessions this instance sends its peers, and how
/// (docs/operations.md, "Session sync"). Records go over UDP from the
/// address of the port facing the peer to the peer's address, both on
/// `port`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sync {
    /// The UDP port sync datagrams are sent from and to.
    pub port: u16,
    /// A session is synced once it is this old (IPVS's threshold: short
    /// sessions are not worth a record).
    pub after: Duration,
    /// ... or once it has carried this many packets; 0: age only.
    pub after_packets: u32,
    /// A synced session is sent again this often while it lives, so the
    /// peers' copies do not time out (and after every state change).
    pub refresh: Duration,
    /// How long a starting instance waits for its peers' dumps before it
    /// announces its routes.
    pub dump_wait: Duration,
}

impl Sync {
    pub const DEFAULT_PORT: u16 = 7471;
}

impl Default for Sync {
    fn default() -> Sync {
        Sync {
            port: Sync::DEFAULT_PORT,
            after: Duration::from_millis(1000),
            after_packets: 0,
            refresh: Duration::from_secs(60),
            dump_wait: Duration::from_millis(2000),
        }
    }
}

/// The exception path of an instance (docs/operations.md, "Cluster"): a
/// kernel interface (a DPDK `net_tap` or virtio-user port) that takes the
/// BGP and BFD frames arriving on a client-facing port for that port's own
/// addresses, and whose frames leave by that port. The routing daemon
/// runs on the kernel side, so its sessions share fate with slbd's data
/// path: a dead slbd takes its BGP and BFD sessions with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exception {
    /// The DPDK device of the kernel interface (`net_tap2`), not one of
    /// `ports`.
    pub device: String,
    /// The name of the client-facing port (role `client` or `both`) whose
    /// addresses the kernel side uses.
    pub port: String,
}

/// Another instance of the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Peer {
    /// Its id, `0..instances`.
    pub instance: u16,
    /// Its address (for the operator; slbd does not talk to peers yet).
    pub address: IpAddr,
}

/// Session timeouts per state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// SYN seen, no server reply yet.
    pub tcp_syn: Duration,
    /// Idle timeout of an established TCP session.
    pub tcp_established: Duration,
    /// FIN seen on one side, waiting for the other.
    pub tcp_closing: Duration,
    /// Both FINs (or an RST) seen: how long the labels stay.
    pub tcp_linger: Duration,
    /// Idle timeout of a UDP session.
    pub udp: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            tcp_syn: Duration::from_millis(5000),
            tcp_established: Duration::from_secs(900),
            tcp_closing: Duration::from_secs(30),
            tcp_linger: Duration::from_millis(1000),
            udp: Duration::from_secs(60),
        }
    }
}

/// A static neighbour: slbd uses this MAC for `address` instead of ARP/ND.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Neighbour {
    /// On a port's subnet.
    pub address: IpAddr,
    /// Unicast, non-zero.
    pub mac: [u8; 6],
}

/// slbd's control surfaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Control {
    /// Unix socket slbctl talks to.
    pub socket: PathBuf,
    /// Where to serve metrics (loopback only); `None` = no metrics listener.
    pub metrics_listen: Option<SocketAddr>,
}

impl Control {
    pub const DEFAULT_SOCKET: &'static str = "/run/slbd.sock";
}

impl Default for Control {
    fn default() -> Control {
        Control {
            socket: PathBuf::from(Control::DEFAULT_SOCKET),
            metrics_listen: None,
        }
    }
}

/// One load-balanced service: a (VIP, port, protocol) and its servers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// `[a-z0-9_-]{1,32}`, unique.
    pub name: String,
    /// Off-link (not in any port subnet); the servers own it.
    pub vip: IpAddr,
    /// 1..=65535.
    pub port: u16,
    pub protocol: Protocol,
    pub client_mode: ClientMode,
    pub algorithm: Algorithm,
    /// 0 = unlimited.
    pub max_sessions: u32,
    /// 0 = unlimited.
    pub new_sessions_per_s: u32,
    /// Token bucket depth; equals `new_sessions_per_s` unless set (0 when
    /// there is no rate limit).
    pub burst: u32,
    pub refuse: Refuse,
    /// Clients admitted (empty: every client not denied), checked at
    /// admission only; in file order, without duplicates.
    pub allow: Vec<Prefix>,
    /// Clients refused (before `allow`).
    pub deny: Vec<Prefix>,
    pub health: Health,
    /// Delayed binding (TCP only): the workers answer SYNs with SYN
    /// cookies and the session is bound on the client's handshake ACK;
    /// the servers' agents splice the sequence numbers. `None`: off.
    pub syn_proxy: Option<SynProxy>,
    /// The servers sign their segments (TCP-MD5 or TCP-AO): a signature
    /// covers the sequence numbers, so `syn_proxy` is refused.
    pub tcp_signatures: Option<TcpSignatures>,
    /// 1..=1024, in file order.
    pub servers: Vec<Server>,
    /// Named pools of `servers` (beside the implicit `default` one), in
    /// file order; at most 16.
    pub pools: Vec<Pool>,
    /// Layer-7 rules choosing a pool from the first data, in order; at
    /// most 64. Empty: every session goes to the default pool at once.
    pub rules: Vec<Rule>,
    /// The limits of waiting for the first data (rules only).
    pub first_data: FirstData,
}

impl Service {
    pub fn server(&self, name: &str) -> Option<&Server> {
        self.servers.iter().find(|s| s.name == name)
    }

    /// The index of the pool `name` in the session core: 0 the default
    /// pool, `k + 1` for `pools[k]`.
    pub fn pool_index(&self, name: &str) -> Option<u16> {
        if name == DEFAULT_POOL {
            return Some(0);
        }
        let k = self.pools.iter().position(|p| p.name == name)?;
        Some(k as u16 + 1)
    }

    /// The pool index of `server` ([`Service::pool_index`]).
    pub fn server_pool_index(&self, server: &Server) -> u16 {
        server
            .pool
            .as_deref()
            .and_then(|p| self.pool_index(p))
            .unwrap_or(0)
    }

    /// The algorithm of pool `index` ([`Service::pool_index`]).
    pub fn pool_algorithm(&self, index: u16) -> Algorithm {
        match index.checked_sub(1) {
            None => self.algorithm,
            Some(k) => self
                .pools
                .get(k as usize)
                .map_or(self.algorithm, |p| p.algorithm),
        }
    }

    /// The health check of `server`: its pool's, or the service's.
    pub fn server_health(&self, server: &Server) -> &Health {
        server
            .pool
            .as_deref()
            .and_then(|name| self.pools.iter().find(|p| p.name == name))
            .and_then(|p| p.health.as_ref())
            .unwrap_or(&self.health)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    /// As written in the file: `tcp`, `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// How the clients of a service see labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientMode {
    /// Unmodified clients: slbd pushes the C2S label on their packets and
    /// pops the S2C label toward them.
    Plain,
    /// Clients run slb-agent and send/receive labelled frames themselves.
    Label,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    RoundRobin,
    /// Smooth weighted round robin.
    WeightedRoundRobin,
    LeastConnections,
    WeightedLeastConnections,
    /// EWMA of SYN -> first server reply.
    LeastResponseTime,
    /// Affinity by client address.
    SourceHash,
    /// Maglev consistent hashing.
    Maglev,
}

/// What the cookie SYN-ACK of a `syn_proxy` service advertises: it must
/// match the servers' own, since the client keeps what it was told (the
/// window scale above all: the client scales every window the server
/// sends by it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SynProxy {
    /// 536..=9000; default 1460 (IPv4 VIP) or 1440 (IPv6 VIP).
    pub mss: u16,
    /// 0..=14; default 7 (Linux's, with the default 6 MB `tcp_rmem`).
    pub window_scale: u8,
}

impl SynProxy {
    pub const DEFAULT_WINDOW_SCALE: u8 = 7;

    /// The defaults for a VIP of this family.
    pub fn defaults(v6: bool) -> Self {
        SynProxy {
            mss: if v6 { 1440 } else { 1460 },
            window_scale: Self::DEFAULT_WINDOW_SCALE,
        }
    }
}

/// TCP segment signatures the servers use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TcpSignatures {
    /// TCP-MD5 (RFC 2385).
    Md5,
    /// TCP-AO (RFC 5925).
    Ao,
}

impl TcpSignatures {
    pub fn as_str(self) -> &'static str {
        match self {
            TcpSignatures::Md5 => "md5",
            TcpSignatures::Ao => "ao",
        }
    }
}

/// What a refused new session gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refuse {
    /// TCP reset to the client (TCP services only).
    Rst,
    /// Silent drop.
    Drop,
}

/// Health checking of a service's servers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    pub kind: HealthKind,
    /// >= 100 ms.
    pub interval: Duration,
    /// < `interval`.
    pub timeout: Duration,
    /// Consecutive successes that bring a down server up (1..=10).
    pub rise: u8,
    /// Consecutive failures that take an up server down (1..=10).
    pub fall: u8,
    pub on_down: OnDown,
}

/// `services[i].pools[k]`: a named group of the service's servers (those
/// whose `pool` is this name), with its own algorithm and health check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pool {
    /// `[a-z0-9_-]{1,32}`, unique in the service, not `default`.
    pub name: String,
    /// The service's algorithm unless set.
    pub algorithm: Algorithm,
    /// `None`: the service's health check.
    pub health: Option<Health>,
}

/// How a server's health is probed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HealthKind {
    /// TCP connect to this port (`"kind": "tcp"`).
    Tcp { port: u16 },
    /// A UDP datagram to a port, answered by the server (`"kind": "udp"`).
    Udp(UdpCheck),
    /// A DNS query the server must answer with NOERROR (`"kind": "dns"`).
    Dns(DnsCheck),
    /// An HTTP/1.1 request whose response status must be in a range
    /// (`"kind": "http"`).
    Http(HttpCheck),
    /// A TLS handshake that must complete (`"kind": "tls"`).
    Tls(TlsCheck),
    /// ARP / ND reachability (`"kind": "arp"`).
    Arp,
    /// No probing: servers are always up (`"kind": "none"`).
    Off,
}

impl HealthKind {
    /// As written in the file: `tcp`, `udp`, `arp`, `none`.
    pub fn as_str(&self) -> &'static str {
        match self {
            HealthKind::Tcp { .. } => "tcp",
            HealthKind::Udp(_) => "udp",
            HealthKind::Dns(_) => "dns",
            HealthKind::Http(_) => "http",
            HealthKind::Tls(_) => "tls",
            HealthKind::Arp => "arp",
            HealthKind::Off => "none",
        }
    }
}

/// `"kind": "udp"`: `send` goes to `port`; a datagram back from the
/// server's `port` within the timeout is a success when it contains
/// `expect` (any datagram when `expect` is `None`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UdpCheck {
    /// 1..=65535.
    pub port: u16,
    /// At most [`UdpCheck::MAX_BYTES`] bytes; may be empty.
    pub send: Vec<u8>,
    /// 1..=[`UdpCheck::MAX_BYTES`] bytes when set.
    pub expect: Option<Vec<u8>>,
}

impl UdpCheck {
    /// Bound of `send` and `expect`: a probe fits one datagram on any
    /// port (IPv4 MTU >= 576).
    pub const MAX_BYTES: usize = 512;
}

/// `"kind": "dns"`: a query for `name` (type `query_type`, class IN,
/// recursion desired) to `port` over UDP; a response with the query's id,
/// its question and RCODE NOERROR within the timeout is a success.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DnsCheck {
    /// 1..=65535, default 53.
    pub port: u16,
    /// A domain name without the trailing dot: labels of 1 to 63 letters,
    /// digits, `-` or `_`, at most 253 characters in all.
    pub name: String,
    pub query_type: DnsType,
}

/// `"kind": "http"`: `method path HTTP/1.1` with `Host: host` to `port`
/// over a TCP connection of slbd's own; a status in `status` (and, when
/// set, `body` within the first [`HttpCheck::MAX_RESPONSE`] bytes of the
/// response) is a success.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HttpCheck {
    /// 1..=65535, default the service's port.
    pub port: u16,
    /// 1 to 16 characters A-Z, default `GET`.
    pub method: String,
    /// Starts with `/`, visible ASCII, at most [`HttpCheck::MAX_PATH`].
    pub path: String,
    /// Visible ASCII, at most [`HttpCheck::MAX_HOST`]; default the VIP.
    pub host: String,
    /// Accepted status codes, low and high inclusive (100..=599).
    pub status: (u16, u16),
    /// Text the response (headers and body as received) must contain.
    pub body: Option<String>,
}

impl HttpCheck {
    pub const MAX_PATH: usize = 200;
    pub const MAX_HOST: usize = 200;
    pub const MAX_BODY: usize = 256;
    /// How much of a response slbd reads: the status line, headers and
    /// body text must be within it.
    pub const MAX_RESPONSE: usize = 4096;
}

/// `"kind": "tls"`: a TLS handshake (1.2 or 1.3) with `port` over a TCP
/// connection of slbd's own must complete within the timeout. The
/// server's certificate is not verified (its signature over the handshake
/// is): the check is that the service speaks TLS, not that it is trusted.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TlsCheck {
    /// 1..=65535, default the service's port.
    pub port: u16,
    /// The server name sent (SNI); none when `None`.
    pub sni: Option<String>,
}

impl TlsCheck {
    /// How much of the server's handshake slbd reads (certificates
    /// included).
    pub const MAX_HANDSHAKE: usize = 16384;
}

/// The record type a `dns` check asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DnsType {
    /// IPv4 address (RFC 1035 type 1).
    A,
    /// IPv6 address (RFC 3596 type 28).
    Aaaa,
}

impl DnsType {
    /// The type's number on the wire.
    pub fn code(self) -> u16 {
        match self {
            DnsType::A => 1,
            DnsType::Aaaa => 28,
        }
    }
}

/// What happens to a server's sessions when it goes down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnDown {
    /// Leave them alone (they may recover or time out).
    Keep,
    /// Reset them (TCP RST to the client) and withdraw their labels.
    Reset,
}

/// One real server of a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    /// `[a-z0-9_-]{1,32}`, unique within the service.
    pub name: String,
    /// Same family as the VIP, on the subnet of a server-role port.
    pub address: IpAddr,
    /// 1..=65535.
    pub weight: u16,
    /// 0 = unlimited.
    pub max_sessions: u32,
    pub state: ServerState,
    /// The service's pool it belongs to; `None`: the default pool.
    pub pool: Option<String>,
}

/// The operator's state for a server (health state is separate, at run time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerState {
    /// Takes new sessions (when healthy).
    Up,
    /// No new sessions; existing ones finish.
    Drain,
    /// No new sessions.
    Disabled,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_pairs() {
        let l = Labels::default();
        // 17..=1048575: odd C2S labels 17, 19, ..., 1048573 (S2C 1048574).
        assert_eq!(l.first_c2s(), 17);
        assert_eq!(l.pairs(), 524_279);
        let tight = Labels {
            first: 17,
            last: 18,
            ..l
        };
        assert_eq!(tight.pairs(), 1);
        let none = Labels {
            first: 17,
            last: 17,
            ..l
        };
        assert_eq!(none.pairs(), 0);
        let even_last = Labels {
            first: 16,
            last: 20,
            ..l
        };
        // 17/18, 19/20.
        assert_eq!(even_last.pairs(), 2);
    }
}

/// ICMP (`icmp`): echo requests to slbd's addresses and to the VIPs,
/// "fragmentation needed" / "packet too big" for frames too big for the
/// egress once labelled, and the ICMP errors of sessions forwarded to
/// their servers. Every rate is per lcore (each worker and the scheduler
/// has its own token bucket). Changes apply live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Icmp {
    /// Echo requests to a VIP: answered by slbd, or dropped.
    pub vip_echo: VipEcho,
    /// Echo replies (to slbd's port addresses and to the VIPs).
    pub echo: IcmpRate,
    /// "Fragmentation needed" (IPv4) and "packet too big" (IPv6) sent.
    pub too_big: IcmpRate,
    /// ICMP errors from the client side handed to the scheduler to be
    /// matched to a session and forwarded to its server.
    pub errors: IcmpRate,
}

impl Default for Icmp {
    fn default() -> Icmp {
        Icmp {
            vip_echo: VipEcho::Answer,
            echo: IcmpRate {
                per_s: 100,
                burst: 50,
            },
            too_big: IcmpRate {
                per_s: 1000,
                burst: 100,
            },
            errors: IcmpRate {
                per_s: 1000,
                burst: 100,
            },
        }
    }
}

/// What slbd does with an echo request to a VIP (`icmp.vip_echo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VipEcho {
    /// slbd answers it (rate-limited with `icmp.echo_*`).
    Answer,
    /// Dropped, counted as `vip_echo_dropped`.
    Drop,
}

/// A token bucket: `per_s` sustained, bursts of `burst`; both 0 = never.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpRate {
    pub per_s: u32,
    pub burst: u32,
}
