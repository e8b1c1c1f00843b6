//! The control plane. On the control thread (spawned by slbd's main
//! thread): [`Control`] answers the protocol's requests (the typed
//! [`slb_proto::Request`]s, each answered with its [`slb_proto::Reply`],
//! turned into JSON only in the [`Response`] line), [`server`] serves them
//! on a Unix socket, [`edit`] turns change commands into edits of the
//! configuration document, [`cluster_view`] answers `cluster` from the
//! running configuration, [`metrics`] renders the Prometheus text
//! format and [`metrics_http`] serves it on `control.metrics_listen` (a
//! thread of its own beside the socket's). On the scheduler lcore,
//! between its rounds: [`commands`] takes the control thread's commands,
//! [`views`] answers the read-only ones ([`drops_view`] the drop trace,
//! [`rules_view`] the layer-7 rules),
//! [`apply`] applies a configuration (also at start-up).
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
pub mod change_log;
pub mod cluster_view;
pub mod commands;
pub mod drops_view;
pub mod edit;
pub mod instance;
mod metric_events;
pub mod metrics;
pub mod metrics_http;
pub mod rules_view;
pub mod server;
pub mod views;

use crate::channels::{Answer, Call, Command, CommandQueue, CoreTotals, PeerStatus, View};
use crate::counters::{Counters, Event, PathDrop, Snapshot};
use crate::state_file;
use change_log::ChangeLog;
use serde_json::Value;
use slb_config::Config;
use slb_proto::{
    code, decode_line, Applied, ConfigShow, CoreStats, Edit, ErrorBody, Lcores, LoopStats, Metrics,
    PeerLiveness, Port, Rates, Reload, ReloadArgs, Reply, Request, Response, Session,
    SessionsSaved, Stats, Status, Totals,
};
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What only the process that owns the ports knows (slbd's main thread).
pub trait Host: Send + Sync {
    /// Ports: name, driver, MAC, link, device counters.
    fn ports(&self) -> Vec<Port>;
    /// Lcore layout: main, scheduler, workers.
    fn lcores(&self) -> Lcores;
    /// Per worker poll loop counters, in worker order.
    fn loops(&self) -> Vec<LoopStats>;
    /// The scheduler's poll loop counters (its own RX queue, what it
    /// sent), where it runs one.
    fn scheduler_loop(&self) -> Option<LoopStats> {
        None
    }
}

/// Per-second rates, sampled by [`Control::sample`].
#[derive(Default)]
struct RateSampler {
    /// When, and the sums (rx, tx, admitted, drops, refused) then.
    last: Option<(Instant, [u64; 5])>,
    /// None until sampled twice.
    current: Option<Rates>,
}

pub struct Control {
    config: Mutex<Config>,
    config_path: Option<PathBuf>,
    queue: Arc<CommandQueue>,
    /// The scheduler's counters first, then each worker's.
    counters: Vec<Arc<Counters>>,
    host: Option<Box<dyn Host>>,
    started: Instant,
    rates: Mutex<RateSampler>,
    /// How long a request waits for the scheduler.
    pub timeout: Duration,
    /// The VIPs the routing daemon announces (`cluster.announce_table`).
    announcer: Option<Mutex<crate::announce::Announcer>>,
    /// The change requests since start or the last reload.
    changes: ChangeLog,
    /// Where `sessions.save` writes (slbd's `--save-state`).
    state_path: Option<PathBuf>,
}

fn err(c: &str, m: impl Into<String>) -> ErrorBody {
    ErrorBody::new(c, m)
}

fn poisoned<T>(_: T) -> ErrorBody {
    err(code::INTERNAL, "poisoned")
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
            rates: Mutex::new(RateSampler::default()),
            timeout: Duration::from_secs(5),
            announcer: None,
            changes: ChangeLog::default(),
            state_path: None,
        }
    }

    /// Keeps the change requests in `changes` (slbd's, which it saves
    /// as it stops) and writes `sessions.save` to `path`.
    pub fn with_state_file(mut self, path: Option<PathBuf>, changes: ChangeLog) -> Control {
        self.state_path = path;
        self.changes = changes;
        self
    }

    /// `sessions.save`: the scheduler's sessions and label quarantine,
    /// with the change log, to the `--save-state` file.
    fn save_sessions(&self, pump: &mut dyn FnMut()) -> Result<SessionsSaved, ErrorBody> {
        let path = self.state_path.as_ref().ok_or_else(|| {
            err(
                code::NO_STATE_FILE,
                "slbd runs without --save-state FILE: there is nowhere to save the sessions",
            )
        })?;
        let snap: Box<state_file::Snapshot> = self.ask(Call::Snapshot, pump)?;
        state_file::write(path, *snap, self.changes.lines())
            .map_err(|e| err(code::NO_STATE_FILE, e.to_string()))
    }

    /// Answers one request line. `pump` runs while waiting for the
    /// scheduler (slbd: a short sleep; the golden rig: a scheduler round).
    pub fn handle_line(&self, line: &[u8], pump: &mut dyn FnMut()) -> Response {
        let (id, request) = decode_line(line);
        Response::answer(id, request.and_then(|r| self.handle(r, pump)))
    }

    /// Answers one decoded request.
    pub fn handle(&self, request: Request, pump: &mut dyn FnMut()) -> Result<Reply, ErrorBody> {
        Ok(match request {
            Request::Status => Reply::Status(self.status()),
            Request::Stats => Reply::Stats(Box::new(self.stats(pump)?)),
            Request::Metrics => Reply::Metrics(Metrics {
                text: self.metrics_text(pump)?,
            }),
            Request::ServicesList(f) => Reply::ServicesList(self.view(View::Services(f), pump)?),
            Request::ServersList(f) => Reply::ServersList(self.view(View::Servers(f), pump)?),
            Request::SessionsList(f) => Reply::SessionsList(self.view(View::Sessions(f), pump)?),
            Request::SessionsShow(s) => {
                let s: Box<Session> = self.view(View::Session(s), pump)?;
                Reply::SessionsShow(*s)
            }
            Request::Labels(f) => Reply::Labels(self.view(View::Labels(f), pump)?),
            Request::Health(f) => Reply::Health(self.view(View::Health(f), pump)?),
            Request::RulesShow(f) => Reply::RulesShow(self.view(View::Rules(f), pump)?),
            Request::Drops(a) => Reply::Drops(self.view(View::Drops(a), pump)?),
            Request::Cluster => {
                let peers: Vec<PeerStatus> = self.view(View::Peers, pump)?;
                let mut c = cluster_view::cluster(&*self.config.lock().map_err(poisoned)?);
                cluster_view::with_peer_states(&mut c, &peers);
                if let Some(s) = &mut c.sync {
                    let h: crate::channels::SyncHolding = self.view(View::SyncHolding, pump)?;
                    s.holding_routes = h.0;
                }
                c.announce = self.announce_state();
                Reply::Cluster(c)
            }
            Request::InstanceDrain => Reply::Announce(self.set_draining(true, pump)?),
            Request::InstanceUndrain => Reply::Announce(self.set_draining(false, pump)?),
            Request::ConfigShow => Reply::ConfigShow(self.config_show()?),
            Request::ConfigReload(a) => Reply::ConfigReload(self.reload(a, pump)?),
            Request::SessionsSave => Reply::SessionsSave(self.save_sessions(pump)?),
            r if r.is_change() => Reply::Edit(self.edit(pump, &r)?),
            // (Every change command is answered above.)
            r => return Err(err(code::INTERNAL, format!("{} unanswered", r.command()))),
        })
    }

    /// Submits a call to the scheduler and waits for its answer, of the
    /// type the call asks for.
    fn ask<T: TryFrom<Answer, Error = Answer>>(
        &self,
        call: Call,
        pump: &mut dyn FnMut(),
    ) -> Result<T, ErrorBody> {
        self.ask_within(call, pump, self.timeout)
    }

    /// [`Control::ask`] with a wait of its own.
    fn ask_within<T: TryFrom<Answer, Error = Answer>>(
        &self,
        call: Call,
        pump: &mut dyn FnMut(),
        timeout: Duration,
    ) -> Result<T, ErrorBody> {
        let (tx, rx) = sync_channel(1);
        if self.queue.push(Command { call, reply: tx }).is_err() {
            return Err(err(
                code::BUSY,
                "the scheduler's command queue is full; try again",
            ));
        }
        let t0 = Instant::now();
        let answer = loop {
            match rx.try_recv() {
                Ok(r) => break r?,
                Err(TryRecvError::Disconnected) => {
                    return Err(err(code::INTERNAL, "the scheduler dropped the command"))
                }
                Err(TryRecvError::Empty) if t0.elapsed() > timeout => {
                    return Err(err(
                        code::TIMEOUT,
                        format!("the scheduler did not answer within {timeout:?}"),
                    ))
                }
                Err(TryRecvError::Empty) => pump(),
            }
        };
        T::try_from(answer)
            .map_err(|_| err(code::INTERNAL, "the scheduler answered another question"))
    }

    fn view<T: TryFrom<Answer, Error = Answer>>(
        &self,
        view: View,
        pump: &mut dyn FnMut(),
    ) -> Result<T, ErrorBody> {
        self.ask(Call::View(view), pump)
    }

    fn status(&self) -> Status {
        let c = self.config.lock().map(|c| {
            (
                c.services.len(),
                c.services.iter().map(|s| s.servers.len()).sum::<usize>(),
            )
        });
        let (services, servers) = c.unwrap_or((0, 0));
        Status {
            version: env!("CARGO_PKG_VERSION").into(),
            pid: std::process::id(),
            uptime_s: self.started.elapsed().as_secs_f64(),
            config: self.config_path_shown(),
            services: services as u64,
            servers: servers as u64,
            workers: self.counters.len().saturating_sub(1) as u64,
            lcores: self.host.as_ref().map(|h| h.lcores()),
            ports: self.ports(),
        }
    }

    fn config_path_shown(&self) -> Option<String> {
        self.config_path.as_ref().map(|p| p.display().to_string())
    }

    fn ports(&self) -> Vec<Port> {
        self.host.as_ref().map(|h| h.ports()).unwrap_or_default()
    }

    fn loops(&self) -> Vec<LoopStats> {
        self.host.as_ref().map(|h| h.loops()).unwrap_or_default()
    }

    fn scheduler_loop(&self) -> Option<LoopStats> {
        self.host.as_ref().and_then(|h| h.scheduler_loop())
    }

    /// Every poll loop: the scheduler's (if it runs one), then the
    /// workers'.
    fn all_loops(&self) -> Vec<LoopStats> {
        let mut l: Vec<LoopStats> = self.scheduler_loop().into_iter().collect();
        l.extend(self.loops());
        l
    }

    /// (rx, tx, sessions admitted, drops, refused) over every lcore, as
    /// the rates count them.
    fn sums(&self) -> [u64; 5] {
        let mut t = Snapshot::default();
        for c in &self.counters {
            t.add(&c.snapshot());
        }
        let loops = self.all_loops();
        [
            loops.iter().map(|l| l.rx_packets).sum(),
            loops.iter().map(|l| l.tx_packets).sum(),
            t.event(Event::SessionsAdmitted),
            t.total_drops(),
            t.path_drop(PathDrop::Refused),
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
            let rate = |i: usize| sums[i].saturating_sub(last[i]) as f64 / dt;
            r.current = Some(Rates {
                rx_pps: rate(0),
                tx_pps: rate(1),
                sessions_admitted_per_s: rate(2),
                drops_per_s: rate(3),
                refused_per_s: rate(4),
            });
        }
        r.last = Some((now, sums));
    }

    fn stats(&self, pump: &mut dyn FnMut()) -> Result<Stats, ErrorBody> {
        let loops = self.loops();
        let all_loops = self.all_loops();
        let mut total = Snapshot::default();
        let mut cores = Vec::with_capacity(self.counters.len());
        for (i, c) in self.counters.iter().enumerate() {
            let snap = c.snapshot();
            total.add(&snap);
            let (core, poll_loop) = match i.checked_sub(1) {
                None => ("scheduler".to_string(), self.scheduler_loop()),
                Some(w) => (format!("worker{w}"), loops.get(w).copied()),
            };
            cores.push(CoreStats {
                core,
                drops: drop_counts(&snap),
                events: (&snap).into(),
                poll_loop,
            });
        }
        let core: Box<CoreTotals> = self.view(View::Stats, pump)?;
        let CoreTotals {
            sessions,
            labels,
            refusals,
            health,
            services,
            peers,
        } = *core;
        let rates = self.rates.lock().map(|r| r.current).map_err(poisoned)?;
        Ok(Stats {
            uptime_s: self.started.elapsed().as_secs_f64(),
            totals: Totals {
                rx_packets: all_loops.iter().map(|l| l.rx_packets).sum(),
                tx_packets: all_loops.iter().map(|l| l.tx_packets).sum(),
                sessions,
                sessions_admitted: total.event(Event::SessionsAdmitted),
                sessions_ended: total.event(Event::SessionsEnded),
                drops: total.total_drops(),
            },
            drops: drop_counts(&total),
            events: (&total).into(),
            refusals,
            labels,
            health,
            rates,
            ports: self.ports(),
            cores,
            services,
            announce: self.announce_state(),
            peers: peers
                .iter()
                .map(|p| PeerLiveness {
                    instance: p.instance,
                    state: p.state.as_str().into(),
                })
                .collect(),
        })
    }

    /// The Prometheus text of `stats`: what `metrics` answers and what
    /// the HTTP listener serves.
    pub fn metrics_text(&self, pump: &mut dyn FnMut()) -> Result<String, ErrorBody> {
        Ok(metrics::render(&self.stats(pump)?))
    }

    fn config_show(&self) -> Result<ConfigShow, ErrorBody> {
        let c = self.config.lock().map_err(poisoned)?;
        let config: Value = serde_json::from_str(&c.to_json_pretty())
            .map_err(|e| err(code::INTERNAL, e.to_string()))?;
        Ok(ConfigShow {
            path: self.config_path_shown(),
            config,
        })
    }

    fn reload(&self, args: ReloadArgs, pump: &mut dyn FnMut()) -> Result<Reload, ErrorBody> {
        let path = match args.path {
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
        let mut cur = self.config.lock().map_err(poisoned)?;
        let applied: Applied = self.ask(Call::Apply(Box::new(new.clone())), pump)?;
        *cur = new;
        self.changes.reloaded(&path, self.config_path.as_deref());
        drop(cur);
        self.announce_after_change(pump);
        Ok(Reload {
            applied,
            path: path.display().to_string(),
        })
    }

    /// A change: [`edit::change`] edits the running document (and says
    /// what it did), `slb-config` validates it, the scheduler applies it,
    /// and the change log gets the request ([`change_log`]).
    fn edit(&self, pump: &mut dyn FnMut(), request: &Request) -> Result<Edit, ErrorBody> {
        let mut cur = self.config.lock().map_err(poisoned)?;
        let mut doc: Value = serde_json::from_str(&cur.to_json_pretty())
            .map_err(|e| err(code::INTERNAL, e.to_string()))?;
        let done = edit::change(&mut doc, request)?;
        let new = Config::from_json_str(&doc.to_string())
            .map_err(|e| err(code::INVALID_ARGUMENT, e.to_string()))?;
        let applied: Applied = self.ask(Call::Apply(Box::new(new.clone())), pump)?;
        *cur = new;
        self.changes.push(request);
        drop(cur);
        self.announce_after_change(pump);
        Ok(Edit { applied, done })
    }
}

impl Control {
    /// After a change: the announce table at once, not at the next tick
    /// (a failure is the timer's to retry).
    fn announce_after_change(&self, pump: &mut dyn FnMut()) {
        if let Err(e) = self.announce(pump) {
            tracing::debug!(error = %e.message, "announce after a change");
        }
    }
}

/// Every drop of a snapshot by reason, in name order.
fn drop_counts(s: &Snapshot) -> slb_proto::Counts {
    s.drops().map(|(k, v)| (k.to_string(), v)).collect()
}
