//! Frames that arrive after their session ended, told apart: a *stray*
//! (neither end still considers the connection open: a frame that was in
//! flight when a RST crossed it, or a retransmission after both FINs and
//! the linger) from a frame of a connection that one end still thinks is
//! open (the session was ended by an idle timeout, a server going down, a
//! port reuse, the operator). Strays are counted as `stray_after_end`, so
//! a `withdrawn_label` or `no_session` drop means something.
//!
//! The scheduler remembers, per label pair, when and why its last session
//! ended (one word per pair), and the same for plain clients' flows in a
//! small direct-mapped table keyed by the session key (a plain client's
//! late frame is unlabelled: it has only its 5-tuple). Both are written
//! when a session is withdrawn and read only when a dead frame arrives.

use crate::counters::PathDrop;
use crate::shared::drop_trace::LateBy;
use slb_core::session::{EndReason, SessionKey};
use std::hash::{BuildHasher, RandomState};

/// Slots of the plain clients' table (a newer end overwrites a slot).
const FLOW_SLOTS: usize = 1 << 14;
/// Low bits of a pair's word: the end time (ns); above them the reason.
const AT_BITS: u32 = 60;
const AT_MASK: u64 = (1 << AT_BITS) - 1;

/// When and why sessions ended, by label pair and by plain flow.
pub(crate) struct RecentEnds {
    /// Per pair: `(reason index + 1) << 60 | ended_at`; 0 = never ended.
    by_pair: Vec<u64>,
    by_flow: Box<[Option<(SessionKey, u64)>]>,
    hasher: RandomState,
}

fn encode(reason: EndReason, at: u64) -> u64 {
    let i = EndReason::ALL
        .iter()
        .position(|r| *r == reason)
        .unwrap_or(0) as u64;
    (i + 1) << AT_BITS | (at & AT_MASK)
}

fn decode(w: u64) -> Option<(EndReason, u64)> {
    let i = (w >> AT_BITS) as usize;
    let reason = *EndReason::ALL.get(i.checked_sub(1)?)?;
    Some((reason, w & AT_MASK))
}

impl RecentEnds {
    pub(crate) fn new(pairs: usize) -> RecentEnds {
        RecentEnds {
            by_pair: vec![0; pairs],
            by_flow: vec![None; FLOW_SLOTS].into_boxed_slice(),
            hasher: RandomState::new(),
        }
    }

    fn slot(&self, key: &SessionKey) -> usize {
        (self.hasher.hash_one(key) as usize) & (FLOW_SLOTS - 1)
    }

    /// The session of pair `pair` and key `key` ended at `at` for `reason`.
    pub(crate) fn ended(&mut self, pair: u32, key: &SessionKey, reason: EndReason, at: u64) {
        let w = encode(reason, at);
        if let Some(p) = self.by_pair.get_mut(pair as usize) {
            *p = w;
        }
        let s = self.slot(key);
        self.by_flow[s] = Some((*key, w));
    }

    /// How the last session of pair `pair` ended, if one did.
    pub(crate) fn by_pair(&self, pair: u32) -> Option<(EndReason, u64)> {
        decode(*self.by_pair.get(pair as usize)?)
    }

    /// How the last session with key `key` ended, if it is still
    /// remembered.
    pub(crate) fn by_flow(&self, key: &SessionKey) -> Option<(EndReason, u64)> {
        match self.by_flow[self.slot(key)] {
            Some((k, w)) if k == *key => decode(w),
            _ => None,
        }
    }
}

/// The drop reason of a frame of an ended session (`otherwise` unless it
/// is a stray), and how late it came, for the drop trace.
pub(crate) fn late_reason(
    end: Option<(EndReason, u64)>,
    now: u64,
    otherwise: PathDrop,
) -> (PathDrop, Option<LateBy>) {
    let Some((ended, at)) = end else {
        return (otherwise, None);
    };
    let late = LateBy {
        ended,
        micros: u32::try_from(now.saturating_sub(at) / 1000).unwrap_or(u32::MAX),
    };
    let stray = matches!(ended, EndReason::Reset | EndReason::Closed);
    (
        if stray {
            PathDrop::StrayAfterEnd
        } else {
            otherwise
        },
        Some(late),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use slb_core::session::Protocol;

    fn key(port: u16) -> SessionKey {
        SessionKey {
            protocol: Protocol::Tcp,
            vip: [198, 18, 100, 1].into(),
            vip_port: 80,
            client: [198, 18, 0, 10].into(),
            client_port: port,
        }
    }

    #[test]
    fn ends_are_found_by_pair_and_by_flow() {
        let mut r = RecentEnds::new(8);
        assert_eq!(r.by_pair(3), None);
        assert_eq!(r.by_flow(&key(1000)), None);
        r.ended(3, &key(1000), EndReason::Reset, 5_000);
        assert_eq!(r.by_pair(3), Some((EndReason::Reset, 5_000)));
        assert_eq!(r.by_flow(&key(1000)), Some((EndReason::Reset, 5_000)));
        assert_eq!(r.by_flow(&key(1001)), None);
        // A pair out of range is ignored, never a panic.
        r.ended(99, &key(1002), EndReason::Idle, 1);
        assert_eq!(r.by_pair(99), None);
        // The pair's next session overwrites it.
        r.ended(3, &key(1003), EndReason::Idle, 9_000);
        assert_eq!(r.by_pair(3), Some((EndReason::Idle, 9_000)));
    }

    #[test]
    fn every_end_reason_round_trips() {
        for e in EndReason::ALL {
            assert_eq!(decode(encode(e, AT_MASK)), Some((e, AT_MASK)));
        }
    }

    /// Only a RST or both FINs make a stray: after an idle timeout, a
    /// server going down or a port reuse one end may still think the
    /// connection open, so its frames keep the reason that means "lost".
    #[test]
    fn strays_are_after_rst_or_both_fins() {
        let late = |e| late_reason(Some((e, 1_000_000)), 3_500_000, PathDrop::WithdrawnLabel);
        assert_eq!(late(EndReason::Reset).0, PathDrop::StrayAfterEnd);
        assert_eq!(late(EndReason::Closed).0, PathDrop::StrayAfterEnd);
        for e in [
            EndReason::Idle,
            EndReason::NoReply,
            EndReason::Replaced,
            EndReason::Administrative,
        ] {
            assert_eq!(late(e).0, PathDrop::WithdrawnLabel, "{e:?}");
        }
        assert_eq!(late(EndReason::Reset).1.unwrap().micros, 2_500);
        assert_eq!(
            late_reason(None, 5, PathDrop::NoSession),
            (PathDrop::NoSession, None)
        );
    }
}
