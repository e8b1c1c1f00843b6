//! The Prometheus text exposition format (version 0.0.4) of `stats`,
//! rendered from the typed result ([`Stats`]).

use slb_proto::{Server, Stats};
use std::fmt::Write;

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Out {
    text: String,
    declared: std::collections::HashSet<String>,
}

impl Out {
    fn metric(&mut self, name: &str, kind: &str, help: &str, labels: &[(&str, &str)], v: f64) {
        if self.declared.insert(name.to_string()) {
            let _ = writeln!(self.text, "# HELP {name} {help}\n# TYPE {name} {kind}");
        }
        let l: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", esc(v)))
            .collect();
        let l = if l.is_empty() {
            String::new()
        } else {
            format!("{{{}}}", l.join(","))
        };
        let _ = writeln!(self.text, "{name}{l} {v}");
    }
}

fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// Renders a `stats` result. Metric families are grouped (every sample of
/// a name follows its HELP/TYPE lines) as the format requires; labelled
/// samples come in name order, as the counters' maps keep them.
pub fn render(s: &Stats) -> String {
    let mut o = Out {
        text: String::new(),
        declared: Default::default(),
    };
    o.metric(
        "slbd_uptime_seconds",
        "gauge",
        "Seconds since slbd started.",
        &[],
        s.uptime_s,
    );
    o.metric(
        "slbd_sessions",
        "gauge",
        "Live sessions.",
        &[],
        s.totals.sessions as f64,
    );
    let l = &s.labels;
    for (st, n) in [
        ("free", l.free_pairs),
        ("active", l.active_pairs),
        ("quarantined", l.quarantined_pairs),
    ] {
        o.metric(
            "slbd_label_pairs",
            "gauge",
            "Label pairs by state.",
            &[("state", st)],
            n as f64,
        );
    }
    type PortField = fn(&slb_proto::PortStats) -> u64;
    let port_counters: [(&str, &str, PortField); 7] = [
        (
            "slbd_port_rx_packets_total",
            "Packets received by the port.",
            |p| p.rx_packets,
        ),
        (
            "slbd_port_tx_packets_total",
            "Packets sent by the port.",
            |p| p.tx_packets,
        ),
        (
            "slbd_port_rx_bytes_total",
            "Bytes received by the port.",
            |p| p.rx_bytes,
        ),
        ("slbd_port_tx_bytes_total", "Bytes sent by the port.", |p| {
            p.tx_bytes
        }),
        (
            "slbd_port_rx_missed_total",
            "Packets the port dropped (RX queue full).",
            |p| p.rx_missed,
        ),
        ("slbd_port_rx_errors_total", "Receive errors.", |p| {
            p.rx_errors
        }),
        ("slbd_port_tx_errors_total", "Transmit errors.", |p| {
            p.tx_errors
        }),
    ];
    for (name, help, field) in port_counters {
        for p in &s.ports {
            o.metric(
                name,
                "counter",
                help,
                &[("port", &p.name)],
                field(&p.stats) as f64,
            );
        }
    }
    for p in &s.ports {
        o.metric(
            "slbd_port_link_up",
            "gauge",
            "1 when the port's link is up.",
            &[("port", &p.name)],
            flag(p.link.up),
        );
    }
    for c in &s.cores {
        let Some(l) = &c.poll_loop else {
            continue;
        };
        for (name, help, v) in [
            (
                "slbd_core_rx_packets_total",
                "Packets the lcore received.",
                l.rx_packets,
            ),
            (
                "slbd_core_tx_packets_total",
                "Packets the lcore sent.",
                l.tx_packets,
            ),
            (
                "slbd_core_tx_full_drops_total",
                "Packets dropped because a TX queue was full.",
                l.tx_full_drops,
            ),
        ] {
            o.metric(name, "counter", help, &[("core", &c.core)], v as f64);
        }
    }
    for c in &s.cores {
        for (r, v) in &c.drops {
            o.metric(
                "slbd_drops_total",
                "counter",
                "Frames dropped, by lcore and reason.",
                &[("core", &c.core), ("reason", r)],
                *v as f64,
            );
        }
    }
    for c in &s.cores {
        let mut events = c.events.by_name();
        events.sort_unstable_by_key(|(e, _)| *e);
        for (e, v) in events {
            o.metric(
                "slbd_events_total",
                "counter",
                "Data path events, by lcore.",
                &[("core", &c.core), ("event", e)],
                v as f64,
            );
        }
    }
    let services: Vec<_> = s.services.iter().map(|sv| &sv.service).collect();
    for sv in &services {
        o.metric(
            "slbd_service_sessions",
            "gauge",
            "Live sessions of the service.",
            &[("service", &sv.name)],
            sv.sessions as f64,
        );
    }
    for sv in &services {
        o.metric(
            "slbd_service_admitted_total",
            "counter",
            "Sessions the service admitted.",
            &[("service", &sv.name)],
            sv.admitted as f64,
        );
    }
    for sv in &services {
        for (r, v) in &sv.refused {
            o.metric(
                "slbd_service_refused_total",
                "counter",
                "New sessions refused, by reason.",
                &[("service", &sv.name), ("reason", r)],
                *v as f64,
            );
        }
    }
    for sv in &services {
        for (r, v) in &sv.ended {
            o.metric(
                "slbd_service_sessions_ended_total",
                "counter",
                "Sessions ended, by reason.",
                &[("service", &sv.name), ("reason", r)],
                *v as f64,
            );
        }
    }
    // (service name, server) of every server of every service.
    let servers: Vec<(&str, &Server)> = s
        .services
        .iter()
        .flat_map(|sv| {
            sv.server_stats
                .iter()
                .map(|v| (sv.service.name.as_str(), v))
        })
        .collect();
    for (svc, v) in &servers {
        o.metric(
            "slbd_server_sessions",
            "gauge",
            "Live sessions of the server.",
            &[("service", svc), ("server", &v.name)],
            v.sessions as f64,
        );
    }
    for (svc, v) in &servers {
        o.metric(
            "slbd_server_weight",
            "gauge",
            "The server's weight.",
            &[("service", svc), ("server", &v.name)],
            f64::from(v.weight),
        );
    }
    for (svc, v) in &servers {
        o.metric(
            "slbd_server_up",
            "gauge",
            "1 when the server takes new sessions (up and healthy).",
            &[("service", svc), ("server", &v.name)],
            flag(v.state == "up"),
        );
    }
    for (svc, v) in &servers {
        o.metric(
            "slbd_server_state",
            "gauge",
            "The server's state (1 for the current one).",
            &[("service", svc), ("server", &v.name), ("state", &v.state)],
            1.0,
        );
    }
    for (svc, v) in &servers {
        if let Some(us) = v.response_time_us {
            o.metric(
                "slbd_server_response_time_seconds",
                "gauge",
                "EWMA of first packet to first server reply.",
                &[("service", svc), ("server", &v.name)],
                us / 1e6,
            );
        }
    }
    for (svc, v) in &servers {
        o.metric(
            "slbd_server_probe_failures_total",
            "counter",
            "Failed health checks.",
            &[("service", svc), ("server", &v.name)],
            v.health.as_ref().map_or(0.0, |h| h.failures as f64),
        );
    }
    for (to, n) in [("down", s.health.went_down), ("up", s.health.went_up)] {
        o.metric(
            "slbd_health_transitions_total",
            "counter",
            "Server health changes.",
            &[("to", to)],
            n as f64,
        );
    }
    for (k, v) in s.rates.iter().flat_map(|r| r.by_name()) {
        o.metric(
            "slbd_rate",
            "gauge",
            "Per-second rates over the last second.",
            &[("what", k)],
            v,
        );
    }
    o.text
}
