//! Session label manager (docs/claims.md, claims 1, 7 and 13).
//!
//! Labels are handed out in pairs: the client-to-server (C2S) label is odd,
//! the server-to-client (S2C) label is C2S + 1. Clients and servers derive the
//! opposite label by -1 / +1 (docs/claims.md, claim 14), so a pair is the unit
//! of allocation.
//!
//! A pair is identified by its *pair index* `i`: `c2s = first_c2s + 2 * i`.
//! Every pair is in exactly one of three states:
//!
//! ```text
//!   free --assign--> active --withdraw--> quarantined --(quarantine elapsed)--> free
//! ```
//!
//! * `free` is a FIFO ring of pair indices (a `VecDeque<u32>` allocated once at
//!   full capacity): the pair reused next is the one that has been free longest,
//!   which spreads reuse over the whole space on top of the quarantine.
//! * `quarantine` is a FIFO of `(release time, pair index)`. Quarantine time is
//!   the same for every pair, so the queue is sorted by release time and the
//!   oldest entry is always at the front.
//! * `state` is one byte per pair, so `withdraw` can refuse a label that is not
//!   active instead of corrupting the lists.
//!
//! * In a cluster the manager indexes every instance's pairs and assigns
//!   from its own slice only (see [`LabelManager`]); other slices' pairs,
//!   withdrawn here, wait in a quarantine queue of their own, so they never
//!   hold up the release of this instance's pairs.
//!
//! Assign and withdraw are O(1). `assign` moves at most [`RELEASE_PER_ASSIGN`]
//! expired pairs from quarantine to the free ring, so the work it does is
//! bounded; [`LabelManager::release_expired`] does the same in bounded slices
//! for the scheduler's expiry tick.
//!
//! Memory: 4 bytes (free ring) + 1 byte (state) per pair of capacity, plus 16
//! bytes per quarantined pair. The default range is 524,279 pairs: 2.6 MB.

use std::collections::VecDeque;

/// Highest MPLS label: labels are 20 bits (RFC 3032, section 2.1).
pub const MAX_LABEL: u32 = (1 << 20) - 1;
/// Labels 0-15 are reserved (RFC 3032, section 2.1); never issued.
pub const FIRST_UNRESERVED: u32 = 16;
/// Expired quarantine entries `assign` moves to the free ring per call.
pub const RELEASE_PER_ASSIGN: usize = 2;

/// Label space configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabelConfig {
    /// First label of the range (inclusive). At least 16.
    pub first: u32,
    /// Last label of the range (inclusive). At most 1,048,575.
    pub last: u32,
    /// How long a withdrawn pair stays unusable, in nanoseconds.
    pub quarantine_ns: u64,
}

impl Default for LabelConfig {
    /// The whole unreserved space, 2 s quarantine: the configuration's
    /// defaults (`labels` in `docs/config-reference.md`).
    fn default() -> Self {
        LabelConfig {
            first: FIRST_UNRESERVED,
            last: MAX_LABEL,
            quarantine_ns: 2_000_000_000,
        }
    }
}

/// A session's label pair. C2S is odd, S2C = C2S + 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LabelPair {
    c2s: u32,
}

impl LabelPair {
    /// The pair containing `label` (either member), if `label` is a valid
    /// 20-bit, unreserved label.
    pub fn containing(label: u32) -> Option<LabelPair> {
        if !(FIRST_UNRESERVED..=MAX_LABEL).contains(&label) {
            return None;
        }
        let c2s = if label & 1 == 1 { label } else { label - 1 };
        (FIRST_UNRESERVED..MAX_LABEL)
            .contains(&c2s)
            .then_some(LabelPair { c2s })
    }

    /// Client-to-server label (odd).
    pub fn c2s(self) -> u32 {
        self.c2s
    }

    /// Server-to-client label (even, C2S + 1).
    pub fn s2c(self) -> u32 {
        self.c2s + 1
    }
}

