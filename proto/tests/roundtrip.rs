//! Every command through the protocol types: each request encodes to the
//! line `docs/operations.md` documents and decodes back equal; each result
//! decodes from a real answer (recorded from slbd on net_null ports and
//! from the golden rig, in `tests/answers/`) and encodes back to the same
//! JSON; bad requests get slbd's codes and messages.

use serde_json::{json, Value};
use slb_proto::*;
use std::collections::BTreeSet;

fn server_ref(service: &str, server: &str) -> ServerRef {
    ServerRef {
        service: service.into(),
        server: server.into(),
    }
}

/// One request per command, with the JSON line it is on the wire.
fn requests() -> Vec<(Request, Value)> {
    vec![
        (Request::Status, json!({"id": 1, "command": "status"})),
        (Request::Stats, json!({"id": 1, "command": "stats"})),
        (Request::Metrics, json!({"id": 1, "command": "metrics"})),
        (
            Request::ServicesList(ServiceFilter::default()),
            json!({"id": 1, "command": "services.list", "args": {}}),
        ),
        (
            Request::ServicesAdd(ServiceSpec {
                name: "api".into(),
                vip: "198.18.100.2".into(),
                port: 443,
                protocol: "tcp".into(),
                client_mode: None,
                algorithm: Some("maglev".into()),
                max_sessions: None,
                new_sessions_per_s: Some(500),
                burst: None,
                refuse: Some("drop".into()),
                allow: None,
                deny: Some(vec!["198.18.0.66/32".into(), "2001:db8::/32".into()]),
                health: Some(HealthSpec {
                    kind: Some("tcp".into()),
                    port: Some(443),
                    rise: Some(2),
                    ..Default::default()
                }),
                servers: vec![ServerSpec {
                    name: "a1".into(),
                    address: "198.18.1.11".into(),
                    weight: Some(2),
                    max_sessions: None,
                    state: Some("drain".into()),
                }],
            }),
            json!({"id": 1, "command": "services.add", "args": {
                "name": "api", "vip": "198.18.100.2", "port": 443, "protocol": "tcp",
                "algorithm": "maglev", "new_sessions_per_s": 500, "refuse": "drop",
                "deny": ["198.18.0.66/32", "2001:db8::/32"],
                "health": {"kind": "tcp", "port": 443, "rise": 2},
                "servers": [{"name": "a1", "address": "198.18.1.11", "weight": 2, "state": "drain"}]}}),
        ),
        (
            Request::ServicesRemove(ServiceName { name: "api".into() }),
            json!({"id": 1, "command": "services.remove", "args": {"name": "api"}}),
        ),
        (
            Request::ServicesUpdate(ServiceUpdate {
                name: "web".into(),
                max_sessions: Some(10000),
                new_sessions_per_s: Some(500),
                ..Default::default()
            }),
            json!({"id": 1, "command": "services.update",
                   "args": {"name": "web", "max_sessions": 10000, "new_sessions_per_s": 500}}),
        ),
        (
            Request::ServersList(ServiceFilter {
                service: Some("web".into()),
            }),
            json!({"id": 1, "command": "servers.list", "args": {"service": "web"}}),
        ),
        (
            Request::ServersAdd(ServerAdd {
                service: "web".into(),
                server: ServerSpec {
                    name: "s3".into(),
                    address: "198.18.1.13".into(),
                    weight: Some(2),
                    max_sessions: Some(0),
                    state: None,
                },
            }),
            json!({"id": 1, "command": "servers.add", "args":
                   {"service": "web", "name": "s3", "address": "198.18.1.13", "weight": 2, "max_sessions": 0}}),
        ),
        (
            Request::ServersRemove(server_ref("web", "s3")),
            json!({"id": 1, "command": "servers.remove", "args": {"service": "web", "server": "s3"}}),
        ),
        (
            Request::ServersUpdate(ServerUpdate {
                service: "web".into(),
                server: "s2".into(),
                weight: Some(3),
                max_sessions: Some(500),
                address: None,
                state: None,
            }),
            json!({"id": 1, "command": "servers.update",
                   "args": {"service": "web", "server": "s2", "weight": 3, "max_sessions": 500}}),
        ),
        (
            Request::ServersDrain(server_ref("web", "s1")),
            json!({"id": 1, "command": "servers.drain", "args": {"service": "web", "server": "s1"}}),
        ),
        (
            Request::ServersEnable(server_ref("web", "s1")),
            json!({"id": 1, "command": "servers.enable", "args": {"service": "web", "server": "s1"}}),
        ),
        (
            Request::ServersDisable(server_ref("web", "s1")),
            json!({"id": 1, "command": "servers.disable", "args": {"service": "web", "server": "s1"}}),
        ),
        (
            Request::SessionsList(SessionFilter {
                service: Some("web".into()),
                server: None,
                client: Some("198.19.0.0".parse().unwrap()),
                state: Some("syn_sent".into()),
                origin: Some("synced".into()),
                limit: Some(1),
            }),
            json!({"id": 1, "command": "sessions.list",
                   "args": {"service": "web", "client": "198.19.0.0", "state": "syn_sent", "origin": "synced", "limit": 1}}),
        ),
        (
            Request::SessionsShow(SessionSelector::Label { label: 17 }),
            json!({"id": 1, "command": "sessions.show", "args": {"label": 17}}),
        ),
        (
            Request::Labels(LabelFilter {
                label: None,
                limit: Some(50),
            }),
            json!({"id": 1, "command": "labels", "args": {"limit": 50}}),
        ),
        (
            Request::Health(ServiceFilter::default()),
            json!({"id": 1, "command": "health", "args": {}}),
        ),
        (
            Request::Drops(DropsArgs {
                enable: Some(true),
                reason: Some("withdrawn_label".into()),
                limit: Some(20),
            }),
            json!({"id": 1, "command": "drops",
                   "args": {"enable": true, "reason": "withdrawn_label", "limit": 20}}),
        ),
        (
            Request::RulesShow(RulesFilter {
                service: "resolver".into(),
            }),
            json!({"id": 1, "command": "rules.show", "args": {"service": "resolver"}}),
        ),
        (Request::Cluster, json!({"id": 1, "command": "cluster"})),
        (
            Request::InstanceDrain,
            json!({"id": 1, "command": "instance.drain"}),
        ),
        (
            Request::InstanceUndrain,
            json!({"id": 1, "command": "instance.undrain"}),
        ),
        (
            Request::ConfigShow,
            json!({"id": 1, "command": "config.show"}),
        ),
        (
            Request::SessionsSave,
            json!({"id": 1, "command": "sessions.save"}),
        ),
        (
            Request::ConfigReload(ReloadArgs {
                path: Some("/etc/slbd.json".into()),
            }),
            json!({"id": 1, "command": "config.reload", "args": {"path": "/etc/slbd.json"}}),
        ),
    ]
}

