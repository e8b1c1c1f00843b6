//! The network every golden row is written against: slbd with a client
//! port and a server port, two clients, three servers, one VIP, in one
//! address family at a time; its configurations and frame builders.
//!
//! ```text
//!   c1 (label-aware)  ┐                       ┌ s1 .11
//!   c2 (plain)        ├─ client port ─ slbd ─ server port ─┼ s2 .12
//!   foreign (spoofer) ┘  .0.1 / ::1      .1.1 / 1::1       └ s3 .13
//! ```
//!
//! The ports' MACs are those DPDK's `net_pcap` gives `net_pcap0` and
//! `net_pcap1`, so the same rows run on the rig and on the real slbd.

use super::row::Family;
use serde_json::{json, Value};
use slb_wire::{FrameBuilder, MacAddr, TcpFlags};
use std::net::IpAddr;

/// slbd's ports, in configuration order.
pub const CLIENT: usize = 0;
pub const SERVER: usize = 1;

/// The MACs of slbd's ports (`net_pcap0`, `net_pcap1`).
pub const PORT_MACS: [[u8; 6]; 2] = [
    [0x02, 0x70, 0x63, 0x61, 0x70, 0x00],
    [0x02, 0x70, 0x63, 0x61, 0x70, 0x01],
];

pub fn port_mac(port: usize) -> MacAddr {
    MacAddr(PORT_MACS[port])
}

/// A host on one of slbd's links.
#[derive(Debug, Clone, Copy)]
pub struct Host {
    pub mac: MacAddr,
    pub ip: IpAddr,
}

/// The addresses of one family.
#[derive(Debug, Clone, Copy)]
pub struct Net {
    pub family: Family,
    /// A label-aware client.
    pub c1: Host,
    /// A plain client.
    pub c2: Host,
    /// An address no session has (a label spoofer's).
    pub foreign: IpAddr,
    pub vip: IpAddr,
    /// slbd's own address on the client port and on the server port.
    pub port_ip: [IpAddr; 2],
    /// s1, s2, s3.
    pub servers: [Host; 3],
    /// The MSS slbd clamps a SYN's to: MTU 1500 less the label and the
    /// IP and TCP headers.
    pub mss: u16,
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address literal")
}

fn server_mac(i: usize) -> MacAddr {
    MacAddr([0x02, 0x5e, 0, 0, 0x01, 0x11 + i as u8])
}

impl Net {
    pub fn new(family: Family) -> Net {
        let c1_mac = MacAddr([0x02, 0xc1, 0, 0, 0, 0x11]);
        let c2_mac = MacAddr([0x02, 0xc1, 0, 0, 0, 0x12]);
        let (c1, c2, foreign, vip, port_ip, s, mss) = match family {
            Family::V4 => (
                "198.18.0.11",
                "198.18.0.12",
                "198.18.0.99",
                "198.18.100.1",
                ["198.18.0.1", "198.18.1.1"],
                ["198.18.1.11", "198.18.1.12", "198.18.1.13"],
                1456,
            ),
            Family::V6 => (
                "2001:db8::11",
                "2001:db8::12",
                "2001:db8::99",
                "2001:db8:100::1",
                ["2001:db8::1", "2001:db8:1::1"],
                ["2001:db8:1::11", "2001:db8:1::12", "2001:db8:1::13"],
                1436,
            ),
        };
        Net {
            family,
            c1: Host {
                mac: c1_mac,
                ip: ip(c1),
            },
            c2: Host {
                mac: c2_mac,
                ip: ip(c2),
            },
            foreign: ip(foreign),
            vip: ip(vip),
            port_ip: port_ip.map(ip),
            servers: [0, 1, 2].map(|i| Host {
                mac: server_mac(i),
                ip: ip(s[i]),
            }),
            mss,
        }
    }

