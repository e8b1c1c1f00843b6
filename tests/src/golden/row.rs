//! One row of the golden table: a named case with its setup, the frames
//! that go in and what must come of each (the frames that leave, exact to
//! the byte, or the drop counter that moves), in the style of Katran's
//! test fixtures. [`super::rows`] holds the table, [`super::run`] the
//! runners (the deterministic rig, and the real slbd on `net_pcap`).
//!
//! A row is self-contained: it starts from a fresh data path, so its steps
//! begin with whatever state it needs (a session opened, say), and each of
//! those steps is checked too. A row runs once per family it lists and
//! per worker count it lists.

use super::net::Net;
use slb_appliance::counters::Event;
use slb_core::Refusal;
use slb_wire::FrameBuilder;

/// An address family a row runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }
}

/// Both families.
pub const BOTH: &[Family] = &[Family::V4, Family::V6];
pub const V4: &[Family] = &[Family::V4];
pub const V6: &[Family] = &[Family::V6];

/// Where a row runs besides the rig.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slbd {
    /// Also through the real slbd on `net_pcap` ports.
    Runs,
    /// On the rig only, for the reason given (the clock, an order of
    /// events slbd does not fix, a rig-only setup).
    RigOnly(&'static str),
}

/// A row of the table.
pub struct Row {
    /// A test name: what the row shows.
    pub name: &'static str,
    /// The families it runs in.
    pub families: &'static [Family],
    /// The worker counts it runs with. With several workers the rig hands
    /// frames to the workers in turn, so one session's frames are switched
    /// on different cores.
    pub workers: &'static [usize],
    pub slbd: Slbd,
    /// The configuration and the steps, for one family's addresses.
    pub case: fn(&Net) -> Case,
}

/// What a row does in one family.
pub struct Case {
    /// slbd's configuration (JSON), ports `net_pcap0`, `net_pcap1`.
    pub config: String,
    /// Sessions preloaded on service 0 before the first step, as slbd's
    /// `--preload-sessions` does (rig only).
    pub preload: u32,
    pub steps: Vec<Step>,
}

impl Case {
    pub fn new(config: String, steps: Vec<Step>) -> Case {
        Case {
            config,
            preload: 0,
            steps,
        }
    }

    pub fn preload(mut self, sessions: u32) -> Case {
        self.preload = sessions;
        self
    }
}

/// One step of a row.
#[derive(Debug, Clone)]
pub enum Step {
    /// A frame in, and what must come of it.
    Send(Send),
    /// The clock moves on by this many milliseconds; nothing leaves
    /// meanwhile (rig only).
    Advance(u64),
    /// The clock moves on by this many milliseconds and exactly these
    /// frames leave meanwhile, in this order (timers that send: the
    /// resets of `on_down: reset` after a passive health failure; rig
    /// only).
    AdvanceOut(u64, Vec<(usize, Vec<u8>)>),
    /// The data path's state at this point (on the rig; on slbd only the
    /// active sessions after the last frame, from its final report).
    Check(Check),
}

/// A frame in on a port.
#[derive(Debug, Clone)]
pub struct Send {
    /// What the frame is and what must come of it, in a few words.
    pub what: &'static str,
    pub port: usize,
    pub frame: Vec<u8>,
    /// The worker that receives it, when the row says (rig only); else the
    /// next worker in turn.
    pub worker: Option<usize>,
    /// None until the row gives it (a row that does not fails).
    pub expect: Option<Expect>,
    /// Event counters that must move by exactly this much (the others are
    /// not looked at: some differ between one and two workers).
    pub events: Vec<(Event, u64)>,
}

/// The verdict on a frame: what leaves and which drop counters move.
/// A frame handed to the scheduler shows here by what the scheduler did
/// (the rig lets it run after each frame).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expect {
    /// These frames leave, (port, exact bytes), in this order (on slbd,
    /// where lcores send side by side: these frames on each port, in any
    /// order).
    pub out: Vec<(usize, Vec<u8>)>,
    /// These drop counters, and no others, move by one each: the frame's
    /// reason (a frame slbd answers may still count as dropped: a refused
    /// SYN is answered with a reset and counted as refused).
    pub drops: Vec<&'static str>,
}

/// State a row checks between frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Sessions holding labels (ended ones still lingering included).
    ActiveSessions(usize),
    /// SYNs service `service` (its index in the configuration) refused
    /// for `reason` so far.
    Refused {
        service: u16,
        reason: Refusal,
        count: u64,
    },
    /// An event counter's total so far, all lcores added up.
    Event(Event, u64),
}

/// A frame given to the table as built bytes or as a builder.
pub trait IntoFrame {
    fn into_frame(self) -> Vec<u8>;
}

impl IntoFrame for Vec<u8> {
    fn into_frame(self) -> Vec<u8> {
        self
    }
}

impl IntoFrame for FrameBuilder {
    fn into_frame(self) -> Vec<u8> {
        self.build()
    }
}

/// `frame` in on `port`, described by `what`; give its verdict with
/// [`Step::out`] and/or [`Step::drop`].
pub fn send(what: &'static str, port: usize, frame: impl IntoFrame) -> Step {
    Step::Send(Send {
        what,
        port,
        frame: frame.into_frame(),
        worker: None,
        expect: None,
        events: Vec::new(),
    })
}

pub fn advance_ms(ms: u64) -> Step {
    Step::Advance(ms)
}

/// The clock moves on `ms` and `frames` (port, frame) leave meanwhile.
pub fn advance_out(ms: u64, frames: Vec<(usize, Vec<u8>)>) -> Step {
    Step::AdvanceOut(ms, frames)
}

pub fn check(c: Check) -> Step {
    Step::Check(c)
}

impl Step {
    /// `frame` leaves on `port` (call again for each frame that leaves,
    /// in order).
    pub fn out(self, port: usize, frame: impl IntoFrame) -> Step {
        self.with_send(|s| {
            let e = s.expect.get_or_insert_with(Expect::default);
            e.out.push((port, frame.into_frame()));
        })
    }

    /// The frame is counted as dropped for `reason`.
    pub fn drop(self, reason: &'static str) -> Step {
        self.with_send(|s| {
            s.expect
                .get_or_insert_with(Expect::default)
                .drops
                .push(reason)
        })
    }

    /// The frame is taken in (learned from): nothing leaves, nothing is
    /// dropped.
    pub fn absorbed(self) -> Step {
        self.with_send(|s| {
            s.expect.get_or_insert_with(Expect::default);
        })
    }

    /// These event counters move by exactly this much.
    pub fn events(self, events: &[(Event, u64)]) -> Step {
        self.with_send(|s| s.events.extend_from_slice(events))
    }

    /// The frame goes to this worker (rig only).
    pub fn on_worker(self, worker: usize) -> Step {
        self.with_send(|s| s.worker = Some(worker))
    }

    fn with_send(mut self, f: impl FnOnce(&mut Send)) -> Step {
        match &mut self {
            Step::Send(s) => f(s),
            other => panic!("not a frame step: {other:?}"),
        }
        self
    }
}
