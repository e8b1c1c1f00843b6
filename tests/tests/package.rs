//! The Debian package `slb` (`scripts/package`, cargo-deb), checked
//! without installing it on this host:
//!
//! - `dpkg-deb --contents` lists every file it must ship, with its mode,
//!   owned by root; the conffiles, control fields and maintainer scripts
//!   say what docs/operations.md promises (no start on install, stop on
//!   removal);
//! - extracted with `dpkg-deb -x` into a temp dir, the units' own command
//!   lines run: `ExecStartPre` checks the shipped /etc/slb/slbd.json with
//!   the extracted slbd (`--check-config`), `ExecReload` sends
//!   `config.reload` to a control socket this test plays, the agent's
//!   `ExecStart` / `ExecStop` parse;
//! - `systemd-analyze verify` accepts both units (with the extracted tree
//!   as root), warnings included.
//!
//! The package is `scripts/package`'s output in `<target>/debian` when it
//! is newer than every source file; else this test runs `scripts/package`
//! (a release build), killed after [`BUILD_LIMIT`].

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// How long `scripts/package` may take when the test has to build the
/// package itself (a release build of the workspace on a loaded 2-CPU
/// machine). `.config/nextest.toml` gives this test more than that.
const BUILD_LIMIT: Duration = Duration::from_secs(15 * 60);

const SLB_UNIT: &str = "usr/lib/systemd/system/slb.service";
const AGENT_UNIT: &str = "usr/lib/systemd/system/slb-agent@.service";

/// Every file the package must hold, with its mode as `dpkg-deb
/// --contents` prints it. The doc examples (one per
/// config/examples/*.json) are added by [`expected_files`].
const EXPECTED: &[(&str, &str)] = &[
    ("usr/bin/slbd", "-rwxr-xr-x"),
    ("usr/bin/slbctl", "-rwxr-xr-x"),
    ("usr/bin/slb-agent", "-rwxr-xr-x"),
    ("etc/slb/slbd.json", "-rw-r--r--"),
    ("etc/default/slbd", "-rw-r--r--"),
    ("etc/default/slb-agent", "-rw-r--r--"),
    (SLB_UNIT, "-rw-r--r--"),
    (AGENT_UNIT, "-rw-r--r--"),
    ("usr/share/doc/slb/README.md", "-rw-r--r--"),
    ("usr/share/doc/slb/operations.md", "-rw-r--r--"),
    ("usr/share/doc/slb/config-reference.md", "-rw-r--r--"),
    ("usr/share/doc/slb/agent.md", "-rw-r--r--"),
    ("usr/share/doc/slb/copyright", "-rw-r--r--"),
];

const CONFFILES: &[&str] = &[
    "/etc/default/slb-agent",
    "/etc/default/slbd",
    "/etc/slb/slbd.json",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The cargo target directory this test was built into
/// (`<target>/<profile>/deps/<test>`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.ancestors()
        .nth(3)
        .expect("test binary inside <target>/<profile>/deps")
        .to_path_buf()
}

fn mtime(p: &Path) -> SystemTime {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The newest modification time of what goes into the package: every
/// file of the workspace except build output, git, hidden directories,
/// fuzzing and the integration tests (none of which is packaged).
fn newest_source(root: &Path) -> SystemTime {
    fn walk(dir: &Path, top: bool, newest: &mut SystemTime) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let entry = entry.expect("read_dir entry");
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let path = entry.path();
            let kind = entry.file_type().expect("file type");
            if kind.is_dir() {
                let skipped = name.starts_with('.')
                    || name == "target"
                    || name == "fuzz"
                    || (top && name == "tests");
                if !skipped {
                    walk(&path, false, newest);
                }
            } else if kind.is_file() {
                *newest = (*newest).max(mtime(&path));
            }
        }
    }
    let mut newest = SystemTime::UNIX_EPOCH;
    walk(root, true, &mut newest);
    newest
}

/// The newest `slb_*.deb` in `dir`, if any.
fn newest_deb(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("slb_") && name.ends_with(".deb")
        })
        .max_by_key(|p| mtime(p))
}

