//! Control commands on the scheduler lcore: between its rounds the
//! scheduler's poll loop takes up to [`COMMANDS_PER_POLL`] commands from
//! the control thread's queue ([`crate::channels::Command`]) and answers
//! each on its reply slot: a read-only view ([`super::views`]), a
//! configuration to apply ([`super::apply`]) or a snapshot of the sessions
//! for the state file ([`crate::state_file`]).

use super::apply::apply;
use crate::channels::{Answer, Call};
use crate::frame::Frame;
use crate::scheduler::Scheduler;

/// Commands the scheduler runs per round at most: control never delays
/// new sessions by more than a few views.
pub const COMMANDS_PER_POLL: usize = 2;

/// Runs up to [`COMMANDS_PER_POLL`] queued commands at time `now`.
/// Returns how many ran (0 = none waiting).
pub fn run<F: Frame>(sched: &mut Scheduler<F>, now: u64) -> usize {
    let mut n = 0;
    while n < COMMANDS_PER_POLL {
        let Some(cmd) = sched.commands.pop() else {
            break;
        };
        let result = match cmd.call {
            Call::View(view) => sched.view(view, now),
            Call::Apply(cfg) => apply(sched, *cfg).map(Answer::Applied),
            Call::Snapshot => Ok(Answer::Snapshot(Box::new(sched.snapshot(now)))),
        };
        // The asker may have given up (timeout, vanished client).
        let _ = cmd.reply.try_send(result);
        n += 1;
    }
    n
}