/// More requests of the same commands: other argument shapes.
fn more_requests() -> Vec<(Request, Value)> {
    vec![
        (
            Request::SessionsShow(SessionSelector::Key(SessionKey {
                client: "2001:db8::1".parse().unwrap(),
                client_port: 1024,
                vip: "2001:db8:100::1".parse().unwrap(),
                vip_port: 53,
                protocol: Protocol::Udp,
            })),
            json!({"id": 1, "command": "sessions.show", "args": {"client": "2001:db8::1", "client_port": 1024,
                   "vip": "2001:db8:100::1", "vip_port": 53, "protocol": "udp"}}),
        ),
        (
            Request::Labels(LabelFilter {
                label: Some(18),
                limit: None,
            }),
            json!({"id": 1, "command": "labels", "args": {"label": 18}}),
        ),
        (
            Request::ConfigReload(ReloadArgs::default()),
            json!({"id": 1, "command": "config.reload", "args": {}}),
        ),
        (
            Request::ServersUpdate(ServerUpdate {
                service: "web".into(),
                server: "s2".into(),
                weight: None,
                max_sessions: None,
                address: Some("198.18.1.14".into()),
                state: Some("disabled".into()),
            }),
            json!({"id": 1, "command": "servers.update",
                   "args": {"service": "web", "server": "s2", "address": "198.18.1.14", "state": "disabled"}}),
        ),
    ]
}

