//! The Prometheus text exposition format (version 0.0.4) of `stats`,
//! rendered from the typed result ([`Stats`]). `slbctl metrics` prints
//! it and the HTTP listener on `control.metrics_listen` serves it
//! ([`super::metrics_http`]): both come from [`render`].
//!
//! Conventions (prometheus.io, "Metric and label naming"): counters end
//! in `_total`, values are in base units (seconds, bytes), every family
//! has `# HELP` and `# TYPE`, and a label is one dimension whose values
//! add up to something meaningful (`reason`, `direction`, `core`,
//! `service`, `server`, `port`). Things that do not add up are families
//! of their own. Rates are left to Prometheus (`rate()`).

use slb_proto::{Server, Stats};
use std::collections::HashMap;
use std::fmt::Write;

/// The HTTP `Content-Type` of this format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A label value, escaped as the format requires.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A sample value: counters and most gauges are integers, written exactly
/// (an `f64` would round past 2^53).
enum Num {
    Int(u64),
    Float(f64),
}

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Num::Int(n) => write!(f, "{n}"),
            Num::Float(v) if v.is_nan() => f.write_str("NaN"),
            Num::Float(v) if v == f64::INFINITY => f.write_str("+Inf"),
            Num::Float(v) if v == f64::NEG_INFINITY => f.write_str("-Inf"),
            Num::Float(v) => write!(f, "{v}"),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
}

struct Family {
    /// `# HELP` and `# TYPE`.
    head: String,
    samples: String,
}

/// Families in the order they were first used; each one's samples stay
/// together after its HELP/TYPE lines (the format requires a family in
/// one group) whatever order the samples were added in.
#[derive(Default)]
struct Out {
    families: Vec<Family>,
    index: HashMap<String, usize>,
}

impl Out {
    fn sample(&mut self, name: &str, kind: Kind, help: &str, labels: &[(&str, &str)], v: Num) {
        debug_assert_eq!(kind == Kind::Counter, name.ends_with("_total"), "{name}");
        let i = *self.index.entry(name.to_string()).or_insert_with(|| {
            let kind = match kind {
                Kind::Counter => "counter",
                Kind::Gauge => "gauge",
            };
            let help = help.replace('\\', "\\\\").replace('\n', "\\n");
            self.families.push(Family {
                head: format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"),
                samples: String::new(),
            });
            self.families.len() - 1
        });
        let s = &mut self.families[i].samples;
        s.push_str(name);
        if !labels.is_empty() {
            s.push('{');
            for (n, (k, v)) in labels.iter().enumerate() {
                if n > 0 {
                    s.push(',');
                }
                let _ = write!(s, "{k}=\"{}\"", esc(v));
            }
            s.push('}');
        }
        let _ = writeln!(s, " {v}");
    }

    fn counter(&mut self, name: &str, help: &str, labels: &[(&str, &str)], v: u64) {
        self.sample(name, Kind::Counter, help, labels, Num::Int(v));
    }

    fn gauge(&mut self, name: &str, help: &str, labels: &[(&str, &str)], v: u64) {
        self.sample(name, Kind::Gauge, help, labels, Num::Int(v));
    }

    fn gauge_f(&mut self, name: &str, help: &str, labels: &[(&str, &str)], v: f64) {
        self.sample(name, Kind::Gauge, help, labels, Num::Float(v));
    }

    fn text(self) -> String {
        let mut t = String::new();
        for f in self.families {
            t.push_str(&f.head);
            t.push_str(&f.samples);
        }
        t
    }
}

use super::metric_events::EVENT_FAMILIES;

/// What admission sees of a server (`slb_proto::Server::state`).
const SERVER_STATES: [&str; 5] = ["up", "down", "draining", "disabled", "removing"];

