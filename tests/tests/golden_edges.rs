//! The golden table, rows 13-18 (hard edges: martian and LAND sources,
//! foreign MACs, VLAN tags, MSS options, fragments, RH0, spoofed
//! servers): every row of `slb_tests::golden::rows::edges`
//! on the deterministic rig, one test per row, each in every family and
//! with every worker count the row lists. `--list` lists the rows.

use libtest_mimic::{Arguments, Trial};
use slb_tests::golden::{rows, run};

fn main() {
    let trials = rows::edges::ROWS
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
