//! slbd: the slb session-label load balancer appliance. The main thread
//! brings up EAL and the ports ([`bring_up`]), puts the lcores to work and
//! starts the control thread ([`launch`]), waits for a stop (signal,
//! `--duration`, `--exit-idle-ms`), then joins everything and prints the
//! final counters ([`report`]).

mod bring_up;
mod host;
mod launch;
mod options;
mod report;
mod state;

use clap::Parser;
use options::{split_args, Options};
use report::Report;
use slb_appliance::stop;
use slb_appliance::worker::LoopCounters;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (eal_args, slbd_args) = split_args(&args);
    let opts = match Options::try_parse_from(&slbd_args) {
        Ok(o) => o,
        Err(e) => {
            // clap prints help/version to stdout and errors to stderr.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SLB_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(&eal_args, &opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("slbd: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(eal_args: &[String], opts: &Options) -> Result<(), String> {
    let config = bring_up::load_config(opts)?;
    if opts.check_config {
        return bring_up::check_config(config.as_ref());
    }
    if eal_args.len() <= 1 {
        return Err("no EAL options: give them before `--` (see slbd --help)".into());
    }
    // `--restore`: its changes on the configuration before anything is
    // built from it.
    let (config, restore, changes) = state::prepare(opts, config);
    let listener = bring_up::bind_control(config.as_ref(), opts)?;
    let metrics = bring_up::bind_metrics(config.as_ref(), opts)?;
    let announcer = bring_up::start_announcer(config.as_ref(), opts)?;
    let eal = bring_up::start_eal(eal_args)?;
    stop::install_signal_handlers();
    let lcores = bring_up::Lcores::assign(opts.mode())?;
    let (ports, pool) = bring_up::start_ports(config.as_ref(), opts, &lcores)?;
    let exception = bring_up::start_exception_port(config.as_ref(), opts, &ports, &pool)?;
    let ports = Arc::new(ports);
    let exception = Arc::new(exception);
    let running = launch::start(
        opts,
        config.as_ref(),
        &lcores,
        &ports,
        &exception,
        pool,
        restore,
    )?;
    tracing::info!(
        mode = opts.mode().name(),
        workers = lcores.workers.len(),
        ports = ports.len(),
        "slbd running"
    );
    let ctl_threads = match (listener, &config) {
        (Some((l, path)), Some(cfg)) => {
            let ctl = launch::Ctl {
                listener: l,
                path,
                metrics,
                announcer,
            };
            launch::control_thread(ctl, opts, cfg, &running, &lcores, &ports, &changes)?
        }
        _ => Vec::new(),
    };
    let elapsed = wait_for_stop(opts, &running.loops);
    for t in ctl_threads {
        let _ = t.join();
    }
    let (loops, path) = (running.loops.clone(), running.path.clone());
    let (labels, sched_loop) = (running.labels.clone(), running.sched_loop.clone());
    let snapshot = running.snapshot.clone();
    // The scheduler lcore writes the label usage (and, with
    // --save-state, its snapshot) as it stops: read them once every
    // lcore has joined.
    let mut errors = running.join();
    let labels = labels.lock().ok().and_then(|g| *g);
    let snapshot = snapshot.lock().ok().and_then(|mut g| g.take());
    if let Err(e) = state::save(opts, snapshot, &changes) {
        errors.push(e);
    }
    let sched_loop = sched_loop.snapshot();
    for p in ports.iter().chain(exception.iter()) {
        p.stop();
    }
    Report {
        labels,
        mode: opts.mode(),
        opts,
        ports: &ports,
        loops: &loops,
        path: &path,
        sched_loop,
        elapsed,
    }
    .print();
    drop(ports);
    drop(exception);
    drop(eal);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// Runs until a signal, `--duration` or `--exit-idle-ms` stops slbd;
/// returns how long it ran.
fn wait_for_stop(opts: &Options, loops: &[LoopCounters]) -> Duration {
    let started = Instant::now();
    let mut last_rx = 0u64;
    let mut last_change = Instant::now();
    while !stop::requested() {
        std::thread::sleep(Duration::from_millis(5));
        let rx: u64 = loops.iter().map(|c| c.snapshot().rx_packets).sum();
        if rx != last_rx {
            last_rx = rx;
            last_change = Instant::now();
        }
        if let Some(ms) = opts.exit_idle_ms {
            if last_change.elapsed() >= Duration::from_millis(ms) {
                stop::request();
            }
        }
        if let Some(secs) = opts.duration {
            if started.elapsed().as_secs_f64() >= secs {
                stop::request();
            }
        }
    }
    started.elapsed()
}
