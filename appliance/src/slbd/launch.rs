//! Puts the lcores to work: in forward mode every worker lcore runs the
//! poll loop with the `Forward` handler; in balance mode the data path is
//! assembled from the configuration (sessions preloaded for benchmarks),
//! the scheduler lcore runs its loop and every worker lcore its fast path.
//! Then the control thread serves the socket, and another thread the
//! metrics listener.

use crate::bring_up::Lcores;
use crate::host::SlbdHost;
use crate::options::{Mode, Options};
use crate::report::LabelUse;
use crate::state::Restore;
use slb_appliance::announce::Announcer;
use slb_appliance::channels::CommandQueue;
use slb_appliance::control::change_log::ChangeLog;
use slb_appliance::control::{instance, metrics_http, server, Control};
use slb_appliance::counters::Counters;
use slb_appliance::datapath::{assemble, DataPath, QueueSizes};
use slb_appliance::dpdk::{lcore, Mbuf, Mempool, Port};
use slb_appliance::scheduler::poll_loop as scheduler_loop;
use slb_appliance::state_file::Snapshot;
use slb_appliance::stop;
use slb_appliance::worker::forward::Forward;
use slb_appliance::worker::{self, Idle, LoopCounters};
use slb_config::Config;
use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the running lcores share with the main thread.
pub struct Running {
    pub launched: Vec<lcore::Launched>,
    /// One per worker lcore.
    pub loops: Arc<Vec<LoopCounters>>,
    /// Balance mode: the scheduler's counters, then each worker's.
    pub path: Vec<Arc<Counters>>,
    /// Balance mode: the scheduler's command queue.
    pub commands: Option<Arc<CommandQueue>>,
    /// The scheduler's poll loop: frames of its own RX queue, frames it
    /// sent, and what its full TX queue refused.
    pub sched_loop: Arc<LoopCounters>,
    /// Label pairs when the scheduler stopped.
    pub labels: Arc<Mutex<Option<LabelUse>>>,
    /// With `--save-state`: the sessions and label quarantine when the
    /// scheduler stopped.
    pub snapshot: Arc<Mutex<Option<Snapshot>>>,
}

impl Running {
    fn new(workers: usize) -> Running {
        Running {
            launched: Vec::new(),
            loops: Arc::new((0..workers).map(|_| LoopCounters::default()).collect()),
            path: Vec::new(),
            commands: None,
            sched_loop: Arc::default(),
            labels: Arc::default(),
            snapshot: Arc::default(),
        }
    }

    fn launch(&mut self, lc: u32, job: Box<dyn FnOnce() -> i32 + Send>) -> Result<(), String> {
        let l = lcore::launch(lc, job).map_err(|e| e.to_string())?;
        self.launched.push(l);
        Ok(())
    }

    /// Waits for every lcore; the errors of those that failed.
    pub fn join(self) -> Vec<String> {
        join_all(self.launched)
    }
}

fn join_all(launched: Vec<lcore::Launched>) -> Vec<String> {
    launched
        .into_iter()
        .filter_map(|l| match l.join() {
            Ok(0) => None,
            Ok(rc) => Some(format!("an lcore exited with {rc}")),
            Err(msg) => Some(msg),
        })
        .collect()
}

/// Launches every lcore for `opts`' mode. On an error, the lcores already
/// running are stopped and joined.
pub fn start(
    opts: &Options,
    config: Option<&Config>,
    lcores: &Lcores,
    ports: &Arc<Vec<Port>>,
    exception: &Arc<Option<Port>>,
    pool: Mempool,
    restore: Option<Restore>,
) -> Result<Running, String> {
    let mut run = Running::new(lcores.workers.len());
    let idle = Idle {
        sleep_us: opts.idle_sleep_us,
    };
    let result = match opts.mode() {
        Mode::Forward => start_forward(&mut run, lcores, ports, idle),
        Mode::Balance => match config {
            Some(cfg) => {
                let lanes = Lanes {
                    lcores,
                    ports,
                    exception,
                    pool,
                    idle,
                };
                start_balance(&mut run, opts, cfg, &lanes, restore)
            }
            None => Err("no configuration".into()),
        },
    };
    if let Err(e) = result {
        stop::request();
        run.join();
        return Err(e);
    }
    Ok(run)
}

