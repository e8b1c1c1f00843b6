//! slbctl: the control tool for slbd (its control socket protocol is
//! `slb_ctl::protocol`, documented in docs/operations.md).

use clap::{Args, Parser, Subcommand};
use serde_json::{json, Map, Value};
use slb_ctl::client::{CallError, Client};
use slb_ctl::protocol::DEFAULT_SOCKET;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const LONG_ABOUT: &str = "\
slbctl - administer slbd, the slb session-label load balancer

slbctl talks to a running slbd over its control socket (newline-delimited
JSON, see docs/operations.md). It shows what slbd is doing (status,
counters, services, servers, sessions, the label switching table, server
health, Prometheus metrics) and changes it while it runs (add, remove and
update services and servers, drain, enable or disable a server, reload the
configuration file). Changes apply to new sessions only: a session keeps
its server and its labels until it ends.

Every change is checked by the same rules as the configuration file; a
change that breaks one is refused whole and nothing changes. Errors are
printed as `slbctl: <message> (<code>)` and slbctl exits with status 1;
usage errors exit with status 2.

By default output is a table for people; --json prints slbd's raw answer.";

const AFTER: &str = "\
Examples:
  slbctl status
  slbctl stats --watch --count 10
  slbctl servers list web
  slbctl servers drain web s1          # no new sessions; existing ones finish
  slbctl servers update web s2 --weight 3
  slbctl sessions list --service web --state established --limit 20
  slbctl sessions show --label 17
  slbctl labels --limit 50
  slbctl health
  slbctl config reload                 # re-read slbd's --config file
  slbctl --json stats | jq .totals";

#[derive(Parser, Debug)]
#[command(name = "slbctl", version, about = "Administer a running slbd through its control socket.", long_about = LONG_ABOUT, after_long_help = AFTER)]
struct Cli {
    /// slbd's control socket.
    #[arg(long, global = true, value_name = "PATH", default_value = DEFAULT_SOCKET)]
    socket: PathBuf,

    /// Print slbd's answer as JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Version, uptime, lcores, ports and their links.
    Status,
    /// Counters: totals, rates, per port, per core, per service and server,
    /// every drop reason, refusal reasons.
    Stats {
        /// Print one line of per-second rates every interval.
        #[arg(long)]
        watch: bool,
        /// With --watch: stop after this many lines (default: until killed).
        #[arg(long, value_name = "N")]
        count: Option<u64>,
        /// With --watch: seconds between lines.
        #[arg(long, value_name = "SECS", default_value_t = 1.0)]
        interval: f64,
    },
    /// The counters in the Prometheus text exposition format.
    Metrics,
    /// List, add, remove or change services (virtual services: VIP, port,
    /// protocol, algorithm, limits, client mode).
    #[command(subcommand)]
    Services(ServicesCmd),
    /// List, add, remove or change real servers, and drain, enable or
    /// disable them.
    #[command(subcommand)]
    Servers(ServersCmd),
    /// Show sessions (the session table).
    #[command(subcommand)]
    Sessions(SessionsCmd),
    /// The label switching table: each live label, its direction, the port
    /// role it must come in on, where it goes out (port, next hop MAC), its
    /// session; and label usage (free, active, quarantined).
    Labels {
        /// Only this label.
        #[arg(long)]
        label: Option<u32>,
        /// At most this many rows.
        #[arg(long, default_value_t = 100)]
        limit: u64,
    },
    /// Server health: state, last check, response time, failures.
    Health {
        /// Only this service.
        #[arg(long)]
        service: Option<String>,
    },
    /// Show or reload the configuration.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Send any command with JSON arguments (for scripts and debugging).
    Raw {
        command: String,
        /// Arguments as a JSON object.
        #[arg(default_value = "{}")]
        args: String,
    },
}

#[derive(Subcommand, Debug)]
enum ServicesCmd {
    /// List services with sessions, servers available and counters.
    List,
    /// Add a service (with at least one --server).
    Add(ServiceAdd),
    /// Remove a service. Refused while it has live sessions: drain its
    /// servers first and remove it once they have ended.
    Remove { name: String },
    /// Change a service's algorithm, limits, client mode or refusal. A new
    /// algorithm recreates the service, so it needs no live sessions.
    Update(ServiceUpdate),
}

