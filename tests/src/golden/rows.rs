//! The golden table of slbd's data path, in two parts: [`sessions`]
//! (rows 1-8: a session's frames, its labels, how it ends; run by
//! `tests/golden_table.rs`) and [`admission`] (rows 9-12: refusals,
//! ARP/ND, malformed frames, how sessions spread over servers, timers,
//! preloaded sessions; `tests/golden_admission.rs`) and [`edges`] (rows
//! 13-18: martians, foreign MACs, VLAN tags, MSS options, fragments, RH0,
//! spoofed servers; `tests/golden_edges.rs`) and [`icmp`] (rows 19-21:
//! echo, fragmentation needed / packet too big, ICMP errors forwarded to
//! a session's server; `tests/golden_icmp.rs`) and [`cluster`] (rows
//! 22-23: a cluster instance's label slice and stateless server-to-client
//! switching; `tests/golden_cluster.rs`) and [`exception`] (row 25: the
//! routing daemon's frames through the exception path; also
//! `tests/golden_cluster.rs`). `tests/golden_pcap.rs`
//! runs every row of both marked [`Slbd::Runs`](super::row::Slbd::Runs)
//! through the real slbd.
//!
//! A new case is one more [`Row`] in either list.

pub mod admission;
pub mod cluster;
pub mod edges;
pub mod exception;
pub mod icmp;
pub mod sessions;

use super::row::Row;

/// Every row, both parts.
pub fn all() -> impl Iterator<Item = &'static Row> {
    sessions::ROWS
        .iter()
        .chain(admission::ROWS.iter())
        .chain(edges::ROWS.iter())
        .chain(icmp::ROWS.iter())
        .chain(cluster::ROWS.iter())
        .chain(exception::ROWS.iter())
}

#[cfg(test)]
mod tests {
    use super::super::net::Net;
    use super::super::row::{Slbd, Step};
    use super::*;
    use std::collections::HashSet;

    /// Names are unique (they are test names); every frame has a verdict;
    /// what slbd cannot run (the clock, a chosen worker, preloading) is in
    /// rows marked rig-only.
    #[test]
    fn the_table_is_well_formed() {
        let mut names = HashSet::new();
        for row in all() {
            assert!(names.insert(row.name), "{}: name used twice", row.name);
            assert!(!row.families.is_empty() && !row.workers.is_empty());
            for &family in row.families {
                let case = (row.case)(&Net::new(family));
                assert!(!case.steps.is_empty(), "{}: no steps", row.name);
                let mut rig_only = case.preload > 0;
                for step in &case.steps {
                    match step {
                        Step::Send(s) => {
                            assert!(s.expect.is_some(), "{}: a frame without verdict", row.name);
                            rig_only |= s.worker.is_some();
                        }
                        Step::Advance(_) | Step::AdvanceOut(..) => rig_only = true,
                        Step::Check(_) => {}
                    }
                }
                if rig_only {
                    assert!(
                        matches!(row.slbd, Slbd::RigOnly(_)),
                        "{}: needs the rig, marked to run on slbd",
                        row.name
                    );
                }
            }
        }
    }
}