/// Renders a `stats` result. Labelled samples come in name order, as the
/// counters' maps keep them.
pub fn render(s: &Stats) -> String {
    let mut o = Out::default();
    o.gauge_f(
        "slbd_uptime_seconds",
        "Seconds since slbd started.",
        &[],
        s.uptime_s,
    );
    o.gauge("slbd_sessions", "Live sessions.", &[], s.totals.sessions);
    let l = &s.labels;
    for (st, n) in [
        ("free", l.free_pairs),
        ("active", l.active_pairs),
        ("quarantined", l.quarantined_pairs),
        ("peer", l.peer_pairs),
    ] {
        o.gauge(
            "slbd_label_pairs",
            "Label pairs by state (peer: other instances' pairs held by their synced sessions).",
            &[("state", st)],
            n,
        );
    }
    ports(&mut o, s);
    cores(&mut o, s);
    services(&mut o, s);
    l7(&mut o, s);
    servers(&mut o, s);
    o.gauge(
        "slbd_servers_down",
        "Servers whose health check says down.",
        &[],
        s.health.servers_down,
    );
    for (to, n) in [("down", s.health.went_down), ("up", s.health.went_up)] {
        o.counter(
            "slbd_health_transitions_total",
            "Server health changes, by the state changed to.",
            &[("to", to)],
            n,
        );
    }
    announce(&mut o, s);
    for p in &s.peers {
        let instance = p.instance.to_string();
        o.gauge(
            "slbd_peer_up",
            "1 while the cluster peer answers this instance's ARP/ND probes (alive), else 0.",
            &[("instance", &instance)],
            u64::from(p.state == "alive"),
        );
    }
    o.text()
}

/// The announcer (`cluster.announce_table`): both gauges are 0 without
/// one, so a dashboard needs no special case.
fn announce(o: &mut Out, s: &Stats) {
    let a = s.announce.as_ref();
    o.gauge(
        "slbd_instance_draining",
        "1 while the instance is drained (instance.drain): every VIP withdrawn.",
        &[],
        a.map_or(0, |a| u64::from(a.draining)),
    );
    o.gauge(
        "slbd_vips_announced",
        "VIPs with a route in the announce table, for the routing daemon to announce.",
        &[],
        a.map_or(0, |a| a.announced.len() as u64),
    );
    if let Some(a) = a {
        o.counter(
            "slbd_announce_errors_total",
            "Requests to the announce table (rtnetlink) that failed.",
            &[],
            a.errors,
        );
    }
}