#[derive(Args, Debug)]
struct ServiceAdd {
    name: String,
    #[arg(long)]
    vip: String,
    #[arg(long)]
    port: u16,
    /// tcp or udp.
    #[arg(long, default_value = "tcp")]
    protocol: String,
    /// A server: NAME=ADDRESS[,weight=N][,max_sessions=N]; repeat it.
    #[arg(long = "server", required = true, value_name = "SPEC")]
    servers: Vec<String>,
    #[command(flatten)]
    opts: ServiceOpts,
}

#[derive(Args, Debug)]
struct ServiceUpdate {
    name: String,
    #[command(flatten)]
    opts: ServiceOpts,
}

#[derive(Args, Debug)]
struct ServiceOpts {
    /// round_robin, weighted_round_robin, least_connections,
    /// weighted_least_connections, least_response_time, source_hash, maglev.
    #[arg(long)]
    algorithm: Option<String>,
    /// plain (unmodified clients) or label (clients run slb-agent).
    #[arg(long)]
    client_mode: Option<String>,
    /// Session limit (0: none).
    #[arg(long)]
    max_sessions: Option<u32>,
    /// New sessions per second (0: no limit).
    #[arg(long)]
    rate: Option<u32>,
    /// Rate limit bucket depth.
    #[arg(long)]
    burst: Option<u32>,
    /// What refused sessions get: rst or drop.
    #[arg(long)]
    refuse: Option<String>,
}

#[derive(Subcommand, Debug)]
enum ServersCmd {
    /// List servers: weight, limits, operator and health state, sessions,
    /// response time.
    List {
        /// Only this service's.
        service: Option<String>,
    },
    /// Add a server to a service.
    Add {
        service: String,
        name: String,
        address: String,
        #[arg(long)]
        weight: Option<u16>,
        #[arg(long)]
        max_sessions: Option<u32>,
    },
    /// Remove a server: it takes no new sessions and goes when its last
    /// session ends.
    Remove { service: String, server: String },
    /// Change a server's weight or session limit (new sessions only).
    Update {
        service: String,
        server: String,
        /// 1 to 65535.
        #[arg(long)]
        weight: Option<i64>,
        /// 0: no limit.
        #[arg(long)]
        max_sessions: Option<u32>,
    },
    /// No new sessions for this server; its sessions finish normally.
    Drain { service: String, server: String },
    /// Back in service (state up): takes new sessions when healthy.
    Enable { service: String, server: String },
    /// Out of service: no new sessions, no health probes.
    Disable { service: String, server: String },
}

#[derive(Subcommand, Debug)]
enum SessionsCmd {
    /// List sessions, filtered.
    List {
        #[arg(long)]
        service: Option<String>,
        /// Needs --service.
        #[arg(long)]
        server: Option<String>,
        /// Client address.
        #[arg(long)]
        client: Option<String>,
        /// syn_sent, established, closing, linger, udp.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u64,
    },
    /// One session, by one of its labels or by its key.
    Show {
        #[arg(long)]
        label: Option<u32>,
        #[arg(long)]
        client: Option<String>,
        #[arg(long)]
        client_port: Option<u16>,
        #[arg(long)]
        vip: Option<String>,
        #[arg(long)]
        vip_port: Option<u16>,
        #[arg(long, default_value = "tcp")]
        protocol: String,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigCmd {
    /// The running configuration, every default written out.
    Show,
    /// Re-read the configuration file (slbd's --config, or PATH) and apply
    /// the difference; existing sessions are untouched. An invalid file,
    /// or a change that needs a restart (ports, labels, control,
    /// timeouts), is refused whole.
    Reload { path: Option<PathBuf> },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            match &e {
                CallError::Remote(b) => eprintln!("slbctl: {} ({})", b.message, b.code),
                other => eprintln!("slbctl: {other}"),
            }
            ExitCode::FAILURE
        }
    }
}

fn put(m: &mut Map<String, Value>, k: &str, v: Option<impl Into<Value>>) {
    if let Some(v) = v {
        m.insert(k.into(), v.into());
    }
}

fn service_opts(m: &mut Map<String, Value>, o: &ServiceOpts) {
    put(m, "algorithm", o.algorithm.clone());
    put(m, "client_mode", o.client_mode.clone());
    put(m, "max_sessions", o.max_sessions);
    put(m, "new_sessions_per_s", o.rate);
    put(m, "burst", o.burst);
    put(m, "refuse", o.refuse.clone());
}

