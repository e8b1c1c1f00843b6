//! How a cluster of slbd instances shares one label range (issue 14).
//!
//! Every instance is configured with the same range (`labels.first` ..=
//! `labels.last`) and the same number of instances `n`; instance `k` assigns
//! labels only from its own *slice*, so a label is unique across the
//! cluster and names its owner without any exchange between instances.
//!
//! The range's pairs (odd C2S `c`, S2C `c + 1`; the first pair is the first
//! odd label >= `first`, see [`crate::labels`]) are cut into `n` contiguous
//! blocks of `pairs / n` pairs each; the `pairs % n` pairs left at the top
//! of the range belong to no instance and are never assigned:
//!
//! ```text
//!  pair index   0 ........ p-1 | p ....... 2p-1 | ... | (n-1)p ... np-1 | np .. pairs-1
//!  owner          instance 0   |   instance 1   | ... |  instance n-1   |   unused
//!  (p = pairs / n)
//! ```
//!
//! Why contiguous blocks rather than pairs dealt round robin: each
//! instance's labels are one interval (`first..=last` of a plain
//! [`LabelConfig`]), so the label manager, the label tables and the
//! session core run unchanged on the slice, and an agent or router that
//! picks a next hop per label range needs one range per instance. The owner
//! of a label is one subtraction and two divisions ([`LabelSlices::owner_of`]).
//! Parity, the reserved labels 0-15 and the quarantine are those of the
//! whole range: a block starts on an odd label and holds whole pairs, and
//! each instance's label manager quarantines its own withdrawn pairs.

use crate::labels::{LabelConfig, LabelError, LabelPair};

/// Most instances a cluster may have.
pub const MAX_INSTANCES: u16 = 64;

/// The split of one label range among `instances` instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabelSlices {
    /// The whole range (one instance's slice when there is one instance).
    range: (u32, u32),
    /// The lowest C2S label of the whole range.
    first_c2s: u32,
    /// Pairs in each instance's slice (>= 1).
    per_instance: u32,
    instances: u16,
}

/// Why a range cannot be split.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SliceError {
    #[error(transparent)]
    Range(#[from] LabelError),
    #[error("a cluster has between 1 and {MAX_INSTANCES} instances (got {0})")]
    Instances(u16),
    #[error("label range {first}..={last} holds {pairs} pairs: too few for {instances} instances (each needs at least one pair)")]
    TooSmall {
        first: u32,
        last: u32,
        pairs: u32,
        instances: u16,
    },
    #[error("instance {instance} is not below the number of instances {instances}")]
    Instance { instance: u16, instances: u16 },
}

impl LabelSlices {
    /// Splits `range` (its quarantine is not used) among `instances`.
    pub fn new(range: LabelConfig, instances: u16) -> Result<LabelSlices, SliceError> {
        if !(1..=MAX_INSTANCES).contains(&instances) {
            return Err(SliceError::Instances(instances));
        }
        // The label manager's own checks: reserved, 20 bits, one pair.
        let pairs = range.pairs()?;
        let per_instance = pairs / u32::from(instances);
        if per_instance == 0 {
            return Err(SliceError::TooSmall {
                first: range.first,
                last: range.last,
                pairs,
                instances,
            });
        }
        Ok(LabelSlices {
            range: (range.first, range.last),
            first_c2s: range.first_c2s(),
            per_instance,
            instances,
        })
    }

    /// The number of instances.
    pub fn instances(&self) -> u16 {
        self.instances
    }

    /// The lowest client-to-server label of the whole range.
    pub fn first_c2s(&self) -> u32 {
        self.first_c2s
    }

    /// Pairs each instance may assign.
    pub fn pairs_per_instance(&self) -> u32 {
        self.per_instance
    }

    /// Instance `instance`'s slice as a label range, with `quarantine_ns`:
    /// from its first C2S label to its last S2C label; the whole range as
    /// configured when there is one instance (the same pairs).
    pub fn slice(&self, instance: u16, quarantine_ns: u64) -> Result<LabelConfig, SliceError> {
        if instance >= self.instances {
            return Err(SliceError::Instance {
                instance,
                instances: self.instances,
            });
        }
        if self.instances == 1 {
            let (first, last) = self.range;
            return Ok(LabelConfig {
                first,
                last,
                quarantine_ns,
            });
        }
        let first = self.first_c2s + 2 * self.per_instance * u32::from(instance);
        Ok(LabelConfig {
            first,
            last: first + 2 * self.per_instance - 1,
            quarantine_ns,
        })
    }

