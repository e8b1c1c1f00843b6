//! slbctl's text output: tables and summary lines for people, rendered
//! from the typed results. A field slbd renames or drops is a compile
//! error here (or a decode error at run time), never an empty column.

use slb_proto::{
    Cluster, Drops, Edit, Health, Labels, Lcores, Port, Reload, Reply, Rules, Server, Service,
    SessionList, Stats, Status, FALLBACK_REASONS,
};
use std::fmt::Write as _;

/// How a value shows in a table cell: strings as they are, integers in
/// decimal, floats with one decimal, absent values as `-`.
pub trait Cell {
    fn cell(&self) -> String;
}

impl Cell for String {
    fn cell(&self) -> String {
        self.clone()
    }
}

macro_rules! display_cells {
    ($($t:ty),*) => {$(
        impl Cell for $t {
            fn cell(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

display_cells!(u16, u32, u64, bool);

impl Cell for f64 {
    fn cell(&self) -> String {
        format!("{self:.1}")
    }
}

impl Cell for slb_proto::Protocol {
    fn cell(&self) -> String {
        self.as_str().to_string()
    }
}

impl<T: Cell> Cell for Option<T> {
    fn cell(&self) -> String {
        match self {
            Some(v) => v.cell(),
            None => "-".into(),
        }
    }
}

/// Text output being built.
struct Out(String);

impl Out {
    fn line(&mut self, s: impl AsRef<str>) {
        self.0.push_str(s.as_ref());
        self.0.push('\n');
    }

    /// Left-aligned columns two spaces apart, each as wide as its widest
    /// cell; trailing blanks trimmed.
    fn table(&mut self, headers: &[&str], rows: Vec<Vec<String>>) {
        let mut w: Vec<usize> = headers.iter().map(|h| h.len()).collect();
        for r in &rows {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(c.len());
            }
        }
        let mut line = |cells: Vec<String>| {
            let l: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{:<width$}", c, width = w[i]))
                .collect();
            self.line(l.join("  ").trim_end());
        };
        line(headers.iter().map(|h| h.to_string()).collect());
        for r in rows {
            line(r);
        }
    }
}

/// `name count` of the counters that are not zero, or `none`.
fn nonzero<'a>(counts: impl IntoIterator<Item = (&'a String, &'a u64)>) -> String {
    let parts: Vec<String> = counts
        .into_iter()
        .filter(|(_, v)| **v > 0)
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// JSON, indented, keys in name order (as slbd's answers print).
fn pretty<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_default()
}

/// The text slbctl prints for a result.
pub fn render(reply: &Reply) -> String {
    let mut o = Out(String::new());
    match reply {
        Reply::Status(r) => status(&mut o, r),
        Reply::Stats(r) => stats(&mut o, r),
        Reply::Metrics(r) => o.0.push_str(&r.text),
        Reply::ServicesList(r) => services(&mut o, r.services.iter()),
        Reply::ServersList(r) => servers(&mut o, r.servers.iter()),
        Reply::SessionsList(r) => sessions(&mut o, r),
        Reply::SessionsShow(r) => o.line(pretty(r)),
        Reply::Labels(r) => labels(&mut o, r),
        Reply::Health(r) => health(&mut o, r),
        Reply::RulesShow(r) => rules(&mut o, r),
        Reply::Drops(r) => drops(&mut o, r),
        Reply::Cluster(r) => cluster(&mut o, r),
        Reply::Announce(r) => announce(&mut o, Some(r)),
        Reply::ConfigShow(r) => o.line(pretty(&r.config)),
        Reply::ConfigReload(r) => reload(&mut o, r),
        Reply::Edit(r) => edit(&mut o, r),
        Reply::SessionsSave(r) => saved(&mut o, r),
    }
    o.0
}

fn status(o: &mut Out, r: &Status) {
    o.line(format!(
        "slbd {}  pid {}  up {:.1} s",
        r.version, r.pid, r.uptime_s
    ));
    o.line(format!(
        "config {}  services {}  servers {}",
        r.config.cell(),
        r.services,
        r.servers
    ));
    let l: Option<&Lcores> = r.lcores.as_ref();
    o.line(format!(
        "lcores: main {}  scheduler {}  workers {}",
        l.map(|l| l.main).cell(),
        l.map(|l| l.scheduler).cell(),
        l.map(|l| serde_json::to_string(&l.workers).unwrap_or_default())
            .cell()
    ));
    o.table(
        &["PORT", "DRIVER", "MAC", "LINK", "SPEED"],
        r.ports
            .iter()
            .map(|p: &Port| {
                vec![
                    p.name.clone(),
                    p.driver.clone(),
                    p.mac.clone(),
                    if p.link.up { "up" } else { "down" }.into(),
                    format!("{} Mb/s", p.link.speed_mbps),
                ]
            })
            .collect(),
    );
}

fn stats(o: &mut Out, r: &Stats) {
    let t = &r.totals;
    o.line(format!(
        "rx {}  tx {}  sessions {}  admitted {}  ended {}  drops {}",
        t.rx_packets, t.tx_packets, t.sessions, t.sessions_admitted, t.sessions_ended, t.drops
    ));
    o.line(format!(
        "rates: {}",
        match &r.rates {
            None => "(not sampled yet)".into(),
            Some(rates) => rates
                .by_name()
                .iter()
                .map(|(k, v)| format!("{k} {v:.1}"))
                .collect::<Vec<_>>()
                .join(", "),
        }
    ));
    let l = &r.labels;
    o.line(format!(
        "label pairs: free {}  active {}  quarantined {}{}",
        l.free_pairs,
        l.active_pairs,
        l.quarantined_pairs,
        peers(l.peer_pairs)
    ));
    o.line(format!("drops: {}", nonzero(&r.drops)));
    o.line(format!("refusals: {}", nonzero(&r.refusals)));
    o.line("");
    o.table(
        &[
            "PORT", "RX", "TX", "RX_BYTES", "TX_BYTES", "MISSED", "ERRORS",
        ],
        r.ports
            .iter()
            .map(|p| {
                let st = &p.stats;
                vec![
                    p.name.clone(),
                    st.rx_packets.cell(),
                    st.tx_packets.cell(),
                    st.rx_bytes.cell(),
                    st.tx_bytes.cell(),
                    st.rx_missed.cell(),
                    (st.rx_errors + st.tx_errors).cell(),
                ]
            })
            .collect(),
    );
    o.line("");
    o.table(
        &["CORE", "RX", "TX", "SWITCHED", "PUNTED", "DROPS"],
        r.cores
            .iter()
            .map(|c| {
                let e = &c.events;
                let switched = e.switched_c2s + e.switched_s2c + e.pushed;
                let punted = e.punted_new
                    + e.punted_label
                    + e.punted_neighbour
                    + e.punted_probe
                    + e.punted_icmp
                    + e.punted_exception
                    + e.punted_sync;
                let drops: u64 = c.drops.values().sum();
                vec![
                    c.core.clone(),
                    c.poll_loop.map(|l| l.rx_packets).cell(),
                    c.poll_loop.map(|l| l.tx_packets).cell(),
                    switched.cell(),
                    punted.cell(),
                    drops.cell(),
                ]
            })
            .collect(),
    );
    o.line("");
    services(o, r.services.iter().map(|s| &s.service));
    o.line("");
    servers(o, r.services.iter().flat_map(|s| &s.server_stats));
}

fn services<'a>(o: &mut Out, list: impl Iterator<Item = &'a Service>) {
    o.table(
        &[
            "SERVICE",
            "VIP",
            "PORT",
            "PROTO",
            "ALGORITHM",
            "CLIENTS",
            "SESSIONS",
            "SERVERS",
            "ADMITTED",
            "REFUSED",
        ],
        list.map(|v| {
            let refused: u64 = v.refused.values().sum();
            vec![
                v.name.clone(),
                v.vip.clone(),
                v.port.cell(),
                v.protocol.cell(),
                v.algorithm.cell(),
                v.client_mode.clone(),
                v.sessions.cell(),
                format!("{}/{}", v.servers_available, v.servers),
                v.admitted.cell(),
                refused.cell(),
            ]
        })
        .collect(),
    );
}

fn servers<'a>(o: &mut Out, list: impl Iterator<Item = &'a Server>) {
    o.table(
        &[
            "SERVICE", "SERVER", "ADDRESS", "WEIGHT", "MAX", "ADMIN", "STATE", "HEALTH",
            "SESSIONS", "RT_US",
        ],
        list.map(|v| {
            vec![
                v.service.clone(),
                v.name.clone(),
                v.address.clone(),
                v.weight.cell(),
                v.max_sessions.cell(),
                v.admin_state.clone(),
                v.state.clone(),
                v.health.as_ref().map(|h| h.state.clone()).cell(),
                v.sessions.cell(),
                v.response_time_us.cell(),
            ]
        })
        .collect(),
    );
}

fn sessions(o: &mut Out, r: &SessionList) {
    o.table(
        &[
            "SERVICE", "SERVER", "PROTO", "CLIENT", "VIP", "STATE", "C2S", "S2C", "AGE_S",
            "IDLE_S", "ORIGIN", "SPLICED", "RULE", "POOL",
        ],
        r.sessions
            .iter()
            .map(|x| {
                vec![
                    x.service.clone(),
                    x.server.clone(),
                    x.protocol.cell(),
                    format!("{}:{}", x.client, x.client_port),
                    format!("{}:{}", x.vip, x.vip_port),
                    x.state.clone(),
                    x.c2s_label.cell(),
                    x.s2c_label.cell(),
                    format!("{:.1}", x.age_ms / 1e3),
                    format!("{:.1}", x.idle_ms / 1e3),
                    x.origin.clone(),
                    if x.spliced { "yes" } else { "-" }.into(),
                    x.rule.cell(),
                    x.pool.cell(),
                ]
            })
            .collect(),
    );
    o.line(format!(
        "{} of {} matching ({} sessions in all)",
        r.sessions.len(),
        r.matched,
        r.total
    ));
}

/// Peers' pairs held here (cluster session sync), when there are any.
fn peers(n: u64) -> String {
    if n == 0 {
        String::new()
    } else {
        format!("  peers' {n}")
    }
}

fn labels(o: &mut Out, r: &Labels) {
    let u = &r.usage;
    o.line(format!(
        "label pairs: capacity {}  free {}  active {}  quarantined {}{}",
        u.capacity_pairs,
        u.free_pairs,
        u.active_pairs,
        u.quarantined_pairs,
        peers(u.peer_pairs)
    ));
    o.table(
        &[
            "LABEL", "DIR", "IN_ROLE", "OUT_PORT", "NEXT_HOP", "POP", "SESSION",
        ],
        r.labels
            .iter()
            .map(|x| {
                let se = &x.session;
                vec![
                    x.label.cell(),
                    x.direction.clone(),
                    x.in_port_role.clone(),
                    x.out_port.cell(),
                    x.next_hop_mac.cell(),
                    x.pop.cell(),
                    format!(
                        "{}/{} {}:{} {}",
                        se.service, se.server, se.client, se.client_port, se.state
                    ),
                ]
            })
            .collect(),
    );
}

/// `first..=last (N pairs)`.
fn label_range(r: &slb_proto::LabelRange) -> String {
    format!("{}..={} ({} pairs)", r.first, r.last, r.pairs)
}

fn cluster(o: &mut Out, r: &Cluster) {
    o.line(format!(
        "instance {} of {}  labels {}  of range {}",
        r.instance,
        r.instances,
        label_range(&r.labels),
        label_range(&r.range)
    ));
    o.line(format!(
        "client gateways: ipv4 {}  ipv6 {}",
        r.client_gateway_ipv4.cell(),
        r.client_gateway_ipv6.cell()
    ));
    announce(o, r.announce.as_ref());
    match &r.sync {
        None => o.line("session sync: off"),
        Some(s) => o.line(format!(
            "session sync: port {}  after {} ms{}  refresh {} ms  routes {}",
            s.port,
            s.after_ms,
            if s.after_packets > 0 {
                format!(" or {} packets", s.after_packets)
            } else {
                String::new()
            },
            s.refresh_ms,
            if s.holding_routes {
                "held for the peers' dumps"
            } else {
                "free"
            }
        )),
    }
    if r.peers.is_empty() {
        o.line("peers: none");
        return;
    }
    o.table(
        &["PEER", "ADDRESS", "LABELS", "STATE"],
        r.peers
            .iter()
            .map(|p| {
                vec![
                    p.instance.cell(),
                    p.address.clone(),
                    label_range(&p.labels),
                    p.state.clone(),
                ]
            })
            .collect(),
    );
}

/// The drain flag, the announce table and what is announced.
fn announce(o: &mut Out, a: Option<&slb_proto::Announce>) {
    let Some(a) = a else {
        o.line("draining: no  announce table: none (slbd announces nothing)");
        return;
    };
    o.line(format!(
        "draining: {}  announce table: {}  announce errors: {}",
        if a.draining { "yes" } else { "no" },
        a.table,
        a.errors
    ));
    o.line(format!(
        "announced: {}",
        if a.announced.is_empty() {
            "none".to_string()
        } else {
            a.announced.join(" ")
        }
    ));
}

fn drops(o: &mut Out, r: &Drops) {
    o.line(format!(
        "drop trace {} ({} per lcore): {} matched, newest {} shown",
        if r.enabled { "on" } else { "off" },
        r.per_lcore,
        r.matched,
        r.drops.len()
    ));
    o.table(
        &[
            "AT_S", "LCORE", "PORT", "REASON", "LEN", "LABEL", "PROTO", "SRC", "DST", "FLAGS",
            "LATE",
        ],
        r.drops
            .iter()
            .map(|d| {
                vec![
                    format!("{:.6}", d.at_s),
                    d.lcore.clone(),
                    d.port.cell(),
                    d.reason.clone(),
                    d.len.cell(),
                    d.label.cell(),
                    d.protocol.cell(),
                    d.src.cell(),
                    d.dst.cell(),
                    d.tcp_flags.cell(),
                    d.late
                        .as_ref()
                        .map(|l| format!("{} +{}us", l.ended, l.after_us))
                        .cell(),
                ]
            })
            .collect(),
    );
}

fn health(o: &mut Out, r: &Health) {
    let t = &r.totals;
    o.line(format!(
        "probing {}  servers down {}  went down {}  went up {}",
        if t.enabled { "on" } else { "off" },
        t.servers_down,
        t.went_down,
        t.went_up
    ));
    o.table(
        &[
            "SERVICE",
            "SERVER",
            "ADDRESS",
            "KIND",
            "HEALTH",
            "STATE",
            "LAST_CHECK_MS",
            "RESULT",
            "RT_US",
            "OK/FAIL",
        ],
        r.servers
            .iter()
            .map(|x| {
                let h = &x.health;
                vec![
                    x.service.clone(),
                    x.server.clone(),
                    x.address.clone(),
                    h.kind.clone(),
                    h.state.clone(),
                    x.server_state.cell(),
                    h.last_check_ms_ago.cell(),
                    h.last_result.cell(),
                    h.response_time_us.cell(),
                    format!("{}/{}", h.successes, h.failures),
                ]
            })
            .collect(),
    );
}

fn rules(o: &mut Out, r: &Rules) {
    let f = &r.first_data;
    o.line(format!(
        "service {}  first data: wait {} ms, {} segments, {} bytes, malformed {}",
        r.service, f.wait_ms, f.segments, f.bytes, f.malformed
    ));
    o.table(
        &["RULE", "KIND", "MATCH", "POOL", "HITS"],
        r.rules
            .iter()
            .map(|x| {
                vec![
                    x.name.clone(),
                    x.kind.clone(),
                    x.matches.clone(),
                    x.pool.clone(),
                    x.hits.cell(),
                ]
            })
            .collect(),
    );
    let d = &r.default_pool;
    o.line("");
    o.line("default pool, without a rule:");
    let mut rows = vec![vec!["no_match".to_string(), d.no_match.cell()]];
    // slbd's reasons in its order, then any other it sends.
    let known = FALLBACK_REASONS.iter().map(|k| (*k, d.fallbacks.get(*k)));
    let others = d
        .fallbacks
        .iter()
        .filter(|(k, _)| !FALLBACK_REASONS.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), Some(v)));
    for (k, v) in known.chain(others) {
        rows.push(vec![format!("fallback:{k}"), v.copied().cell()]);
    }
    rows.push(vec!["refused".into(), d.refused.cell()]);
    o.table(&["BY", "SESSIONS"], rows);
}

fn changes(o: &mut Out, changes: &[String]) {
    for c in changes {
        let _ = writeln!(o.0, "  {c}");
    }
}

fn edit(o: &mut Out, r: &Edit) {
    o.line(&r.done);
    changes(o, &r.applied.changes);
}

fn saved(o: &mut Out, r: &slb_proto::SessionsSaved) {
    o.line(format!(
        "saved {} sessions, {} label pairs in quarantine, {} changes to {} ({} bytes)",
        r.sessions, r.quarantined_labels, r.changes, r.path, r.bytes
    ));
    if r.left_out > 0 {
        o.line(format!(
            "left out {} sessions whose server left their service",
            r.left_out
        ));
    }
}

fn reload(o: &mut Out, r: &Reload) {
    changes(o, &r.applied.changes);
}
