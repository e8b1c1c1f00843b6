//! slbctl's text output, rendered from the typed results of recorded
//! answers (`proto/tests/answers/`), is byte for byte what slbctl printed
//! for the same answers before the protocol was typed (`tests/render/`,
//! recorded with slbctl at 4c318e7 against a socket replaying them; remade
//! with `SLBCTL_RECORD=1` only when the output changes on purpose). And
//! the client speaks the protocol: a typed request goes out as its line,
//! its answer comes back typed.

use serde_json::Value;
use slb_ctl::client::{CallError, Client};
use slb_ctl::render::render;
use slb_proto::*;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;

fn answer(name: &str) -> String {
    let path = format!(
        "{}/../proto/tests/answers/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn result(name: &str) -> Value {
    let r: Response = serde_json::from_str(&answer(name)).unwrap();
    r.into_result().unwrap()
}

fn expected(case: &str) -> String {
    let path = format!("{}/tests/render/{case}.txt", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn server_ref() -> ServerRef {
    ServerRef {
        service: "web".into(),
        server: "s1".into(),
    }
}

/// (case, recorded answer, the request it answers).
fn cases() -> Vec<(&'static str, &'static str, Request)> {
    let all = ServiceFilter::default;
    let edit = Request::ServersDrain(server_ref());
    vec![
        ("status", "slbd-status", Request::Status),
        ("status-rig", "rig-status", Request::Status),
        ("stats", "slbd-stats", Request::Stats),
        ("stats-rig", "rig-stats", Request::Stats),
        ("metrics", "slbd-metrics", Request::Metrics),
        (
            "services-list",
            "slbd-services.list",
            Request::ServicesList(all()),
        ),
        (
            "services-list-rig",
            "rig-services.list",
            Request::ServicesList(all()),
        ),
        (
            "servers-list",
            "slbd-servers.list",
            Request::ServersList(all()),
        ),
        (
            "servers-list-rig",
            "rig-servers.list",
            Request::ServersList(all()),
        ),
        (
            "sessions-list",
            "slbd-sessions.list",
            Request::SessionsList(SessionFilter::default()),
        ),
        (
            "sessions-list-rig",
            "rig-sessions.list",
            Request::SessionsList(SessionFilter::default()),
        ),
        (
            "sessions-show",
            "rig-sessions.show",
            Request::SessionsShow(SessionSelector::Label { label: 17 }),
        ),
        (
            "sessions-show-key",
            "rig-sessions.show-key",
            Request::SessionsShow(SessionSelector::Label { label: 19 }),
        ),
        (
            "labels",
            "slbd-labels",
            Request::Labels(LabelFilter::default()),
        ),
        (
            "labels-rig",
            "rig-labels",
            Request::Labels(LabelFilter::default()),
        ),
        ("health", "slbd-health", Request::Health(all())),
        ("health-rig", "rig-health", Request::Health(all())),
        (
            "rules",
            "rig-rules.show",
            Request::RulesShow(RulesFilter {
                service: "resolver".into(),
            }),
        ),
        ("config-show", "slbd-config.show", Request::ConfigShow),
        ("config-show-rig", "rig-config.show", Request::ConfigShow),
        (
            "config-reload",
            "slbd-config.reload",
            Request::ConfigReload(ReloadArgs::default()),
        ),
        ("servers-drain", "slbd-servers.drain", edit.clone()),
        ("servers-update", "slbd-servers.update", edit.clone()),
        ("servers-add", "slbd-servers.add", edit.clone()),
        ("services-add", "slbd-services.add", edit.clone()),
        ("services-update", "slbd-services.update", edit.clone()),
        ("servers-disable", "slbd-servers.disable", edit.clone()),
        ("servers-enable", "slbd-servers.enable", edit.clone()),
        ("servers-remove", "slbd-servers.remove", edit.clone()),
        ("services-remove", "slbd-services.remove", edit),
    ]
}

#[test]
fn every_command_renders_as_slbctl_printed_it() {
    let cases = cases();
    let recorded = std::fs::read_dir(format!("{}/tests/render", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
        .count();
    assert_eq!(cases.len(), recorded, "a recorded output without a case");
    // `SLBCTL_RECORD=1` writes the outputs instead (only after a change of
    // slbctl's output that is meant, as in `recorded.rs`).
    let record = std::env::var_os("SLBCTL_RECORD").is_some_and(|v| v == "1");
    for (case, answer, req) in cases {
        let reply = req
            .reply(result(answer))
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        let text = render(&reply);
        if record {
            let path = format!("{}/tests/render/{case}.txt", env!("CARGO_MANIFEST_DIR"));
            std::fs::write(path, &text).unwrap();
            continue;
        }
        let want = expected(case);
        if text != want {
            panic!("{case}: rendered\n{text}\nslbctl printed\n{want}");
        }
    }
}

/// A fake slbd answering one connection's requests with `answers`, in
/// turn; returns the request lines it read.
fn fake_slbd(
    socket: &std::path::Path,
    answers: Vec<String>,
) -> std::thread::JoinHandle<Vec<String>> {
    let l = UnixListener::bind(socket).unwrap();
    std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        let mut lines = Vec::new();
        for a in answers {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            lines.push(line);
            w.write_all(a.as_bytes()).unwrap();
        }
        lines
    })
}

#[test]
fn the_client_sends_typed_requests_and_decodes_their_results() {
    let dir = std::env::temp_dir().join(format!("slbctl-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("slbd.sock");
    let _ = std::fs::remove_file(&socket);
    let mut broken: Value = serde_json::from_str(&answer("slbd-status")).unwrap();
    broken["result"].as_object_mut().unwrap().remove("version");
    let slbd = fake_slbd(
        &socket,
        vec![
            answer("slbd-status"),
            answer("rig-error-unknown-session"),
            answer("slbd-servers.drain"),
            format!("{broken}\n"),
            answer("slbd-status"),
        ],
    );
    let mut c = Client::connect(&socket).unwrap();
    let Reply::Status(s) = c.request(&Request::Status).unwrap() else {
        panic!("not a status")
    };
    assert_eq!(s.lcores.unwrap().workers, [2]);
    let e = c
        .request(&Request::SessionsShow(SessionSelector::Label {
            label: 99999,
        }))
        .unwrap_err();
    let CallError::Remote(e) = e else {
        panic!("{e}")
    };
    assert_eq!(e.code, code::UNKNOWN_SESSION);
    let Reply::Edit(r) = c.request(&Request::ServersDrain(server_ref())).unwrap() else {
        panic!("not an edit")
    };
    assert_eq!(r.done, "server s1 of service web: drain");
    // A result that lacks a field is a protocol error, not blanks.
    let e = c.request(&Request::Status).unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("status result") && m.contains("version")),
        "{e}"
    );
    // The untyped call still works.
    let v = c.call("status", serde_json::json!({})).unwrap();
    assert_eq!(v["workers"], 1);
    drop(c);
    let lines = slbd.join().unwrap();
    assert_eq!(
        lines,
        [
            "{\"id\":1,\"command\":\"status\"}\n",
            "{\"id\":2,\"command\":\"sessions.show\",\"args\":{\"label\":99999}}\n",
            "{\"id\":3,\"command\":\"servers.drain\",\"args\":{\"service\":\"web\",\"server\":\"s1\"}}\n",
            "{\"id\":4,\"command\":\"status\"}\n",
            "{\"id\":5,\"command\":\"status\",\"args\":{}}\n",
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
