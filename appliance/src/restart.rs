//! Planned restart of a single box (issue 15): what slbd keeps across a
//! restart and how it gets it back. The file's format is
//! [`crate::state_file`]'s; this module fills it and empties it.
//!
//! - Saving: the scheduler's [`Snapshot`] (every session this instance
//!   switches, as a [`slb_core::SessionRecord`], and the quarantined
//!   pairs of its own slice with the time each has left), taken as the
//!   scheduler lcore stops (slbd) or between its rounds (`sessions.save`,
//!   [`crate::channels::Call::Snapshot`]), plus the change log
//!   ([`crate::control::change_log`]): the change requests the control
//!   thread applied since start. [`crate::state_file::write`] puts them in
//!   the file.
//! - Restoring (`slbd --restore`), before any lcore switches a frame:
//!   [`replay`] applies the saved change requests to the configuration
//!   file's configuration, each checked like a live request (one that
//!   fails is reported and the rest still apply); the data path is
//!   assembled from the result; [`DataPath::restore`] installs the
//!   sessions through [`Scheduler::install_record`] (a session whose
//!   service or server is gone is dropped and counted by reason; one whose
//!   time ran out while slbd was down is dropped as `expired`) and
//!   quarantines the saved pairs for the time they have left.
//!
//! A reload of another file than `--config` is in the change log as that
//! reload (with the file's absolute path): replaying it reads the file
//! again.

use crate::datapath::DataPath;
use crate::frame::Frame;
use crate::scheduler::Scheduler;
use crate::state_file::{Snapshot, State};
use serde_json::Value;
use slb_config::Config;
use slb_core::Origin;
use slb_proto::{ReloadArgs, Request};
use std::collections::BTreeMap;
use std::path::Path;

fn ms_until(t: u64, now: u64) -> u32 {
    u32::try_from(t.saturating_sub(now) / 1_000_000).unwrap_or(u32::MAX)
}

impl<F: Frame> Scheduler<F> {
    /// The sessions and the label quarantine at `now`. One pass over the
    /// session table: on demand (`sessions.save`) or as the scheduler
    /// stops, never per round.
    pub fn snapshot(&self, now: u64) -> Snapshot {
        let core = &self.core;
        let mut snap = Snapshot::default();
        for (id, s) in core.sessions().iter() {
            if !s.is_here() {
                continue;
            }
            match core.record(id, now) {
                Some(r) => snap.sessions.push(r),
                None => snap.left_out += 1,
            }
        }
        snap.quarantined = core
            .labels()
            .quarantined()
            .map(|(pair, until)| (pair.c2s(), ms_until(until, now)))
            .collect();
        snap
    }

    /// [`Scheduler::snapshot`] at the time of the last round (as its
    /// lcore stops: the clock is the poll loop's).
    pub fn snapshot_last_round(&self) -> Snapshot {
        let now = self.shared.clock.load(std::sync::atomic::Ordering::Relaxed);
        self.snapshot(now)
    }
}

/// The configuration after the saved changes.
#[derive(Debug)]
pub struct Replayed {
    pub config: Config,
    /// The changes that applied, in order (the new run's change log).
    pub applied: Vec<String>,
    /// The changes that did not: the request (its line) and why.
    pub failed: Vec<(String, String)>,
}

/// Applies the saved change requests to `cfg`, in order, each checked as
/// a live request is (the edit, then the whole configuration's rules):
/// one that fails changes nothing and the rest still apply.
pub fn replay(cfg: &Config, changes: &[String]) -> Replayed {
    let mut config = cfg.clone();
    let (mut applied, mut failed) = (Vec::new(), Vec::new());
    for line in changes {
        match replay_one(&config, line) {
            Ok(next) => {
                config = next;
                applied.push(line.clone());
            }
            Err(why) => failed.push((line.clone(), why)),
        }
    }
    Replayed {
        config,
        applied,
        failed,
    }
}

fn replay_one(cfg: &Config, line: &str) -> Result<Config, String> {
    let request: Request = serde_json::from_str(line).map_err(|e| e.to_string())?;
    if let Request::ConfigReload(ReloadArgs { path: Some(p) }) = &request {
        return Config::from_file(Path::new(p)).map_err(|e| format!("{p}: {e}"));
    }
    if !request.is_change() {
        return Err(format!("{} is not a change", request.command()));
    }
    let mut doc: Value = serde_json::from_str(&cfg.to_json_pretty()).map_err(|e| e.to_string())?;
    crate::control::edit::change(&mut doc, &request).map_err(|e| e.message)?;
    Config::from_json_str(&doc.to_string()).map_err(|e| e.to_string())
}