/// Label configuration or usage error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("label range {first}..={last} includes reserved labels 0-15 (RFC 3032); start it at 16 or above")]
    Reserved { first: u32, last: u32 },
    #[error("label range {first}..={last} goes past the 20-bit maximum label 1048575")]
    TooLarge { first: u32, last: u32 },
    #[error("label range {first}..={last} cannot hold one pair (an odd C2S label and C2S+1 both in range)")]
    NoPair { first: u32, last: u32 },
    #[error("label {0} is not an active session label")]
    NotActive(u32),
    #[error("no free label pair")]
    Exhausted,
    #[error("label {0} is outside the configured label range")]
    OutOfSpace(u32),
    #[error("label {0} is already held")]
    Busy(u32),
    #[error("own label slice {first}..={last} is not inside the label range")]
    NotInSpace { first: u32, last: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum PairState {
    Free,
    Active,
    Quarantined,
}

/// Where a label stands, for inspection and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelStatus {
    /// Not part of this manager's range, or reserved.
    OutOfRange,
    Free,
    Active,
    Quarantined,
}

impl LabelConfig {
    /// The range's lowest client-to-server label: the first odd label
    /// from `first` on.
    pub fn first_c2s(&self) -> u32 {
        self.first | 1
    }

    /// The number of pairs the range holds (an odd C2S label and C2S+1
    /// both in range), or why it is not a valid range: what
    /// [`LabelManager::new`] checks, without building one.
    pub fn pairs(&self) -> Result<u32, LabelError> {
        let LabelConfig { first, last, .. } = *self;
        if first < FIRST_UNRESERVED {
            return Err(LabelError::Reserved { first, last });
        }
        if last > MAX_LABEL {
            return Err(LabelError::TooLarge { first, last });
        }
        let first_c2s = self.first_c2s();
        if last == 0 || first_c2s > last - 1 {
            return Err(LabelError::NoPair { first, last });
        }
        Ok((last - 1 - first_c2s) / 2 + 1)
    }
}

/// Label counts. `free + active + quarantined == capacity` always.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct LabelCounts {
    pub capacity: u32,
    pub free: u32,
    pub active: u32,
    /// Withdrawn pairs not yet back in the free ring (including those whose
    /// quarantine has elapsed but that no `assign`/`release_expired` has
    /// moved yet).
    pub quarantined: u32,
    /// Active pairs of other instances' slices: their sessions, synced
    /// here (not part of `capacity`).
    pub peers_active: u32,
}

/// Assigns, withdraws and recycles label pairs. One per appliance: all
/// services share one label space.
///
/// In a cluster the manager indexes the whole configured range (the
/// *space*: every instance's slice) but assigns only from its own slice.
/// A pair of another slice becomes active here only when a session
/// another instance admitted is installed here ([`LabelManager::claim`]:
/// a synced or restored session); withdrawn, it waits out its quarantine
/// and is then free again, but never assigned here.
#[derive(Debug)]
pub struct LabelManager {
    first_c2s: u32,
    capacity: u32,
    /// This instance's pairs: indexes `own.0..own.1`.
    own: (u32, u32),
    quarantine_ns: u64,
    active: u32,
    /// Own pairs in the free state (the ring may also hold indexes
    /// [`LabelManager::claim`] took out of the free state: `assign` skips
    /// them).
    free_own: u32,
    /// Own pairs in quarantine.
    quarantined_own: u32,
    state: Vec<PairState>,
    free: VecDeque<u32>,
    quarantine: VecDeque<(u64, u32)>,
    /// Other slices' withdrawn pairs (synced sessions that ended here):
    /// a queue of their own, so they never hold up the release of this
    /// instance's pairs (`assign` releases from `quarantine` only).
    peer_quarantine: VecDeque<(u64, u32)>,
}

impl LabelManager {
    /// Builds a manager for `config`'s range; every pair starts free.
    pub fn new(config: LabelConfig) -> Result<LabelManager, LabelError> {
        LabelManager::with_space(config, config)
    }

