//! No configuration field is without an effect (issue 18).
//!
//! The walk starts from `every_field.json`, a configuration that holds every
//! section and every optional field (each health check kind, access lists
//! of both families, `metrics_listen`, static neighbours, `icmp`, a rate
//! limit so that `burst` is written), and walks what `config show` prints
//! for it (`Config::to_json_pretty`: every default written out). For each
//! leaf (objects recursively, arrays element by element) it writes another
//! valid value, reads the changed document into a `Config` and asks
//! `slb_config::diff`, which decides what a reload does, what changed. The
//! diff must name the leaf: its section for the parts that need a restart
//! (`ports`, `labels`, `control`, `cluster`) or apply as a whole (`timeouts`,
//! `neighbours`, `icmp`), else the service, server and field. A leaf whose
//! change the diff does not see is a field no code reads: the test fails
//! naming its JSON path.
//!
//! The reverse: every field of every object of the document (serde's own
//! list of the names it accepts, read from its unknown-field error) must
//! be in the walked configuration, so that a new optional field cannot be
//! skipped by being absent; and the number of leaves is pinned.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde_json::Value;
use slb_config::{diff, Config};

/// Every section, every optional field.
const FULL: &str = include_str!("every_field.json");

/// Leaves in `config show` of `FULL`. A new field changes it: add the field
/// to `every_field.json` (and, for a string, a rule in `candidates`).
const LEAVES: usize = 309;

/// Leaves whose alternative the rules in `candidates` cannot find, with
/// the value to write instead (JSON path, JSON value). Tried first.
const EXPLICIT: &[(&str, &str)] = &[
    // 1 is this instance, 2 the other peer: no rule finds 3.
    ("cluster.peers[0].instance", "3"),
    // The other port (role `both` here, so that it faces clients too).
    ("cluster.exception.port", "\"server\""),
];

/// Fields known to have no effect (the diff does not see a change). Must be
/// exactly the set the walk finds, so it cannot grow unnoticed; the goal
/// is that it stays empty.
const WITHOUT_EFFECT: &[&str] = &[];

#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

/// `services[0].health.port`, as the validation errors write paths.
fn show(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if s.is_empty() => s.push_str(k),
            Seg::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// The path with indices dropped (`services[].servers[]`): one name per
/// object type of the document (a pool's `health` is a service's).
fn pattern(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if s.is_empty() => s.push_str(k),
            Seg::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Seg::Index(_) => s.push_str("[]"),
        }
    }
    // A pool's health check is a service's, read by the same code: one
    // object type.
    s.replace("services[].pools[].health", "services[].health")
}

