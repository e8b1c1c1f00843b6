//! The golden table, rows 19-21 (ICMP and PMTU: echo, fragmentation
//! needed / packet too big, ICMP errors forwarded to a session's server):
//! every row of `slb_tests::golden::rows::icmp`
//! on the deterministic rig, one test per row, each in every family and
//! with every worker count the row lists. `--list` lists the rows.

use libtest_mimic::{Arguments, Trial};
use slb_tests::golden::{rows, run};

fn main() {
    let trials = rows::icmp::ROWS
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