/// `scripts/package`'s output when it is newer than the sources, else a
/// fresh one built by `scripts/package` within [`BUILD_LIMIT`].
fn package() -> PathBuf {
    if let Some(p) = std::env::var_os("SLB_DEB") {
        return PathBuf::from(p);
    }
    let root = workspace_root();
    let target = target_dir();
    let out = target.join("debian");
    let newest = newest_source(&root);
    if let Some(deb) = newest_deb(&out) {
        if mtime(&deb) > newest {
            eprintln!("using {} (newer than every source file)", deb.display());
            return deb;
        }
    }
    eprintln!("building the package: scripts/package (at most {BUILD_LIMIT:?})");
    let mut child = Command::new(root.join("scripts/package"))
        .arg(&out)
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(&root)
        .stdout(Stdio::piped())
        // Its own process group, so a timeout ends cargo and rustc too.
        .process_group(0)
        .spawn()
        .expect("run scripts/package");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for scripts/package") {
            break status;
        }
        if started.elapsed() > BUILD_LIMIT {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.wait();
            panic!("scripts/package took longer than {BUILD_LIMIT:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let mut stdout = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().expect("stdout"), &mut stdout)
        .expect("read scripts/package's output");
    assert!(status.success(), "scripts/package failed: {status}");
    let deb = PathBuf::from(
        stdout
            .lines()
            .last()
            .expect("scripts/package prints the .deb")
            .trim(),
    );
    assert!(
        deb.is_file(),
        "scripts/package printed {}, not a file",
        deb.display()
    );
    deb
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn run_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?}: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Path -> (mode, owner) from `dpkg-deb --contents`, paths without the
/// leading `./` (directories end with `/`).
fn parse_contents(listing: &str) -> BTreeMap<String, (String, String)> {
    listing
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            // -rwxr-xr-x root/root   4242 2026-12-02 12:00 ./usr/bin/slbd
            let fields: Vec<&str> = l.split_whitespace().collect();
            assert!(
                fields.len() >= 6,
                "unexpected dpkg-deb --contents line: {l}"
            );
            let path = fields[5].trim_start_matches("./").to_string();
            (path, (fields[0].to_string(), fields[1].to_string()))
        })
        .collect()
}

/// What the package must hold: [`EXPECTED`] and the configuration
/// examples as documentation.
fn expected_files(root: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = EXPECTED
        .iter()
        .map(|(p, m)| (p.to_string(), m.to_string()))
        .collect();
    let examples = root.join("config/examples");
    for e in std::fs::read_dir(&examples).expect("config/examples") {
        let name = e.expect("entry").file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") {
            files.push((
                format!("usr/share/doc/slb/examples/{name}"),
                "-rw-r--r--".into(),
            ));
        }
    }
    files
}

/// One line per expected file that is missing or has the wrong mode, and
/// per entry not owned by root.
fn contents_problems(
    contents: &BTreeMap<String, (String, String)>,
    expected: &[(String, String)],
) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, mode) in expected {
        match contents.get(path) {
            None => problems.push(format!("{path}: missing")),
            Some((m, _)) if m != mode => {
                problems.push(format!("{path}: mode {m}, expected {mode}"))
            }
            Some(_) => {}
        }
    }
    for (path, (mode, owner)) in contents {
        // cargo-deb writes numeric ids (0/0), dpkg-buildpackage names.
        if owner != "0/0" && owner != "root/root" {
            problems.push(format!("{path}: owned by {owner}, expected root"));
        }
        // No setuid/setgid bits, nothing writable by group or others.
        let bits: Vec<char> = mode.chars().collect();
        if bits.len() != 10 || bits[5] == 'w' || bits[8] == 'w' || mode.contains(['s', 'S']) {
            problems.push(format!("{path}: mode {mode}"));
        }
    }
    problems
}

/// A unit's `Key=value` lines, in order (comments and sections dropped).
fn unit_keys(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with(['#', ';', '[']))
        .map(|l| {
            let (k, v) = l
                .split_once('=')
                .unwrap_or_else(|| panic!("not Key=value: {l}"));
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect()
}

fn key<'a>(keys: &'a [(String, String)], name: &str) -> &'a str {
    let found: Vec<&str> = keys
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(found.len(), 1, "{name}: expected once, found {found:?}");
    found[0]
}