fn server_spec(s: &str) -> Result<Value, CallError> {
    let bad = || {
        CallError::Protocol(format!(
            "--server {s}: expected NAME=ADDRESS[,weight=N][,max_sessions=N]"
        ))
    };
    let mut parts = s.split(',');
    let (name, addr) = parts
        .next()
        .and_then(|p| p.split_once('='))
        .ok_or_else(bad)?;
    let mut v = json!({ "name": name, "address": addr });
    for p in parts {
        let (k, n) = p.split_once('=').ok_or_else(bad)?;
        let n: u64 = n.parse().map_err(|_| bad())?;
        match k {
            "weight" | "max_sessions" => v[k] = n.into(),
            _ => return Err(bad()),
        }
    }
    Ok(v)
}

fn run(cli: &Cli) -> Result<(), CallError> {
    let mut c = Client::connect(&cli.socket)?;
    let (command, args): (&str, Value) = match &cli.cmd {
        Cmd::Status => ("status", json!({})),
        Cmd::Stats {
            watch: true,
            count,
            interval,
        } => return watch(&mut c, *count, *interval),
        Cmd::Stats { .. } => ("stats", json!({})),
        Cmd::Metrics => ("metrics", json!({})),
        Cmd::Services(ServicesCmd::List) => ("services.list", json!({})),
        Cmd::Services(ServicesCmd::Add(a)) => {
            let mut m = Map::new();
            m.insert("name".into(), a.name.clone().into());
            m.insert("vip".into(), a.vip.clone().into());
            m.insert("port".into(), a.port.into());
            m.insert("protocol".into(), a.protocol.clone().into());
            service_opts(&mut m, &a.opts);
            let servers: Result<Vec<Value>, _> = a.servers.iter().map(|s| server_spec(s)).collect();
            m.insert("servers".into(), servers?.into());
            ("services.add", Value::Object(m))
        }
        Cmd::Services(ServicesCmd::Remove { name }) => ("services.remove", json!({ "name": name })),
        Cmd::Services(ServicesCmd::Update(u)) => {
            let mut m = Map::new();
            m.insert("name".into(), u.name.clone().into());
            service_opts(&mut m, &u.opts);
            ("services.update", Value::Object(m))
        }
        Cmd::Servers(ServersCmd::List { service }) => {
            ("servers.list", json!({ "service": service }))
        }
        Cmd::Servers(ServersCmd::Add {
            service,
            name,
            address,
            weight,
            max_sessions,
        }) => {
            let mut m = Map::new();
            m.insert("service".into(), service.clone().into());
            m.insert("name".into(), name.clone().into());
            m.insert("address".into(), address.clone().into());
            put(&mut m, "weight", *weight);
            put(&mut m, "max_sessions", *max_sessions);
            ("servers.add", Value::Object(m))
        }
        Cmd::Servers(ServersCmd::Remove { service, server }) => (
            "servers.remove",
            json!({ "service": service, "server": server }),
        ),
        Cmd::Servers(ServersCmd::Update {
            service,
            server,
            weight,
            max_sessions,
        }) => {
            let mut m = Map::new();
            m.insert("service".into(), service.clone().into());
            m.insert("server".into(), server.clone().into());
            put(&mut m, "weight", *weight);
            put(&mut m, "max_sessions", *max_sessions);
            ("servers.update", Value::Object(m))
        }
        Cmd::Servers(ServersCmd::Drain { service, server }) => (
            "servers.drain",
            json!({ "service": service, "server": server }),
        ),
        Cmd::Servers(ServersCmd::Enable { service, server }) => (
            "servers.enable",
            json!({ "service": service, "server": server }),
        ),
        Cmd::Servers(ServersCmd::Disable { service, server }) => (
            "servers.disable",
            json!({ "service": service, "server": server }),
        ),
        Cmd::Sessions(SessionsCmd::List {
            service,
            server,
            client,
            state,
            limit,
        }) => (
            "sessions.list",
            json!({ "service": service, "server": server, "client": client, "state": state, "limit": limit }),
        ),
        Cmd::Sessions(SessionsCmd::Show {
            label,
            client,
            client_port,
            vip,
            vip_port,
            protocol,
        }) => (
            "sessions.show",
            json!({ "label": label, "client": client, "client_port": client_port, "vip": vip, "vip_port": vip_port, "protocol": protocol }),
        ),
        Cmd::Labels { label, limit } => ("labels", json!({ "label": label, "limit": limit })),
        Cmd::Health { service } => ("health", json!({ "service": service })),
        Cmd::Config(ConfigCmd::Show) => ("config.show", json!({})),
        Cmd::Config(ConfigCmd::Reload { path }) => ("config.reload", json!({ "path": path })),
        Cmd::Raw { command, args } => {
            let v: Value = serde_json::from_str(args)
                .map_err(|e| CallError::Protocol(format!("args: not JSON: {e}")))?;
            (command.as_str(), v)
        }
    };
    let r = c.call(command, args)?;
    if cli.json || matches!(cli.cmd, Cmd::Raw { .. }) {
        println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
        return Ok(());
    }
    print_human(command, &r);
    Ok(())
}