fn leaves(v: &Value, path: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                path.push(Seg::Key(k.clone()));
                leaves(v, path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                leaves(v, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

/// Every object in the document with its path.
fn objects<'a>(v: &'a Value, path: &mut Vec<Seg>, out: &mut Vec<(Vec<Seg>, &'a Value)>) {
    match v {
        Value::Object(m) => {
            out.push((path.clone(), v));
            for (k, v) in m {
                path.push(Seg::Key(k.clone()));
                objects(v, path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                objects(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn get<'a>(v: &'a Value, path: &[Seg]) -> &'a Value {
    path.iter().fold(v, |v, seg| match seg {
        Seg::Key(k) => &v[k.as_str()],
        Seg::Index(i) => &v[*i],
    })
}

fn get_mut<'a>(v: &'a mut Value, path: &[Seg]) -> &'a mut Value {
    path.iter().fold(v, |v, seg| match seg {
        Seg::Key(k) => &mut v[k.as_str()],
        Seg::Index(i) => &mut v[*i],
    })
}

/// The name a leaf is known by: its key, or for an element of a list
/// (`allow[1]`) the list's key.
fn field_name(path: &[Seg]) -> &str {
    path.iter()
        .rev()
        .find_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        })
        .expect("a leaf under a key")
}

/// The document with the leaf at `path` replaced by `value`.
fn with(doc: &Value, path: &[Seg], value: Value) -> Value {
    let mut d = doc.clone();
    *get_mut(&mut d, path) = value;
    d
}

/// Every variant of each enum field, as written.
const VARIANTS: &[(&str, &[&str])] = &[
    ("role", &["client", "server", "both"]),
    ("protocol", &["tcp", "udp"]),
    ("client_mode", &["plain", "label"]),
    (
        "algorithm",
        &[
            "round_robin",
            "weighted_round_robin",
            "least_connections",
            "weighted_least_connections",
            "least_response_time",
            "source_hash",
            "maglev",
        ],
    ),
    ("refuse", &["rst", "drop"]),
    ("tcp_signatures", &["md5", "ao"]),
    ("state", &["up", "drain", "disabled"]),
    ("on_down", &["keep", "reset"]),
    ("query_type", &["A", "AAAA"]),
    ("type", &["A", "AAAA", "TXT"]),
    ("malformed", &["default", "refuse"]),
    ("vip_echo", &["answer", "drop"]),
];

/// Health fields every kind has; the others belong to one kind or a few.
const HEALTH_COMMON: &[&str] = &["interval_ms", "timeout_ms", "rise", "fall", "on_down"];
const HEALTH_KINDS: &[&str] = &["none", "arp", "tcp", "udp", "dns", "http", "tls"];

/// Other values for an address: the last octet or group moved by a few.
fn other_addresses(a: IpAddr) -> Vec<IpAddr> {
    [1i32, 2, 3, -1, 100]
        .iter()
        .filter_map(|d| match a {
            IpAddr::V4(v) => {
                let mut o = v.octets();
                o[3] = u8::try_from(i32::from(o[3]) + d).ok()?;
                Some(IpAddr::from(o))
            }
            IpAddr::V6(v) => {
                let mut s = v.segments();
                s[7] = u16::try_from(i32::from(s[7]) + d).ok()?;
                Some(IpAddr::from(s))
            }
        })
        .collect()
}

/// Other values for `address/len`: another host on the same prefix, then
/// a longer and a shorter prefix.
fn other_cidrs(s: &str) -> Vec<String> {
    let (a, len) = s.split_once('/').expect("address/len");
    let a: IpAddr = a.parse().expect("an address");
    let len: u8 = len.parse().expect("a length");
    let mut out: Vec<String> = other_addresses(a)
        .into_iter()
        .map(|o| format!("{o}/{len}"))
        .collect();
    out.push(format!("{a}/{}", len + 1));
    out.push(format!("{a}/{}", len - 1));
    out
}

/// Other valid values for the leaf at `path`, best first, as whole
/// documents; `Err` when no rule covers the leaf.
fn candidates(doc: &Value, path: &[Seg]) -> Result<Vec<Value>, String> {
    let shown = show(path);
    if let Some((_, v)) = EXPLICIT.iter().find(|(p, _)| *p == shown) {
        let v = serde_json::from_str(v).expect("EXPLICIT values are JSON");
        return Ok(vec![with(doc, path, v)]);
    }
    let name = field_name(path);
    let values: Vec<Value> = match get(doc, path) {
        Value::Bool(b) => vec![Value::Bool(!b)],
        Value::Number(n) => {
            let n = n.as_u64().expect("the document's numbers are unsigned");
            let mut v = vec![n + 1, n + 2, n * 2, n / 2, 1, 2, 10, 100];
            v.extend(n.checked_sub(1));
            v.into_iter().filter(|&m| m != n).map(Value::from).collect()
        }
        Value::String(s) => {
            if name == "kind" {
                // Another kind keeps only the fields every kind has: the
                // others are errors with it.
                let parent = &path[..path.len() - 1];
                let Value::Object(health) = get(doc, parent) else {
                    unreachable!("kind is a field of health")
                };
                return Ok(HEALTH_KINDS
                    .iter()
                    .filter(|k| **k != s.as_str())
                    .map(|k| {
                        let mut h: serde_json::Map<String, Value> = health
                            .iter()
                            .filter(|(f, _)| HEALTH_COMMON.contains(&f.as_str()))
                            .map(|(f, v)| (f.clone(), v.clone()))
                            .collect();
                        h.insert("kind".into(), Value::from(*k));
                        with(doc, parent, Value::Object(h))
                    })
                    .collect());
            }
            let strings: Vec<String> = if let Some((_, vs)) =
                VARIANTS.iter().find(|(f, _)| *f == name)
            {
                vs.iter().map(|v| v.to_string()).collect()
            } else {
                match name {
                    "name" | "device" | "path" | "body" | "send" | "expect" | "path_prefix"
                    | "value" | "alpn" => {
                        vec![format!("{s}x")]
                    }
                    "suffix" => vec![format!("x.{s}")],
                    // Another pool of the service, or the default one.
                    "pool" => {
                        let svc = &doc["services"][index_of(path)];
                        let mut names: Vec<String> = svc["pools"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|p| p["name"].as_str().map(str::to_string))
                            .collect();
                        names.push("default".into());
                        names
                    }
                    "send_hex" | "expect_hex" => vec![format!("{s}aa")],
                    "socket" => vec![format!("{s}.new")],
                    "host" | "sni" | "query_name" => vec![format!("x.{s}")],
                    "method" => vec!["HEAD".into(), "POST".into()],
                    "status" => vec!["200".into(), "201-299".into(), "200-398".into()],
                    "ipv4" | "ipv6" | "allow" | "deny" => other_cidrs(s),
                    "vip" | "address" | "client_gateway_ipv4" | "client_gateway_ipv6" => other_addresses(s.parse().expect("an address"))
                        .into_iter()
                        .map(|a| a.to_string())
                        .collect(),
                    "mac" => {
                        let mut m = slb_config::parse_mac(s).expect("a MAC");
                        m[5] = m[5].wrapping_add(1);
                        vec![slb_config::format_mac(&m)]
                    }
                    "metrics_listen" => {
                        let mut a: std::net::SocketAddr = s.parse().expect("address:port");
                        a.set_port(a.port() + 1);
                        vec![a.to_string()]
                    }
                    _ => return Err(format!("{shown}: no rule gives another value for {name:?}: add one to `candidates` or EXPLICIT")),
                }
            };
            strings
                .into_iter()
                .filter(|v| v != s)
                .map(Value::from)
                .collect()
        }
        other => return Err(format!("{shown}: unexpected leaf {other}")),
    };
    Ok(values
        .into_iter()
        .map(|v| {
            let to_udp = v == "udp";
            let mut d = with(doc, path, v.clone());
            // A renamed port keeps the exception path that names it.
            if shown.starts_with("ports[") && name == "name" {
                let e = &mut d["cluster"]["exception"]["port"];
                if *e == *get(doc, path) {
                    *e = v.clone();
                }
            }
            // A service turned UDP loses its SYN proxy (TCP only); one
            // of another protocol its rules (HTTP and TLS are TCP's, DNS
            // and QUIC UDP's).
            if shown.starts_with("services[") && name == "protocol" {
                if let Some(svc) = d
                    .pointer_mut(&format!("/services/{}", index_of(path)))
                    .and_then(Value::as_object_mut)
                {
                    if to_udp {
                        svc.remove("syn_proxy");
                    }
                    svc.remove("rules");
                    svc.remove("first_data");
                }
            }
            // A renamed pool keeps the servers and rules that name it.
            if shown.starts_with("services[") && shown.contains(".pools[") && name == "name" {
                let i = index_of(path);
                for list in ["servers", "rules"] {
                    if let Some(items) = d["services"][i][list].as_array_mut() {
                        for item in items {
                            if item["pool"] == *get(doc, path) {
                                item["pool"] = v.clone();
                            }
                        }
                    }
                }
            }
            d
        })
        .collect())
}

/// The index of the service a `services[i]...` leaf belongs to.
fn index_of(path: &[Seg]) -> usize {
    match path.get(1) {
        Some(Seg::Index(i)) => *i,
        _ => panic!("not a service's leaf: {}", show(path)),
    }
}

fn service_name(doc: &Value, i: usize) -> &str {
    doc["services"][i]["name"].as_str().expect("a service name")
}

/// The lines of the diff's `Display` that must start as given for a
/// change of the leaf at `path` (`old` and `new`: the documents).
fn expected_lines(old: &Value, new: &Value, path: &[Seg]) -> Vec<String> {
    let key = |i: usize| match path.get(i) {
        Some(Seg::Key(k)) => k.as_str(),
        _ => "",
    };
    let index = |i: usize| match path.get(i) {
        Some(Seg::Index(n)) => *n,
        _ => panic!("{}: an index at {i}", show(path)),
    };
    match key(0) {
        "ports" | "labels" | "control" | "cluster" => {
            vec![format!("{} changed: needs a restart", key(0))]
        }
        "timeouts" | "neighbours" | "icmp" => vec![format!("{} changed", key(0))],
        "services" => {
            let i = index(1);
            let svc = service_name(old, i);
            match key(2) {
                "name" => vec![
                    format!("service {}: added", service_name(new, i)),
                    format!("service {svc}: removed"),
                ],
                "health" => vec![format!("service {svc}: health changed")],
                "new_sessions_per_s" | "burst" => {
                    vec![format!("service {svc}: new_sessions_per_s/burst ")]
                }
                "allow" | "deny" => vec![format!("service {svc}: {} changed", key(2))],
                "pools" | "rules" => vec![format!("service {svc}: {} changed", key(2))],
                "servers" => {
                    let j = index(3);
                    let srv = |d: &Value| d["services"][i]["servers"][j]["name"].clone();
                    let srv_old = srv(old);
                    let srv_old = srv_old.as_str().expect("a server name");
                    match key(4) {
                        "name" => vec![
                            format!(
                                "service {svc}: server {}: added",
                                srv(new).as_str().unwrap()
                            ),
                            format!("service {svc}: server {srv_old}: removed"),
                        ],
                        f => vec![format!("service {svc}: server {srv_old}: {f} ")],
                    }
                }
                f => vec![format!("service {svc}: {f} ")],
            }
        }
        other => vec![format!("a rule for section {other:?} in `expected_lines`")],
    }
}

fn full() -> (Config, Value) {
    let config = Config::from_json_str(FULL).expect("every_field.json is valid");
    let shown: Value = serde_json::from_str(&config.to_json_pretty()).expect("config show is JSON");
    (config, shown)
}

#[test]
fn every_leaf_changes_what_a_reload_does() {
    let (base, doc) = full();
    let mut paths = Vec::new();
    leaves(&doc, &mut Vec::new(), &mut paths);

    let mut failures: Vec<String> = Vec::new();
    let mut without_effect: BTreeSet<String> = BTreeSet::new();
    for path in &paths {
        let shown = show(path);
        let docs = match candidates(&doc, path) {
            Ok(d) => d,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        let mut first_error = None;
        let mut valid = 0;
        let mut seen = false;
        for new_doc in &docs {
            let new = match Config::from_json_str(&new_doc.to_string()) {
                Ok(c) => c,
                Err(e) => {
                    first_error.get_or_insert(e.to_string());
                    continue;
                }
            };
            valid += 1;
            let d = diff(&base, &new);
            if d.is_empty() {
                // Another value may be read the same way (a prefix
                // written another way): try the next one.
                continue;
            }
            seen = true;
            let text = d.to_string();
            for line in expected_lines(&doc, new_doc, path) {
                if !text.lines().any(|l| l.starts_with(&line)) {
                    failures.push(format!(
                        "{shown}: changed to {}, the diff does not name it (want a line starting {line:?}), it says:\n{text}",
                        get(new_doc, path)
                    ));
                }
            }
            break;
        }
        if seen {
            continue;
        }
        if valid == 0 {
            failures.push(format!(
                "{shown}: no valid other value (add one to EXPLICIT); the first tried gave: {}",
                first_error.unwrap_or_else(|| "no value to try".into())
            ));
        } else {
            without_effect.insert(shown);
        }
    }

    let known: BTreeSet<String> = WITHOUT_EFFECT.iter().map(|s| s.to_string()).collect();
    for p in without_effect.difference(&known) {
        failures.push(format!(
            "{p}: has no effect: changing it changes nothing a reload sees"
        ));
    }
    for p in known.difference(&without_effect) {
        failures.push(format!(
            "{p}: listed in WITHOUT_EFFECT but has an effect now: take it out"
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        paths.len(),
        LEAVES,
        "leaves walked; a field was added or removed: update every_field.json and LEAVES"
    );
}

/// The names serde accepts in the object at `path`, read from the error
/// an unknown field gives there (`deny_unknown_fields`).
fn accepted_fields(doc: &Value, path: &[Seg]) -> BTreeSet<String> {
    let mut d = doc.clone();
    get_mut(&mut d, path)
        .as_object_mut()
        .expect("an object")
        .insert("no_such_field".into(), Value::Null);
    let err = Config::from_json_str(&d.to_string())
        .expect_err("an unknown field is an error")
        .to_string();
    let (_, expected) = err
        .split_once("unknown field `no_such_field`, expected")
        .unwrap_or_else(|| panic!("{}: unexpected error {err}", show(path)));
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[test]
fn the_full_configuration_holds_every_field() {
    let (_, doc) = full();
    let mut found = Vec::new();
    objects(&doc, &mut Vec::new(), &mut found);
    // Per object type: the fields written in any instance, and one
    // instance to ask serde about.
    let mut types: BTreeMap<String, (BTreeSet<String>, Vec<Seg>)> = BTreeMap::new();
    for (path, v) in &found {
        let entry = types
            .entry(pattern(path))
            .or_insert_with(|| (BTreeSet::new(), path.clone()));
        entry
            .0
            .extend(v.as_object().expect("an object").keys().cloned());
    }
    let names: Vec<&str> = types.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "",
            "cluster",
            "cluster.exception",
            "cluster.peers[]",
            "cluster.sync",
            "control",
            "icmp",
            "labels",
            "neighbours[]",
            "ports[]",
            "services[]",
            "services[].first_data",
            "services[].health",
            "services[].pools[]",
            "services[].rules[]",
            "services[].rules[].dns",
            "services[].rules[].http",
            "services[].rules[].http.header",
            "services[].rules[].quic",
            "services[].rules[].tls",
            "services[].servers[]",
            "services[].syn_proxy",
            "timeouts"
        ],
        "the document's object types"
    );
    let mut missing = Vec::new();
    for (name, (written, at)) in &types {
        let accepted = accepted_fields(&doc, at);
        assert!(!accepted.is_empty(), "{name}: no field names in the error");
        for f in accepted.difference(written) {
            missing.push(format!("{name}.{f}"));
        }
        for f in written.difference(&accepted) {
            missing.push(format!("{name}.{f} is written but not accepted"));
        }
    }
    assert!(
        missing.is_empty(),
        "fields no walk reaches (add them to every_field.json): {missing:?}"
    );
}

/// Per leaf of the document (indices dropped), the names of the model's
/// fields it lands in (`icmp.echo_per_s` is `icmp.echo.per_s`).
const READ_AS: &[(&str, &[&str])] = &[
    ("ports[].name", &["name"]),
    ("ports[].device", &["device"]),
    ("ports[].role", &["role"]),
    ("ports[].ipv4", &["ipv4"]),
    ("ports[].ipv6", &["ipv6"]),
    ("ports[].mtu", &["mtu"]),
    ("labels.first", &["first"]),
    ("labels.last", &["last"]),
    ("labels.quarantine_ms", &["quarantine"]),
    ("timeouts.tcp_syn_ms", &["tcp_syn"]),
    ("timeouts.tcp_established_s", &["tcp_established"]),
    ("timeouts.tcp_closing_s", &["tcp_closing"]),
    ("timeouts.tcp_linger_ms", &["tcp_linger"]),
    ("timeouts.udp_s", &["udp"]),
    ("neighbours[].address", &["address"]),
    ("neighbours[].mac", &["mac"]),
    ("control.socket", &["socket"]),
    ("control.metrics_listen", &["metrics_listen"]),
    ("icmp.vip_echo", &["vip_echo"]),
    ("icmp.echo_per_s", &["echo", "per_s"]),
    ("icmp.echo_burst", &["echo", "burst"]),
    ("icmp.too_big_per_s", &["too_big", "per_s"]),
    ("icmp.too_big_burst", &["too_big", "burst"]),
    ("icmp.errors_per_s", &["errors", "per_s"]),
    ("icmp.errors_burst", &["errors", "burst"]),
    ("services[].name", &["name"]),
    ("services[].vip", &["vip"]),
    ("services[].port", &["port"]),
    ("services[].protocol", &["protocol"]),
    ("services[].client_mode", &["client_mode"]),
    ("services[].algorithm", &["algorithm"]),
    ("services[].max_sessions", &["max_sessions"]),
    ("services[].new_sessions_per_s", &["new_sessions_per_s"]),
    ("services[].burst", &["burst"]),
    ("services[].refuse", &["refuse"]),
    ("services[].syn_proxy.mss", &["syn_proxy", "mss"]),
    (
        "services[].syn_proxy.window_scale",
        &["syn_proxy", "window_scale"],
    ),
    ("services[].tcp_signatures", &["tcp_signatures"]),
    ("services[].allow[]", &["allow"]),
    ("services[].deny[]", &["deny"]),
    ("services[].health.kind", &["kind"]),
    ("services[].health.port", &["port"]),
    ("services[].health.send", &["send"]),
    ("services[].health.send_hex", &["send"]),
    ("services[].health.expect", &["expect"]),
    ("services[].health.expect_hex", &["expect"]),
    ("services[].health.query_name", &["name"]),
    ("services[].health.query_type", &["query_type"]),
    ("services[].health.method", &["method"]),
    ("services[].health.path", &["path"]),
    ("services[].health.host", &["host"]),
    ("services[].health.status", &["status"]),
    ("services[].health.body", &["body"]),
    ("services[].health.sni", &["sni"]),
    ("services[].health.interval_ms", &["interval"]),
    ("services[].health.timeout_ms", &["timeout"]),
    ("services[].health.rise", &["rise"]),
    ("services[].health.fall", &["fall"]),
    ("services[].health.on_down", &["on_down"]),
    ("services[].servers[].name", &["name"]),
    ("services[].servers[].address", &["address"]),
    ("services[].servers[].weight", &["weight"]),
    ("services[].servers[].max_sessions", &["max_sessions"]),
    ("services[].servers[].state", &["state"]),
    ("services[].servers[].pool", &["pool"]),
    ("services[].pools[].name", &["name"]),
    ("services[].pools[].algorithm", &["algorithm"]),
    ("services[].rules[].name", &["name"]),
    ("services[].rules[].pool", &["pool"]),
    ("services[].rules[].http.method", &["method"]),
    ("services[].rules[].http.host", &["host"]),
    ("services[].rules[].http.path_prefix", &["path_prefix"]),
    ("services[].rules[].http.header.name", &["header", "name"]),
    ("services[].rules[].http.header.value", &["header", "value"]),
    ("services[].rules[].tls.sni", &["sni"]),
    ("services[].rules[].tls.alpn", &["alpn"]),
    ("services[].rules[].dns.suffix", &["suffix"]),
    ("services[].rules[].dns.type", &["qtype"]),
    ("services[].rules[].quic.sni", &["sni"]),
    ("services[].rules[].quic.alpn", &["alpn"]),
    ("services[].first_data.wait_ms", &["wait"]),
    ("services[].first_data.segments", &["segments"]),
    ("services[].first_data.bytes", &["bytes"]),
    ("services[].first_data.malformed", &["malformed"]),
    ("cluster.instance", &["instance"]),
    ("cluster.instances", &["instances"]),
    ("cluster.peers[].instance", &["instance"]),
    ("cluster.peers[].address", &["address"]),
    ("cluster.client_gateway_ipv4", &["client_gateway_ipv4"]),
    ("cluster.client_gateway_ipv6", &["client_gateway_ipv6"]),
    ("cluster.exception.device", &["device"]),
    ("cluster.exception.port", &["port"]),
    ("cluster.announce_table", &["announce_table"]),
    ("cluster.sync.port", &["port"]),
    ("cluster.sync.after_ms", &["after"]),
    ("cluster.sync.after_packets", &["after_packets"]),
    ("cluster.sync.refresh_ms", &["refresh"]),
    ("cluster.sync.dump_wait_ms", &["dump_wait"]),
];

/// The code that runs with a configuration: slbd, the agent and slbctl,
/// and this crate's conversions into session-core types. Test modules
/// (from a `#[cfg(test)]` line to the end of the file) are left out.
fn runtime_source() -> String {
    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let p = e.expect("a directory entry").path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = vec![root.join("config/src/convert.rs")];
    for dir in ["appliance/src", "agent/src", "ctl/src"] {
        rust_files(&root.join(dir), &mut files);
    }
    let mut text = String::new();
    for f in files {
        let s = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let code = s.split("#[cfg(test)]").next().unwrap_or_default();
        text.push_str(code);
        text.push('\n');
    }
    text
}

/// `.name` as a whole word (not `.name_of`).
fn reads(source: &str, field: &str) -> bool {
    let needle = format!(".{field}");
    source.match_indices(&needle).any(|(i, _)| {
        !source[i + needle.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// The diff sees every field; this checks that code which runs with the
/// configuration mentions the model field each leaf lands in. It is a text
/// search, so it proves little for common names (`name`, `port`), but it
/// catches a field only slb-config knows of, as `control.metrics_listen`
/// was before slbd listened on it.
#[test]
fn every_leaf_is_read_by_code_that_runs_with_it() {
    let (_, doc) = full();
    let mut paths = Vec::new();
    leaves(&doc, &mut Vec::new(), &mut paths);
    let walked: BTreeSet<String> = paths.iter().map(|p| pattern(p)).collect();
    let table: BTreeMap<&str, &[&str]> = READ_AS.iter().copied().collect();
    assert_eq!(table.len(), READ_AS.len(), "READ_AS names a leaf twice");
    let source = runtime_source();
    let mut failures = Vec::new();
    for leaf in &walked {
        match table.get(leaf.as_str()) {
            None => failures.push(format!(
                "{leaf}: not in READ_AS: add the model field it lands in"
            )),
            Some(fields) => {
                for f in fields.iter().filter(|f| !reads(&source, f)) {
                    failures.push(format!(
                        "{leaf}: no code outside slb-config reads `.{f}`: the field has no effect"
                    ));
                }
            }
        }
    }
    for leaf in table.keys().filter(|l| !walked.contains(**l)) {
        failures.push(format!("{leaf}: in READ_AS but not in the walk"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