fn start_forward(
    run: &mut Running,
    lcores: &Lcores,
    ports: &Arc<Vec<Port>>,
    idle: Idle,
) -> Result<(), String> {
    for (q, &lc) in lcores.workers.iter().enumerate() {
        let (ports, counters) = (ports.clone(), run.loops.clone());
        run.launch(
            lc,
            Box::new(move || {
                let refs: Vec<&Port> = ports.iter().collect();
                let mut h = Forward::new(refs.len());
                worker::run(&refs, q as u16, &mut h, &counters[q], idle);
                0
            }),
        )?;
    }
    Ok(())
}

/// An mbuf from `pool` holding `bytes`.
fn mbuf_of(pool: Mempool, bytes: &[u8]) -> Option<Mbuf> {
    let mut m = pool.alloc()?;
    m.append(u16::try_from(bytes.len()).ok()?)?
        .copy_from_slice(bytes);
    Some(m)
}

/// What the balance mode's lcores run on.
struct Lanes<'a> {
    lcores: &'a Lcores,
    ports: &'a Arc<Vec<Port>>,
    exception: &'a Arc<Option<Port>>,
    pool: Mempool,
    idle: Idle,
}

fn start_balance(
    run: &mut Running,
    opts: &Options,
    cfg: &Config,
    lanes: &Lanes,
    restore: Option<Restore>,
) -> Result<(), String> {
    let Lanes {
        lcores,
        ports,
        exception,
        pool,
        idle,
    } = *lanes;
    let macs: Vec<[u8; 6]> = ports.iter().map(|p| p.mac()).collect();
    let mut dp = assemble::<Mbuf>(
        cfg,
        lcores.workers.len(),
        &macs,
        QueueSizes::default(),
        Box::new(move |bytes: &[u8]| mbuf_of(pool, bytes)),
    )?;
    if opts.preload_sessions > 0 {
        let t0 = Instant::now();
        let wrap = |bytes: Vec<u8>| mbuf_of(pool, &bytes);
        let n = dp.preload(cfg, 0, opts.preload_sessions, 1, wrap)?;
        tracing::info!(
            sessions = n,
            seconds = t0.elapsed().as_secs_f64(),
            "preloaded"
        );
    }
    if let Some(r) = restore {
        // Before any lcore runs: at the scheduler clock's start (1 ns).
        let elapsed = slb_appliance::shared::unix_ms().saturating_sub(r.state.saved_at_ms);
        let done = dp.restore(&r.state, elapsed, 1);
        tracing::info!(
            "{done}, replayed {} changes ({} failed), saved {} ms ago",
            r.replayed,
            r.failed,
            elapsed
        );
    }
    let DataPath {
        mut scheduler,
        workers,
        worker_counters,
        scheduler_counters,
        ..
    } = dp;
    run.path.push(scheduler_counters);
    run.path.extend(worker_counters);
    scheduler.set_health_enabled(true);
    run.commands = Some(scheduler.command_queue());
    let (p, dropped, labels) = (ports.clone(), run.sched_loop.clone(), run.labels.clone());
    let (snapshot, save) = (run.snapshot.clone(), opts.save_state.is_some());
    let x = exception.clone();
    let queue = lcores.workers.len() as u16;
    run.launch(
        lcores.scheduler.ok_or("no scheduler lcore")?,
        Box::new(move || {
            // The exception port, when there is one, after the configured
            // ports: the index the data path gives it.
            let refs: Vec<&Port> = p.iter().chain(x.iter()).collect();
            scheduler_loop::run(&mut scheduler, &refs, queue, &dropped, idle);
            // What the label space looks like at the end, for the report.
            let c = scheduler.core().labels().counts();
            if let Ok(mut slot) = labels.lock() {
                *slot = Some((c.capacity, c.free, c.active, c.quarantined));
            }
            if save {
                if let Ok(mut slot) = snapshot.lock() {
                    *slot = Some(scheduler.snapshot_last_round());
                }
            }
            0
        }),
    )?;
    for (q, (mut fp, &lc)) in workers.into_iter().zip(lcores.workers.iter()).enumerate() {
        let (ports, counters) = (ports.clone(), run.loops.clone());
        run.launch(
            lc,
            Box::new(move || {
                let refs: Vec<&Port> = ports.iter().collect();
                worker::run(&refs, q as u16, &mut fp, &counters[q], idle);
                0
            }),
        )?;
    }
    Ok(())
}