/// `stats --watch`: per-second rates from successive counter readings.
fn watch(c: &mut Client, count: Option<u64>, interval: f64) -> Result<(), CallError> {
    let interval = Duration::from_secs_f64(interval.max(0.1));
    let keys = ["rx_packets", "tx_packets", "sessions_admitted", "drops"];
    let read = |c: &mut Client| -> Result<(Instant, Vec<u64>, u64), CallError> {
        let s = c.call("stats", json!({}))?;
        let t = &s["totals"];
        Ok((
            Instant::now(),
            keys.iter().map(|k| t[*k].as_u64().unwrap_or(0)).collect(),
            t["sessions"].as_u64().unwrap_or(0),
        ))
    };
    let mut last = read(c)?;
    println!(
        "{:>8} {:>12} {:>12} {:>12} {:>12} {:>10}",
        "time_s", "rx_pps", "tx_pps", "new_sess/s", "drops/s", "sessions"
    );
    let start = Instant::now();
    let mut n = 0;
    while count.is_none_or(|c| n < c) {
        std::thread::sleep(interval);
        let cur = read(c)?;
        let dt = cur.0.duration_since(last.0).as_secs_f64().max(1e-3);
        let r: Vec<f64> = cur
            .1
            .iter()
            .zip(&last.1)
            .map(|(a, b)| a.saturating_sub(*b) as f64 / dt)
            .collect();
        println!(
            "{:>8.1} {:>12.0} {:>12.0} {:>12.1} {:>12.1} {:>10}",
            start.elapsed().as_secs_f64(),
            r[0],
            r[1],
            r[2],
            r[3],
            cur.2
        );
        last = cur;
        n += 1;
    }
    Ok(())
}

fn s(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f:.1}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

fn table(headers: &[&str], rows: Vec<Vec<String>>) {
    let mut w: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.len());
        }
    }
    let line = |cells: Vec<String>| {
        let l: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{:<width$}", c, width = w[i]))
            .collect();
        println!("{}", l.join("  ").trim_end());
    };
    line(headers.iter().map(|h| h.to_string()).collect());
    for r in rows {
        line(r);
    }
}