fn ports(o: &mut Out, s: &Stats) {
    type PortField = fn(&slb_proto::PortStats) -> u64;
    let counters: [(&str, &str, PortField); 7] = [
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
    for p in &s.ports {
        for (name, help, field) in counters {
            o.counter(name, help, &[("port", &p.name)], field(&p.stats));
        }
        o.gauge(
            "slbd_port_link_up",
            "1 when the port's link is up.",
            &[("port", &p.name)],
            u64::from(p.link.up),
        );
    }
}

fn cores(o: &mut Out, s: &Stats) {
    for c in &s.cores {
        let core = [("core", c.core.as_str())];
        if let Some(l) = &c.poll_loop {
            o.counter(
                "slbd_core_rx_packets_total",
                "Packets the lcore's poll loop received.",
                &core,
                l.rx_packets,
            );
            o.counter(
                "slbd_core_tx_packets_total",
                "Packets the lcore's poll loop sent.",
                &core,
                l.tx_packets,
            );
            o.counter(
                "slbd_core_tx_full_drops_total",
                "Packets dropped because a TX queue was full.",
                &core,
                l.tx_full_drops,
            );
        }
        for (r, v) in &c.drops {
            o.counter(
                "slbd_drops_total",
                "Frames dropped, by lcore and reason.",
                &[("core", &c.core), ("reason", r)],
                *v,
            );
        }
        let mut events = c.events.by_name();
        events.sort_unstable_by_key(|(e, _)| *e);
        for (e, v) in events {
            match EVENT_FAMILIES.iter().find(|f| f.event == e) {
                Some(f) => match f.label {
                    Some(extra) => o.counter(f.name, f.help, &[core[0], extra], v),
                    None => o.counter(f.name, f.help, &core, v),
                },
                None => {
                    let name = format!("slbd_{e}_total");
                    o.counter(&name, "A data path event, by lcore.", &core, v);
                }
            }
        }
    }
}

fn services(o: &mut Out, s: &Stats) {
    for sv in s.services.iter().map(|sv| &sv.service) {
        let service = [("service", sv.name.as_str())];
        o.gauge(
            "slbd_service_sessions",
            "Live sessions of the service.",
            &service,
            sv.sessions,
        );
        o.gauge(
            "slbd_service_servers_available",
            "Servers of the service that take new sessions.",
            &service,
            sv.servers_available,
        );
        o.counter(
            "slbd_service_sessions_admitted_total",
            "New sessions the service admitted.",
            &service,
            sv.admitted,
        );
        for (r, v) in &sv.refused {
            o.counter(
                "slbd_service_sessions_refused_total",
                "New sessions the service refused, by reason.",
                &[("service", &sv.name), ("reason", r)],
                *v,
            );
        }
        for (r, v) in &sv.ended {
            o.counter(
                "slbd_service_sessions_ended_total",
                "Sessions of the service that ended, by reason.",
                &[("service", &sv.name), ("reason", r)],
                *v,
            );
        }
    }
}

/// Layer-7 rules (services with rules): each rule's sessions, and what
/// the default pool took without a rule.
fn l7(o: &mut Out, s: &Stats) {
    for r in s.services.iter().filter_map(|sv| sv.rules.as_ref()) {
        let service = r.service.as_str();
        for rule in &r.rules {
            o.counter(
                "slbd_l7_rule_hits_total",
                "Sessions a layer-7 rule bound to its pool.",
                &[
                    ("service", service),
                    ("rule", &rule.name),
                    ("pool", &rule.pool),
                ],
                rule.hits,
            );
        }
        o.counter(
            "slbd_l7_no_match_total",
            "Sessions whose first data matched no rule of the service: its default pool.",
            &[("service", service)],
            r.default_pool.no_match,
        );
        for (reason, n) in &r.default_pool.fallbacks {
            o.counter(
                "slbd_l7_fallbacks_total",
                "Sessions sent to the service's default pool without its rules' say, by reason.",
                &[("service", service), ("reason", reason)],
                *n,
            );
        }
        o.counter(
            "slbd_l7_refused_total",
            "Sessions refused for a malformed first request (first_data.malformed: refuse).",
            &[("service", service)],
            r.default_pool.refused,
        );
    }
}

fn servers(o: &mut Out, s: &Stats) {
    let servers = s.services.iter().flat_map(|sv| {
        sv.server_stats
            .iter()
            .map(|v| (sv.service.name.as_str(), v))
    });
    for (svc, v) in servers {
        server(o, svc, v);
    }
}

fn server(o: &mut Out, svc: &str, v: &Server) {
    let ss = [("service", svc), ("server", v.name.as_str())];
    o.gauge(
        "slbd_server_sessions",
        "Live sessions of the server.",
        &ss,
        v.sessions,
    );
    o.gauge(
        "slbd_server_weight",
        "The server's weight.",
        &ss,
        u64::from(v.weight),
    );
    o.gauge(
        "slbd_server_up",
        "1 when the server takes new sessions (up and healthy).",
        &ss,
        u64::from(v.state == "up"),
    );
    // One sample per state, 1 for the current one, so that
    // `slbd_server_state{state="down"} == 1` selects the down servers.
    let known = SERVER_STATES.contains(&v.state.as_str());
    let extra = (!known).then_some(v.state.as_str());
    for st in SERVER_STATES.iter().copied().chain(extra) {
        o.gauge(
            "slbd_server_state",
            "The server's state as admission sees it (1 for the current one).",
            &[ss[0], ss[1], ("state", st)],
            u64::from(v.state == st),
        );
    }
    if let Some(us) = v.response_time_us {
        o.gauge_f(
            "slbd_server_response_time_seconds",
            "EWMA of first packet to first server reply.",
            &ss,
            us / 1e6,
        );
    }
    for (r, n) in [
        ("no_reply", v.failures.no_reply),
        ("reset_before_reply", v.failures.reset_before_reply),
        ("reported", v.failures.reported),
    ] {
        o.counter(
            "slbd_server_session_failures_total",
            "Sessions the server failed, by reason.",
            &[ss[0], ss[1], ("reason", r)],
            n,
        );
    }
    o.counter(
        "slbd_server_probe_failures_total",
        "Failed health checks.",
        &ss,
        v.health.as_ref().map_or(0, |h| h.failures),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// A real `stats` answer of slbd (recorded for slbctl's tests): two
    /// workers, four services, one server down.
    fn recorded() -> Stats {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../../ctl/tests/recorded/03-stats.json"))
                .unwrap();
        serde_json::from_value(doc["exchanges"][0]["response"]["result"].clone()).unwrap()
    }

    fn is_name(s: &str) -> bool {
        let mut c = s.chars();
        c.next()
            .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
            && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
    }

    /// Checks the exposition rules this module promises and returns the
    /// samples as (series, value).
    fn check(text: &str) -> Vec<(String, String)> {
        let mut done: HashSet<String> = HashSet::new();
        let mut current: Option<(String, String)> = None;
        let mut series = HashSet::new();
        let mut samples = Vec::new();
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').unwrap();
                assert!(!help.is_empty(), "{name}: empty help");
                let ty = lines.next().unwrap();
                let kind = ty
                    .strip_prefix(&format!("# TYPE {name} "))
                    .unwrap_or_else(|| panic!("{name}: HELP not followed by its TYPE: {ty}"));
                assert!(kind == "counter" || kind == "gauge", "{name}: {kind}");
                assert_eq!(
                    kind == "counter",
                    name.ends_with("_total"),
                    "{name}: {kind}"
                );
                assert!(is_name(name) && name.starts_with("slbd_"), "{name}");
                assert!(done.insert(name.to_string()), "{name}: a second group");
                current = Some((name.to_string(), kind.to_string()));
                continue;
            }
            assert!(!line.starts_with('#'), "{line}");
            let (name, _) = current.as_ref().expect("a sample before any TYPE");
            let (s, v) = line.rsplit_once(' ').unwrap();
            let sample_name = s.split('{').next().unwrap();
            assert_eq!(sample_name, name, "a sample outside its family's group");
            if let Some(labels) = s
                .strip_prefix(name.as_str())
                .and_then(|l| l.strip_prefix('{'))
            {
                let labels = labels.strip_suffix('}').unwrap();
                let mut keys = HashSet::new();
                for kv in labels.split("\",") {
                    let (k, val) = kv.split_once("=\"").unwrap();
                    assert!(is_name(k), "{line}: label {k}");
                    assert!(
                        !val.trim_end_matches('"').is_empty(),
                        "{line}: empty label value"
                    );
                    assert!(keys.insert(k), "{line}: label {k} twice");
                }
            }
            assert!(v.parse::<f64>().is_ok(), "{line}: value");
            assert!(series.insert(s.to_string()), "{line}: series twice");
            samples.push((s.to_string(), v.to_string()));
        }
        samples
    }

    fn value(samples: &[(String, String)], series: &str) -> String {
        samples
            .iter()
            .find(|(s, _)| s == series)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {series}"))
    }

    #[test]
    fn follows_the_exposition_conventions() {
        let text = render(&recorded());
        let samples = check(&text);
        assert!(samples.len() > 100, "{text}");
        // Per-second rates are Prometheus' job; events are families.
        assert!(!text.contains("slbd_rate"), "{text}");
        assert!(!text.contains("slbd_events_total"), "{text}");
    }

    #[test]
    fn icmp_counters_by_kind_and_reason() {
        let mut s = recorded();
        let w0 = &mut s.cores[1];
        w0.events.echo_replies = 7;
        w0.events.frag_needed_sent = 3;
        w0.events.packet_too_big_sent = 2;
        w0.events.punted_icmp = 4;
        w0.drops.insert("icmp_echo_rate_limited".into(), 11);
        s.cores[0].events.icmp_forwarded = 5;
        let m = check(&render(&s));
        for (series, want) in [
            (
                r#"slbd_icmp_sent_total{core="worker0",kind="echo_reply"}"#,
                "7",
            ),
            (
                r#"slbd_icmp_sent_total{core="worker0",kind="frag_needed"}"#,
                "3",
            ),
            (
                r#"slbd_icmp_sent_total{core="worker0",kind="packet_too_big"}"#,
                "2",
            ),
            (
                r#"slbd_punted_frames_total{core="worker0",reason="icmp"}"#,
                "4",
            ),
            (
                r#"slbd_drops_total{core="worker0",reason="icmp_echo_rate_limited"}"#,
                "11",
            ),
            (r#"slbd_icmp_errors_forwarded_total{core="scheduler"}"#, "5"),
        ] {
            assert_eq!(value(&m, series), want, "{series}");
        }
    }

    #[test]
    fn every_family_has_its_numbers() {
        let s = recorded();
        let m = check(&render(&s));
        let w0 = &s.cores[1];
        assert_eq!(w0.core, "worker0");
        assert_eq!(
            value(
                &m,
                r#"slbd_switched_frames_total{core="worker0",direction="c2s"}"#
            ),
            w0.events.switched_c2s.to_string()
        );
        assert_eq!(
            value(
                &m,
                r#"slbd_switched_frames_total{core="worker0",direction="s2c"}"#
            ),
            w0.events.switched_s2c.to_string()
        );
        assert_eq!(
            value(
                &m,
                r#"slbd_punted_frames_total{core="worker0",reason="probe"}"#
            ),
            w0.events.punted_probe.to_string()
        );
        assert_eq!(
            value(&m, r#"slbd_core_rx_packets_total{core="worker1"}"#),
            s.cores[2].poll_loop.unwrap().rx_packets.to_string()
        );
        assert_eq!(
            value(&m, r#"slbd_drops_total{core="scheduler",reason="refused"}"#),
            s.cores[0].drops["refused"].to_string()
        );
        let web = &s.services[0].service;
        assert_eq!(
            value(&m, r#"slbd_service_sessions_admitted_total{service="web"}"#),
            web.admitted.to_string()
        );
        assert_eq!(value(&m, "slbd_servers_down"), "1");
        // One state per server is 1, the others 0.
        for (svc, v) in s
            .services
            .iter()
            .flat_map(|sv| sv.server_stats.iter().map(move |v| (&sv.service.name, v)))
        {
            for st in SERVER_STATES {
                let want = if v.state == st { "1" } else { "0" };
                let series = format!(
                    r#"slbd_server_state{{service="{svc}",server="{}",state="{st}"}}"#,
                    v.name
                );
                assert_eq!(value(&m, &series), want, "{series}");
            }
        }
        assert_eq!(
            value(&m, r#"slbd_server_up{service="web",server="s3"}"#),
            "0"
        );
        assert_eq!(
            value(&m, r#"slbd_server_up{service="web",server="s1"}"#),
            "1"
        );
    }

    #[test]
    fn layer7_rules_by_service_rule_and_reason() {
        let mut s = recorded();
        let doc: serde_json::Value = serde_json::from_str(include_str!(
            "../../../ctl/tests/recorded/109-rules-json.json"
        ))
        .unwrap();
        let rules: slb_proto::Rules =
            serde_json::from_value(doc["exchanges"][0]["response"]["result"].clone()).unwrap();
        s.services[0].rules = Some(rules);
        let m = check(&render(&s));
        assert_eq!(
            value(
                &m,
                r#"slbd_l7_rule_hits_total{service="resolver",rule="corp-aaaa",pool="corp"}"#
            ),
            "1"
        );
        assert_eq!(
            value(
                &m,
                r#"slbd_l7_rule_hits_total{service="resolver",rule="public",pool="default"}"#
            ),
            "1"
        );
        assert_eq!(
            value(&m, r#"slbd_l7_no_match_total{service="resolver"}"#),
            "1"
        );
        assert_eq!(
            value(
                &m,
                r#"slbd_l7_fallbacks_total{service="resolver",reason="malformed"}"#
            ),
            "1"
        );
        assert_eq!(
            value(
                &m,
                r#"slbd_l7_fallbacks_total{service="resolver",reason="timeout"}"#
            ),
            "0"
        );
        assert_eq!(
            value(&m, r#"slbd_l7_refused_total{service="resolver"}"#),
            "0"
        );
        // Services without rules have none of these series.
        assert!(!m
            .iter()
            .any(|(k, _)| k.contains(r#"service="web""#) && k.contains("l7")));
    }

    #[test]
    fn the_announcer_gauges() {
        let mut s = recorded();
        let m = check(&render(&s));
        assert_eq!(value(&m, "slbd_instance_draining"), "0");
        assert_eq!(value(&m, "slbd_vips_announced"), "0");
        assert!(!m.iter().any(|(k, _)| k == "slbd_announce_errors_total"));
        s.announce = Some(slb_proto::Announce {
            table: 100,
            draining: true,
            announced: vec!["198.18.100.1".into(), "2001:db8:100::1".into()],
            errors: 3,
        });
        let m = check(&render(&s));
        assert_eq!(value(&m, "slbd_instance_draining"), "1");
        assert_eq!(value(&m, "slbd_vips_announced"), "2");
        assert_eq!(value(&m, "slbd_announce_errors_total"), "3");
    }

    #[test]
    fn label_values_and_floats_are_escaped() {
        let mut s = recorded();
        s.services[0].service.name = "a\"b\\c\nd".into();
        s.uptime_s = f64::INFINITY;
        let text = render(&s);
        check(&text);
        assert!(
            text.contains(r#"slbd_service_sessions{service="a\"b\\c\nd"}"#),
            "{text}"
        );
        assert!(text.contains("slbd_uptime_seconds +Inf\n"), "{text}");
    }
}