    /// The instance whose slice holds `label` (either label of a pair);
    /// `None` for a label outside the range, reserved, or among the pairs
    /// left over at the top.
    #[inline]
    pub fn owner_of(&self, label: u32) -> Option<u16> {
        let pair = LabelPair::containing(label)?;
        let index = pair.c2s().checked_sub(self.first_c2s)? / 2;
        let owner = index / self.per_instance;
        (owner < u32::from(self.instances)).then_some(owner as u16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::{LabelManager, LabelStatus, FIRST_UNRESERVED};
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn range(first: u32, last: u32) -> LabelConfig {
        LabelConfig {
            first,
            last,
            quarantine_ns: 0,
        }
    }

    #[test]
    fn the_default_range_in_four() {
        let s = LabelSlices::new(LabelConfig::default(), 4).unwrap();
        // 524,279 pairs: 131,069 each, 3 left over.
        assert_eq!(s.pairs_per_instance(), 131_069);
        let q = 2_000_000_000;
        let k0 = s.slice(0, q).unwrap();
        assert_eq!((k0.first, k0.last, k0.quarantine_ns), (17, 262_154, q));
        let k1 = s.slice(1, q).unwrap();
        assert_eq!((k1.first, k1.last), (262_155, 524_292));
        let k3 = s.slice(3, q).unwrap();
        assert_eq!(k3.last, 17 + 2 * 4 * 131_069 - 1);
        assert_eq!(s.owner_of(17), Some(0));
        assert_eq!(s.owner_of(262_154), Some(0));
        assert_eq!(s.owner_of(262_155), Some(1));
        assert_eq!(s.owner_of(262_156), Some(1));
        assert_eq!(s.owner_of(k3.last), Some(3));
        // The 3 pairs at the top belong to no one, nor do reserved labels
        // or labels past 20 bits.
        assert_eq!(s.owner_of(k3.last + 1), None);
        assert_eq!(s.owner_of(1_048_574), None);
        assert_eq!(s.owner_of(16), None);
        assert_eq!(s.owner_of(3), None);
        assert_eq!(s.owner_of(1 << 20), None);
        assert!(matches!(
            s.slice(4, q),
            Err(SliceError::Instance {
                instance: 4,
                instances: 4
            })
        ));
    }

    #[test]
    fn one_instance_owns_the_whole_range() {
        let s = LabelSlices::new(range(100, 200), 1).unwrap();
        let k = s.slice(0, 0).unwrap();
        // The range as configured: 101/102 .. 199/200, 50 pairs.
        assert_eq!((k.first, k.last), (100, 200));
        assert_eq!(
            LabelManager::new(k).unwrap().capacity(),
            LabelManager::new(range(100, 200)).unwrap().capacity()
        );
    }

    #[test]
    fn errors_are_clear() {
        let e = LabelSlices::new(range(16, 20), 4).unwrap_err();
        assert_eq!(
            e.to_string(),
            "label range 16..=20 holds 2 pairs: too few for 4 instances (each needs at least one pair)"
        );
        assert_eq!(
            LabelSlices::new(range(16, 100), 0).unwrap_err(),
            SliceError::Instances(0)
        );
        assert_eq!(
            LabelSlices::new(range(16, 1 << 20), 65).unwrap_err(),
            SliceError::Instances(65)
        );
        assert!(matches!(
            LabelSlices::new(range(3, 100), 2),
            Err(SliceError::Range(LabelError::Reserved { .. }))
        ));
    }

    proptest! {
        /// Every instance's label manager, run to exhaustion, assigns only
        /// labels `owner_of` gives to it: labels are unique across the
        /// cluster, odd C2S / even S2C, never reserved, and every pair of
        /// the slices is used. Quarantine is each manager's own, unchanged.
        #[test]
        fn slices_are_disjoint_and_name_their_owner(
            first in 16u32..60,
            span in 1u32..200,
            instances in 1u16..9,
            quarantine in 0u64..50,
        ) {
            let r = range(first, first + span);
            let Ok(s) = LabelSlices::new(r, instances) else {
                let pairs = LabelManager::new(r).map(|m| m.capacity()).unwrap_or(0);
                prop_assert!(pairs < u32::from(instances));
                return Ok(());
            };
            let mut owner: HashMap<u32, u16> = HashMap::new();
            for k in 0..instances {
                let slice = s.slice(k, quarantine).unwrap();
                prop_assert!(slice.first >= r.first && slice.last <= r.last);
                let mut m = LabelManager::new(slice).unwrap();
                prop_assert_eq!(m.capacity(), s.pairs_per_instance());
                let mut pairs = Vec::new();
                while let Ok(p) = m.assign(0) {
                    prop_assert!(p.c2s() >= FIRST_UNRESERVED);
                    prop_assert_eq!(p.c2s() % 2, 1);
                    prop_assert_eq!(p.s2c(), p.c2s() + 1);
                    for l in [p.c2s(), p.s2c()] {
                        prop_assert_eq!(s.owner_of(l), Some(k));
                        prop_assert!(owner.insert(l, k).is_none(), "label {} twice", l);
                    }
                    pairs.push(p);
                }
                // Quarantine as on one box: a withdrawn pair comes back
                // only once it has passed.
                let p = pairs[0];
                m.withdraw(p.s2c(), 10).unwrap();
                prop_assert_eq!(m.status(p.c2s()), LabelStatus::Quarantined);
                prop_assert_eq!(m.can_assign(10 + quarantine), true);
                if quarantine > 0 {
                    prop_assert!(!m.can_assign(9 + quarantine));
                }
            }
            // Every label of the range that owner_of gives to someone was
            // assigned by that instance, and no other.
            for l in r.first..=r.last {
                prop_assert_eq!(s.owner_of(l), owner.get(&l).copied(), "label {}", l);
            }
            prop_assert_eq!(
                owner.len() as u32,
                2 * s.pairs_per_instance() * u32::from(instances)
            );
        }
    }
}