fn arr(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

fn nonzero(m: &Value) -> String {
    let parts: Vec<String> = m
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| v.as_u64().unwrap_or(0) > 0)
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

fn print_human(command: &str, r: &Value) {
    match command {
        "status" => {
            println!(
                "slbd {}  pid {}  up {:.1} s",
                s(&r["version"]),
                s(&r["pid"]),
                r["uptime_s"].as_f64().unwrap_or(0.0)
            );
            println!(
                "config {}  services {}  servers {}",
                s(&r["config"]),
                s(&r["services"]),
                s(&r["servers"])
            );
            let l = &r["lcores"];
            println!(
                "lcores: main {}  scheduler {}  workers {}",
                s(&l["main"]),
                s(&l["scheduler"]),
                s(&l["workers"])
            );
            table(
                &["PORT", "DRIVER", "MAC", "LINK", "SPEED"],
                arr(&r["ports"])
                    .iter()
                    .map(|p| {
                        vec![
                            s(&p["name"]),
                            s(&p["driver"]),
                            s(&p["mac"]),
                            if p["link"]["up"].as_bool().unwrap_or(false) {
                                "up".into()
                            } else {
                                "down".into()
                            },
                            format!("{} Mb/s", s(&p["link"]["speed_mbps"])),
                        ]
                    })
                    .collect(),
            );
        }
        "stats" => {
            let t = &r["totals"];
            println!(
                "rx {}  tx {}  sessions {}  admitted {}  ended {}  drops {}",
                s(&t["rx_packets"]),
                s(&t["tx_packets"]),
                s(&t["sessions"]),
                s(&t["sessions_admitted"]),
                s(&t["sessions_ended"]),
                s(&t["drops"])
            );
            let rates: Vec<String> = r["rates"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("{k} {:.1}", v.as_f64().unwrap_or(0.0)))
                .collect();
            println!(
                "rates: {}",
                if rates.is_empty() {
                    "(not sampled yet)".into()
                } else {
                    rates.join(", ")
                }
            );
            let l = &r["labels"];
            println!(
                "label pairs: free {}  active {}  quarantined {}",
                s(&l["free_pairs"]),
                s(&l["active_pairs"]),
                s(&l["quarantined_pairs"])
            );
            println!("drops: {}", nonzero(&r["drops"]));
            println!("refusals: {}", nonzero(&r["refusals"]));
            println!();
            table(
                &[
                    "PORT", "RX", "TX", "RX_BYTES", "TX_BYTES", "MISSED", "ERRORS",
                ],
                arr(&r["ports"])
                    .iter()
                    .map(|p| {
                        let st = &p["stats"];
                        vec![
                            s(&p["name"]),
                            s(&st["rx_packets"]),
                            s(&st["tx_packets"]),
                            s(&st["rx_bytes"]),
                            s(&st["tx_bytes"]),
                            s(&st["rx_missed"]),
                            s(&format!(
                                "{}",
                                st["rx_errors"].as_u64().unwrap_or(0)
                                    + st["tx_errors"].as_u64().unwrap_or(0)
                            )
                            .into()),
                        ]
                    })
                    .collect(),
            );
            println!();
            table(
                &["CORE", "RX", "TX", "SWITCHED", "PUNTED", "DROPS"],
                arr(&r["cores"])
                    .iter()
                    .map(|c| {
                        let e = &c["events"];
                        let sw = e["switched_c2s"].as_u64().unwrap_or(0)
                            + e["switched_s2c"].as_u64().unwrap_or(0)
                            + e["pushed"].as_u64().unwrap_or(0);
                        let pu = e["punted_new"].as_u64().unwrap_or(0)
                            + e["punted_label"].as_u64().unwrap_or(0)
                            + e["punted_neighbour"].as_u64().unwrap_or(0)
                            + e["punted_probe"].as_u64().unwrap_or(0);
                        let dr: u64 = c["drops"]
                            .as_object()
                            .into_iter()
                            .flatten()
                            .map(|(_, v)| v.as_u64().unwrap_or(0))
                            .sum();
                        vec![
                            s(&c["core"]),
                            s(&c["loop"]["rx_packets"]),
                            s(&c["loop"]["tx_packets"]),
                            sw.to_string(),
                            pu.to_string(),
                            dr.to_string(),
                        ]
                    })
                    .collect(),
            );
            println!();
            print_services(&arr(&r["services"]));
            println!();
            let servers: Vec<Value> = arr(&r["services"])
                .iter()
                .flat_map(|v| arr(&v["server_stats"]))
                .collect();
            print_servers(&servers);
        }
        "metrics" => print!("{}", r["text"].as_str().unwrap_or("")),
        "services.list" => print_services(&arr(&r["services"])),
        "servers.list" => print_servers(&arr(&r["servers"])),
        "sessions.list" => {
            table(
                &[
                    "SERVICE", "SERVER", "PROTO", "CLIENT", "VIP", "STATE", "C2S", "S2C", "AGE_S",
                    "IDLE_S",
                ],
                arr(&r["sessions"])
                    .iter()
                    .map(|x| {
                        vec![
                            s(&x["service"]),
                            s(&x["server"]),
                            s(&x["protocol"]),
                            format!("{}:{}", s(&x["client"]), s(&x["client_port"])),
                            format!("{}:{}", s(&x["vip"]), s(&x["vip_port"])),
                            s(&x["state"]),
                            s(&x["c2s_label"]),
                            s(&x["s2c_label"]),
                            format!("{:.1}", x["age_ms"].as_f64().unwrap_or(0.0) / 1e3),
                            format!("{:.1}", x["idle_ms"].as_f64().unwrap_or(0.0) / 1e3),
                        ]
                    })
                    .collect(),
            );
            println!(
                "{} of {} matching ({} sessions in all)",
                arr(&r["sessions"]).len(),
                s(&r["matched"]),
                s(&r["total"])
            );
        }
        "labels" => {
            let u = &r["usage"];
            println!(
                "label pairs: capacity {}  free {}  active {}  quarantined {}",
                s(&u["capacity_pairs"]),
                s(&u["free_pairs"]),
                s(&u["active_pairs"]),
                s(&u["quarantined_pairs"])
            );
            table(
                &[
                    "LABEL", "DIR", "IN_ROLE", "OUT_PORT", "NEXT_HOP", "POP", "SESSION",
                ],
                arr(&r["labels"])
                    .iter()
                    .map(|x| {
                        let se = &x["session"];
                        vec![
                            s(&x["label"]),
                            s(&x["direction"]),
                            s(&x["in_port_role"]),
                            s(&x["out_port"]),
                            s(&x["next_hop_mac"]),
                            s(&x["pop"]),
                            format!(
                                "{}/{} {}:{} {}",
                                s(&se["service"]),
                                s(&se["server"]),
                                s(&se["client"]),
                                s(&se["client_port"]),
                                s(&se["state"])
                            ),
                        ]
                    })
                    .collect(),
            );
        }
        "health" => {
            let t = &r["totals"];
            println!(
                "probing {}  servers down {}  went down {}  went up {}",
                if t["enabled"].as_bool().unwrap_or(false) {
                    "on"
                } else {
                    "off"
                },
                s(&t["servers_down"]),
                s(&t["went_down"]),
                s(&t["went_up"])
            );
            table(
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
                arr(&r["servers"])
                    .iter()
                    .map(|x| {
                        vec![
                            s(&x["service"]),
                            s(&x["server"]),
                            s(&x["address"]),
                            s(&x["kind"]),
                            s(&x["state"]),
                            s(&x["server_state"]),
                            s(&x["last_check_ms_ago"]),
                            s(&x["last_result"]),
                            s(&x["response_time_us"]),
                            format!("{}/{}", s(&x["successes"]), s(&x["failures"])),
                        ]
                    })
                    .collect(),
            );
        }
        "config.show" => println!(
            "{}",
            serde_json::to_string_pretty(&r["config"]).unwrap_or_default()
        ),
        _ => {
            if let Some(d) = r["done"].as_str() {
                println!("{d}");
            }
            for c in arr(&r["changes"]) {
                println!("  {}", s(&c));
            }
            if r.get("done").is_none() && r.get("changes").is_none() {
                println!("{}", serde_json::to_string_pretty(r).unwrap_or_default());
            }
        }
    }
}

fn print_services(list: &[Value]) {
    table(
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
        list.iter()
            .map(|v| {
                let refused: u64 = v["refused"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(_, n)| n.as_u64().unwrap_or(0))
                    .sum();
                vec![
                    s(&v["name"]),
                    s(&v["vip"]),
                    s(&v["port"]),
                    s(&v["protocol"]),
                    s(&v["algorithm"]),
                    s(&v["client_mode"]),
                    s(&v["sessions"]),
                    format!("{}/{}", s(&v["servers_available"]), s(&v["servers"])),
                    s(&v["admitted"]),
                    refused.to_string(),
                ]
            })
            .collect(),
    );
}

fn print_servers(list: &[Value]) {
    table(
        &[
            "SERVICE", "SERVER", "ADDRESS", "WEIGHT", "MAX", "ADMIN", "STATE", "HEALTH",
            "SESSIONS", "RT_US",
        ],
        list.iter()
            .map(|v| {
                vec![
                    s(&v["service"]),
                    s(&v["name"]),
                    s(&v["address"]),
                    s(&v["weight"]),
                    s(&v["max_sessions"]),
                    s(&v["admin_state"]),
                    s(&v["state"]),
                    s(&v["health"]["state"]),
                    s(&v["sessions"]),
                    s(&v["response_time_us"]),
                ]
            })
            .collect(),
    );
}
