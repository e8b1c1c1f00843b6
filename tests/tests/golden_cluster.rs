//! The golden table, rows 22-23 (a cluster of slbd instances: this
//! instance's label slice, stateless server-to-client switching): every
//! row of `slb_tests::golden::rows::cluster` on the deterministic rig,
//! one test per row, each in every family and with every worker count
//! the row lists. `--list` lists the rows.

use libtest_mimic::{Arguments, Trial};
use slb_tests::golden::{rows, run};

fn main() {
    let trials = rows::cluster::ROWS
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
