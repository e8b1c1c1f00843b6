//! Restart with state (issue 15) on a real slbd (net_null ports without
//! RX): `--save-state` written as slbd stops (SIGTERM) and on
//! `sessions.save`, `--restore` reinstalling sessions (origin `restored`)
//! and replaying runtime changes, and a corrupt, a truncated and an
//! other-version file each refused with a clear error and a clean empty
//! start. Needs slbd and slbctl built (`cargo build --workspace --bins`).

use serde_json::{json, Value};
use slb_appliance::state_file::{State, VERSION};
use slb_core::{Protocol, SessionKey, SessionRecord, SessionState};
use slb_ctl::client::{CallError, Client};
use slb_tests::slbd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One slbd at a time on this 2-CPU machine.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const CONFIG: &str = r#"{
  "ports": [
    { "name": "client", "device": "net_null0", "role": "client", "ipv4": "198.18.0.1/24" },
    { "name": "server", "device": "net_null1", "role": "server", "ipv4": "198.18.1.1/24" }
  ],
  "neighbours": [ { "address": "198.18.1.11", "mac": "02:5e:00:00:01:11" } ],
  "services": [
    { "name": "web", "vip": "198.18.100.1", "port": 80, "protocol": "tcp",
      "servers": [ { "name": "s1", "address": "198.18.1.11" }, { "name": "s2", "address": "198.18.1.12" } ] }
  ]
}"#;

/// A running slbd; killed on drop (also when a test fails).
struct Slbd {
    child: Child,
    socket: PathBuf,
    log: PathBuf,
}

impl Drop for Slbd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test's directory (configuration, state files, logs) and its turn.
struct Bench {
    dir: tempfile::TempDir,
    _lock: std::sync::MutexGuard<'static, ()>,
}

