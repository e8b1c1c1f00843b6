//! Which MAC each instance's labels go to, from the probes' answers: the
//! instance's own while it answers, a live stand-in's once it has missed
//! `dead_after` probes in a row, the kernel's next hop when no one is live.

use crate::neigh::{format_mac, Mac};
use crate::program::{NextHop, NEXT_HOP_FALLBACK, NEXT_HOP_VALID};

/// What the probes say about one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Neither answered yet nor missed `dead_after` probes (the start).
    Unknown,
    /// Answered the last probe, or missed fewer than `dead_after` since.
    Live,
    /// Missed the last `dead_after` probes.
    Dead,
}

/// Consecutive misses of one instance.
#[derive(Debug, Clone, Copy)]
pub struct Liveness {
    misses: u32,
    health: Health,
}

impl Default for Liveness {
    fn default() -> Self {
        Liveness {
            misses: 0,
            health: Health::Unknown,
        }
    }
}

impl Liveness {
    pub fn record(&mut self, answered: bool, dead_after: u32) {
        if answered {
            self.misses = 0;
            self.health = Health::Live;
        } else {
            self.misses = self.misses.saturating_add(1);
            if self.misses >= dead_after {
                self.health = Health::Dead;
            }
        }
    }

    pub fn health(&self) -> Health {
        self.health
    }
}

/// Where one instance's labels go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// To the instance itself.
    Own(Mac),
    /// To live instance `via`, standing in.
    Via(u32, Mac),
    /// The kernel's next hop (the map entry is cleared).
    Kernel,
}

impl Route {
    /// The `slb_cluster` entry of instance `k`.
    pub fn entry(&self, k: u32) -> NextHop {
        match *self {
            Route::Own(mac) => NextHop {
                mac,
                flags: NEXT_HOP_VALID,
                via: k as u8,
            },
            Route::Via(j, mac) => NextHop {
                mac,
                flags: NEXT_HOP_VALID | NEXT_HOP_FALLBACK,
                via: j as u8,
            },
            Route::Kernel => NextHop::default(),
        }
    }
}

/// Routes for all instances, from each one's health and the MAC the ARP
/// table has for it. An instance is usable when live with a known MAC. A
/// dead one (or a live one whose MAC is unknown) goes to the next usable
/// instance upward, wrapping: deterministic, so every agent of a cluster
/// picks the same stand-in, and the dead instance's load lands on one
/// neighbour rather than on all. An unknown one keeps the kernel's next hop
/// until the probes have decided.
pub fn plan(state: &[(Health, Option<Mac>)]) -> Vec<Route> {
    let n = state.len();
    let usable = |k: usize| match state[k] {
        (Health::Live, Some(mac)) => Some(mac),
        _ => None,
    };
    (0..n)
        .map(|k| {
            if let Some(mac) = usable(k) {
                return Route::Own(mac);
            }
            if state[k].0 == Health::Unknown {
                return Route::Kernel;
            }
            (1..n)
                .map(|step| (k + step) % n)
                .find_map(|j| usable(j).map(|mac| Route::Via(j as u32, mac)))
                .unwrap_or(Route::Kernel)
        })
        .collect()
}

/// The log line for instance `k` (`who` = "instance 1 (198.18.1.2)"), or
/// None while it is unknown and on the kernel's next hop (the start).
pub fn describe(who: &str, health: Health, route: Route) -> Option<String> {
    let whither = match route {
        Route::Own(mac) => format!("at {}", format_mac(&mac)),
        Route::Via(j, mac) => format!("its labels go to instance {j} ({})", format_mac(&mac)),
        Route::Kernel => "its labels follow the kernel's next hop".to_owned(),
    };
    Some(match (health, route) {
        (Health::Unknown, Route::Kernel) => return None,
        (Health::Live, Route::Own(_)) => format!("{who} live {whither}"),
        (Health::Live, _) => format!("{who} answers but has no ARP entry: {whither}"),
        (Health::Dead, Route::Kernel) => format!("{who} dead and no instance live: {whither}"),
        (_, _) => format!("{who} dead: {whither}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Health::{Dead, Live, Unknown};

    const M: [Mac; 4] = [
        [2, 0, 0, 0, 1, 0],
        [2, 0, 0, 0, 1, 1],
        [2, 0, 0, 0, 1, 2],
        [2, 0, 0, 0, 1, 3],
    ];

    #[test]
    fn liveness_needs_dead_after_misses_in_a_row() {
        let mut l = Liveness::default();
        assert_eq!(l.health(), Unknown);
        l.record(false, 3);
        l.record(false, 3);
        assert_eq!(l.health(), Unknown);
        l.record(true, 3);
        assert_eq!(l.health(), Live);
        l.record(false, 3);
        l.record(false, 3);
        assert_eq!(l.health(), Live);
        l.record(false, 3);
        assert_eq!(l.health(), Dead);
        l.record(true, 3);
        assert_eq!(l.health(), Live);
        let mut one = Liveness::default();
        one.record(false, 1);
        assert_eq!(one.health(), Dead);
    }

    #[test]
    fn dead_instances_go_to_the_next_live_one_upward() {
        let live = |k: usize| (Live, Some(M[k]));
        assert_eq!(
            plan(&[live(0), live(1), live(2)]),
            [Route::Own(M[0]), Route::Own(M[1]), Route::Own(M[2])]
        );
        assert_eq!(
            plan(&[live(0), (Dead, Some(M[1])), live(2)]),
            [Route::Own(M[0]), Route::Via(2, M[2]), Route::Own(M[2])]
        );
        // Wrapping, and over several dead ones.
        assert_eq!(
            plan(&[live(0), (Dead, None), (Dead, None), (Dead, None)]),
            [
                Route::Own(M[0]),
                Route::Via(0, M[0]),
                Route::Via(0, M[0]),
                Route::Via(0, M[0])
            ]
        );
        // Live without a MAC is not usable; unknown waits on the kernel.
        assert_eq!(
            plan(&[(Live, None), (Unknown, None), live(2)]),
            [Route::Via(2, M[2]), Route::Kernel, Route::Own(M[2])]
        );
        // No one live: the kernel for all.
        assert_eq!(
            plan(&[(Dead, None), (Dead, Some(M[1]))]),
            [Route::Kernel, Route::Kernel]
        );
        assert_eq!(plan(&[(Dead, None)]), [Route::Kernel]);
    }

    #[test]
    fn entries_and_log_lines() {
        assert_eq!(
            Route::Via(2, M[2]).entry(1),
            NextHop {
                mac: M[2],
                flags: NEXT_HOP_VALID | NEXT_HOP_FALLBACK,
                via: 2
            }
        );
        assert_eq!(Route::Own(M[1]).entry(1).flags, NEXT_HOP_VALID);
        assert_eq!(Route::Kernel.entry(1), NextHop::default());
        let who = "instance 1 (198.18.1.2)";
        assert_eq!(
            describe(who, Dead, Route::Via(2, M[2])).unwrap(),
            "instance 1 (198.18.1.2) dead: its labels go to instance 2 (02:00:00:00:01:02)"
        );
        assert_eq!(
            describe(who, Live, Route::Own(M[1])).unwrap(),
            "instance 1 (198.18.1.2) live at 02:00:00:00:01:01"
        );
        assert_eq!(
            describe(who, Dead, Route::Kernel).unwrap(),
            "instance 1 (198.18.1.2) dead and no instance live: its labels follow the kernel's next hop"
        );
        assert_eq!(describe(who, Unknown, Route::Kernel), None);
    }
}
