//! `slb-agent cluster`: keeps an attachment's cluster map true to which
//! instances answer, until SIGTERM or SIGINT.
//!
//! Every interval: an ICMP echo to each instance's next hop (`probe`), the
//! answers recorded (`failover::Liveness`), the MACs of the live ones read
//! from the ARP table (`neigh`), each instance's route planned
//! (`failover::plan`) and the pinned maps brought in line (`cluster_map`).
//! The maps are opened again each round, so an `attach --replace` (new
//! maps) is picked up within one interval. On the way out the cluster is
//! removed from the maps: frames follow the kernel's next hop again.

use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use crate::attach::ifindex;
use crate::cluster_args::ClusterArgs;
use crate::cluster_map::PinnedCluster;
use crate::error::AgentError;
use crate::failover::{describe, plan, Health, Liveness, Route};
use crate::neigh;
use crate::pins;
use crate::probe::Prober;
use crate::program::NextHop;

pub struct ClusterOptions<'a> {
    pub netns: Option<&'a str>,
    pub iface: &'a str,
    pub args: ClusterArgs,
    pub interval: Duration,
    pub dead_after: u32,
}

/// The signal that asked us to stop, 0 until then.
static STOP: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_stop_signal(signal: libc::c_int) {
    STOP.store(signal, Ordering::SeqCst);
}

/// SIGTERM and SIGINT set STOP; without SA_RESTART, so a poll in progress
/// returns at once.
fn catch_stop_signals() -> Result<(), AgentError> {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: a zeroed sigaction is valid; the handler only stores to an
        // atomic, which is async-signal-safe.
        let rc = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_stop_signal as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(AgentError::step(
                "installing the SIGTERM/SIGINT handlers",
                std::io::Error::last_os_error(),
            ));
        }
    }
    Ok(())
}

fn stopping() -> bool {
    STOP.load(Ordering::SeqCst) != 0
}

fn log(iface: &str, line: &str) {
    eprintln!("slb-agent: {iface}: {line}");
}

/// Opens the maps pinned in `dir` again and makes them say `params` and
/// `hops`.
fn write_maps(
    dir: &Path,
    params: Option<crate::label_owner::ClusterParams>,
    hops: &[NextHop],
) -> Result<bool, String> {
    PinnedCluster::open(dir)?.sync(params, hops)
}

pub fn run(opts: &ClusterOptions) -> Result<(), AgentError> {
    let iface = opts.iface;
    let args = &opts.args;
    let params = args.params;
    let hops: &[Ipv4Addr] = &args.next_hops;
    ifindex(iface)?;
    let dir = pins::pin_dir(opts.netns, iface);
    if !pins::bpffs_mounted() || !dir.exists() {
        return Err(AgentError::iface(
            iface,
            format!(
                "slb-agent is not attached: run `slb-agent attach --iface {iface} --role ...` first"
            ),
        ));
    }
    let prober = Prober::open(iface)
        .map_err(|e| AgentError::iface(iface, format!("opening a raw ICMP socket: {e}")))?;
    catch_stop_signals()?;
    // The slices, with every entry cleared: the kernel's next hop until the
    // first answers.
    write_maps(&dir, Some(params), &[]).map_err(|e| AgentError::iface(iface, e))?;

    let slices: Vec<String> = (0..params.instances)
        .map(|k| {
            let (lo, hi) = params.slice(k);
            format!("instance {k} ({}) labels {lo}-{hi}", hops[k as usize])
        })
        .collect();
    log(
        iface,
        &format!(
            "cluster of {} instances over labels {}-{} ({} pairs each): {}; probing every {} ms, \
             dead after {} missed probes",
            params.instances,
            args.first,
            args.last,
            params.pairs_per_instance,
            slices.join(", "),
            opts.interval.as_millis(),
            opts.dead_after,
        ),
    );

    let n = hops.len();
    let who: Vec<String> = hops
        .iter()
        .enumerate()
        .map(|(k, a)| format!("instance {k} ({a})"))
        .collect();
    let mut liveness = vec![Liveness::default(); n];
    let mut said: Vec<Option<String>> = vec![None; n];
    let mut send_error: Vec<Option<String>> = vec![None; n];
    let mut recv_error: Option<String> = None;
    let mut maps_ok = true;
    let mut seq: u16 = 0;
    while !stopping() {
        seq = seq.wrapping_add(1);
        let deadline = Instant::now() + opts.interval;
        for (k, addr) in hops.iter().enumerate() {
            // A failed send (no route, ARP gave up) is a miss; say it once.
            let error = prober.send(*addr, seq).err().map(|e| e.to_string());
            if error.is_some() && error != send_error[k] {
                log(
                    iface,
                    &format!(
                        "{}: probe not sent: {}",
                        who[k],
                        error.as_deref().unwrap_or("")
                    ),
                );
            }
            send_error[k] = error;
        }
        let mut answered = vec![false; n];
        while !stopping() {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            match prober.recv(left) {
                Ok(Some((from, s))) => {
                    if let Some(k) = hops.iter().position(|a| *a == from) {
                        answered[k] |= s == seq;
                    }
                }
                Ok(None) => {}
                // Not expected on a raw socket; said once, and the round
                // waited out rather than spun on (no answers: misses).
                Err(e) => {
                    let error = Some(e.to_string());
                    if error != recv_error {
                        log(iface, &format!("receiving probe answers: {e}"));
                        recv_error = error;
                    }
                    std::thread::sleep(left.min(Duration::from_millis(50)));
                }
            }
        }
        if stopping() {
            break;
        }

        let table = neigh::read_table().unwrap_or_default();
        let state: Vec<(Health, Option<neigh::Mac>)> = (0..n)
            .map(|k| {
                liveness[k].record(answered[k], opts.dead_after);
                (liveness[k].health(), neigh::find(&table, hops[k], iface))
            })
            .collect();
        let routes: Vec<Route> = plan(&state);
        for k in 0..n {
            let line = describe(&who[k], state[k].0, routes[k]);
            if line.is_some() && line != said[k] {
                log(iface, line.as_deref().unwrap_or(""));
                said[k] = line;
            }
        }
        let entries: Vec<NextHop> = routes
            .iter()
            .enumerate()
            .map(|(k, r)| r.entry(k as u32))
            .collect();
        match write_maps(&dir, Some(params), &entries) {
            Ok(_) if !maps_ok => {
                log(iface, "cluster map written again");
                maps_ok = true;
            }
            Ok(_) => {}
            Err(e) if maps_ok => {
                log(
                    iface,
                    &format!("cannot write the cluster map ({e}); trying again every interval"),
                );
                maps_ok = false;
            }
            Err(_) => {}
        }
    }

    let signal = match STOP.load(Ordering::SeqCst) {
        libc::SIGTERM => "SIGTERM",
        _ => "SIGINT",
    };
    match write_maps(&dir, None, &[]) {
        Ok(_) => {
            log(
                iface,
                &format!(
                    "stopped by {signal}: cluster map cleared, frames follow the kernel's next hop"
                ),
            );
            Ok(())
        }
        // Detached meanwhile: its maps are gone with it, nothing to clear.
        Err(_) if !dir.exists() => {
            log(
                iface,
                &format!("stopped by {signal}: the agent is no longer attached"),
            );
            Ok(())
        }
        Err(e) => Err(AgentError::iface(
            iface,
            format!("stopped by {signal}, but the cluster map could not be cleared: {e}"),
        )),
    }
}
