//! The servers of the layer-7 lab test (tests/tests/lab_l7.rs, issue 17):
//! six server namespaces in three pools, each server answering with its
//! own name over HTTP (port 80), HTTPS (443, a self-signed certificate
//! whose CN is the server's name), DNS (UDP 53), QUIC (UDP 443) and a
//! server-speaks-first banner (TCP 25), and the tools the test drives
//! them with. The DNS, banner and QUIC servers and the QUIC and banner
//! clients are `tests/lab/l7_lab.py` (QUIC: aioquic, in the venv
//! `scripts/setup` makes).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::lab::{self, Lab};

/// How many servers the lab is built with (`SLB_LAB_SERVERS`).
pub const SERVER_COUNT: usize = 6;

/// The servers, s1..s6.
pub const SERVERS: [&str; SERVER_COUNT] = ["s1", "s2", "s3", "s4", "s5", "s6"];

/// The pools and their servers: the default pool (the servers without
/// `pool`) and two named ones.
pub const POOLS: [(&str, [&str; 2]); 3] = [
    ("default", ["s1", "s2"]),
    ("api", ["s3", "s4"]),
    ("static", ["s5", "s6"]),
];

/// The pool server `name` is in.
pub fn pool_of(name: &str) -> Option<&'static str> {
    POOLS
        .iter()
        .find(|(_, members)| members.contains(&name))
        .map(|(pool, _)| *pool)
}

/// The servers of pool `pool`.
pub fn members(pool: &str) -> [&'static str; 2] {
    POOLS
        .iter()
        .find(|(p, _)| *p == pool)
        .map(|(_, m)| *m)
        .unwrap_or_else(|| panic!("no pool {pool}"))
}

/// The venv `scripts/setup` installs aioquic into.
pub const AIOQUIC_VENV: &str = "/opt/slb-aioquic";

/// `tests/lab/l7_lab.py`.
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("lab")
        .join("l7_lab.py")
}

/// The python with aioquic: `$SLB_AIOQUIC_PYTHON`, else the venv's.
pub fn aioquic_python() -> PathBuf {
    std::env::var_os("SLB_AIOQUIC_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(AIOQUIC_VENV).join("bin").join("python"))
}

fn runs(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the tools of the layer-7 lab are here (besides the lab's own,
/// [`lab::lab_available`]); `Err` names what is missing and
/// `scripts/setup`, which installs it.
pub fn tools_available() -> Result<(), String> {
    lab::lab_available()?;
    let mut missing = Vec::new();
    for (tool, args, package) in [
        ("nginx", &["-v"][..], "nginx-light"),
        ("openssl", &["version"][..], "openssl"),
        ("dig", &["-v"][..], "bind9-dnsutils"),
        ("wrk", &["-v"][..], "wrk"),
        ("curl", &["--version"][..], "curl"),
        ("tcpdump", &["--version"][..], "tcpdump"),
    ] {
        // `wrk -v` prints its version and exits 1: being spawnable is enough.
        let found = if tool == "wrk" {
            Command::new(tool)
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok()
        } else {
            runs(tool, args)
        };
        if !found {
            missing.push(format!("{tool} (Debian package {package})"));
        }
    }
    let py = aioquic_python();
    if !runs(&py.display().to_string(), &["-c", "import aioquic"]) {
        missing.push(format!(
            "aioquic in {} (the venv {AIOQUIC_VENV}, or set SLB_AIOQUIC_PYTHON)",
            py.display()
        ));
    }
    if !script().exists() {
        missing.push(script().display().to_string());
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "missing: {}; run scripts/setup (as root) to install them",
            missing.join(", ")
        ))
    }
}

/// nginx for one server: HTTP on 80 and HTTPS on 443 (v4 and v6), every
/// request answered `<name>\n`. One process (`master_process off`, in the
/// foreground), so ending the child ends it.
const NGINX_CONF: &str = r#"# slb lab_l7: NAME's HTTP(S) server
worker_processes 1;
master_process off;
daemon off;
pid DIR/nginx-NAME.pid;
error_log DIR/nginx-NAME.err warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path DIR/nginx-NAME-body;
    server {
        listen 80 backlog=4096;
        listen [::]:80 backlog=4096;
        listen 443 ssl backlog=4096;
        listen [::]:443 ssl backlog=4096;
        ssl_certificate DIR/NAME.crt;
        ssl_certificate_key DIR/NAME.key;
        location / { return 200 "NAME\n"; }
    }
}
"#;

/// The servers' processes (nginx and `l7_lab.py serve` per server);
/// dropping this ends them (by pid: they are this test's children).
pub struct L7Servers {
    children: Vec<(String, Child)>,
    dir: PathBuf,
}