/// What the control plane was given before EAL started.
pub struct Ctl {
    /// The control socket, bound, and its path.
    pub listener: UnixListener,
    pub path: PathBuf,
    /// `control.metrics_listen`, bound.
    pub metrics: Option<TcpListener>,
    /// `cluster.announce_table`, flushed.
    pub announcer: Option<Announcer>,
}

/// Balance mode: serves the control socket on a thread of its own until
/// slbd stops, the metrics listener (when bound) on another, and the
/// announcer (when configured) on a third, which withdraws every VIP as
/// slbd stops.
pub fn control_thread(
    ctl: Ctl,
    opts: &Options,
    config: &Config,
    run: &Running,
    lcores: &Lcores,
    ports: &Arc<Vec<Port>>,
    changes: &ChangeLog,
) -> Result<Vec<JoinHandle<()>>, String> {
    let Some(queue) = run.commands.clone() else {
        return Ok(Vec::new());
    };
    let host = Box::new(SlbdHost {
        ports: ports.clone(),
        loops: run.loops.clone(),
        sched_loop: run.sched_loop.clone(),
        main_lcore: lcore::main_lcore(),
        scheduler: lcores.scheduler.unwrap_or(0),
        workers: lcores.workers.clone(),
    });
    let Ctl {
        listener,
        path,
        metrics,
        announcer,
    } = ctl;
    let mut control = Control::new(
        config.clone(),
        opts.config.clone(),
        queue,
        run.path.clone(),
        Some(host),
    )
    .with_state_file(opts.save_state.clone(), changes.clone());
    if let Some(a) = announcer {
        control = control.with_announcer(a);
    }
    let control = Arc::new(control);
    let mut threads = Vec::new();
    if control.announces() {
        let c = control.clone();
        let t = std::thread::Builder::new()
            .name("slbd-announce".into())
            .spawn(move || instance::run_announcer(&c, stop::requested))
            .map_err(|e| e.to_string())?;
        threads.push(t);
    }
    if let Some(l) = metrics {
        let addr = l.local_addr().map_err(|e| e.to_string())?;
        let c = control.clone();
        let source: metrics_http::Source = Arc::new(move || {
            let mut pump = || std::thread::sleep(Duration::from_micros(200));
            c.metrics_text(&mut pump).map_err(|e| e.message)
        });
        let limits = metrics_http::Limits::default();
        tracing::info!(address = %addr, "metrics listener ready (GET /metrics)");
        let t = std::thread::Builder::new()
            .name("slbd-metrics".into())
            .spawn(move || metrics_http::serve(l, source, limits, stop::requested))
            .map_err(|e| e.to_string())?;
        threads.push(t);
    }
    tracing::info!(socket = %path.display(), "control socket ready");
    let t = std::thread::Builder::new()
        .name("slbd-ctl".into())
        .spawn(move || server::serve(listener, path, control, stop::requested))
        .map_err(|e| e.to_string())?;
    threads.push(t);
    Ok(threads)
}
