//! slbctl's output, compared against a recorded run (issue 12: the output
//! of every command stays the same when the protocol becomes typed).
//!
//! `tests/recorded/NN-name.json` holds what slbd answered to one slbctl
//! command line, recorded from the code before the change by
//! `slb-ctl-record` (`tests/src/bin/slb-ctl-record.rs`, which says how to
//! remake it): slbctl's arguments and each request line slbctl sent with
//! the answer. `NN-name.out` holds what slbctl printed: exit code, stdout,
//! stderr.
//!
//! Each case runs the `slbctl` binary against a Unix socket served here,
//! which checks that each request slbctl sends is the recorded one
//! (command and args; an argument recorded as `null` may be left out, as
//! slbd reads the two alike) and answers it with the recorded answer line
//! and the request's `id`. Output must then match `NN-name.out` byte for
//! byte, with two exceptions, both for what varies from run to run:
//! - the socket path (a temporary directory) reads `<socket>`;
//! - `stats --watch`: the elapsed time and the four rate columns depend on
//!   the wall clock between slbctl's readings. Each such line is checked
//!   instead (the columns aligned as recorded, the rates the recorded
//!   counter differences over one common interval, the time in range) and
//!   its time and rates read `<t>` and `<r>`; the header and the sessions
//!   column are compared as they are.
//!
//! `SLBCTL_RECORD=1` writes the `.out` files instead of comparing (only
//! to remake the recording, never to accept a changed output).

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/recorded");
const SLBCTL: &str = env!("CARGO_BIN_EXE_slbctl");
const SOCKET: &str = "<socket>";

/// Every command slbd serves, as recorded (slb_ctl::protocol::COMMANDS
/// before issue 12): each must be in the recording.
const COMMANDS: &[&str] = &[
    "status",
    "stats",
    "metrics",
    "services.list",
    "services.add",
    "services.remove",
    "services.update",
    "servers.list",
    "servers.add",
    "servers.remove",
    "servers.update",
    "servers.drain",
    "servers.enable",
    "servers.disable",
    "sessions.list",
    "sessions.show",
    "labels",
    "health",
    "rules.show",
    "cluster",
    "config.show",
    "config.reload",
];

/// Every slbctl subcommand: each must be in the recording, with a table
/// and a `--json` run where the two differ.
const SUBCOMMANDS: &[&[&str]] = &[
    &["status"],
    &["stats"],
    &["metrics"],
    &["services", "list"],
    &["services", "add"],
    &["services", "remove"],
    &["services", "update"],
    &["servers", "list"],
    &["servers", "add"],
    &["servers", "remove"],
    &["servers", "update"],
    &["servers", "drain"],
    &["servers", "enable"],
    &["servers", "disable"],
    &["sessions", "list"],
    &["sessions", "show"],
    &["labels"],
    &["health"],
    &["rules"],
    &["cluster"],
    &["config", "show"],
    &["config", "reload"],
    &["raw"],
];

struct Case {
    name: String,
    argv: Vec<String>,
    /// No socket at all (slbd not running).
    socket_missing: bool,
    /// (request, response) in order.
    exchanges: Vec<(Value, Value)>,
}

fn cases() -> Vec<Case> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(DIR)
        .unwrap_or_else(|e| panic!("{DIR}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let v: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let exchanges = v["exchanges"]
                .as_array()
                .unwrap_or_else(|| panic!("{}: no exchanges", p.display()))
                .iter()
                .map(|e| (e["request"].clone(), e["response"].clone()))
                .collect();
            Case {
                name: p.file_stem().unwrap().to_string_lossy().into_owned(),
                argv: v["argv"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{}: no argv", p.display()))
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect(),
                socket_missing: v["socket"] == "missing",
                exchanges,
            }
        })
        .collect()
}

