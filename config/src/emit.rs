//! A validated `Config` back to its document, every default written out
//! (what `slbctl config show` prints). Parsing the output gives the same
//! `Config`.

use crate::address::format_mac;
use crate::document::{
    ClusterDoc, ControlDoc, DnsRuleDoc, DnsTypeDoc, Document, ExceptionDoc, FirstDataDoc,
    HeaderDoc, HealthDoc, HealthKindDoc, HelloRuleDoc, HttpRuleDoc, IcmpDoc, LabelsDoc,
    NeighbourDoc, PeerDoc, PoolDoc, PortDoc, RuleDoc, ServerDoc, ServiceDoc, SynProxyAdvertiseDoc,
    SynProxyDoc, SyncDoc, TimeoutsDoc,
};
use crate::l7::{dns_type_name, HelloMatch, Rule, RuleMatch};
use crate::model::{Config, Health, HealthKind, Protocol};

fn ms(d: std::time::Duration) -> Option<u64> {
    Some(d.as_millis() as u64)
}

pub(crate) fn document(c: &Config) -> Document {
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
                    // A UDP service can only drop: not written.
                    refuse: (v.protocol == Protocol::Tcp).then_some(v.refuse),
                    allow: v.allow.iter().map(|p| p.to_string()).collect(),
                    deny: v.deny.iter().map(|p| p.to_string()).collect(),
                    health: Some(health_doc(&v.health)),
                    syn_proxy: v.syn_proxy.map(|sp| {
                        SynProxyDoc::Advertise(SynProxyAdvertiseDoc {
                            mss: Some(sp.mss.into()),
                            window_scale: Some(sp.window_scale.into()),
                        })
                    }),
                    tcp_signatures: v.tcp_signatures,
                    servers: v
                        .servers
                        .iter()
                        .map(|s| ServerDoc {
                            name: s.name.clone(),
                            address: s.address.to_string(),
                            weight: Some(s.weight.into()),
                            max_sessions: Some(s.max_sessions.into()),
                            state: Some(s.state),
                            pool: s.pool.clone(),
                        })
                        .collect(),
                    pools: v
                        .pools
                        .iter()
                        .map(|p| PoolDoc {
                            name: p.name.clone(),
                            algorithm: Some(p.algorithm),
                            health: p.health.as_ref().map(health_doc),
                        })
                        .collect(),
                    rules: v.rules.iter().map(rule_doc).collect(),
                    first_data: (!v.rules.is_empty()).then(|| FirstDataDoc {
                        wait_ms: ms(v.first_data.wait),
                        segments: Some(v.first_data.segments.into()),
                        bytes: Some(v.first_data.bytes.into()),
                        malformed: Some(v.first_data.malformed),
                    }),
                }
            })
            .collect(),
        cluster: c.cluster.as_ref().map(|k| ClusterDoc {
            instance: k.instance.into(),
            instances: k.instances.into(),
            peers: k
                .peers
                .iter()
                .map(|p| PeerDoc {
                    instance: p.instance.into(),
                    address: p.address.to_string(),
                })
                .collect(),
            client_gateway_ipv4: k.client_gateway_ipv4.map(|a| a.to_string()),
            client_gateway_ipv6: k.client_gateway_ipv6.map(|a| a.to_string()),
            exception: k.exception.as_ref().map(|e| ExceptionDoc {
                device: e.device.clone(),
                port: e.port.clone(),
            }),
            announce_table: k.announce_table.map(u64::from),
            sync: k.sync.map(|s| SyncDoc {
                port: Some(s.port.into()),
                after_ms: ms(s.after),
                after_packets: Some(s.after_packets.into()),
                refresh_ms: ms(s.refresh),
                dump_wait_ms: ms(s.dump_wait),
            }),
        }),
    }
}

/// A health check as written, every field filled in.
fn health_doc(h: &Health) -> HealthDoc {
    let mut d = HealthDoc {
        kind: Some(HealthKindDoc::None),
        interval_ms: ms(h.interval),
        timeout_ms: ms(h.timeout),
        rise: Some(h.rise.into()),
        fall: Some(h.fall.into()),
        on_down: Some(h.on_down),
        ..HealthDoc::default()
    };
    kind_fields(&h.kind, &mut d);
    d
}

/// A rule as written.
fn rule_doc(r: &Rule) -> RuleDoc {
    let hello = |h: &HelloMatch| HelloRuleDoc {
        sni: h.sni.clone(),
        alpn: h.alpn.clone(),
    };
    let mut d = RuleDoc {
        name: r.name.clone(),
        pool: r.pool.clone(),
        http: None,
        tls: None,
        dns: None,
        quic: None,
    };
    match &r.matcher {
        RuleMatch::Http(h) => {
            d.http = Some(HttpRuleDoc {
                method: h.method.clone(),
                host: h.host.clone(),
                path_prefix: h.path_prefix.clone(),
                header: h.header.as_ref().map(|h| HeaderDoc {
                    name: h.name.clone(),
                    value: h.value.clone(),
                }),
            })
        }
        RuleMatch::Tls(h) => d.tls = Some(hello(h)),
        RuleMatch::Quic(h) => d.quic = Some(hello(h)),
        RuleMatch::Dns(q) => {
            d.dns = Some(DnsRuleDoc {
                suffix: q.suffix.clone(),
                qtype: q.qtype.map(|t| DnsTypeDoc::Name(dns_type_name(t))),
            })
        }
    }
    d
}

/// A health check's kind and its own fields.
fn kind_fields(kind: &HealthKind, d: &mut HealthDoc) {
    match kind {
        HealthKind::Tcp { port } => {
            d.kind = Some(HealthKindDoc::Tcp);
            d.port = Some((*port).into());
        }
        HealthKind::Udp(u) => {
            d.kind = Some(HealthKindDoc::Udp);
            d.port = Some(u.port.into());
            (d.send, d.send_hex) = text_or_hex(&u.send);
            if let Some(e) = &u.expect {
                (d.expect, d.expect_hex) = text_or_hex(e);
            }
        }
        HealthKind::Dns(q) => {
            d.kind = Some(HealthKindDoc::Dns);
            d.port = Some(q.port.into());
            d.query_name = Some(q.name.clone());
            d.query_type = Some(q.query_type);
        }
        HealthKind::Http(h) => {
            d.kind = Some(HealthKindDoc::Http);
            d.port = Some(h.port.into());
            d.method = Some(h.method.clone());
            d.path = Some(h.path.clone());
            d.host = Some(h.host.clone());
            d.status = Some(match h.status {
                (lo, hi) if lo == hi => lo.to_string(),
                (lo, hi) => format!("{lo}-{hi}"),
            });
            d.body = h.body.clone();
        }
        HealthKind::Tls(t) => {
            d.kind = Some(HealthKindDoc::Tls);
            d.port = Some(t.port.into());
            d.sni = t.sni.clone();
        }
        HealthKind::Arp => d.kind = Some(HealthKindDoc::Arp),
        HealthKind::Off => d.kind = Some(HealthKindDoc::None),
    }
}

/// Printable ASCII as text, anything else as hex.
fn text_or_hex(b: &[u8]) -> (Option<String>, Option<String>) {
    if b.iter().all(|c| (0x20..0x7f).contains(c)) {
        (Some(String::from_utf8_lossy(b).into_owned()), None)
    } else {
        let hex = b.iter().map(|c| format!("{c:02x}")).collect();
        (None, Some(hex))
    }
}