    /// A manager that indexes `space` and assigns from `own`, a slice of
    /// it (the quarantine is `own`'s).
    pub fn with_space(space: LabelConfig, own: LabelConfig) -> Result<LabelManager, LabelError> {
        let quarantine_ns = own.quarantine_ns;
        let capacity = space.pairs()?;
        let own_pairs = own.pairs()?;
        let first_c2s = space.first_c2s();
        let lo = own.first_c2s().checked_sub(first_c2s).map(|d| d / 2);
        let own = match lo {
            Some(lo) if own.first_c2s() % 2 == 1 && lo + own_pairs <= capacity => {
                (lo, lo + own_pairs)
            }
            _ => {
                return Err(LabelError::NotInSpace {
                    first: own.first,
                    last: own.last,
                })
            }
        };
        let mut free = VecDeque::with_capacity(own_pairs as usize);
        free.extend(own.0..own.1);
        Ok(LabelManager {
            first_c2s,
            capacity,
            own,
            quarantine_ns,
            active: 0,
            free_own: own_pairs,
            quarantined_own: 0,
            state: vec![PairState::Free; capacity as usize],
            free,
            quarantine: VecDeque::new(),
            peer_quarantine: VecDeque::new(),
        })
    }

    /// Number of pairs the space holds (pair indexes are `0..capacity()`;
    /// without a cluster, the range this manager assigns from).
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Number of pairs this manager assigns from (its own slice).
    pub fn own_capacity(&self) -> u32 {
        self.own.1 - self.own.0
    }

    /// Whether `label` is in this manager's own slice.
    pub fn is_own(&self, label: u32) -> bool {
        self.pair_index(label)
            .is_some_and(|i| (self.own.0..self.own.1).contains(&i))
    }

    /// Current counts of the own slice, and the active pairs of other
    /// slices (`peers_active`: sessions of other instances held here).
    pub fn counts(&self) -> LabelCounts {
        let active_own = self.own_capacity() - self.free_own - self.quarantined_own;
        LabelCounts {
            capacity: self.own_capacity(),
            free: self.free_own,
            active: active_own,
            quarantined: self.quarantined_own,
            peers_active: self.active - active_own,
        }
    }

    fn owns(&self, index: u32) -> bool {
        (self.own.0..self.own.1).contains(&index)
    }

    /// Quarantine time in nanoseconds.
    pub fn quarantine_ns(&self) -> u64 {
        self.quarantine_ns
    }

    /// True if `assign(now)` would succeed.
    pub fn can_assign(&self, now: u64) -> bool {
        self.free_own > 0 || self.own_release_due(now)
    }

    /// True if a quarantined pair is due for release at `now`.
    pub fn release_due(&self, now: u64) -> bool {
        self.own_release_due(now) || self.peer_quarantine.front().is_some_and(|&(t, _)| t <= now)
    }

    fn own_release_due(&self, now: u64) -> bool {
        self.quarantine.front().is_some_and(|&(t, _)| t <= now)
    }

    /// Takes a free pair: the one free longest. O(1).
    pub fn assign(&mut self, now: u64) -> Result<LabelPair, LabelError> {
        Self::release(
            &mut self.quarantine,
            &mut self.state,
            Some((
                &mut self.free,
                &mut self.free_own,
                &mut self.quarantined_own,
            )),
            now,
            RELEASE_PER_ASSIGN,
        );
        if self.free_own == 0 {
            return Err(LabelError::Exhausted);
        }
        // Claimed pairs left their index in the ring: skip them.
        while let Some(index) = self.free.pop_front() {
            if self.state[index as usize] == PairState::Free {
                self.state[index as usize] = PairState::Active;
                self.active += 1;
                self.free_own -= 1;
                return Ok(self.pair_at(index));
            }
        }
        unreachable!("free_own > 0 but no free index in the ring")
    }

    /// Makes the free pair containing `label` active: a session admitted
    /// elsewhere (another instance, or this one before a restart) is
    /// installed with the labels it already has. A pair of another slice
    /// may also be taken from quarantine (its owner decides when it is
    /// reused, not this instance). O(1).
    pub fn claim(&mut self, label: u32) -> Result<LabelPair, LabelError> {
        let index = self
            .pair_index(label)
            .ok_or(LabelError::OutOfSpace(label))?;
        let own = (self.own.0..self.own.1).contains(&index);
        match self.state[index as usize] {
            PairState::Free => {
                if own {
                    self.free_own -= 1;
                }
            }
            PairState::Quarantined if !own => {
                // Its quarantine entry stays queued; release skips it.
            }
            PairState::Active | PairState::Quarantined => {
                return Err(LabelError::Busy(label));
            }
        }
        self.state[index as usize] = PairState::Active;
        self.active += 1;
        Ok(self.pair_at(index))
    }