/// The environment systemd gives a unit's commands: `Environment=` lines,
/// then each `EnvironmentFile=` (a leading `-`: may be absent) read from
/// under `root`, later assignments winning.
fn unit_environment(
    keys: &[(String, String)],
    root: &Path,
    instance: &str,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for (k, v) in keys.iter().filter(|(k, _)| k == "Environment") {
        assert!(
            !v.contains('"'),
            "{k}={v}: this test reads unquoted assignments only"
        );
        for a in v.split_whitespace() {
            let (name, value) = a
                .split_once('=')
                .unwrap_or_else(|| panic!("Environment: {a}"));
            env.insert(name.to_string(), value.to_string());
        }
    }
    for (_, v) in keys.iter().filter(|(k, _)| k == "EnvironmentFile") {
        let (optional, path) = match v.strip_prefix('-') {
            Some(p) => (true, p),
            None => (false, v.as_str()),
        };
        let path = root.join(path.replace("%i", instance).trim_start_matches('/'));
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(_) if optional => continue,
            Err(e) => panic!("EnvironmentFile {}: {e}", path.display()),
        };
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, value) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("{}: not NAME=value: {line}", path.display()));
            let value = value.trim().trim_matches('"');
            env.insert(name.trim().to_string(), value.to_string());
        }
    }
    env
}

/// A unit's command line as systemd runs it: `${X}` is one word, `$X`
/// splits into words (none when empty), `%i` is the instance. Absolute
/// paths under /usr and /etc are mapped into the extracted tree `root`.
fn expand_command(
    line: &str,
    env: &BTreeMap<String, String>,
    root: &Path,
    instance: &str,
) -> Vec<String> {
    assert!(
        !line.contains(['"', '\'', '\\']),
        "{line}: this test expands unquoted command lines only"
    );
    let var = |name: &str| -> String {
        env.get(name)
            .unwrap_or_else(|| panic!("{line}: ${name} is not set by the unit"))
            .clone()
    };
    let mut words = Vec::new();
    for word in line.split_whitespace() {
        let word = word.replace("%i", instance);
        if let Some(name) = word.strip_prefix("${").and_then(|w| w.strip_suffix('}')) {
            words.push(var(name));
        } else if let Some(name) = word.strip_prefix('$') {
            words.extend(var(name).split_whitespace().map(String::from));
        } else {
            assert!(
                !word.contains('$'),
                "{line}: a variable inside a word: {word}"
            );
            words.push(word);
        }
    }
    words
        .into_iter()
        .map(|w| {
            if w.starts_with("/usr/") || w.starts_with("/etc/") {
                root.join(w.trim_start_matches('/'))
                    .to_string_lossy()
                    .into_owned()
            } else {
                w
            }
        })
        .collect()
}

fn command(words: &[String]) -> Command {
    let mut c = Command::new(&words[0]);
    c.args(&words[1..]);
    c
}

/// Plays slbd's control socket for one request: checks it is
/// `config.reload` and answers it with one change.
fn fake_reload_answer(listener: UnixListener) -> std::thread::JoinHandle<serde_json::Value> {
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept slbctl");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut line = String::new();
        BufReader::new(&stream)
            .read_line(&mut line)
            .expect("request line");
        let request: serde_json::Value = serde_json::from_str(&line).expect("request is JSON");
        let answer = serde_json::json!({
            "id": request["id"],
            "result": {
                "changed": true,
                "changes": ["service web: server s2: weight 1 -> 4"],
                "path": "/etc/slb/slbd.json"
            }
        });
        writeln!(&stream, "{answer}").expect("answer slbctl");
        request
    })
}

#[test]
fn contents_problems_names_a_missing_file_and_a_wrong_mode() {
    let listing = "\
drwxr-xr-x root/root         0 2026-12-02 12:00 ./usr/bin/
-rwxr-xr-x root/root      4242 2026-12-02 12:00 ./usr/bin/slbd
-rw-r--r-- 0/0       100 2026-12-02 12:00 ./usr/bin/slbctl
-rw-rw-r-- root/staff      100 2026-12-02 12:00 ./etc/slb/slbd.json
";
    let expected: Vec<(String, String)> = [
        ("usr/bin/slbd", "-rwxr-xr-x"),
        ("usr/bin/slbctl", "-rwxr-xr-x"),
        ("usr/bin/slb-agent", "-rwxr-xr-x"),
    ]
    .iter()
    .map(|(p, m)| (p.to_string(), m.to_string()))
    .collect();
    let problems = contents_problems(&parse_contents(listing), &expected);
    assert_eq!(
        problems,
        [
            "usr/bin/slbctl: mode -rw-r--r--, expected -rwxr-xr-x",
            "usr/bin/slb-agent: missing",
            "etc/slb/slbd.json: owned by root/staff, expected root",
            "etc/slb/slbd.json: mode -rw-rw-r--",
        ]
    );
}