    /// slbd's configuration for these addresses: the two ports, static
    /// MACs for the three servers, `services` (see [`Net::service`]), and
    /// `extra` top-level fields (`labels`, `timeouts`).
    pub fn config(&self, extra: Value, services: Vec<Value>) -> String {
        let neighbours: Vec<Value> = self
            .servers
            .iter()
            .map(|s| json!({ "address": s.ip, "mac": s.mac.to_string() }))
            .collect();
        let mut doc = json!({
            "ports": [
                { "name": "client", "device": "net_pcap0", "role": "client",
                  "ipv4": "198.18.0.1/24", "ipv6": "2001:db8::1/64" },
                { "name": "server", "device": "net_pcap1", "role": "server",
                  "ipv4": "198.18.1.1/24", "ipv6": "2001:db8:1::1/64" }
            ],
            "neighbours": neighbours,
            "services": services,
        });
        if let Value::Object(extra) = extra {
            doc.as_object_mut().expect("object").extend(extra);
        }
        serde_json::to_string_pretty(&doc).expect("config JSON")
    }

    /// A TCP service on the VIP at `port` over servers (indices into
    /// s1..s3) with their own fields, plus `fields` of the service. No
    /// health probes: the rig runs none, and a real slbd's would be frames
    /// the rows do not expect.
    pub fn service(
        &self,
        name: &str,
        port: u16,
        fields: Value,
        servers: &[(usize, Value)],
    ) -> Value {
        let servers: Vec<Value> = servers
            .iter()
            .map(|(i, f)| {
                let mut s =
                    json!({ "name": format!("s{}", i + 1), "address": self.servers[*i].ip });
                merge(&mut s, f);
                s
            })
            .collect();
        let mut s = json!({
            "name": name, "vip": self.vip, "port": port, "protocol": "tcp",
            "health": { "kind": "none" }, "servers": servers,
        });
        merge(&mut s, &fields);
        s
    }

    /// A TCP frame from client `c` to the VIP, as it reaches the client port.
    pub fn from_client(&self, c: Host, sport: u16, dport: u16) -> FrameBuilder {
        FrameBuilder::tcp(c.mac, port_mac(CLIENT), c.ip, self.vip, sport, dport)
    }

    /// Client `c`'s frame as slbd sends it on to server `s` (0-based).
    pub fn to_server(&self, c: Host, s: usize, sport: u16, dport: u16) -> FrameBuilder {
        FrameBuilder::tcp(
            port_mac(SERVER),
            self.servers[s].mac,
            c.ip,
            self.vip,
            sport,
            dport,
        )
    }

    /// Server `s`'s frame (from the VIP) to client `c`, as it reaches the
    /// server port.
    pub fn from_server(&self, s: usize, c: Host, vport: u16, cport: u16) -> FrameBuilder {
        FrameBuilder::tcp(
            self.servers[s].mac,
            port_mac(SERVER),
            self.vip,
            c.ip,
            vport,
            cport,
        )
    }

    /// A server's frame as slbd sends it on to client `c`.
    pub fn to_client(&self, c: Host, vport: u16, cport: u16) -> FrameBuilder {
        FrameBuilder::tcp(port_mac(CLIENT), c.mac, self.vip, c.ip, vport, cport)
    }
}

fn merge(into: &mut Value, fields: &Value) {
    if let (Value::Object(into), Value::Object(fields)) = (into, fields) {
        into.extend(fields.clone());
    }
}

/// A SYN: seq 1000, MSS `mss`.
pub fn syn(b: FrameBuilder, mss: u16) -> FrameBuilder {
    b.flags(TcpFlags::SYN).seq(1000).mss(mss)
}

/// A SYN-ACK answering [`syn`]: seq `seq`, ack 1001, MSS `mss`.
pub fn syn_ack(b: FrameBuilder, seq: u32, mss: u16) -> FrameBuilder {
    b.flags(TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0))
        .seq(seq)
        .ack(1001)
        .mss(mss)
}
