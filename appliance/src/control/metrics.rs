//! The Prometheus text exposition format (version 0.0.4) of `stats`.

use serde_json::Value;
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

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

/// Renders a `stats` result. Metric families are grouped (every sample of
/// a name follows its HELP/TYPE lines) as the format requires.
pub fn render(s: &Value) -> String {
    let mut o = Out {
        text: String::new(),
        declared: Default::default(),
    };
    let empty = vec![];
    let arr = |v: &Value| v.as_array().cloned().unwrap_or_default();
    o.metric(
        "slbd_uptime_seconds",
        "gauge",
        "Seconds since slbd started.",
        &[],
        num(&s["uptime_s"]),
    );
    o.metric(
        "slbd_sessions",
        "gauge",
        "Live sessions.",
        &[],
        num(&s["totals"]["sessions"]),
    );
    for st in ["free", "active", "quarantined"] {
        o.metric(
            "slbd_label_pairs",
            "gauge",
            "Label pairs by state.",
            &[("state", st)],
            num(&s["labels"][format!("{st}_pairs")]),
        );
    }
    for (k, name, help) in [
        (
            "rx_packets",
            "slbd_port_rx_packets_total",
            "Packets received by the port.",
        ),
        (
            "tx_packets",
            "slbd_port_tx_packets_total",
            "Packets sent by the port.",
        ),
        (
            "rx_bytes",
            "slbd_port_rx_bytes_total",
            "Bytes received by the port.",
        ),
        (
            "tx_bytes",
            "slbd_port_tx_bytes_total",
            "Bytes sent by the port.",
        ),
        (
            "rx_missed",
            "slbd_port_rx_missed_total",
            "Packets the port dropped (RX queue full).",
        ),
        ("rx_errors", "slbd_port_rx_errors_total", "Receive errors."),
        ("tx_errors", "slbd_port_tx_errors_total", "Transmit errors."),
    ] {
        for p in arr(&s["ports"]) {
            let port = p["name"].as_str().unwrap_or("").to_string();
            o.metric(
                name,
                "counter",
                help,
                &[("port", &port)],
                num(&p["stats"][k]),
            );
        }
    }
    for p in arr(&s["ports"]) {
        let port = p["name"].as_str().unwrap_or("").to_string();
        let up = if p["link"]["up"].as_bool().unwrap_or(false) {
            1.0
        } else {
            0.0
        };
        o.metric(
            "slbd_port_link_up",
            "gauge",
            "1 when the port's link is up.",
            &[("port", &port)],
            up,
        );
    }
    for c in arr(&s["cores"]) {
        let core = c["core"].as_str().unwrap_or("").to_string();
        for (k, name, help) in [
            (
                "rx_packets",
                "slbd_core_rx_packets_total",
                "Packets the lcore received.",
            ),
            (
                "tx_packets",
                "slbd_core_tx_packets_total",
                "Packets the lcore sent.",
            ),
            (
                "tx_full_drops",
                "slbd_core_tx_full_drops_total",
                "Packets dropped because a TX queue was full.",
            ),
        ] {
            if let Some(v) = c["loop"].get(k) {
                o.metric(name, "counter", help, &[("core", &core)], num(v));
            }
        }
    }
    for c in arr(&s["cores"]) {
        let core = c["core"].as_str().unwrap_or("").to_string();
        if let Some(m) = c["drops"].as_object() {
            for (r, v) in m {
                o.metric(
                    "slbd_drops_total",
                    "counter",
                    "Frames dropped, by lcore and reason.",
                    &[("core", &core), ("reason", r)],
                    num(v),
                );
            }
        }
    }
    for c in arr(&s["cores"]) {
        let core = c["core"].as_str().unwrap_or("").to_string();
        if let Some(m) = c["events"].as_object() {
            for (e, v) in m {
                o.metric(
                    "slbd_events_total",
                    "counter",
                    "Data path events, by lcore.",
                    &[("core", &core), ("event", e)],
                    num(v),
                );
            }
        }
    }
    let services = arr(&s["services"]);
    for sv in &services {
        let n = sv["name"].as_str().unwrap_or("");
        o.metric(
            "slbd_service_sessions",
            "gauge",
            "Live sessions of the service.",
            &[("service", n)],
            num(&sv["sessions"]),
        );
    }
    for sv in &services {
        let n = sv["name"].as_str().unwrap_or("");
        o.metric(
            "slbd_service_admitted_total",
            "counter",
            "Sessions the service admitted.",
            &[("service", n)],
            num(&sv["admitted"]),
        );
    }
    for sv in &services {
        let n = sv["name"].as_str().unwrap_or("");
        for (r, v) in sv["refused"].as_object().into_iter().flatten() {
            o.metric(
                "slbd_service_refused_total",
                "counter",
                "New sessions refused, by reason.",
                &[("service", n), ("reason", r)],
                num(v),
            );
        }
    }
    for sv in &services {
        let n = sv["name"].as_str().unwrap_or("");
        for (r, v) in sv["ended"].as_object().into_iter().flatten() {
            o.metric(
                "slbd_service_sessions_ended_total",
                "counter",
                "Sessions ended, by reason.",
                &[("service", n), ("reason", r)],
                num(v),
            );
        }
    }
    let servers: Vec<(String, Value)> = services
        .iter()
        .flat_map(|sv| {
            let n = sv["name"].as_str().unwrap_or("").to_string();
            sv["server_stats"]
                .as_array()
                .unwrap_or(&empty)
                .iter()
                .map(move |v| (n.clone(), v.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    for (svc, v) in &servers {
        let n = v["name"].as_str().unwrap_or("");
        o.metric(
            "slbd_server_sessions",
            "gauge",
            "Live sessions of the server.",
            &[("service", svc), ("server", n)],
            num(&v["sessions"]),
        );
    }
    for (svc, v) in &servers {
        let n = v["name"].as_str().unwrap_or("");
        o.metric(
            "slbd_server_weight",
            "gauge",
            "The server's weight.",
            &[("service", svc), ("server", n)],
            num(&v["weight"]),
        );
    }
    for (svc, v) in &servers {
        let n = v["name"].as_str().unwrap_or("");
        let up = if v["state"] == "up" { 1.0 } else { 0.0 };
        o.metric(
            "slbd_server_up",
            "gauge",
            "1 when the server takes new sessions (up and healthy).",
            &[("service", svc), ("server", n)],
            up,
        );
    }
    for (svc, v) in &servers {
        let n = v["name"].as_str().unwrap_or("");
        let st = v["state"].as_str().unwrap_or("");
        o.metric(
            "slbd_server_state",
            "gauge",
            "The server's state (1 for the current one).",
            &[("service", svc), ("server", n), ("state", st)],
            1.0,
        );
    }
    for (svc, v) in &servers {
        let n = v["name"].as_str().unwrap_or("");
        if let Some(us) = v["response_time_us"].as_f64() {
            o.metric(
                "slbd_server_response_time_seconds",
                "gauge",
                "EWMA of first packet to first server reply.",
                &[("service", svc), ("server", n)],
                us / 1e6,
            );
        }
    }
    for (svc, v) in &servers {
        let n = v["name"].as_str().unwrap_or("");
        o.metric(
            "slbd_server_probe_failures_total",
            "counter",
            "Failed health checks.",
            &[("service", svc), ("server", n)],
            num(&v["health"]["failures"]),
        );
    }
    o.metric(
        "slbd_health_transitions_total",
        "counter",
        "Server health changes.",
        &[("to", "down")],
        num(&s["health"]["went_down"]),
    );
    o.metric(
        "slbd_health_transitions_total",
        "counter",
        "Server health changes.",
        &[("to", "up")],
        num(&s["health"]["went_up"]),
    );
    for (k, v) in s["rates"].as_object().into_iter().flatten() {
        o.metric(
            "slbd_rate",
            "gauge",
            "Per-second rates over the last second.",
            &[("what", k)],
            num(v),
        );
    }
    o.text
}