/// What a restore installed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Restored {
    pub sessions: u64,
    /// Sessions not installed, by reason: `expired` (their time ran out
    /// while slbd was down), `ended`, or why the data path refused them
    /// (`no_service`, `no_server`, `label_busy`, ...: see
    /// [`crate::scheduler::install::InstallRefusal`]).
    pub dropped: BTreeMap<&'static str, u64>,
    /// Label pairs quarantined again, and those that were not (no longer
    /// in the range, or in use).
    pub quarantined: u64,
    pub quarantine_refused: u64,
}

impl Restored {
    pub fn dropped_total(&self) -> u64 {
        self.dropped.values().sum()
    }
}

impl std::fmt::Display for Restored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "restored {} sessions, dropped {}",
            self.sessions,
            self.dropped_total()
        )?;
        if !self.dropped.is_empty() {
            let by: Vec<String> = self
                .dropped
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            write!(f, " ({})", by.join(", "))?;
        }
        write!(f, ", {} label pairs in quarantine", self.quarantined)?;
        if self.quarantine_refused > 0 {
            write!(f, " ({} not)", self.quarantine_refused)?;
        }
        Ok(())
    }
}

/// Installs between letting the workers take their flow-cache entries.
const INSTALLS_PER_DRAIN: usize = 512;

impl<F: Frame> DataPath<F> {
    /// Installs `state`'s sessions and label quarantine at `now`, before
    /// the lcores run. `elapsed_ms` is the time since the file was saved:
    /// it comes off every timer.
    pub fn restore(&mut self, state: &State, elapsed_ms: u64, now: u64) -> Restored {
        let mut out = Restored::default();
        let elapsed = u32::try_from(elapsed_ms).unwrap_or(u32::MAX);
        for (i, rec) in state.sessions.iter().enumerate() {
            if i % INSTALLS_PER_DRAIN == INSTALLS_PER_DRAIN - 1 {
                self.drain_ops();
            }
            let reason = if rec.ended {
                Some("ended")
            } else if rec.remaining_ms <= elapsed {
                Some("expired")
            } else {
                let mut r = *rec;
                r.remaining_ms -= elapsed;
                r.age_ms = r.age_ms.saturating_add(elapsed);
                match self.scheduler.install_record(&r, Origin::Restored, now) {
                    Ok(_) => None,
                    Err(e) => Some(e.as_str()),
                }
            };
            match reason {
                Some(why) => *out.dropped.entry(why).or_default() += 1,
                None => out.sessions += 1,
            }
        }
        self.drain_ops();
        for &(c2s, ms) in &state.quarantined {
            let Some(left) = ms.checked_sub(elapsed).filter(|&l| l > 0) else {
                continue;
            };
            let until = now.saturating_add(u64::from(left) * 1_000_000);
            match self.scheduler.core_mut().quarantine_label(c2s, until, now) {
                Ok(()) => out.quarantined += 1,
                Err(_) => out.quarantine_refused += 1,
            }
        }
        out
    }
}

/// The state file to restore: `Some` if it reads whole, `None` (after an
/// error on stderr naming the file and the problem) if not: slbd then
/// starts with nothing restored, never half.
pub fn load(path: &Path) -> Option<State> {
    match State::load(path) {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("slbd: --restore {e}; starting with nothing restored");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"{
      "ports": [
        { "name": "c", "device": "net_null0", "role": "client", "ipv4": "198.18.0.1/24" },
        { "name": "s", "device": "net_null1", "role": "server", "ipv4": "198.18.1.1/24" }
      ],
      "services": [
        { "name": "web", "vip": "198.18.100.1", "port": 80, "protocol": "tcp",
          "servers": [ { "name": "s1", "address": "198.18.1.11" } ] }
      ]
    }"#;

    #[test]
    fn replay_applies_in_order_and_skips_what_fails() {
        let cfg = Config::from_json_str(CONFIG).unwrap();
        let changes = [
            r#"{"id":1,"command":"servers.add","args":{"service":"web","name":"s2","address":"198.18.1.12"}}"#,
            r#"{"id":2,"command":"servers.update","args":{"service":"web","server":"s2","weight":0}}"#,
            r#"{"id":3,"command":"servers.drain","args":{"service":"web","server":"s2"}}"#,
            r#"{"id":4,"command":"status"}"#,
            "not json",
        ]
        .map(String::from);
        let r = replay(&cfg, &changes);
        assert_eq!(
            r.applied,
            [changes[0].clone(), changes[2].clone()],
            "{:?}",
            r.failed
        );
        let why: Vec<&str> = r.failed.iter().map(|(_, w)| w.as_str()).collect();
        assert_eq!(why.len(), 3, "{why:?}");
        assert!(why[0].contains("weight"), "{why:?}");
        assert_eq!(why[1], "status is not a change");
        let s2 = &r.config.services[0].servers[1];
        assert_eq!(s2.name, "s2");
        assert_eq!(s2.state, slb_config::ServerState::Drain);
        assert_eq!(s2.weight, 1);
    }
}