#[test]
fn package_ships_checked_config_units_and_binaries() {
    let root = workspace_root();
    let deb = package();
    eprintln!("checking {}", deb.display());

    // Files, modes, owners.
    let listing = run_ok(Command::new("dpkg-deb").arg("--contents").arg(&deb));
    let contents = parse_contents(&listing);
    let problems = contents_problems(&contents, &expected_files(&root));
    assert!(
        problems.is_empty(),
        "{}:\n{}\n\nlisting:\n{listing}",
        deb.display(),
        problems.join("\n")
    );

    // Control: name, dependencies, conffiles, maintainer scripts.
    let field = |name: &str| run_ok(Command::new("dpkg-deb").arg("--field").arg(&deb).arg(name));
    assert_eq!(field("Package").trim(), "slb");
    let depends = field("Depends");
    for dep in ["libc6", "librte-ethdev23", "librte-mempool-ring23"] {
        assert!(depends.contains(dep), "Depends lacks {dep}: {depends}");
    }
    let info = |name: &str| run_ok(Command::new("dpkg-deb").arg("--info").arg(&deb).arg(name));
    let mut conffiles: Vec<String> = info("conffiles")
        .lines()
        .map(|l| l.trim().to_string())
        .collect();
    conffiles.sort();
    assert_eq!(conffiles, CONFFILES);
    let postinst = info("postinst");
    let prerm = info("prerm");
    let postrm = info("postrm");
    for (name, script) in [
        ("postinst", &postinst),
        ("prerm", &prerm),
        ("postrm", &postrm),
    ] {
        let mut sh = Command::new("sh");
        sh.arg("-n").arg("-c").arg(script);
        run_ok(&mut sh);
        assert!(
            !script.contains("#DEBHELPER#"),
            "{name}: #DEBHELPER# left unexpanded"
        );
    }
    // Installing neither enables nor starts slbd (its EAL options and
    // devices are the operator's to set); an upgrade restarts a running one.
    // (deb-systemd-helper enables only a unit the admin enabled before:
    // `debian-installed` guards it, unlike the enabling snippet.)
    assert!(
        postinst.contains("deb-systemd-helper debian-installed slb.service"),
        "postinst may enable slb.service:\n{postinst}"
    );
    assert!(postinst.contains("daemon-reload"), "postinst:\n{postinst}");
    assert!(
        postinst.contains("try-restart slb.service"),
        "postinst:\n{postinst}"
    );
    assert!(
        !postinst.contains("deb-systemd-invoke start"),
        "postinst starts a unit:\n{postinst}"
    );
    // Removal stops slbd and every agent instance.
    assert!(prerm.contains("stop slb.service"), "prerm:\n{prerm}");
    assert!(prerm.contains("slb-agent@*.service"), "prerm:\n{prerm}");

    // Extracted, not installed.
    let tmp = tempfile::tempdir().expect("tempdir");
    let tree = tmp.path().join("root");
    run_ok(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&tree));
    for bin in ["slbd", "slbctl", "slb-agent"] {
        let help = run_ok(Command::new(tree.join("usr/bin").join(bin)).arg("--help"));
        assert!(help.contains("Usage"), "{bin} --help:\n{help}");
    }
    let checked = run_ok(
        Command::new(tree.join("usr/bin/slbd"))
            .arg("--")
            .arg("--config")
            .arg(tree.join("etc/slb/slbd.json"))
            .arg("--check-config"),
    );
    assert!(checked.starts_with("configuration OK"), "{checked}");

    // slb.service: the unit's own command lines, with its environment.
    let unit = std::fs::read_to_string(tree.join(SLB_UNIT)).expect("slb.service");
    let keys = unit_keys(&unit);
    assert_eq!(key(&keys, "EnvironmentFile"), "-/etc/default/slbd");
    assert_eq!(key(&keys, "KillSignal"), "SIGTERM");
    let start = key(&keys, "ExecStart");
    assert!(
        start.starts_with("/usr/bin/slbd $SLBD_EAL_OPTS -- --config ${SLBD_CONFIG}"),
        "ExecStart={start}"
    );
    let env = unit_environment(&keys, &tree, "");
    assert_eq!(env["SLBD_CONFIG"], "/etc/slb/slbd.json");
    assert!(
        env["SLBD_EAL_OPTS"].contains("-l "),
        "SLBD_EAL_OPTS={}",
        env["SLBD_EAL_OPTS"]
    );
    // The socket slbctl reloads through is the one the configuration has.
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tree.join("etc/slb/slbd.json")).unwrap())
            .expect("slbd.json is JSON");
    assert_eq!(config["control"]["socket"], env["SLBD_SOCKET"].as_str());
    let pre = expand_command(key(&keys, "ExecStartPre"), &env, &tree, "");
    let pre_out = run_ok(&mut command(&pre));
    assert!(
        pre_out.starts_with("configuration OK"),
        "ExecStartPre {pre:?}: {pre_out}"
    );
    // ExecReload against a socket this test plays.
    let socket = tmp.path().join("slbd.sock");
    let server = fake_reload_answer(UnixListener::bind(&socket).expect("bind"));
    let mut reload_env = env.clone();
    reload_env.insert("SLBD_SOCKET".into(), socket.to_string_lossy().into_owned());
    let reload = expand_command(key(&keys, "ExecReload"), &reload_env, &tree, "");
    let reload_out = run_ok(&mut command(&reload));
    let request = server.join().expect("fake control socket");
    assert_eq!(request["command"], "config.reload", "{request}");
    assert!(
        reload_out.contains("weight 1 -> 4"),
        "ExecReload {reload:?}: {reload_out}"
    );

    // slb-agent@.service: attach on start, detach on stop, on %i. Run with
    // a network namespace that does not exist: the command line must parse
    // (exit 1, slb-agent's own error, not clap's usage error 2) and nothing
    // on this host is touched.
    let unit = std::fs::read_to_string(tree.join(AGENT_UNIT)).expect("slb-agent@.service");
    let keys = unit_keys(&unit);
    assert_eq!(key(&keys, "Type"), "oneshot");
    assert_eq!(key(&keys, "RemainAfterExit"), "yes");
    let env = unit_environment(&keys, &tree, "slbpkg0");
    for (verb, line) in [
        ("attach", key(&keys, "ExecStart")),
        ("detach", key(&keys, "ExecStop")),
    ] {
        let mut words = expand_command(line, &env, &tree, "slbpkg0");
        assert_eq!(words[1..4], [verb, "--iface", "slbpkg0"], "{line}");
        words.splice(1..1, ["--netns".to_string(), "slbpkg-absent".to_string()]);
        let out = run(&mut command(&words));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{words:?}: {stderr}");
        assert!(stderr.contains("slbpkg-absent"), "{words:?}: {stderr}");
    }

    verify_units(&tree);
}

