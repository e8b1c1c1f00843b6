//! Planned restart of a single box (issue 15): what slbd keeps across a
//! restart and how it gets it back. The file's format is
//! [`crate::state_file`]'s; this module fills it and empties it.
//!
//! - Saving: the scheduler's [`Snapshot`] (every session this instance
//!   switches, as a [`SessionRecord`], and the quarantined pairs of its
//!   own slice with the time each has left), taken as the scheduler lcore
//!   stops (slbd) or between its rounds (`sessions.save`,
//!   [`crate::channels::Call::Snapshot`]), plus the [`ChangeLog`]: the
//!   change requests the control thread applied since start. [`write`]
//!   puts them in the file.
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
//! A `config.reload` resets the change log: the file read is then the
//! truth. A reload of another file than `--config` leaves one entry, that
//! reload (with the file's absolute path), so a restart reads the same
//! file again.

use crate::datapath::DataPath;
use crate::frame::Frame;
use crate::scheduler::Scheduler;
use crate::state_file::{LoadError, State};
use serde_json::Value;
use slb_config::Config;
use slb_core::{Origin, SessionRecord};
use slb_proto::{ReloadArgs, Request, SessionsSaved};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What the scheduler holds that a state file keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Every session this instance switches (not a peer's synced copy).
    pub sessions: Vec<SessionRecord>,
    /// Quarantined pairs of the own slice: C2S label, milliseconds left.
    pub quarantined: Vec<(u32, u32)>,
    /// Sessions not recorded: their server has left their service (a
    /// removed server's sessions finish first, but a record names its
    /// server, and the next run has no such server).
    pub left_out: u64,
}

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

/// The change requests applied since start (or since the last reload),
/// as protocol lines, in order. Shared by the control thread (which
/// records) and slbd's main thread (which saves them as slbd stops).
#[derive(Clone, Default, Debug)]
pub struct ChangeLog(Arc<Mutex<Vec<String>>>);

impl ChangeLog {
    /// A log that starts with `lines` (the changes a restore replayed).
    pub fn new(lines: Vec<String>) -> ChangeLog {
        ChangeLog(Arc::new(Mutex::new(lines)))
    }

    /// Records an applied change request.
    pub fn push(&self, r: &Request) {
        if let Ok(mut l) = self.0.lock() {
            let id = l.len() + 1;
            l.push(r.to_line(id));
        }
    }

    /// A reload of `path` applied: the file is the truth now. `config` is
    /// slbd's `--config`; a reload of another file stays in the log.
    pub fn reloaded(&self, path: &Path, config: Option<&Path>) {
        let Ok(mut l) = self.0.lock() else { return };
        l.clear();
        let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        if config.map(abs) != Some(abs(path)) {
            let r = Request::ConfigReload(ReloadArgs {
                path: Some(abs(path).display().to_string()),
            });
            l.push(r.to_line(1));
        }
    }

    /// The requests, in order.
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Writes `snap` and `changes` to the state file `path` (atomically, see
/// [`State::save`]); what was written.
pub fn write(
    path: &Path,
    snap: Snapshot,
    changes: Vec<String>,
) -> Result<SessionsSaved, LoadError> {
    let mut state = State {
        saved_at_ms: unix_ms(),
        sessions: snap.sessions,
        quarantined: snap.quarantined,
        changes,
    };
    state.sort();
    let (bytes, skipped) = state.save(path)?;
    Ok(SessionsSaved {
        path: path.display().to_string(),
        sessions: (state.sessions.len() - skipped) as u64,
        left_out: snap.left_out + skipped as u64,
        quarantined_labels: state.quarantined.len() as u64,
        changes: state.changes.len() as u64,
        bytes: bytes as u64,
    })
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
    if !crate::control::edit::is_change(&request) {
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
            match self.scheduler.core_mut().quarantine_label(c2s, until) {
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
pub fn load(path: &PathBuf) -> Option<State> {
    match State::load(path) {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("slbd: --restore {e}; starting with nothing restored");
            None
        }
    }
}