#[test]
fn every_request_encodes_to_its_line_and_decodes_back() {
    for (req, line) in requests().into_iter().chain(more_requests()) {
        let text = req.to_line(1);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v, line, "{}", req.command());
        assert_eq!(v["command"], req.command());
        // `id`, `command`, `args`, in that order, as docs/operations.md
        // writes them.
        assert!(text.starts_with("{\"id\":1,\"command\":"), "{text}");
        let (id, back) = decode_line(text.as_bytes());
        assert_eq!(id, json!(1));
        assert_eq!(back, Ok(req.clone()), "{text}");
        // As a serde type too, from the documented line.
        let back: Request = serde_json::from_value(line).unwrap();
        assert_eq!(back, req);
    }
}

#[test]
fn the_requests_cover_every_command() {
    let covered: BTreeSet<&str> = requests().iter().map(|(r, _)| r.command()).collect();
    let all: BTreeSet<&str> = COMMANDS.iter().copied().collect();
    assert_eq!(covered, all);
    assert_eq!(requests().len(), COMMANDS.len());
}

#[test]
fn commands_without_arguments_take_none_empty_or_null() {
    for (command, req) in [
        ("status", Request::Status),
        ("stats", Request::Stats),
        ("metrics", Request::Metrics),
        ("config.show", Request::ConfigShow),
        ("cluster", Request::Cluster),
        ("instance.drain", Request::InstanceDrain),
        ("instance.undrain", Request::InstanceUndrain),
        ("sessions.save", Request::SessionsSave),
        (
            "services.list",
            Request::ServicesList(ServiceFilter::default()),
        ),
        (
            "servers.list",
            Request::ServersList(ServiceFilter::default()),
        ),
        ("health", Request::Health(ServiceFilter::default())),
        (
            "sessions.list",
            Request::SessionsList(SessionFilter::default()),
        ),
        ("labels", Request::Labels(LabelFilter::default())),
        ("drops", Request::Drops(DropsArgs::default())),
        (
            "config.reload",
            Request::ConfigReload(ReloadArgs::default()),
        ),
    ] {
        for line in [
            format!(r#"{{"id": 7, "command": "{command}"}}"#),
            format!(r#"{{"id": 7, "command": "{command}", "args": {{}}}}"#),
            format!(r#"{{"id": 7, "command": "{command}", "args": null}}"#),
        ] {
            assert_eq!(
                decode_line(line.as_bytes()),
                (json!(7), Ok(req.clone())),
                "{line}"
            );
        }
    }
    // Null arguments are absent ones (slbctl up to 0.1 sent them so).
    let line = br#"{"id":1,"command":"sessions.list","args":{"client":null,"limit":100,"server":null,"service":null,"state":null}}"#;
    assert_eq!(
        decode_line(line).1,
        Ok(Request::SessionsList(SessionFilter {
            limit: Some(100),
            ..Default::default()
        }))
    );
    let line = br#"{"id":1,"command":"sessions.show","args":{"client":null,"client_port":null,"label":17,"protocol":"tcp","vip":null,"vip_port":null}}"#;
    assert_eq!(
        decode_line(line).1,
        Ok(Request::SessionsShow(SessionSelector::Label { label: 17 }))
    );
}

#[test]
fn the_protocol_defaults() {
    let line = br#"{"command":"sessions.show","args":{"client":"198.19.0.0","client_port":1024,"vip":"198.18.100.1","vip_port":80}}"#;
    let (id, r) = decode_line(line);
    assert_eq!(id, Value::Null);
    let Ok(Request::SessionsShow(SessionSelector::Key(k))) = r else {
        panic!("{r:?}")
    };
    assert_eq!(k.protocol, Protocol::Tcp);
    assert_eq!(SessionFilter::default().limit(), DEFAULT_LIMIT);
    assert_eq!(LabelFilter::default().limit(), 100);
    let u = ServerUpdate {
        service: "web".into(),
        server: "s1".into(),
        weight: Some(3),
        max_sessions: None,
        address: None,
        state: Some("drain".into()),
    };
    assert_eq!(
        Value::Object(u.fields()),
        json!({"weight": 3, "state": "drain"})
    );
    let u = ServiceUpdate {
        name: "web".into(),
        burst: Some(10),
        ..Default::default()
    };
    assert_eq!(Value::Object(u.fields()), json!({"burst": 10}));
}

/// A line, and the code and message slbd answers it with.
fn refused(line: &str) -> (String, String) {
    let e = decode_line(line.as_bytes()).1.unwrap_err();
    (e.code, e.message)
}

#[test]
fn bad_requests_get_the_code_and_a_message_naming_the_argument() {
    let invalid = |line: &str, message: &str| {
        assert_eq!(
            refused(line),
            (code::INVALID_ARGUMENT.to_string(), message.to_string()),
            "{line}"
        );
    };
    invalid(
        r#"{"command":"sessions.list","args":{"limit":-1}}"#,
        "limit: must be a non-negative integer (got -1)",
    );
    invalid(
        r#"{"command":"sessions.list","args":{"limit":0}}"#,
        "limit: between 1 and 100000 (got 0)",
    );
    invalid(
        r#"{"command":"labels","args":{"limit":100001}}"#,
        "limit: between 1 and 100000 (got 100001)",
    );
    invalid(
        r#"{"command":"drops","args":{"enable":"yes"}}"#,
        r#"enable: must be true or false (got "yes")"#,
    );
    invalid(
        r#"{"command":"drops","args":{"limit":0}}"#,
        "limit: between 1 and 100000 (got 0)",
    );
    invalid(
        r#"{"command":"labels","args":{"limit":"5"}}"#,
        r#"limit: must be a non-negative integer (got "5")"#,
    );
    invalid(
        r#"{"command":"sessions.list","args":{"origin":"elsewhere"}}"#,
        "origin: one of local, synced, restored, recovered_by_hash (got elsewhere)",
    );
    invalid(
        r#"{"command":"sessions.list","args":{"state":"open"}}"#,
        "state: one of syn_sent, established, closing, closing_client_fin, closing_server_fin, linger, reset, udp (got open)",
    );
    invalid(
        r#"{"command":"sessions.list","args":{"client":"nobody"}}"#,
        "client: not an IP address: nobody",
    );
    invalid(
        r#"{"command":"sessions.list","args":{"server":"s1"}}"#,
        "server: needs service",
    );
    invalid(
        r#"{"command":"sessions.list","args":{"service":7}}"#,
        "service: must be a string (got 7)",
    );
    invalid(
        r#"{"command":"sessions.show","args":{"label":4294967296}}"#,
        "label: at most 1048575",
    );
    invalid(
        r#"{"command":"sessions.show","args":{"client":"198.19.0.0"}}"#,
        "vip: required (or give label)",
    );
    invalid(
        r#"{"command":"sessions.show","args":{"vip":"198.18.100.1"}}"#,
        "vip_port: required",
    );
    invalid(
        r#"{"command":"sessions.show","args":{"vip":"198.18.100.1","vip_port":70000}}"#,
        "vip_port: at most 65535 (got 70000)",
    );
    invalid(
        r#"{"command":"sessions.show","args":{"protocol":"sctp"}}"#,
        "protocol: tcp or udp (got sctp)",
    );
    invalid(
        r#"{"command":"servers.drain","args":{"service":"web"}}"#,
        "server: required",
    );
    invalid(
        r#"{"command":"services.remove","args":{"name":5}}"#,
        "name: must be a string (got 5)",
    );
    invalid(
        r#"{"command":"servers.update","args":{"service":"web","server":"s1"}}"#,
        "nothing to update: give weight, max_sessions, address or state",
    );
    invalid(
        r#"{"command":"services.update","args":{"name":"web","servers":[]}}"#,
        "servers: change servers with servers.add/remove/update",
    );
    invalid(
        r#"{"command":"services.update","args":{"name":"web","algoritm":"maglev"}}"#,
        "algoritm: unknown field (expected one of name, vip, port, protocol, client_mode, algorithm, max_sessions, new_sessions_per_s, burst, refuse, allow, deny, health, servers)",
    );
    invalid(
        r#"{"command":"services.add","args":{"vip":"198.18.100.2"}}"#,
        "name: required",
    );
    invalid(
        r#"{"command":"services.add","args":{"name":"api","vip":"198.18.100.2","port":443,"protocol":"tcp"}}"#,
        "servers: required",
    );
    invalid(
        r#"{"command":"services.add","args":{"name":"api","vip":"198.18.100.2","port":443,"protocol":"tcp","servers":{}}}"#,
        "servers: must be an array (got {})",
    );
    invalid(
        r#"{"command":"services.add","args":{"name":"api","vip":"198.18.100.2","port":443,"protocol":"tcp","servers":[{"name":"a","address":"198.18.1.9","weight":-1}]}}"#,
        "servers[0].weight: must be a non-negative integer (got -1)",
    );
    invalid(
        r#"{"command":"services.add","args":{"name":"api","vip":"198.18.100.2","port":443,"protocol":"tcp","servers":[{"name":"a","address":"198.18.1.9","wieght":1}]}}"#,
        "servers[0].wieght: unknown field (expected one of name, address, weight, max_sessions, state)",
    );
    invalid(
        r#"{"command":"services.add","args":{"name":"api","vip":"198.18.100.2","port":443,"protocol":"tcp","health":{"rise":"2"},"servers":[]}}"#,
        r#"health.rise: must be a non-negative integer (got "2")"#,
    );
    invalid(
        r#"{"command":"servers.add","args":{"service":"web","name":"s3","address":"198.18.1.13","colour":"red"}}"#,
        "colour: unknown field (expected one of name, address, weight, max_sessions, state, service)",
    );
    invalid(
        r#"{"command":"status","args":[1]}"#,
        "args: must be an object",
    );
    // args are checked before the command, as slbd does.
    invalid(r#"{"command":"nope","args":5}"#, "args: must be an object");
}

#[test]
fn unreadable_lines_and_unknown_commands() {
    let (id, r) = decode_line(b"{\"id\": 3, \"command\": \"servers.frobnicate\"}");
    assert_eq!(id, json!(3));
    let e = r.unwrap_err();
    assert_eq!(e.code, code::UNKNOWN_COMMAND);
    assert!(
        e.message
            .starts_with("unknown command \"servers.frobnicate\"; commands: status, stats,"),
        "{e}"
    );
    for c in COMMANDS {
        assert!(e.message.contains(c), "{c} missing from {e}");
    }
    let (id, r) = decode_line(b"not json");
    assert_eq!(id, Value::Null);
    let e = r.unwrap_err();
    assert_eq!(e.code, code::PARSE_ERROR);
    assert!(e.message.starts_with("not JSON: "), "{e}");
    let (id, r) = decode_line(br#"{"id": "x", "args": {}}"#);
    assert_eq!(id, json!("x"));
    let e = r.unwrap_err();
    assert_eq!(e.code, code::PARSE_ERROR);
    assert!(
        e.message
            .starts_with(r#"not a request ({"id", "command", "args"}): missing field `command`"#),
        "{e}"
    );
    // Through serde, the same checks.
    let e =
        serde_json::from_str::<Request>(r#"{"command":"labels","args":{"limit":0}}"#).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("limit: between 1 and 100000 (got 0)"),
        "{e}"
    );
}

/// Where two JSON values differ first: a path and both values.
fn difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.keys()
                .chain(y.keys())
                .find_map(|k| match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => difference(p, q, &format!("{at}.{k}")),
                    (p, q) => Some(format!("{at}.{k}: {p:?} vs {q:?}")),
                })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| difference(p, q, &format!("{at}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{at}: {a} vs {b}")),
    }
}

/// A recorded answer: its `result` (or `error`).
fn answer(name: &str) -> Response {
    let path = format!("{}/tests/answers/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every recorded answer with the request it answers.
fn answers() -> Vec<(&'static str, Request)> {
    let filter = ServiceFilter::default;
    let web_s1 = || server_ref("web", "s1");
    vec![
        ("slbd-status", Request::Status),
        ("rig-status", Request::Status),
        ("slbd-stats", Request::Stats),
        ("rig-stats", Request::Stats),
        ("slbd-metrics", Request::Metrics),
        ("slbd-services.list", Request::ServicesList(filter())),
        ("rig-services.list", Request::ServicesList(filter())),
        ("slbd-servers.list", Request::ServersList(filter())),
        ("rig-servers.list", Request::ServersList(filter())),
        (
            "slbd-sessions.list",
            Request::SessionsList(SessionFilter::default()),
        ),
        (
            "rig-sessions.list",
            Request::SessionsList(SessionFilter::default()),
        ),
        (
            "rig-sessions.show",
            Request::SessionsShow(SessionSelector::Label { label: 17 }),
        ),
        (
            "rig-sessions.show-key",
            Request::SessionsShow(SessionSelector::Label { label: 19 }),
        ),
        ("slbd-labels", Request::Labels(LabelFilter::default())),
        ("rig-labels", Request::Labels(LabelFilter::default())),
        ("slbd-health", Request::Health(filter())),
        ("rig-health", Request::Health(filter())),
        ("rig-drops", Request::Drops(DropsArgs::default())),
        (
            "rig-rules.show",
            Request::RulesShow(RulesFilter {
                service: "resolver".into(),
            }),
        ),
        ("rig-cluster", Request::Cluster),
        ("rig-cluster-announce", Request::Cluster),
        ("rig-instance.drain", Request::InstanceDrain),
        ("rig-instance.undrain", Request::InstanceUndrain),
        ("slbd-config.show", Request::ConfigShow),
        ("slbd-sessions.save", Request::SessionsSave),
        ("rig-config.show", Request::ConfigShow),
        (
            "slbd-config.reload",
            Request::ConfigReload(ReloadArgs::default()),
        ),
        ("slbd-servers.drain", Request::ServersDrain(web_s1())),
        ("slbd-servers.enable", Request::ServersEnable(web_s1())),
        ("slbd-servers.disable", Request::ServersDisable(web_s1())),
        ("slbd-servers.remove", Request::ServersRemove(web_s1())),
        (
            "slbd-servers.update",
            Request::ServersUpdate(ServerUpdate {
                service: "web".into(),
                server: "s2".into(),
                weight: Some(3),
                max_sessions: None,
                address: None,
                state: None,
            }),
        ),
        (
            "slbd-servers.add",
            Request::ServersAdd(ServerAdd {
                service: "web".into(),
                server: ServerSpec {
                    name: "s3".into(),
                    address: "198.18.1.13".into(),
                    weight: None,
                    max_sessions: None,
                    state: None,
                },
            }),
        ),
        (
            "slbd-services.remove",
            Request::ServicesRemove(ServiceName { name: "api".into() }),
        ),
        (
            "slbd-services.update",
            Request::ServicesUpdate(ServiceUpdate {
                name: "api".into(),
                ..Default::default()
            }),
        ),
        (
            "slbd-services.add",
            Request::ServicesAdd(ServiceSpec {
                name: "api".into(),
                vip: "198.18.100.3".into(),
                port: 443,
                protocol: "tcp".into(),
                client_mode: None,
                algorithm: None,
                max_sessions: None,
                new_sessions_per_s: None,
                burst: None,
                refuse: None,
                allow: None,
                deny: None,
                health: None,
                servers: vec![],
            }),
        ),
    ]
}

#[test]
fn every_result_decodes_from_a_real_answer_and_encodes_back() {
    let mut covered = BTreeSet::new();
    for (name, req) in answers() {
        let result = answer(name).into_result().unwrap();
        let reply = req
            .reply(result.clone())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let back = serde_json::to_value(&reply).unwrap();
        if let Some(d) = difference(&back, &result, "result") {
            panic!("{name}: re-encoded differs at {d}");
        }
        covered.insert(req.command());
    }
    let all: BTreeSet<&str> = COMMANDS.iter().copied().collect();
    assert_eq!(covered, all, "a command without a recorded answer");
}

#[test]
fn the_answers_hold_what_may_be_null_or_absent() {
    let reply = |name: &str, req: Request| req.reply(answer(name).into_result().unwrap()).unwrap();
    // No lcores, no ports, no configuration file: the golden rig.
    let Reply::Status(s) = reply("rig-status", Request::Status) else {
        panic!()
    };
    assert_eq!((s.lcores, s.config, s.ports.len()), (None, None, 0));
    let Reply::Status(s) = reply("slbd-status", Request::Status) else {
        panic!()
    };
    assert_eq!(s.lcores.unwrap().workers, [2]);
    // Rates before the first sample; the scheduler has no poll loop.
    let Reply::Stats(s) = reply("rig-stats", Request::Stats) else {
        panic!()
    };
    assert_eq!(s.rates, None);
    assert!(s.cores.iter().all(|c| c.poll_loop.is_none()));
    assert_eq!(s.refusals["session_limit"], 1);
    let Reply::Stats(s) = reply("slbd-stats", Request::Stats) else {
        panic!()
    };
    assert!(s.rates.is_some());
    assert_eq!(s.cores[0].poll_loop, None);
    assert!(s.cores[1].poll_loop.is_some());
    // A server being removed has no health monitor and no name.
    let Reply::ServersList(l) = reply("rig-servers.list", Request::ServersList(Default::default()))
    else {
        panic!()
    };
    let gone = &l.servers[1];
    assert_eq!(
        (gone.admin_state.as_str(), gone.health.is_none()),
        ("removing", true)
    );
    assert_eq!(gone.name, gone.address);
    assert!(l.servers[0].response_time_us.is_some());
    // Unresolved next hops.
    let Reply::Labels(l) = reply("rig-labels", Request::Labels(Default::default())) else {
        panic!()
    };
    assert!(l
        .labels
        .iter()
        .any(|r| r.out_port.is_none() && r.next_hop_mac.is_none()));
}

#[test]
fn events_and_rates_by_name_are_every_key() {
    let result = answer("rig-stats").into_result().unwrap();
    let Reply::Stats(s) = Request::Stats.reply(result.clone()).unwrap() else {
        panic!()
    };
    let names: Vec<&str> = s.events.by_name().iter().map(|e| e.0).collect();
    let keys: Vec<&str> = result["events"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, keys);
    assert_eq!(names[0], "switched_c2s");
    assert!(s.events.by_name().contains(&("sessions_admitted", 6)));
    let result = answer("slbd-stats").into_result().unwrap();
    let Reply::Stats(s) = Request::Stats.reply(result.clone()).unwrap() else {
        panic!()
    };
    let rates: Vec<&str> = s.rates.unwrap().by_name().iter().map(|r| r.0).collect();
    let keys: Vec<&str> = result["rates"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(rates, keys, "in name order");
}

#[test]
fn answers_from_typed_results() {
    let edit = Edit {
        applied: Applied {
            changed: true,
            changes: vec!["service web: server s1: state Up -> Drain".into()],
        },
        done: "server s1 of service web: drain".into(),
    };
    let r = Response::answer(json!(4), Ok(edit));
    let line = serde_json::to_value(&r).unwrap();
    assert_eq!(
        line,
        json!({"id": 4, "result": {"changed": true, "changes": ["service web: server s1: state Up -> Drain"],
               "done": "server s1 of service web: drain"}})
    );
    let e = ErrorBody::new(code::UNKNOWN_SERVER, "service web has no server s9");
    let r = Response::answer::<Edit>(json!(5), Err(e.clone()));
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"id": 5, "error": {"code": "unknown_server", "message": "service web has no server s9"}})
    );
}

#[test]
fn a_renamed_or_missing_field_does_not_decode() {
    let mut result = answer("slbd-servers.list").into_result().unwrap();
    let server = result["servers"][0].as_object_mut().unwrap();
    let v = server.remove("admin_state").unwrap();
    server.insert("operator_state".into(), v);
    let e = Request::ServersList(ServiceFilter::default())
        .reply(result)
        .unwrap_err();
    assert!(e.to_string().contains("admin_state"), "{e}");
    // An integer where a float is fine; a float where an integer is not.
    let mut result = answer("slbd-stats").into_result().unwrap();
    result["totals"]["drops"] = json!(1.5);
    assert!(Request::Stats.reply(result).is_err());
}

#[test]
fn errors_decode_as_recorded() {
    let e = answer("rig-error-limit").into_result().unwrap_err();
    assert_eq!(
        e,
        ErrorBody::new(
            code::INVALID_ARGUMENT,
            "limit: must be a non-negative integer (got -1)"
        )
    );
    // The same message from the protocol's own decoding.
    assert_eq!(
        Request::decode("sessions.list", &json!({"limit": -1})).unwrap_err(),
        e
    );
    let e = answer("rig-error-unknown-session")
        .into_result()
        .unwrap_err();
    assert_eq!(e.code, code::UNKNOWN_SESSION);
}

#[test]
fn rules_show_needs_a_service_and_reads_its_rules() {
    let e = Request::decode("rules.show", &json!({})).unwrap_err();
    assert_eq!(e.code, code::INVALID_ARGUMENT);
    assert!(e.message.starts_with("service"), "{}", e.message);
    let e = Request::decode("rules.show", &json!({"service": 7})).unwrap_err();
    assert!(e.message.starts_with("service"), "{}", e.message);
    let req = Request::RulesShow(RulesFilter {
        service: "resolver".into(),
    });
    let Reply::RulesShow(r) = req
        .reply(answer("rig-rules.show").into_result().unwrap())
        .unwrap()
    else {
        panic!("not rules")
    };
    assert_eq!(r.service, "resolver");
    let names: Vec<&str> = r.rules.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["corp-aaaa", "corp-any", "public"]);
    assert_eq!(r.rules[0].matches, "suffix corp.example, type AAAA");
    assert_eq!((r.rules[0].index, r.rules[2].index), (0, 2));
    assert_eq!(r.rules[2].pool, "default");
    let reasons: BTreeSet<&str> = r
        .default_pool
        .fallbacks
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(reasons, FALLBACK_REASONS.iter().copied().collect());
    assert_eq!(r.default_pool.fallbacks["malformed"], 1);
    assert_eq!(r.first_data.wait_ms, 100);
    // The wire name of the match is `match`.
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["rules"][1]["match"], "suffix corp.example");
}
