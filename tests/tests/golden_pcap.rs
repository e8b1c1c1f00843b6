//! The golden table through the real slbd: every row of
//! `slb_tests::golden::rows` not marked rig-only, one test per row, runs
//! on slbd with DPDK `net_pcap` ports (pcap in -> slbd -> pcap out,
//! balance mode, real lcores and mbufs), one slbd run per family and
//! worker count. slbd must send each port the row's frames, byte for
//! byte, and count the row's drops and no others (see
//! `slb_tests::golden::run::on_slbd`). Rows whose outcome needs the clock
//! or an order slbd does not fix run on the rig only (`golden_table`,
//! `golden_admission`).

use libtest_mimic::{Arguments, Trial};
use slb_tests::golden::row::Slbd;
use slb_tests::golden::{rows, run};

fn main() {
    let trials = rows::all()
        .filter(|row| row.slbd == Slbd::Runs)
        .map(|row| {
            Trial::test(row.name, move || {
                run::on_slbd(row);
                Ok(())
            })
        })
        .collect();
    libtest_mimic::run(&Arguments::from_args(), trials).exit();
}