/// `systemd-analyze verify` on both units, with the extracted tree (plus
/// this host's own units, for the targets they name) as root. Any output
/// fails: systemd-analyze exits 0 on warnings such as an unknown key.
fn verify_units(tree: &Path) {
    let Ok(version) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("systemd-analyze not found: units checked by their keys only");
        return;
    };
    assert!(version.status.success(), "systemd-analyze --version failed");
    let tmp = tempfile::tempdir().expect("tempdir");
    let sysroot = tmp.path();
    let units = sysroot.join("usr/lib/systemd/system");
    std::fs::create_dir_all(&units).expect("mkdir");
    run_ok(
        Command::new("cp")
            .arg("-a")
            .arg("/usr/lib/systemd/system/.")
            .arg(&units),
    );
    let mut tree_dot = tree.as_os_str().to_owned();
    tree_dot.push("/.");
    run_ok(Command::new("cp").arg("-a").arg(tree_dot).arg(sysroot));
    for unit in ["slb.service", "slb-agent@eth0.service"] {
        let out = run(Command::new("systemd-analyze")
            .arg("verify")
            .arg(format!("--root={}", sysroot.display()))
            .arg(unit));
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && said.trim().is_empty(),
            "systemd-analyze verify {unit}: {}\n{said}",
            out.status
        );
    }
}
