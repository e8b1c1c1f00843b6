//! The control plane. On the control thread (spawned by slbd's main
//! thread): [`Control`] answers the protocol's requests
//! (`slb_ctl::protocol`), [`server`] serves them on a Unix socket,
//! [`edit`] turns change commands into edits of the configuration
//! document, [`metrics`] renders the Prometheus text format. On the
//! scheduler lcore, between its rounds: [`commands`] takes the control
//! thread's commands, [`views`] answers the read-only ones, [`apply`]
//! applies a configuration (also at start-up).
//!
//! Counters and port statistics are read on the control thread directly
//! (atomics, device counters). Everything about sessions, labels,
//! services, servers and health is asked of the scheduler lcore through
//! its command queue ([`crate::channels::Command`]); the asking thread
//! waits for the answer with a timeout and never blocks the scheduler or
//! the workers.
//!
//! Changes are edits of the running configuration: the edited document is
//! validated by `slb-config` (errors name the JSON path), then the
//! scheduler applies the difference. The control side keeps the running
//! configuration behind a mutex, so changes from several clients apply one
//! at a time.

pub mod apply;
pub mod commands;
pub mod edit;
pub mod metrics;
pub mod server;
pub mod views;

use crate::channels::{Call, Command, CommandQueue};
use crate::counters::{Counters, Event, Snapshot};
use serde_json::{json, Map, Value};
use slb_config::Config;
use slb_ctl::protocol::{code, ErrorBody, Request, Response, COMMANDS};
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What only the process that owns the ports knows (slbd's main thread).
pub trait Host: Send + Sync {
    /// Ports: name, driver, MAC, link, device counters.
    fn ports(&self) -> Value;
    /// Lcore layout: main, scheduler, workers.
    fn lcores(&self) -> Value;
    /// Per worker poll loop counters (rx, tx, tx_full_drops), in order.
    fn loops(&self) -> Vec<Value>;
}

/// Per-second rates, sampled by [`Control::sample`].
#[derive(Default)]
struct Rates {
    last: Option<(Instant, [u64; 5])>,
    current: Value,
}

const RATE_NAMES: [&str; 5] = [
    "rx_pps",
    "tx_pps",
    "sessions_admitted_per_s",
    "drops_per_s",
    "refused_per_s",
];

pub struct Control {
    config: Mutex<Config>,
    config_path: Option<PathBuf>,
    queue: Arc<CommandQueue>,
    /// The scheduler's counters first, then each worker's.
    counters: Vec<Arc<Counters>>,
    host: Option<Box<dyn Host>>,
    started: Instant,
    rates: Mutex<Rates>,
    /// How long a request waits for the scheduler.
    pub timeout: Duration,
}

fn err(c: &str, m: impl Into<String>) -> ErrorBody {
    ErrorBody::new(c, m)
}

impl Control {
    /// `config` is the running configuration (what the data path was
    /// assembled from); `config_path` the file `config.reload` re-reads.
    pub fn new(
        config: Config,
        config_path: Option<PathBuf>,
        queue: Arc<CommandQueue>,
        counters: Vec<Arc<Counters>>,
        host: Option<Box<dyn Host>>,
    ) -> Control {
        Control {
            config: Mutex::new(config),
            config_path,
            queue,
            counters,
            host,
            started: Instant::now(),
            rates: Mutex::new(Rates::default()),
            timeout: Duration::from_secs(5),
        }
    }

    /// Answers one request line. `pump` runs while waiting for the
    /// scheduler (slbd: a short sleep; the golden rig: a scheduler round).
    pub fn handle_line(&self, line: &[u8], pump: &mut dyn FnMut()) -> Response {
        let v: Value = match serde_json::from_slice(line) {
            Ok(v) => v,
            Err(e) => {
                return Response::err(
                    Value::Null,
                    err(code::PARSE_ERROR, format!("not JSON: {e}")),
                )
            }
        };
        let id = v.get("id").cloned().unwrap_or(Value::Null);
        let req: Request = match serde_json::from_value(v) {
            Ok(r) => r,
            Err(e) => {
                return Response::err(
                    id,
                    err(
                        code::PARSE_ERROR,
                        format!("not a request ({{\"id\", \"command\", \"args\"}}): {e}"),
                    ),
                )
            }
        };
        self.handle(req, pump)
    }

    pub fn handle(&self, req: Request, pump: &mut dyn FnMut()) -> Response {
        let args = if req.args.is_null() {
            json!({})
        } else {
            req.args
        };
        if !args.is_object() {
            return Response::err(
                req.id,
                err(code::INVALID_ARGUMENT, "args: must be an object"),
            );
        }
        match self.dispatch(&req.command, &args, pump) {
            Ok(v) => Response::ok(req.id, v),
            Err(e) => Response::err(req.id, e),
        }
    }

    fn dispatch(
        &self,
        command: &str,
        args: &Value,
        pump: &mut dyn FnMut(),
    ) -> Result<Value, ErrorBody> {
        match command {
            "status" => Ok(self.status()),
            "stats" => self.stats(pump),
            "metrics" => {
                let s = self.stats(pump)?;
                Ok(json!({ "text": metrics::render(&s) }))
            }
            "services.list" | "servers.list" | "sessions.list" | "sessions.show" | "labels"
            | "health" => self.view(command, args, pump),
            "config.show" => {
                let c = self
                    .config
                    .lock()
                    .map_err(|_| err(code::INTERNAL, "poisoned"))?;
                let doc: Value = serde_json::from_str(&c.to_json_pretty())
                    .map_err(|e| err(code::INTERNAL, e.to_string()))?;
                Ok(
                    json!({ "path": self.config_path.as_ref().map(|p| p.display().to_string()), "config": doc }),
                )
            }
            "config.reload" => self.reload(args, pump),
            "services.add" | "services.remove" | "services.update" | "servers.add"
            | "servers.remove" | "servers.update" | "servers.drain" | "servers.enable"
            | "servers.disable" => self.edit(command, args, pump),
            other => Err(err(
                code::UNKNOWN_COMMAND,
                format!(
                    "unknown command {other:?}; commands: {}",
                    COMMANDS.join(", ")
                ),
            )),
        }
    }

    /// Submits a call to the scheduler and waits for its answer.
    fn round_trip(&self, call: Call, pump: &mut dyn FnMut()) -> Result<Value, ErrorBody> {
        let (tx, rx) = sync_channel(1);
        if self.queue.push(Command { call, reply: tx }).is_err() {
            return Err(err(
                code::BUSY,
                "the scheduler's command queue is full; try again",
            ));
        }
        let t0 = Instant::now();
        loop {
            match rx.try_recv() {
                Ok(r) => return r,
                Err(TryRecvError::Disconnected) => {
                    return Err(err(code::INTERNAL, "the scheduler dropped the command"))
                }
                Err(TryRecvError::Empty) if t0.elapsed() > self.timeout => {
                    return Err(err(
                        code::TIMEOUT,
                        format!("the scheduler did not answer within {:?}", self.timeout),
                    ))
                }
                Err(TryRecvError::Empty) => pump(),
            }
        }
    }

    fn view(
        &self,
        command: &str,
        args: &Value,
        pump: &mut dyn FnMut(),
    ) -> Result<Value, ErrorBody> {
        self.round_trip(
            Call::View {
                command: command.into(),
                args: args.clone(),
            },
            pump,
        )
    }

    fn status(&self) -> Value {
        let c = self.config.lock().map(|c| {
            (
                c.services.len(),
                c.services.iter().map(|s| s.servers.len()).sum::<usize>(),
            )
        });
        let (services, servers) = c.unwrap_or((0, 0));
        json!({
            "version": env!("CARGO_PKG_VERSION"),
            "pid": std::process::id(),
            "uptime_s": self.started.elapsed().as_secs_f64(),
            "config": self.config_path.as_ref().map(|p| p.display().to_string()),
            "services": services,
            "servers": servers,
            "workers": self.counters.len().saturating_sub(1),
            "lcores": self.host.as_ref().map(|h| h.lcores()).unwrap_or(Value::Null),
            "ports": self.host.as_ref().map(|h| h.ports()).unwrap_or_else(|| json!([])),
        })
    }

    fn totals(&self) -> (Snapshot, Vec<Value>) {
        let mut total = Snapshot::default();
        for c in &self.counters {
            total.add(&c.snapshot());
        }
        let loops = self.host.as_ref().map(|h| h.loops()).unwrap_or_default();
        (total, loops)
    }

    fn sums(&self) -> [u64; 5] {
        let (t, loops) = self.totals();
        let sum = |k: &str| {
            loops
                .iter()
                .filter_map(|l| l.get(k).and_then(|v| v.as_u64()))
                .sum::<u64>()
        };
        [
            sum("rx_packets"),
            sum("tx_packets"),
            t.event(Event::SessionsAdmitted),
            t.total_drops(),
            t.path_drop(crate::counters::PathDrop::Refused),
        ]
    }

    /// Samples the counters for the per-second rates `stats` reports;
    /// the socket server calls it every second.
    pub fn sample(&self) {
        let now = Instant::now();
        let sums = self.sums();
        let Ok(mut r) = self.rates.lock() else { return };
        if let Some((t, last)) = r.last {
            let dt = now.duration_since(t).as_secs_f64().max(1e-3);
            let m: Map<String, Value> = RATE_NAMES
                .iter()
                .zip(sums.iter().zip(last))
                .map(|(n, (a, b))| (n.to_string(), json!(a.saturating_sub(b) as f64 / dt)))
                .collect();
            r.current = Value::Object(m);
        }
        r.last = Some((now, sums));
    }

    fn stats(&self, pump: &mut dyn FnMut()) -> Result<Value, ErrorBody> {
        let (total, loops) = self.totals();
        let mut cores = Vec::new();
        for (i, c) in self.counters.iter().enumerate() {
            let mut v = c.snapshot().to_json();
            v["core"] = if i == 0 {
                json!("scheduler")
            } else {
                json!(format!("worker{}", i - 1))
            };
            if i > 0 {
                if let Some(l) = loops.get(i - 1) {
                    v["loop"] = l.clone();
                }
            }
            cores.push(v);
        }
        let core = self.view("stats", &json!({}), pump)?;
        let rates = self
            .rates
            .lock()
            .map(|r| r.current.clone())
            .unwrap_or(Value::Null);
        let sums = self.sums();
        Ok(json!({
            "uptime_s": self.started.elapsed().as_secs_f64(),
            "totals": {
                "rx_packets": sums[0], "tx_packets": sums[1],
                "sessions": core["sessions"], "sessions_admitted": total.event(Event::SessionsAdmitted),
                "sessions_ended": total.event(Event::SessionsEnded), "drops": total.total_drops(),
            },
            "drops": total.to_json()["drops"],
            "events": total.to_json()["events"],
            "refusals": core["refusals"],
            "labels": core["labels"],
            "health": core["health"],
            "rates": if rates.is_null() { json!({}) } else { rates },
            "ports": self.host.as_ref().map(|h| h.ports()).unwrap_or_else(|| json!([])),
            "cores": cores,
            "services": core["services"],
        }))
    }

    fn reload(&self, args: &Value, pump: &mut dyn FnMut()) -> Result<Value, ErrorBody> {
        let path = match args.get("path").and_then(|p| p.as_str()) {
            Some(p) => PathBuf::from(p),
            None => self.config_path.clone().ok_or_else(|| {
                err(
                    code::INVALID_ARGUMENT,
                    "path: required (slbd has no configuration file)",
                )
            })?,
        };
        let new = Config::from_file(&path).map_err(|e| {
            err(
                code::INVALID_CONFIG,
                format!(
                    "{}: the configuration is invalid; the running one stays:\n{e}",
                    path.display()
                ),
            )
        })?;
        let mut cur = self
            .config
            .lock()
            .map_err(|_| err(code::INTERNAL, "poisoned"))?;
        let mut r = self.round_trip(Call::Apply(Box::new(new.clone())), pump)?;
        *cur = new;
        r["path"] = path.display().to_string().into();
        Ok(r)
    }

    /// A change: edit the running document, validate, apply.
    fn edit(
        &self,
        command: &str,
        args: &Value,
        pump: &mut dyn FnMut(),
    ) -> Result<Value, ErrorBody> {
        let mut cur = self
            .config
            .lock()
            .map_err(|_| err(code::INTERNAL, "poisoned"))?;
        let mut doc: Value = serde_json::from_str(&cur.to_json_pretty())
            .map_err(|e| err(code::INTERNAL, e.to_string()))?;
        let what = edit::edit_document(&mut doc, command, args)?;
        let text = doc.to_string();
        let new =
            Config::from_json_str(&text).map_err(|e| err(code::INVALID_ARGUMENT, e.to_string()))?;
        let mut r = self.round_trip(Call::Apply(Box::new(new.clone())), pump)?;
        *cur = new;
        r["done"] = what.into();
        Ok(r)
    }
}