impl Bench {
    fn new() -> Bench {
        let lock = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("slbd.json"), CONFIG).unwrap();
        Bench { dir, _lock: lock }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Starts slbd (run `run`, for its log's name) with `extra` options
    /// and waits for its control socket.
    fn start(&self, run: &str, extra: &[&Path], flags: &[&str]) -> Slbd {
        let socket = self.path(&format!("{run}.sock"));
        let mut args = slbd::null_ports_args(512, &self.path("slbd.json"), &socket);
        args.extend(["--idle-sleep-us", "200", "--duration", "120"].map(String::from));
        for (flag, p) in flags.iter().zip(extra) {
            args.push(flag.to_string());
            args.push(p.display().to_string());
        }
        let log = self.path(&format!("{run}.log"));
        let child = Command::new(slbd::binary())
            .args(&args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start slbd");
        let s = Slbd { child, socket, log };
        let t0 = Instant::now();
        while UnixStream::connect(&s.socket).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "no control socket: {}",
                s.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // The socket is bound before the data path is built: the first
        // answer comes once slbd runs (and has logged its restore).
        s.call("status", json!({})).unwrap();
        s
    }
}

impl Slbd {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn call(&self, command: &str, args: Value) -> Result<Value, String> {
        match Client::connect(&self.socket).unwrap().call(command, args) {
            Ok(v) => Ok(v),
            Err(CallError::Remote(e)) => Err(format!("{}: {}", e.code, e.message)),
            Err(e) => panic!("{command}: {e}"),
        }
    }

    fn sessions(&self) -> Vec<Value> {
        let l = self.call("sessions.list", json!({})).unwrap();
        l["sessions"].as_array().cloned().unwrap_or_default()
    }

    fn server(&self, name: &str) -> Value {
        let l = self.call("servers.list", json!({})).unwrap();
        l["servers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no server {name}: {l}"))
    }

    /// SIGTERM, then waits for slbd to exit.
    fn terminate(mut self) -> (ExitStatus, String) {
        let st = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let t0 = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return (st, self.log());
            }
            assert!(t0.elapsed() < Duration::from_secs(30), "slbd did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn record(client_port: u16, c2s: u32, server: &str, vip: &str, remaining_ms: u32) -> SessionRecord {
    SessionRecord {
        key: SessionKey {
            protocol: Protocol::Tcp,
            vip: vip.parse().unwrap(),
            vip_port: 80,
            client: "198.18.0.50".parse().unwrap(),
            client_port,
        },
        c2s,
        server: server.parse().unwrap(),
        client_mac: [0x02, 0x5e, 0, 0, 0, 0x50],
        ingress_port: 0,
        state: SessionState::Established,
        remaining_ms,
        age_ms: 1000,
        replied: true,
        ended: false,
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A state file for `CONFIG`: two sessions that fit, one whose server and
/// one whose service is not there, one whose time ran out; a pair in
/// quarantine; a drain of s2 and a change that no longer applies.
fn good_state() -> State {
    let web = "198.18.100.1";
    let mut s = State {
        saved_at_ms: now_ms() - 2000,
        sessions: vec![
            record(40001, 1001, "198.18.1.11", web, 600_000),
            record(40002, 1003, "198.18.1.11", web, 500_000),
            record(40003, 1005, "198.18.1.99", web, 600_000),
            record(40004, 1007, "198.18.1.11", "198.18.100.9", 600_000),
            record(40005, 1009, "198.18.1.11", web, 1500),
        ],
        quarantined: vec![(2001, 60_000)],
        changes: vec![
            r#"{"id":1,"command":"servers.drain","args":{"service":"web","server":"s2"}}"#.into(),
            r#"{"id":2,"command":"servers.update","args":{"service":"web","server":"s9","weight":7}}"#
                .into(),
            r#"{"id":3,"command":"servers.update","args":{"service":"web","server":"s1","weight":5}}"#
                .into(),
        ],
    };
    s.sort();
    s
}

#[test]
fn a_restore_reinstalls_sessions_and_changes_and_a_restart_keeps_them() {
    let b = Bench::new();
    let (first, second) = (b.path("first.state"), b.path("second.state"));
    good_state().save(&first).unwrap();
    let a = b.start("a", &[&first, &second], &["--restore", "--save-state"]);
    let log = a.log();
    assert!(
        log.contains(
            "restored 2 sessions, dropped 3 (expired 1, no_server 1, no_service 1), \
             1 label pairs in quarantine, replayed 2 changes (1 failed)"
        ),
        "{log}"
    );
    assert!(log.contains("service web has no server s9"), "{log}");
    let sessions = a.sessions();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    for s in &sessions {
        assert_eq!(s["origin"], "restored", "{s}");
        assert_eq!(s["server"], "s1", "{s}");
    }
    let labels: Vec<u64> = sessions
        .iter()
        .map(|s| s["c2s_label"].as_u64().unwrap())
        .collect();
    assert!(
        labels.contains(&1001) && labels.contains(&1003),
        "{labels:?}"
    );
    assert_eq!(a.server("s2")["admin_state"], "drain");
    assert_eq!(a.server("s1")["weight"], 5);
    let stats = a.call("stats", json!({})).unwrap();
    assert_eq!(stats["events"]["restored"], 2, "{}", stats["events"]);
    assert_eq!(stats["events"]["install_no_server"], 1);
    assert_eq!(stats["events"]["install_no_service"], 1);
    assert_eq!(
        stats["labels"]["quarantined_pairs"], 1,
        "{}",
        stats["labels"]
    );
    // A change over the socket joins the replayed ones.
    a.call(
        "servers.update",
        json!({"service": "web", "server": "s2", "max_sessions": 9}),
    )
    .unwrap();
    // sessions.save writes the file now.
    let saved = a.call("sessions.save", json!({})).unwrap();
    assert_eq!(saved["sessions"], 2, "{saved}");
    assert_eq!(saved["changes"], 3, "{saved}");
    assert_eq!(saved["path"], second.display().to_string());
    let on_disk = State::load(&second).unwrap();
    assert_eq!(on_disk.sessions.len(), 2);
    assert_eq!(
        saved["bytes"].as_u64().unwrap(),
        std::fs::metadata(&second).unwrap().len()
    );
    // SIGTERM writes it again as slbd stops.
    std::fs::remove_file(&second).unwrap();
    let (st, log) = a.terminate();
    assert!(st.success(), "{st}: {log}");
    assert!(
        log.contains("saved 2 sessions (0 left out), 1 label pairs in quarantine, 3 changes"),
        "{log}"
    );
    let state = State::load(&second).unwrap();
    assert_eq!(state.sessions.len(), 2);
    assert_eq!(state.changes.len(), 3, "{:?}", state.changes);
    // The next run gets everything back, from its own file.
    let c = b.start("c", &[&second], &["--restore"]);
    let log = c.log();
    assert!(
        log.contains("restored 2 sessions, dropped 0, 1 label pairs in quarantine, replayed 3 changes (0 failed)"),
        "{log}"
    );
    assert_eq!(c.sessions().len(), 2);
    assert_eq!(c.server("s2")["admin_state"], "drain");
    assert_eq!(c.server("s2")["max_sessions"], 9);
    assert_eq!(c.server("s1")["weight"], 5);
    // Without --save-state, sessions.save has nowhere to write.
    let e = c.call("sessions.save", json!({})).unwrap_err();
    assert!(
        e.starts_with("no_state_file: slbd runs without --save-state"),
        "{e}"
    );
}

#[test]
fn a_reload_resets_the_change_log() {
    let b = Bench::new();
    let state = b.path("s.state");
    let a = b.start("a", &[&state], &["--save-state"]);
    a.call("servers.drain", json!({"service": "web", "server": "s1"}))
        .unwrap();
    assert_eq!(a.call("sessions.save", json!({})).unwrap()["changes"], 1);
    a.call("config.reload", json!({})).unwrap();
    assert_eq!(a.call("sessions.save", json!({})).unwrap()["changes"], 0);
    let other = b.path("other.json");
    std::fs::write(&other, CONFIG.replace("\"s2\"", "\"s3\"")).unwrap();
    a.call(
        "config.reload",
        json!({"path": other.display().to_string()}),
    )
    .unwrap();
    a.call("servers.drain", json!({"service": "web", "server": "s3"}))
        .unwrap();
    assert_eq!(a.call("sessions.save", json!({})).unwrap()["changes"], 2);
    let (st, log) = a.terminate();
    assert!(st.success(), "{log}");
    // The restart reads the other file again, then drains s3.
    let c = b.start("c", &[&state], &["--restore"]);
    assert!(
        c.log().contains("replayed 2 changes (0 failed)"),
        "{}",
        c.log()
    );
    assert_eq!(c.server("s3")["admin_state"], "drain");
}

/// A bad state file: the error names the file and what is wrong, and
/// slbd runs the configuration with nothing of the file: no session, no
/// quarantined pair, no replayed change.
fn refused(name: &str, bytes: &[u8], error: &str) {
    let b = Bench::new();
    let path = b.path(name);
    std::fs::write(&path, bytes).unwrap();
    let a = b.start("a", &[&path], &["--restore"]);
    let log = a.log();
    let line = format!("slbd: --restore {}: {error}", path.display());
    assert!(log.contains(&line), "wanted {line:?} in:\n{log}");
    assert!(log.contains("; starting with nothing restored"), "{log}");
    assert!(!log.contains("restored 2 sessions"), "{log}");
    assert!(a.sessions().is_empty());
    let stats = a.call("stats", json!({})).unwrap();
    assert_eq!(stats["totals"]["sessions"], 0);
    assert_eq!(stats["events"]["restored"], 0);
    assert_eq!(stats["labels"]["quarantined_pairs"], 0);
    assert_eq!(a.server("s2")["admin_state"], "up");
    assert_eq!(a.server("s1")["weight"], 1);
    assert_eq!(a.call("status", json!({})).unwrap()["services"], 1);
}

#[test]
fn a_corrupt_state_file_is_refused_and_slbd_starts_empty() {
    let (mut bytes, _) = good_state().encode();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x10;
    refused("corrupt.state", &bytes, "corrupt: checksum");
}

#[test]
fn a_truncated_state_file_is_refused_and_slbd_starts_empty() {
    let (bytes, _) = good_state().encode();
    let cut = bytes.len() - 7;
    refused(
        "truncated.state",
        &bytes[..cut],
        &format!("truncated: {} bytes expected, {cut} present", bytes.len()),
    );
}

#[test]
fn a_state_file_of_another_version_is_refused_and_slbd_starts_empty() {
    let (mut bytes, _) = good_state().encode();
    bytes[8..10].copy_from_slice(&(VERSION + 1).to_be_bytes());
    refused(
        "v2.state",
        &bytes,
        &format!(
            "state file version {}; this slbd reads version {VERSION}",
            VERSION + 1
        ),
    );
}

#[test]
fn a_file_that_is_no_state_file_is_refused_and_slbd_starts_empty() {
    refused(
        "slbd.json.state",
        CONFIG.as_bytes(),
        "not an slbd state file",
    );
}