/// slbd's answer line: `id`, then `result` or `error`, compact JSON.
fn response_line(id: &Value, response: &Value) -> String {
    let mut s = format!("{{\"id\":{id}");
    for k in ["result", "error"] {
        if let Some(v) = response.get(k) {
            s.push_str(&format!(",\"{k}\":{v}"));
        }
    }
    s.push('}');
    s
}

/// Why `got` is not the `recorded` request (command and args), if it is
/// not.
fn request_differs(recorded: &Value, got: &Value) -> Option<String> {
    let args = |v: &Value| match v.get("args") {
        None | Some(Value::Null) => json!({}),
        Some(a) => a.clone(),
    };
    let (mut want, have) = (args(recorded), args(got));
    if let (Some(w), Some(h)) = (want.as_object_mut(), have.as_object()) {
        w.retain(|k, v| !v.is_null() || h.contains_key(k));
    }
    (recorded.get("command") != got.get("command") || want != have).then(|| {
        format!(
            "slbctl sent {}\n  the recording has {}",
            json!({ "command": got.get("command"), "args": got.get("args") }),
            json!({ "command": recorded.get("command"), "args": recorded.get("args") })
        )
    })
}

/// The fake slbd: answers the recorded exchanges in order. Returns the
/// problems seen (wrong or extra requests, missing ones).
fn serve(
    listener: UnixListener,
    exchanges: Vec<(Value, Value)>,
    stop: Arc<AtomicBool>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut next = 0;
    'accept: while !stop.load(Ordering::Relaxed) {
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
            Err(e) => {
                problems.push(format!("accept: {e}"));
                break;
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut w = stream.try_clone().unwrap();
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if line.trim().is_empty() {
                continue;
            }
            let Some((want, answer)) = exchanges.get(next) else {
                problems.push(format!(
                    "request {} is not in the recording: {line}",
                    next + 1
                ));
                break 'accept;
            };
            next += 1;
            let got: Value = match serde_json::from_str(&line) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(format!("request {next} is not JSON ({e}): {line}"));
                    break 'accept;
                }
            };
            if let Some(d) = request_differs(want, &got) {
                problems.push(format!("request {next}: {d}"));
            }
            let id = got.get("id").cloned().unwrap_or(Value::Null);
            let _ = writeln!(w, "{}", response_line(&id, answer));
        }
    }
    if next < exchanges.len() {
        problems.push(format!(
            "slbctl sent {next} request(s); the recording has {}",
            exchanges.len()
        ));
    }
    problems
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    problems: Vec<String>,
}

fn run(case: &Case, tmp: &Path) -> Run {
    let sock = tmp.join(format!("{}.sock", &case.name[..2]));
    let _ = std::fs::remove_file(&sock);
    let stop = Arc::new(AtomicBool::new(false));
    let server: Option<JoinHandle<Vec<String>>> = (!case.socket_missing).then(|| {
        let l = UnixListener::bind(&sock).unwrap();
        l.set_nonblocking(true).unwrap();
        let (ex, stop) = (case.exchanges.clone(), stop.clone());
        std::thread::spawn(move || serve(l, ex, stop))
    });
    let out = Command::new(SLBCTL)
        .arg("--socket")
        .arg(&sock)
        .args(&case.argv)
        .env_remove("CLICOLOR_FORCE")
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    let problems = server
        .map(|s| s.join().expect("fake slbd panicked"))
        .unwrap_or_default();
    let _ = std::fs::remove_file(&sock);
    let text = |b: &[u8]| String::from_utf8_lossy(b).replace(sock.to_str().unwrap(), SOCKET);
    Run {
        code: out.status.code(),
        stdout: text(&out.stdout),
        stderr: text(&out.stderr),
        problems,
    }
}

