//! The golden table, rows 9-12 and the timers (refusals, ARP/ND, malformed
//! frames, how sessions spread over servers, idle and SYN timeouts,
//! preloaded sessions): every row of `slb_tests::golden::rows::admission`
//! on the deterministic rig, one test per row, each in every family and
//! with every worker count the row lists. `--list` lists the rows.

use libtest_mimic::{Arguments, Trial};
use slb_tests::golden::{rows, run};

fn main() {
    let trials = rows::admission::ROWS
        .iter()
        .map(|row| {
            Trial::test(row.name, move || {
                run::on_rig(row);
                Ok(())
            })
        })
        .collect();
    libtest_mimic::run(&Arguments::from_args(), trials).exit();
}
