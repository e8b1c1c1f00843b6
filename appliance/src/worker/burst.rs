//! The staged burst: the worker looks at a whole RX burst before it
//! handles the first frame, so the cache misses of different frames
//! overlap instead of queueing one behind the other (issue 13).
//!
//! 1. For every frame: a labelled one prefetches its label-table entry and
//!    activity byte; a plain IPv4 TCP/UDP one has its 5-tuple read at fixed
//!    offsets, hashed, and its two flow-cache buckets prefetched.
//! 2. For every plain frame: its flow is looked up (the buckets are
//!    arriving by now), and the label found has its table entry and
//!    activity byte prefetched.
//! 3. The frames are then handled one by one, as before (`fast_path.rs`):
//!    the full classifier and every check run as they always did; a plain
//!    frame takes its lookup's result from its [`Hint`] instead of looking
//!    its flow up again.
//!
//! A hint is advice, never trusted: it is used only when its key words are
//! the frame's own (compared after the full classification), so a frame
//! the quick read got wrong (options, a fragment, a runt) is simply looked
//! up as before, and the hints of a burst cannot change what happens to a
//! frame, only how fast. Nothing in stage 1 or 2 writes anything but the
//! hints. The flow cache does not change during a burst: the scheduler's
//! ops are applied between bursts, and the only change a frame can make,
//! removing a stale entry, gives a later frame of the same flow the same
//! outcome (its label fails the same check).

use super::flow_cache::{FlowCache, Probe};
use crate::frame::Frame;
use crate::shared::activity::Activity;
use crate::shared::label_table::LabelTable;

/// Frames a burst's hints cover (one RX burst); frames past it are
/// handled without a hint.
pub const HINTS: usize = crate::dpdk::BURST;

/// `found` of a frame without a flow hint.
const NO_HINT: u32 = u32::MAX;
/// `found` of a flow the cache does not hold (labels are 20 bits).
const NOT_CACHED: u32 = u32::MAX - 1;

/// What stages 1 and 2 learned about the burst being handled, in frame
/// order: for each frame, [`NO_HINT`] or its flow's probe and the label
/// the cache holds for it. Plain arrays, so stage 1 costs a labelled frame
/// one store.
#[derive(Debug)]
pub struct BurstHints {
    found: [u32; HINTS],
    probes: [Probe; HINTS],
    len: usize,
    next: usize,
}

impl Default for BurstHints {
    fn default() -> Self {
        BurstHints {
            found: [NO_HINT; HINTS],
            probes: [Probe::default(); HINTS],
            len: 0,
            next: 0,
        }
    }
}

/// A frame's place in the prepared burst ([`BurstHints::take`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hint(usize);

impl Hint {
    /// The hint of no frame (process without prepare).
    pub const NONE: Hint = Hint(usize::MAX);
}

impl BurstHints {
    /// Stages 1 and 2 over `frames`, the burst about to be handled, in
    /// the order [`BurstHints::take`] will be called.
    #[inline]
    pub fn prepare<'a, F: Frame + 'a>(
        &mut self,
        frames: impl Iterator<Item = &'a F>,
        flows: &FlowCache,
        table: &LabelTable,
        activity: Option<&Activity>,
    ) {
        self.next = 0;
        let mut n = 0;
        for (f, (found, probe)) in frames.zip(self.found.iter_mut().zip(&mut self.probes)) {
            let d = f.data();
            *found = NO_HINT;
            if let Some(label) = top_label(d) {
                prefetch_label(table, activity, label);
            } else if let Some(p) = v4_probe(d, flows) {
                flows.prefetch(&p);
                *probe = p;
                *found = NOT_CACHED;
            }
            n += 1;
        }
        self.len = n;
        for (found, probe) in self.found[..n].iter_mut().zip(&self.probes) {
            if *found == NOT_CACHED {
                if let Some(l) = flows.find(probe) {
                    *found = l;
                    prefetch_label(table, activity, l);
                }
            }
        }
    }

    /// The next frame's place ([`Hint::NONE`] past the prepared ones).
    #[inline(always)]
    pub fn take(&mut self) -> Hint {
        if self.next < self.len {
            self.next += 1;
            Hint(self.next - 1)
        } else {
            Hint::NONE
        }
    }

    /// The flow probe made for frame `h` and what the cache held for it
    /// (`Some(None)`: not cached), if the frame got a flow hint.
    #[inline(always)]
    pub fn flow(&self, h: Hint) -> Option<(&Probe, Option<u32>)> {
        let found = *self.found.get(h.0)?;
        if found == NO_HINT || h.0 >= self.len {
            return None;
        }
        Some((&self.probes[h.0], (found != NOT_CACHED).then_some(found)))
    }
}