impl L7Servers {
    /// On every server of `lab` (built with [`SERVER_COUNT`] servers):
    /// moves the lab's own HTTP server (started by this test's lab) from
    /// port 80 to 8000, writes a self-signed certificate (CN = the server's
    /// name), starts nginx and the DNS/banner/QUIC server bound to
    /// `vip4`/`vip6`, and waits (10 s at most) until they listen.
    pub fn start(lab: &Lab, vip4: &str, vip6: &str) -> L7Servers {
        let dir = lab.run_dir().join("l7");
        std::fs::create_dir_all(&dir).expect("l7 run dir");
        let mut servers = L7Servers {
            children: Vec::new(),
            dir: dir.clone(),
        };
        for (i, name) in SERVERS.iter().enumerate() {
            let pid = lab.server_pid(name).to_string();
            let out = lab::run_bounded(
                Command::new("kill").args(["-TERM", &pid]),
                Duration::from_secs(5),
            );
            assert!(
                out.status.success(),
                "stop {name}'s lab server (pid {pid}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
            wait_until(lab, name, "port 80 free", |l| {
                !listening(l, name, "-Hltn", 80)
            });
            // Again on port 8000 (UDP echo on 5353 as before), its pid where
            // `scripts/lab` looks for it: the lab counts as up while every
            // server's process lives (`slbd-start` checks), and `down` ends it.
            let http = spawn_in(
                lab,
                name,
                &lab.run_dir().join(format!("{name}.log")),
                &[
                    "python3",
                    &lab::script()
                        .with_file_name("lab-http-server")
                        .display()
                        .to_string(),
                    "--name",
                    name,
                    "--http-port",
                    "8000",
                ],
            );
            std::fs::write(
                lab.run_dir().join(format!("{name}.pid")),
                http.id().to_string(),
            )
            .expect("pid file");
            servers
                .children
                .push((format!("the lab's server in {name} (port 8000)"), http));
            let key = dir.join(format!("{name}.key"));
            let crt = dir.join(format!("{name}.crt"));
            let out = lab::run_bounded(
                Command::new("openssl")
                    .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
                    .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
                    .arg("-subj")
                    .arg(format!("/CN={name}"))
                    .arg("-keyout")
                    .arg(&key)
                    .arg("-out")
                    .arg(&crt),
                Duration::from_secs(20),
            );
            assert!(
                out.status.success(),
                "openssl req for {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let conf = dir.join(format!("nginx-{name}.conf"));
            std::fs::write(
                &conf,
                NGINX_CONF
                    .replace("NAME", name)
                    .replace("DIR", &dir.display().to_string()),
            )
            .expect("nginx conf");
            let err = dir.join(format!("nginx-{name}.err"));
            let nginx = spawn_in(
                lab,
                name,
                &dir.join(format!("nginx-{name}.out")),
                &[
                    "nginx",
                    "-e",
                    &err.display().to_string(),
                    "-c",
                    &conf.display().to_string(),
                ],
            );
            servers.children.push((format!("nginx in {name}"), nginx));
            let py = aioquic_python().display().to_string();
            let index = (i + 1).to_string();
            let serve = spawn_in(
                lab,
                name,
                &dir.join(format!("serve-{name}.log")),
                &[
                    &py,
                    &script().display().to_string(),
                    "serve",
                    "--name",
                    name,
                    "--index",
                    &index,
                    "--vip4",
                    vip4,
                    "--vip6",
                    vip6,
                    "--cert",
                    &crt.display().to_string(),
                    "--key",
                    &key.display().to_string(),
                ],
            );
            servers
                .children
                .push((format!("l7_lab.py serve in {name}"), serve));
        }
        for name in SERVERS {
            let log = dir.join(format!("serve-{name}.log"));
            let start = Instant::now();
            loop {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                if text.lines().any(|l| l == "ready") {
                    break;
                }
                servers.check_alive();
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "{name}'s DNS/banner/QUIC server is not ready: {text}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            for port in [80, 443] {
                wait_until(lab, name, &format!("nginx on TCP {port}"), |l| {
                    listening(l, name, "-Hltn", port)
                });
            }
        }
        servers
    }

    /// Panics if a server process has exited (with its log).
    pub fn check_alive(&mut self) {
        for (what, child) in &mut self.children {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{what} exited ({status}); logs in {}", self.dir.display());
            }
        }
    }

    /// A server's log (what `l7_lab.py serve` printed: one line per DNS
    /// query, banner connection and QUIC stream).
    pub fn serve_log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(format!("serve-{name}.log"))).unwrap_or_default()
    }
}

impl Drop for L7Servers {
    fn drop(&mut self) {
        for (_, c) in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn_in(lab: &Lab, ns: &str, log: &Path, args: &[&str]) -> Child {
    let out = File::create(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    Command::new("ip")
        .args(["netns", "exec", &lab.ns(ns)])
        .args(args)
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("log"))
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {args:?} in {ns}: {e}"))
}

fn listening(lab: &Lab, ns: &str, ss_flags: &str, port: u16) -> bool {
    let out = lab.exec(ns, &["ss", ss_flags, &format!("sport = :{port}")]);
    !out.stdout.is_empty()
}

fn wait_until(lab: &Lab, ns: &str, what: &str, ok: impl Fn(&Lab) -> bool) {
    let start = Instant::now();
    while !ok(lab) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{ns}: not {what} after 10 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
