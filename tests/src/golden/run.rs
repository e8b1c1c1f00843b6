//! The two runners of the golden table: [`on_rig`] (slbd's data path in
//! process, one frame at a time, the clock the test's) and [`on_slbd`]
//! (the real slbd binary on `net_pcap` ports, through [`crate::pcap_run`]).
//! Both run a row in every family and with every worker count it lists,
//! each from a fresh data path; a failure names the row, the variant and
//! the step.

use super::net::{Net, PORT_MACS};
use super::row::{Case, Check, Row, Send, Slbd, Step};
use super::{drops_moved, Rig};
use crate::pcap_run::{self, Queues};
use slb_appliance::frame::VecFrame;
use slb_core::ServiceId;
use slb_wire::builder::checksums_valid;
use std::collections::BTreeMap;

/// Runs every step of `row` on the rig and checks each.
pub fn on_rig(row: &Row) {
    for &family in row.families {
        let net = Net::new(family);
        let case = (row.case)(&net);
        for &workers in row.workers {
            let variant = format!("{} [{}, {workers} worker(s)]", row.name, family.name());
            rig_case(&variant, &case, workers);
        }
    }
}

fn rig_case(variant: &str, case: &Case, workers: usize) {
    let mut rig = Rig::with_macs(&case.config, workers, &PORT_MACS);
    if case.preload > 0 {
        let cfg = slb_config::Config::from_json_str(&case.config).expect("row config");
        let n = rig
            .dp
            .preload(&cfg, 0, case.preload, rig.now, |b| Some(VecFrame::new(&b)))
            .unwrap_or_else(|e| panic!("{variant}: preload: {e}"));
        assert_eq!(n, case.preload, "{variant}: sessions preloaded");
    }
    for (i, step) in case.steps.iter().enumerate() {
        let at = format!("{variant} step {}", i + 1);
        match step {
            Step::Send(s) => rig_send(&format!("{at} ({})", s.what), &mut rig, s),
            Step::Advance(ms) => {
                let out = rig.advance_ms(*ms);
                assert!(
                    out.is_empty(),
                    "{at}: {} frame(s) left while the clock moved on {ms} ms",
                    out.len()
                );
            }
            Step::AdvanceOut(ms, want) => {
                let out = rig.advance_ms(*ms);
                assert_eq!(
                    out.len(),
                    want.len(),
                    "{at}: frames out while the clock moved on {ms} ms"
                );
                for (k, ((got_port, got), (want_port, want))) in out.iter().zip(want).enumerate() {
                    assert_eq!(got_port, want_port, "{at}: frame {} out: port", k + 1);
                    assert_same_bytes(&format!("{at}: frame {} out", k + 1), got, want);
                }
            }
            Step::Check(c) => rig_check(&at, &rig, c),
        }
    }
}

fn rig_send(at: &str, rig: &mut Rig, s: &Send) {
    let before = rig.counters();
    let out = match s.worker {
        Some(w) => rig.send_on(w, s.port, &s.frame),
        None => rig.send(s.port, &s.frame),
    };
    let after = rig.counters();
    let drops = drops_moved(&before, &after);
    let want = s
        .expect
        .as_ref()
        .unwrap_or_else(|| panic!("{at}: the row gives this frame no verdict"));
    assert_eq!(
        out.len(),
        want.out.len(),
        "{at}: frames out (drop counters that moved: {drops:?})"
    );
    for (k, ((got_port, got), (want_port, want))) in out.iter().zip(&want.out).enumerate() {
        assert_eq!(got_port, want_port, "{at}: frame {} out: port", k + 1);
        assert_same_bytes(&format!("{at}: frame {} out", k + 1), got, want);
        assert!(
            !carries_ip(got) || checksums_valid(got),
            "{at}: frame {} out: checksums",
            k + 1
        );
    }
    let mut want_drops: Vec<(&str, u64)> = want.drops.iter().map(|r| (*r, 1)).collect();
    want_drops.sort();
    let mut drops = drops;
    drops.sort();
    assert_eq!(drops, want_drops, "{at}: drop counters that moved");
    for &(e, n) in &s.events {
        assert_eq!(
            after.event(e) - before.event(e),
            n,
            "{at}: event {} moved by",
            e.as_str()
        );
    }
}

fn rig_check(at: &str, rig: &Rig, c: &Check) {
    match *c {
        Check::ActiveSessions(n) => {
            assert_eq!(rig.active_sessions(), n, "{at}: active sessions")
        }
        Check::Refused {
            service,
            reason,
            count,
        } => {
            let got = rig
                .dp
                .scheduler
                .core()
                .service(ServiceId(service))
                .unwrap_or_else(|| panic!("{at}: no service {service}"))
                .counters()
                .refused(reason);
            assert_eq!(got, count, "{at}: service {service} refused for {reason:?}");
        }
        Check::Event(e, n) => assert_eq!(rig.event(e), n, "{at}: event {}", e.as_str()),
    }
}

/// Equal bytes, else a message with both frames in hex and where they
/// first differ.
fn assert_same_bytes(what: &str, got: &[u8], want: &[u8]) {
    if got == want {
        return;
    }
    let first = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    panic!(
        "{what}: bytes differ at offset {first} (lengths {} and {})\n got: {}\nwant: {}",
        got.len(),
        want.len(),
        hex(got),
        hex(want)
    );
}

