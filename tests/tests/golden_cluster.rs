//! The golden table, rows 22-25 (a cluster of slbd instances: this
//! instance's label slice, stateless server-to-client switching, hash
//! recovery, the exception path): every row of
//! `slb_tests::golden::rows::cluster` and `rows::exception` on the
//! deterministic rig,
//! one test per row, each in every family and with every worker count
//! the row lists. `--list` lists the rows.

use libtest_mimic::{Arguments, Trial};
use slb_tests::golden::{rows, run};

fn main() {
    let trials = rows::cluster::ROWS
        .iter()
        .chain(rows::exception::ROWS.iter())
        .map(|row| {
            Trial::test(row.name, move || {
                run::on_rig(row);
                Ok(())
            })
        })
        .collect();
    libtest_mimic::run(&Arguments::from_args(), trials).exit();
}
