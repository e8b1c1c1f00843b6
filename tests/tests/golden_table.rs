//! The golden table of slbd's data path, rows 1-8 (a session's frames,
//! its labels, how it ends): every row of `slb_tests::golden::rows::sessions`
//! on the deterministic rig, one test per row, each in every family and
//! with every worker count the row lists. `--list` lists the rows.

use libtest_mimic::{Arguments, Trial};
use slb_tests::golden::{rows, run};

fn main() {
    let trials = rows::sessions::ROWS
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