#[inline(always)]
fn prefetch_label(table: &LabelTable, activity: Option<&Activity>, label: u32) {
    table.prefetch(label);
    if let Some(a) = activity {
        a.prefetch(label);
    }
}

/// The top label of an untagged MPLS frame (4 bytes read, nothing
/// checked: a hint).
#[inline(always)]
fn top_label(d: &[u8]) -> Option<u32> {
    match d.get(12..17)? {
        &[0x88, 0x47, a, b, c] => {
            Some((u32::from(a) << 12) | (u32::from(b) << 4) | (u32::from(c) >> 4))
        }
        _ => None,
    }
}

/// The flow probe of an untagged IPv4 frame without options, not a
/// fragment, TCP or UDP: the 5-tuple at fixed offsets.
#[inline(always)]
fn v4_probe(d: &[u8], flows: &FlowCache) -> Option<Probe> {
    let h: &[u8; 38] = d.first_chunk()?;
    let unfragmented = u16::from_be_bytes([h[20], h[21]]) & 0x3fff == 0;
    if h[12..15] != [0x08, 0x00, 0x45] || !unfragmented || !matches!(h[23], 6 | 17) {
        return None;
    }
    let word = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let port = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
    Some(flows.probe_v4(word(26), word(30), port(34), port(36), h[23]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::VecFrame;
    use slb_wire::{FlowKey, FrameBuilder, IpProtocol, MacAddr, TcpFlags};
    use std::net::{IpAddr, Ipv4Addr};

    fn frame(sport: u16, label: Option<u32>) -> VecFrame {
        let mut b = FrameBuilder::tcp(
            MacAddr([2, 0, 0, 0, 0, 1]),
            MacAddr([2, 0, 0, 0, 0, 2]),
            IpAddr::V4(Ipv4Addr::new(198, 18, 0, 11)),
            IpAddr::V4(Ipv4Addr::new(198, 18, 100, 1)),
            sport,
            80,
        )
        .flags(TcpFlags::ACK);
        if let Some(l) = label {
            b = b.label(l);
        }
        VecFrame::new(&b.build())
    }

    fn key(sport: u16) -> FlowKey {
        FlowKey {
            protocol: IpProtocol::Tcp,
            src: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 11)),
            src_port: sport,
            dst: IpAddr::V4(Ipv4Addr::new(198, 18, 100, 1)),
            dst_port: 80,
        }
    }

    #[test]
    fn plain_frames_get_their_flow_and_label_others_nothing() {
        let mut flows = FlowCache::with_capacity(64);
        assert!(!flows.insert(&key(1000), 17));
        let table = LabelTable::new(16, 1023);
        let frames = [frame(1000, None), frame(1001, None), frame(1000, Some(17))];
        let mut hints = BurstHints::default();
        hints.prepare(frames.iter(), &flows, &table, None);
        let a = hints.take();
        assert!(matches!(hints.flow(a), Some((p, Some(17))) if flows.probe_is_for(p, &key(1000))));
        let b = hints.take();
        assert!(matches!(hints.flow(b), Some((p, None)) if flows.probe_is_for(p, &key(1001))));
        let c = hints.take();
        assert_eq!(hints.flow(c), None); // labelled
        assert_eq!(hints.take(), Hint::NONE); // past the burst
        assert_eq!(hints.flow(Hint::NONE), None);
        // A new burst starts again at its first frame; the old burst's
        // later hints are gone.
        hints.prepare(frames[..1].iter(), &flows, &table, None);
        let a = hints.take();
        assert!(matches!(hints.flow(a), Some((_, Some(17)))));
        assert_eq!(hints.flow(b), None);
    }

    #[test]
    fn options_fragments_and_runts_get_no_hint() {
        let flows = FlowCache::with_capacity(64);
        let table = LabelTable::new(16, 1023);
        let mut opts = frame(1000, None).into_vec();
        opts[14] = 0x46; // IHL 6
        let mut frag = frame(1000, None).into_vec();
        frag[21] = 1; // fragment offset 8
        let runt = frame(1000, None).into_vec()[..37].to_vec();
        let frames = [
            VecFrame::new(&opts),
            VecFrame::new(&frag),
            VecFrame::new(&runt),
        ];
        let mut hints = BurstHints::default();
        hints.prepare(frames.iter(), &flows, &table, None);
        for _ in 0..3 {
            let h = hints.take();
            assert_ne!(h, Hint::NONE);
            assert_eq!(hints.flow(h), None);
        }
    }
}
