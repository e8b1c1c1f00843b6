//! A validated `Config` back to its document, every default written out
//! (what `slbctl config show` prints). Parsing the output gives the same
//! `Config`.

use crate::address::format_mac;
use crate::document::{
    ControlDoc, Document, HealthDoc, HealthKindDoc, IcmpDoc, LabelsDoc, NeighbourDoc, PortDoc,
    ServerDoc, ServiceDoc, TimeoutsDoc,
};
use crate::model::{Config, HealthKind};

pub(crate) fn document(c: &Config) -> Document {
    let ms = |d: std::time::Duration| Some(d.as_millis() as u64);
    let s = |d: std::time::Duration| Some(d.as_secs());
    Document {
        ports: c
            .ports
            .iter()
            .map(|p| PortDoc {
                name: p.name.clone(),
                device: p.device.clone(),
                role: p.role,
                ipv4: p.ipv4.map(|a| a.to_string()),
                ipv6: p.ipv6.map(|a| a.to_string()),
                mtu: Some(p.mtu.into()),
            })
            .collect(),
        labels: Some(LabelsDoc {
            first: Some(c.labels.first.into()),
            last: Some(c.labels.last.into()),
            quarantine_ms: ms(c.labels.quarantine),
        }),
        timeouts: Some(TimeoutsDoc {
            tcp_syn_ms: ms(c.timeouts.tcp_syn),
            tcp_established_s: s(c.timeouts.tcp_established),
            tcp_closing_s: s(c.timeouts.tcp_closing),
            tcp_linger_ms: ms(c.timeouts.tcp_linger),
            udp_s: s(c.timeouts.udp),
        }),
        neighbours: c
            .neighbours
            .iter()
            .map(|n| NeighbourDoc {
                address: n.address.to_string(),
                mac: format_mac(&n.mac),
            })
            .collect(),
        control: Some(ControlDoc {
            socket: Some(c.control.socket.to_string_lossy().into_owned()),
            metrics_listen: c.control.metrics_listen.map(|a| a.to_string()),
        }),
        icmp: Some(IcmpDoc {
            vip_echo: Some(c.icmp.vip_echo),
            echo_per_s: Some(c.icmp.echo.per_s.into()),
            echo_burst: Some(c.icmp.echo.burst.into()),
            too_big_per_s: Some(c.icmp.too_big.per_s.into()),
            too_big_burst: Some(c.icmp.too_big.burst.into()),
            errors_per_s: Some(c.icmp.errors.per_s.into()),
            errors_burst: Some(c.icmp.errors.burst.into()),
        }),
        services: c
            .services
            .iter()
            .map(|v| {
                let (kind, port) = match v.health.kind {
                    HealthKind::Tcp { port } => (HealthKindDoc::Tcp, Some(port.into())),
                    HealthKind::Arp => (HealthKindDoc::Arp, None),
                    HealthKind::Off => (HealthKindDoc::None, None),
                };
                ServiceDoc {
                    name: v.name.clone(),
                    vip: v.vip.to_string(),
                    port: v.port.into(),
                    protocol: v.protocol,
                    client_mode: Some(v.client_mode),
                    algorithm: Some(v.algorithm),
                    max_sessions: Some(v.max_sessions.into()),
                    new_sessions_per_s: Some(v.new_sessions_per_s.into()),
                    // Written only with a rate limit: a burst alone is an
                    // error, and 0 reads back as "same as the rate".
                    burst: (v.new_sessions_per_s != 0).then_some(v.burst.into()),
                    refuse: Some(v.refuse),
                    allow: v.allow.iter().map(|p| p.to_string()).collect(),
                    deny: v.deny.iter().map(|p| p.to_string()).collect(),
                    health: Some(HealthDoc {
                        kind: Some(kind),
                        port,
                        interval_ms: ms(v.health.interval),
                        timeout_ms: ms(v.health.timeout),
                        rise: Some(v.health.rise.into()),
                        fall: Some(v.health.fall.into()),
                        on_down: Some(v.health.on_down),
                    }),
                    servers: v
                        .servers
                        .iter()
                        .map(|s| ServerDoc {
                            name: s.name.clone(),
                            address: s.address.to_string(),
                            weight: Some(s.weight.into()),
                            max_sessions: Some(s.max_sessions.into()),
                            state: Some(s.state),
                        })
                        .collect(),
                }
            })
            .collect(),
    }
}