/// `stats --watch` lines: checked, then time and rates replaced (see the
/// file's doc).
fn normalise_watch(case: &Case, stdout: &str) -> Result<String, String> {
    let interval: f64 = case
        .argv
        .iter()
        .position(|a| a == "--interval")
        .map(|i| case.argv[i + 1].parse().unwrap())
        .unwrap_or(1.0);
    let totals: Vec<[f64; 4]> = case
        .exchanges
        .iter()
        .map(|(_, r)| {
            let t = &r["result"]["totals"];
            ["rx_packets", "tx_packets", "sessions_admitted", "drops"]
                .map(|k| t[k].as_f64().expect("recorded totals"))
        })
        .collect();
    let fmt = |c: [&str; 6]| {
        format!(
            "{:>8} {:>12} {:>12} {:>12} {:>12} {:>10}",
            c[0], c[1], c[2], c[3], c[4], c[5]
        )
    };
    let mut out = String::new();
    let mut last_t = 0.0;
    for (i, line) in stdout.lines().enumerate() {
        if i == 0 {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let bad = |why: String| Err(format!("stats --watch line {i} {line:?}: {why}"));
        let c: Vec<&str> = line.split_whitespace().collect();
        let Ok(c) = <[&str; 6]>::try_from(c) else {
            return bad("not 6 columns".into());
        };
        if fmt(c) != line {
            return bad("columns not aligned as recorded (8, 12, 12, 12, 12, 10 wide)".into());
        }
        let decimals: [usize; 5] = [1, 0, 0, 1, 1];
        let mut v = [0.0; 5];
        for k in 0..5 {
            let d = c[k].split_once('.').map(|(_, f)| f.len()).unwrap_or(0);
            if d != decimals[k] {
                return bad(format!(
                    "column {} has {d} decimals, not {}",
                    k + 1,
                    decimals[k]
                ));
            }
            v[k] = c[k]
                .parse()
                .map_err(|_| format!("line {i}: {} not a number", c[k]))?;
        }
        let (Some(a), Some(b)) = (totals.get(i - 1), totals.get(i)) else {
            return bad("more lines than readings".into());
        };
        let delta: Vec<f64> = (0..4).map(|k| b[k] - a[k]).collect();
        // The rates share one interval: take it from the biggest.
        let big = (0..4)
            .max_by(|x, y| delta[*x].total_cmp(&delta[*y]))
            .unwrap();
        if v[big + 1] <= 0.0 {
            return bad(format!(
                "rate {} is 0, its counter moved by {}",
                big + 1,
                delta[big]
            ));
        }
        let dt = delta[big] / v[big + 1];
        if !(interval * 0.9..=interval + 30.0).contains(&dt) {
            return bad(format!(
                "rates imply {dt:.3} s between readings, the interval is {interval} s"
            ));
        }
        for k in 0..4 {
            let want = delta[k] / dt;
            let tol = 0.51 * 10f64.powi(-(decimals[k + 1] as i32)) + 0.01 * want;
            if (v[k + 1] - want).abs() > tol {
                return bad(format!(
                    "rate column {} is {}, want {want:.1} ({} over {dt:.3} s)",
                    k + 2,
                    v[k + 1],
                    delta[k]
                ));
            }
        }
        let t = v[0];
        if t < last_t || t < i as f64 * interval * 0.9 - 0.05 || t > i as f64 * (interval + 30.0) {
            return bad(format!("time {t} s out of range for reading {i}"));
        }
        last_t = t;
        out.push_str(&fmt(["<t>", "<r>", "<r>", "<r>", "<r>", c[5]]));
        out.push('\n');
    }
    Ok(out)
}

fn section(out: &mut String, name: &str, text: &str) {
    out.push_str(&format!("--- {name}\n{text}"));
    if !text.is_empty() && !text.ends_with('\n') {
        out.push_str("\n\\ no newline at end\n");
    }
}

/// What a `.out` file holds.
fn render(case: &Case, r: &Run) -> Result<String, String> {
    let stdout = if case.argv.iter().any(|a| a == "--watch") {
        normalise_watch(case, &r.stdout)?
    } else {
        r.stdout.clone()
    };
    let mut s = match r.code {
        Some(c) => format!("exit {c}\n"),
        None => "exit: killed by a signal\n".into(),
    };
    section(&mut s, "stdout", &stdout);
    section(&mut s, "stderr", &r.stderr);
    Ok(s)
}

/// A line diff (longest common subsequence), changes with 3 lines of
/// context.
fn diff(want: &str, got: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let (n, m) = (a.len(), b.len());
    let mut l = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            l[i][j] = if a[i] == b[j] {
                l[i + 1][j + 1] + 1
            } else {
                l[i + 1][j].max(l[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || l[i + 1][j] >= l[i][j + 1]) {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    let near = |k: usize| {
        ops[k.saturating_sub(3)..(k + 4).min(ops.len())]
            .iter()
            .any(|(c, _)| *c != ' ')
    };
    let mut s = String::from("(- recorded, + now)\n");
    let mut skipped = false;
    for (k, (c, line)) in ops.iter().enumerate() {
        if near(k) {
            s.push_str(&format!("{c} {line}\n"));
            skipped = false;
        } else if !skipped {
            s.push_str("  ...\n");
            skipped = true;
        }
    }
    s
}

#[test]
fn slbctl_output_matches_the_recorded_run() {
    let cases = cases();
    let record = std::env::var_os("SLBCTL_RECORD").is_some_and(|v| v == "1");
    let tmp = std::env::temp_dir().join(format!("slbctl-recorded-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut failures = Vec::new();
    for case in &cases {
        let r = run(case, &tmp);
        let mut why = r.problems.clone();
        let path = Path::new(DIR).join(format!("{}.out", case.name));
        match render(case, &r) {
            Err(e) => why.push(e),
            Ok(got) if record => std::fs::write(&path, got).unwrap(),
            Ok(got) => match std::fs::read_to_string(&path) {
                Err(e) => why.push(format!(
                    "{}: {e} (SLBCTL_RECORD=1 writes it)",
                    path.display()
                )),
                Ok(want) if want != got => why.push(format!(
                    "output differs from {}:\n{}",
                    path.display(),
                    diff(&want, &got)
                )),
                Ok(_) => {}
            },
        }
        if !why.is_empty() {
            failures.push(format!(
                "== {} (slbctl {}):\n{}",
                case.name,
                case.argv.join(" "),
                why.join("\n")
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    // No output without its recording.
    for e in std::fs::read_dir(DIR).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "out") && !p.with_extension("json").exists() {
            failures.push(format!("{}: no .json beside it", p.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} recorded slbctl runs differ:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_recording_covers_every_command_and_subcommand() {
    let cases = cases();
    for c in COMMANDS {
        assert!(
            cases
                .iter()
                .flat_map(|k| &k.exchanges)
                .any(|(req, _)| req["command"] == *c),
            "no recorded request of command {c}"
        );
    }
    for sub in SUBCOMMANDS {
        let of = |json: bool| {
            cases.iter().any(|k| {
                let words: Vec<&str> = k
                    .argv
                    .iter()
                    .map(String::as_str)
                    .filter(|a| *a != "--json")
                    .collect();
                words.starts_with(sub) && k.argv.iter().any(|a| a == "--json") == json
            })
        };
        assert!(of(false), "no recorded run of slbctl {}", sub.join(" "));
        // raw prints JSON either way.
        if *sub != ["raw"] {
            assert!(
                of(true),
                "no recorded run of slbctl --json {}",
                sub.join(" ")
            );
        }
    }
    // Errors from slbd, from slbctl itself, usage errors, no slbd at all.
    let has = |pred: &dyn Fn(&Case) -> bool, what: &str| {
        assert!(cases.iter().any(pred), "no recorded case of {what}");
    };
    has(
        &|k| k.exchanges.iter().any(|(_, r)| r.get("error").is_some()),
        "an error answer",
    );
    has(
        &|k| !k.socket_missing && k.exchanges.is_empty(),
        "slbctl sending nothing",
    );
    has(&|k| k.socket_missing, "a missing socket");
    has(
        &|k| k.exchanges.len() > 2,
        "several answers (stats --watch)",
    );
}