/// IPv4, IPv6 or MPLS over Ethernet: a frame with checksums to check.
fn carries_ip(frame: &[u8]) -> bool {
    matches!(
        frame.get(12..14),
        Some([0x08, 0x00] | [0x86, 0xdd] | [0x88, 0x47])
    )
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Runs `row` through the real slbd: per family and worker count, one slbd
/// run on `net_pcap` ports with each port's frames in step order. slbd's
/// lcores run side by side, so what is checked is what does not depend on
/// which lcore sent a frame when: each port's frames out as a multiset
/// (exact bytes), the drop counters (all of them: the verdicts' reasons and
/// nothing else), each worker's received frames, and the active sessions
/// at the end when the row's last step checks them. Event counts and the
/// other checks are the rig's.
///
/// With one worker every frame goes to it. With two, the harness plays a
/// NIC whose RSS keeps a flow on one queue: every TCP and UDP frame to
/// worker 0, the rest (ARP, ND, ICMP, malformed frames) to worker 1. One
/// session's frames thus reach one worker in order and the scheduler takes
/// its punts in that order, so the outcome is exact. (Switching one
/// session on two cores is the rig's part: there frames alternate.)
pub fn on_slbd(row: &Row) {
    if let Slbd::RigOnly(why) = row.slbd {
        panic!("{} runs on the rig only: {why}", row.name);
    }
    for &family in row.families {
        let net = Net::new(family);
        let case = (row.case)(&net);
        for &workers in row.workers {
            let variant = format!(
                "{} on slbd [{}, {workers} worker(s)]",
                row.name,
                family.name()
            );
            slbd_case(&variant, &case, workers);
        }
    }
}

fn slbd_case(variant: &str, case: &Case, workers: usize) {
    assert_eq!(case.preload, 0, "{variant}: preloading is rig only");
    let mut inputs: Vec<Vec<Vec<u8>>> = vec![Vec::new(); PORT_MACS.len()];
    let mut want: Vec<Vec<Vec<u8>>> = vec![Vec::new(); PORT_MACS.len()];
    let mut want_drops: BTreeMap<String, u64> = BTreeMap::new();
    // The sessions a check counts after the last frame: slbd reports its
    // label use when it stops. Other checks read the rig's state.
    let mut final_sessions = None;
    for (i, step) in case.steps.iter().enumerate() {
        let s = match step {
            Step::Send(s) => s,
            Step::Check(Check::ActiveSessions(n)) => {
                final_sessions = Some(*n);
                continue;
            }
            Step::Check(_) => continue,
            Step::Advance(_) | Step::AdvanceOut(..) => {
                panic!("{variant} step {}: the clock moves: a rig-only row", i + 1)
            }
        };
        assert!(
            s.worker.is_none(),
            "{variant} step {}: a frame for a chosen worker: a rig-only row",
            i + 1
        );
        final_sessions = None;
        inputs[s.port].push(s.frame.clone());
        let e = s
            .expect
            .as_ref()
            .unwrap_or_else(|| panic!("{variant} step {}: no verdict", i + 1));
        for (p, f) in &e.out {
            want[*p].push(f.clone());
        }
        for r in &e.drops {
            *want_drops.entry(r.to_string()).or_default() += 1;
        }
    }
    let queues = if workers == 1 {
        Queues::First
    } else {
        Queues::By(flows_to_worker_0)
    };
    let run = pcap_run::run_balance_queues(&case.config, &inputs, workers as u32, queues, &[], 300);
    for (p, (got, want)) in run.out.iter().zip(&want).enumerate() {
        let (missing, extra) = multiset_diff(got, want);
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{variant}: port {p}: frames out differ ({} sent, {} expected)\n\
             expected, not sent:\n{}\nsent, not expected:\n{}\nslbd stderr:\n{}",
            got.len(),
            want.len(),
            missing.join("\n"),
            extra.join("\n"),
            run.stderr
        );
    }
    let got_drops: BTreeMap<String, u64> = run.summary["total"]["drops"]
        .as_object()
        .expect("total.drops in slbd's summary")
        .iter()
        .filter_map(|(k, v)| v.as_u64().filter(|n| *n > 0).map(|n| (k.clone(), n)))
        .collect();
    assert_eq!(got_drops, want_drops, "{variant}: drop counters");
    assert_eq!(run.summary["mode"], "balance", "{variant}: mode");
    let rx: Vec<u64> = run.summary["workers"]
        .as_array()
        .expect("workers in slbd's summary")
        .iter()
        .map(|w| w["rx_packets"].as_u64().unwrap_or(0))
        .collect();
    let mut want_rx = vec![0u64; workers];
    for f in inputs.iter().flatten() {
        let w = if workers == 1 {
            0
        } else {
            flows_to_worker_0(f)
        };
        want_rx[w] += 1;
    }
    assert_eq!(rx, want_rx, "{variant}: frames each worker received");
    if let Some(n) = final_sessions {
        assert_eq!(
            run.summary["labels"]["active"].as_u64(),
            Some(n as u64),
            "{variant}: active sessions at the end"
        );
    }
}

/// The queue (worker) a NIC with flow RSS would give a frame: TCP and UDP
/// to worker 0, everything else to worker 1.
fn flows_to_worker_0(frame: &[u8]) -> usize {
    use slb_wire::IpProtocol;
    match slb_wire::flow::extract(frame) {
        Ok(k) if matches!(k.protocol, IpProtocol::Tcp | IpProtocol::Udp) => 0,
        _ => 1,
    }
}

/// The frames of `want` that `got` lacks and those it has in excess, in
/// hex, counting repeats.
fn multiset_diff(got: &[Vec<u8>], want: &[Vec<u8>]) -> (Vec<String>, Vec<String>) {
    let mut extra: Vec<&Vec<u8>> = got.iter().collect();
    let mut missing = Vec::new();
    for w in want {
        match extra.iter().position(|g| *g == w) {
            Some(i) => {
                extra.swap_remove(i);
            }
            None => missing.push(hex(w)),
        }
    }
    (missing, extra.into_iter().map(|f| hex(f)).collect())
}
