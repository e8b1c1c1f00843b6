//! `--restore` and `--save-state` on the main thread (see
//! `slb_appliance::restart`): before the data path is assembled, the
//! state file is read whole (or not at all) and its changes replayed on
//! the configuration; as slbd stops, the scheduler's last snapshot and
//! the change log are written.

use crate::options::{Mode, Options};
use slb_appliance::control::change_log::ChangeLog;
use slb_appliance::restart;
use slb_appliance::state_file::{self, Snapshot, State};
use slb_config::Config;

/// What `--restore` brought, for the data path.
pub struct Restore {
    pub state: State,
    /// Saved changes applied, and those that failed.
    pub replayed: usize,
    pub failed: usize,
}

/// Reads `--restore` (balance mode) and replays its changes on `config`.
/// Returns the configuration to run, what is left to install, and the
/// change log the control thread goes on with (the replayed changes
/// first, so the next save keeps them).
pub fn prepare(
    opts: &Options,
    config: Option<Config>,
) -> (Option<Config>, Option<Restore>, ChangeLog) {
    let (Some(path), Some(cfg), Mode::Balance) = (&opts.restore, &config, opts.mode()) else {
        return (config, None, ChangeLog::default());
    };
    let Some(mut state) = restart::load(path) else {
        return (config, None, ChangeLog::default());
    };
    let replayed = restart::replay(cfg, &state.changes);
    for (line, why) in &replayed.failed {
        tracing::warn!(change = %line, "a saved change does not apply: {why}");
    }
    let (n, failed) = (replayed.applied.len(), replayed.failed.len());
    state.changes.clear();
    let restore = Restore {
        state,
        replayed: n,
        failed,
    };
    (
        Some(replayed.config),
        Some(restore),
        ChangeLog::new(replayed.applied),
    )
}

/// Writes `--save-state` (when given) from the scheduler's snapshot as
/// it stopped and the change log.
pub fn save(opts: &Options, snapshot: Option<Snapshot>, log: &ChangeLog) -> Result<(), String> {
    let Some(path) = &opts.save_state else {
        return Ok(());
    };
    let snap = snapshot.ok_or("--save-state: the scheduler left no snapshot")?;
    let s = state_file::write(path, snap, log.lines())
        .map_err(|e| format!("--save-state {e}: the state was not saved"))?;
    tracing::info!(
        "saved {} sessions ({} left out), {} label pairs in quarantine, {} changes to {} ({} bytes)",
        s.sessions,
        s.left_out,
        s.quarantined_labels,
        s.changes,
        s.path,
        s.bytes
    );
    Ok(())
}
