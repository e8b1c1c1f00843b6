//! `slbctl stats --watch`: per-second rates from successive `stats`.

use slb_ctl::client::{CallError, Client};
use slb_proto::{Reply, Request, Totals};
use std::time::{Duration, Instant};

fn totals(c: &mut Client) -> Result<(Instant, Totals), CallError> {
    match c.request(&Request::Stats)? {
        Reply::Stats(s) => Ok((Instant::now(), s.totals)),
        _ => Err(CallError::Protocol("stats: not a stats result".into())),
    }
}

/// The counters a line shows the rates of.
fn counters(t: &Totals) -> [u64; 4] {
    [t.rx_packets, t.tx_packets, t.sessions_admitted, t.drops]
}

/// Prints a header, then one line every `interval` seconds (at least
/// 0.1), `count` lines or until killed.
pub fn watch(c: &mut Client, count: Option<u64>, interval: f64) -> Result<(), CallError> {
    let interval = Duration::from_secs_f64(interval.max(0.1));
    let mut last = totals(c)?;
    println!(
        "{:>8} {:>12} {:>12} {:>12} {:>12} {:>10}",
        "time_s", "rx_pps", "tx_pps", "new_sess/s", "drops/s", "sessions"
    );
    let start = Instant::now();
    let mut n = 0;
    while count.is_none_or(|c| n < c) {
        std::thread::sleep(interval);
        let cur = totals(c)?;
        let dt = cur.0.duration_since(last.0).as_secs_f64().max(1e-3);
        let r: Vec<f64> = counters(&cur.1)
            .iter()
            .zip(counters(&last.1))
            .map(|(a, b)| a.saturating_sub(b) as f64 / dt)
            .collect();
        println!(
            "{:>8.1} {:>12.0} {:>12.0} {:>12.1} {:>12.1} {:>10}",
            start.elapsed().as_secs_f64(),
            r[0],
            r[1],
            r[2],
            r[3],
            cur.1.sessions
        );
        last = cur;
        n += 1;
    }
    Ok(())
}