    /// Quarantines the free pair containing `label` until `until`, at
    /// most one quarantine from `now` (a restored label allocation: pairs
    /// withdrawn before a restart). The cap keeps the quarantine queue in
    /// release order: every later withdrawal releases no earlier.
    pub fn quarantine_until(&mut self, label: u32, until: u64, now: u64) -> Result<(), LabelError> {
        let index = self
            .pair_index(label)
            .ok_or(LabelError::OutOfSpace(label))?;
        if self.state[index as usize] != PairState::Free {
            return Err(LabelError::Busy(label));
        }
        if self.owns(index) {
            self.free_own -= 1;
            self.quarantined_own += 1;
        }
        self.state[index as usize] = PairState::Quarantined;
        let until = until.min(now.saturating_add(self.quarantine_ns));
        let queue = if self.owns(index) {
            &mut self.quarantine
        } else {
            &mut self.peer_quarantine
        };
        // Restores come sorted; anything else waits behind the latest.
        let until = queue.back().map_or(until, |&(t, _)| t.max(until));
        queue.push_back((until, index));
        Ok(())
    }

    /// Quarantined pairs of the own slice and when each is released, in
    /// release order (for a state file).
    pub fn quarantined(&self) -> impl Iterator<Item = (LabelPair, u64)> + '_ {
        self.quarantine
            .iter()
            .filter(|&&(_, i)| {
                (self.own.0..self.own.1).contains(&i)
                    && self.state[i as usize] == PairState::Quarantined
            })
            .map(|&(t, i)| (self.pair_at(i), t))
    }

    /// Withdraws the pair containing `label` (C2S or S2C) into quarantine
    /// until `now + quarantine`. O(1). A label that is not active is an error
    /// and changes nothing.
    pub fn withdraw(&mut self, label: u32, now: u64) -> Result<LabelPair, LabelError> {
        let index = self.pair_index(label).ok_or(LabelError::NotActive(label))?;
        let state = &mut self.state[index as usize];
        if *state != PairState::Active {
            return Err(LabelError::NotActive(label));
        }
        *state = PairState::Quarantined;
        self.active -= 1;
        let until = now.saturating_add(self.quarantine_ns);
        if self.owns(index) {
            self.quarantined_own += 1;
            self.quarantine.push_back((until, index));
        } else {
            self.peer_quarantine.push_back((until, index));
        }
        Ok(self.pair_at(index))
    }

    /// Moves at most `max` pairs whose quarantine has elapsed to the free ring,
    /// oldest first. Returns how many moved.
    pub fn release_expired(&mut self, now: u64, max: usize) -> usize {
        let own = Self::release(
            &mut self.quarantine,
            &mut self.state,
            Some((
                &mut self.free,
                &mut self.free_own,
                &mut self.quarantined_own,
            )),
            now,
            max,
        );
        own + Self::release(&mut self.peer_quarantine, &mut self.state, None, now, max)
    }

    /// Moves at most `max` due pairs of `queue` to the free state; for the
    /// own queue (`own`: the free ring, the free and quarantined counts)
    /// to the free ring too. A queue entry of a pair claimed since is
    /// dropped.
    fn release(
        queue: &mut VecDeque<(u64, u32)>,
        state: &mut [PairState],
        mut own: Option<(&mut VecDeque<u32>, &mut u32, &mut u32)>,
        now: u64,
        max: usize,
    ) -> usize {
        let mut moved = 0;
        while moved < max {
            match queue.front() {
                Some(&(until, index)) if until <= now => {
                    queue.pop_front();
                    moved += 1;
                    // A pair claimed out of quarantine is active again.
                    if state[index as usize] != PairState::Quarantined {
                        continue;
                    }
                    state[index as usize] = PairState::Free;
                    if let Some((free, free_own, quarantined_own)) = own.as_mut() {
                        **quarantined_own -= 1;
                        **free_own += 1;
                        free.push_back(index);
                    }
                }
                _ => break,
            }
        }
        moved
    }

    /// Index of the pair containing `label`, if it is in this range.
    /// Indexes are dense in `0..capacity()`: use them for per-pair arrays.
    #[inline]
    pub fn pair_index(&self, label: u32) -> Option<u32> {
        // Odd labels map to themselves, even ones to label - 1.
        let c2s = label.wrapping_sub(1) | 1;
        let offset = c2s.checked_sub(self.first_c2s)?;
        let index = offset / 2;
        (index < self.capacity).then_some(index)
    }

    /// The pair at `index` (must be `< capacity()`).
    #[inline]
    pub fn pair_at(&self, index: u32) -> LabelPair {
        debug_assert!(index < self.capacity);
        LabelPair {
            c2s: self.first_c2s + 2 * index,
        }
    }

    /// Where `label` stands.
    pub fn status(&self, label: u32) -> LabelStatus {
        match self.pair_index(label) {
            None => LabelStatus::OutOfRange,
            Some(i) => match self.state[i as usize] {
                PairState::Free => LabelStatus::Free,
                PairState::Active => LabelStatus::Active,
                PairState::Quarantined => LabelStatus::Quarantined,
            },
        }
    }

    /// Heap bytes this manager holds.
    pub fn heap_bytes(&self) -> usize {
        self.state.capacity()
            + self.free.capacity() * std::mem::size_of::<u32>()
            + (self.quarantine.capacity() + self.peer_quarantine.capacity())
                * std::mem::size_of::<(u64, u32)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    /// A range's pair count is its manager's capacity, and an invalid
    /// range is refused for the same reason by both.
    #[test]
    fn pairs_counts_what_the_manager_holds() {
        for (first, last) in [
            (16, 1_048_575),
            (16, 18),
            (17, 18),
            (100, 199),
            (101, 200),
            (16, 17),
            (15, 99),
            (16, 1_048_576),
        ] {
            let c = LabelConfig {
                first,
                last,
                quarantine_ns: 0,
            };
            match (c.pairs(), LabelManager::new(c)) {
                (Ok(n), Ok(m)) => assert_eq!(n, m.capacity(), "{first}..={last}"),
                (Err(a), Err(b)) => assert_eq!(a, b, "{first}..={last}"),
                (a, b) => panic!("{first}..={last}: {a:?} vs {:?}", b.map(|m| m.capacity())),
            }
        }
        let all = LabelConfig {
            first: 16,
            last: 1_048_575,
            quarantine_ns: 0,
        };
        assert_eq!(all.pairs(), Ok(524_279));
    }

    fn manager(first: u32, last: u32, q: u64) -> LabelManager {
        LabelManager::new(LabelConfig {
            first,
            last,
            quarantine_ns: q,
        })
        .unwrap()
    }

    #[test]
    fn default_range_capacity() {
        let m = LabelManager::new(LabelConfig::default()).unwrap();
        // Odd C2S from 17 to 1,048,573 (its S2C 1,048,574 is in range;
        // 1,048,575 is odd but its S2C 1,048,576 is not).
        assert_eq!(m.capacity(), 524_279);
        assert_eq!(m.pair_at(0).c2s(), 17);
        assert_eq!(m.pair_at(m.capacity() - 1).c2s(), 1_048_573);
        assert_eq!(m.pair_at(m.capacity() - 1).s2c(), 1_048_574);
    }

    #[test]
    fn config_errors_are_clear() {
        let e = LabelManager::new(LabelConfig {
            first: 0,
            last: 100,
            quarantine_ns: 0,
        })
        .unwrap_err();
        assert_eq!(
            e,
            LabelError::Reserved {
                first: 0,
                last: 100
            }
        );
        assert!(e.to_string().contains("reserved labels 0-15"));
        let e = LabelManager::new(LabelConfig {
            first: 16,
            last: 1 << 20,
            quarantine_ns: 0,
        })
        .unwrap_err();
        assert!(matches!(e, LabelError::TooLarge { .. }));
        // 16..=17: 17 is odd but 18 is out of range.
        let e = LabelManager::new(LabelConfig {
            first: 16,
            last: 17,
            quarantine_ns: 0,
        })
        .unwrap_err();
        assert!(e.to_string().contains("cannot hold one pair"), "{e}");
        assert!(matches!(
            LabelManager::new(LabelConfig {
                first: 20,
                last: 16,
                quarantine_ns: 0
            }),
            Err(LabelError::NoPair { .. })
        ));
        // Exactly one pair.
        assert_eq!(manager(17, 18, 0).capacity(), 1);
        assert_eq!(manager(16, 18, 0).capacity(), 1);
        assert_eq!(manager(18, 20, 0).capacity(), 1);
    }

    #[test]
    fn withdraw_of_inactive_is_an_error() {
        let mut m = manager(16, 30, 10);
        assert_eq!(m.withdraw(17, 0), Err(LabelError::NotActive(17)));
        assert_eq!(m.withdraw(5, 0), Err(LabelError::NotActive(5)));
        let p = m.assign(0).unwrap();
        assert_eq!(m.withdraw(p.s2c(), 0), Ok(p));
        assert_eq!(m.withdraw(p.c2s(), 0), Err(LabelError::NotActive(p.c2s())));
        let c = m.counts();
        assert_eq!((c.active, c.quarantined, c.free), (0, 1, c.capacity - 1));
    }

    #[test]
    fn quarantine_is_honoured_and_fifo() {
        let mut m = manager(17, 22, 100); // 3 pairs: 17, 19, 21
        let a = m.assign(0).unwrap();
        let b = m.assign(0).unwrap();
        let c = m.assign(0).unwrap();
        assert_eq!(m.assign(0), Err(LabelError::Exhausted));
        m.withdraw(b.c2s(), 10).unwrap();
        m.withdraw(a.c2s(), 20).unwrap();
        assert_eq!(m.assign(109), Err(LabelError::Exhausted));
        assert!(!m.can_assign(109));
        assert!(m.can_assign(110));
        assert_eq!(m.assign(110), Ok(b)); // oldest withdrawn first
        assert_eq!(m.assign(119), Err(LabelError::Exhausted));
        assert_eq!(m.assign(120), Ok(a));
        assert_eq!(m.status(c.c2s()), LabelStatus::Active);
        assert_eq!(m.status(3), LabelStatus::OutOfRange);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Assign,
        Withdraw(usize),
        WithdrawBogus(u32),
        Advance(u64),
        Release(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => Just(Op::Assign),
            3 => any::<usize>().prop_map(Op::Withdraw),
            1 => any::<u32>().prop_map(Op::WithdrawBogus),
            2 => (0u64..50).prop_map(Op::Advance),
            1 => (0usize..8).prop_map(Op::Release),
        ]
    }

    proptest! {
        #[test]
        fn label_invariants(
            first in 0u32..40,
            span in 0u32..40,
            quarantine in 0u64..100,
            ops in proptest::collection::vec(op(), 0..400),
        ) {
            let last = first + span;
            let config = LabelConfig { first, last, quarantine_ns: quarantine };
            let m = LabelManager::new(config);
            if first < 16 {
                prop_assert!(matches!(m, Err(LabelError::Reserved { .. })), "expected Reserved");
                return Ok(());
            }
            let first_c2s = first | 1;
            if first_c2s + 1 > last {
                prop_assert!(matches!(m, Err(LabelError::NoPair { .. })), "expected NoPair");
                return Ok(());
            }
            let mut m = m.unwrap();
            let mut now = 0u64;
            let mut active: Vec<LabelPair> = Vec::new();
            // label -> time it was withdrawn
            let mut withdrawn_at: std::collections::HashMap<u32, u64> = Default::default();
            for op in ops {
                match op {
                    Op::Assign => match m.assign(now) {
                        Ok(p) => {
                            prop_assert_eq!(p.c2s() % 2, 1);
                            prop_assert_eq!(p.s2c(), p.c2s() + 1);
                            prop_assert!(p.c2s() >= first && p.s2c() <= last && p.c2s() >= 16);
                            prop_assert!(!active.contains(&p), "duplicate {:?}", p);
                            if let Some(t) = withdrawn_at.remove(&p.c2s()) {
                                prop_assert!(now >= t + quarantine, "reused {} at {} withdrawn at {}", p.c2s(), now, t);
                            }
                            active.push(p);
                        }
                        Err(e) => {
                            prop_assert_eq!(e, LabelError::Exhausted);
                            // Exhausted only if nothing free and nothing due.
                            let due = withdrawn_at.values().filter(|&&t| t + quarantine <= now).count();
                            prop_assert_eq!(active.len() + withdrawn_at.len(), m.capacity() as usize);
                            prop_assert_eq!(due, 0);
                        }
                    },
                    Op::Withdraw(i) => {
                        if !active.is_empty() {
                            let p = active.swap_remove(i % active.len());
                            let label = if i % 2 == 0 { p.c2s() } else { p.s2c() };
                            prop_assert_eq!(m.withdraw(label, now), Ok(p));
                            withdrawn_at.insert(p.c2s(), now);
                        }
                    }
                    Op::WithdrawBogus(l) => {
                        let before = m.counts();
                        let is_active = active.iter().any(|p| p.c2s() == l || p.s2c() == l);
                        if !is_active {
                            prop_assert_eq!(m.withdraw(l, now), Err(LabelError::NotActive(l)));
                            prop_assert_eq!(m.counts(), before);
                        }
                    }
                    Op::Advance(d) => now += d,
                    Op::Release(n) => { m.release_expired(now, n); }
                }
                let c = m.counts();
                prop_assert_eq!(c.free + c.active + c.quarantined, c.capacity);
                prop_assert_eq!(c.active as usize, active.len());
            }
            // Nothing leaks: end everything, let quarantine pass.
            for p in active.drain(..) {
                m.withdraw(p.c2s(), now).unwrap();
            }
            now += quarantine;
            m.release_expired(now, usize::MAX);
            let c = m.counts();
            prop_assert_eq!(c.free, c.capacity);
            let mut seen = HashSet::new();
            while let Ok(p) = m.assign(now) {
                prop_assert!(seen.insert(p.c2s()));
            }
            prop_assert_eq!(seen.len() as u32, c.capacity);
        }
    }

    #[derive(Debug, Clone)]
    enum SliceOp {
        Assign,
        Withdraw(usize),
        /// Claim the pair at this index of the space.
        Claim(u32),
        Advance(u64),
        Release(usize),
    }

    fn slice_op() -> impl Strategy<Value = SliceOp> {
        prop_oneof![
            4 => Just(SliceOp::Assign),
            3 => any::<usize>().prop_map(SliceOp::Withdraw),
            3 => (0u32..40).prop_map(SliceOp::Claim),
            2 => (1u64..30).prop_map(SliceOp::Advance),
            1 => (0usize..5).prop_map(SliceOp::Release),
        ]
    }

    proptest! {
        /// A manager over a space of 30 pairs assigning from a slice of
        /// it, with claims (synced or restored sessions) of any pair mixed
        /// in: assign only ever hands out a free pair of the slice that
        /// waited out its quarantine; a claim takes a free pair (or a
        /// quarantined one of another slice) and refuses the rest; the
        /// counts agree with a model; nothing leaks.
        #[test]
        fn claims_never_double_assign(
            lo in 0u32..20,
            len in 1u32..10,
            quarantine in 0u64..40,
            restored in proptest::collection::vec((0u32..40, 0u64..50), 0..10),
            ops in proptest::collection::vec(slice_op(), 0..300),
        ) {
            let space = LabelConfig { first: 17, last: 17 + 2 * 30 - 1, quarantine_ns: quarantine };
            let own = LabelConfig { first: 17 + 2 * lo, last: 17 + 2 * (lo + len) - 1, quarantine_ns: quarantine };
            let mut m = LabelManager::with_space(space, own).unwrap();
            prop_assert_eq!((m.capacity(), m.own_capacity()), (30, len));
            let is_own = |i: u32| (lo..lo + len).contains(&i);
            #[derive(Clone, Copy, PartialEq, Debug)]
            enum St { Free, Active, Quarantined(u64) }
            let mut model = vec![St::Free; 30];
            let mut now = 0u64;
            // A restart first: the quarantined pairs of the state file, in
            // release order.
            let mut restored = restored;
            restored.sort_by_key(|&(_, d)| d);
            for (i, d) in restored {
                let label = 17 + 2 * i;
                let r = m.quarantine_until(label, d, now);
                if i >= 30 {
                    prop_assert_eq!(r, Err(LabelError::OutOfSpace(label)));
                } else if model[i as usize] == St::Free {
                    prop_assert_eq!(r, Ok(()));
                    model[i as usize] = St::Quarantined(d.min(quarantine));
                } else {
                    prop_assert_eq!(r, Err(LabelError::Busy(label)));
                }
            }
            for op in ops {
                match op {
                    SliceOp::Assign => match m.assign(now) {
                        Ok(p) => {
                            let i = m.pair_index(p.c2s()).unwrap();
                            prop_assert!(is_own(i), "assigned {} outside the slice", p.c2s());
                            match model[i as usize] {
                                St::Free => {}
                                St::Quarantined(t) => prop_assert!(t <= now, "{} before its quarantine", p.c2s()),
                                St::Active => prop_assert!(false, "{} assigned twice", p.c2s()),
                            }
                            model[i as usize] = St::Active;
                        }
                        Err(e) => {
                            prop_assert_eq!(e, LabelError::Exhausted);
                            for i in lo..lo + len {
                                let st = model[i as usize];
                                prop_assert!(st == St::Active || matches!(st, St::Quarantined(t) if t > now),
                                    "exhausted with {} {:?}", i, st);
                            }
                        }
                    },
                    SliceOp::Withdraw(k) => {
                        let active: Vec<u32> = (0..30).filter(|&i| model[i as usize] == St::Active).collect();
                        if !active.is_empty() {
                            let i = active[k % active.len()];
                            prop_assert!(m.withdraw(m.pair_at(i).s2c(), now).is_ok());
                            model[i as usize] = St::Quarantined(now + quarantine);
                        }
                    }
                    SliceOp::Claim(i) => {
                        let label = 17 + 2 * i;
                        let r = m.claim(label);
                        if i >= 30 {
                            prop_assert_eq!(r, Err(LabelError::OutOfSpace(label)));
                            continue;
                        }
                        let ok = match model[i as usize] {
                            St::Free => true,
                            St::Quarantined(_) => !is_own(i),
                            St::Active => false,
                        };
                        if ok {
                            prop_assert_eq!(r.map(|p| p.c2s()), Ok(label));
                            model[i as usize] = St::Active;
                        } else {
                            // (An own pair due for release but not yet
                            // released is still quarantined: refused.)
                            prop_assert_eq!(r, Err(LabelError::Busy(label)));
                        }
                    }
                    SliceOp::Advance(d) => now += d,
                    SliceOp::Release(n) => { m.release_expired(now, n); }
                }
                // The manager may release due pairs lazily: sync the model.
                for i in 0..30u32 {
                    if let St::Quarantined(_) = model[i as usize] {
                        if m.status(17 + 2 * i) == LabelStatus::Free {
                            model[i as usize] = St::Free;
                        }
                    }
                }
                let c = m.counts();
                prop_assert_eq!(c.free + c.active + c.quarantined, c.capacity);
                let own_active = (lo..lo + len).filter(|&i| model[i as usize] == St::Active).count() as u32;
                let all_active = model.iter().filter(|&&s| s == St::Active).count() as u32;
                prop_assert_eq!((c.active, c.peers_active), (own_active, all_active - own_active));
            }
            // Nothing leaks: end everything, let every quarantine pass.
            for i in 0..30u32 {
                if model[i as usize] == St::Active {
                    m.withdraw(17 + 2 * i, now).unwrap();
                }
            }
            now += 1_000;
            m.release_expired(now, usize::MAX);
            let c = m.counts();
            prop_assert_eq!((c.free, c.active, c.quarantined, c.peers_active), (len, 0, 0, 0));
            let mut seen = HashSet::new();
            while let Ok(p) = m.assign(now) {
                prop_assert!(seen.insert(p.c2s()));
            }
            prop_assert_eq!(seen.len() as u32, len);
        }
    }
}
