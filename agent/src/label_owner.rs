//! The owner of a label in a cluster, as the egress program computes it.
//!
//! `slb-agent cluster` writes [`ClusterParams`] into the config map; the
//! eBPF program (`cluster_next_hop` in `bpf/slb_agent.bpf.c`) then finds a
//! pushed label's owner with one subtraction and two divisions.
//! [`ClusterParams::owner`] is that C arithmetic in Rust, tested against
//! `slb_core::LabelSlices::owner_of`, the definition slbd assigns by.

use slb_core::labels::LabelConfig;
use slb_core::{LabelSlices, SliceError};

/// The slice parameters of `struct slb_config` (`cluster_*` fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterParams {
    /// The lowest C2S label of the whole range (the first odd label >= first).
    pub first_c2s: u32,
    /// Pairs in each instance's slice (>= 1).
    pub pairs_per_instance: u32,
    /// 1..=64.
    pub instances: u32,
}

impl ClusterParams {
    /// The split of `first..=last` among `instances`, checked as slbd checks
    /// it (`LabelSlices::new`).
    pub fn new(first: u32, last: u32, instances: u16) -> Result<ClusterParams, SliceError> {
        let range = LabelConfig {
            first,
            last,
            quarantine_ns: 0,
        };
        let slices = LabelSlices::new(range, instances)?;
        Ok(ClusterParams {
            first_c2s: slices.first_c2s(),
            pairs_per_instance: slices.pairs_per_instance(),
            instances: u32::from(instances),
        })
    }

    /// The owner of a label the agent pushes (16..=1048575), exactly as
    /// `cluster_next_hop` in the C computes it (the program does it; this
    /// copy is for the tests that check it against `LabelSlices`).
    #[cfg(test)]
    pub fn owner(&self, label: u32) -> Option<u32> {
        let c2s = (label - 1) | 1;
        if self.instances == 0 || self.pairs_per_instance == 0 || c2s < self.first_c2s {
            return None;
        }
        let owner = (c2s - self.first_c2s) / 2 / self.pairs_per_instance;
        (owner < self.instances).then_some(owner)
    }

    /// Instance `k`'s labels: its first C2S and last S2C label.
    pub fn slice(&self, k: u32) -> (u32, u32) {
        let first = self.first_c2s + 2 * self.pairs_per_instance * k;
        (first, first + 2 * self.pairs_per_instance - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slb_core::labels::{FIRST_UNRESERVED, MAX_LABEL};

    /// Every label the agent can push, for ranges with an odd and an even
    /// first label, leftover pairs and none, 1 to 64 instances.
    #[test]
    fn the_c_arithmetic_agrees_with_label_slices() {
        let cases: &[(u32, u32, u16)] = &[
            (16, 1015, 3),
            (16, 1016, 3),
            (17, 1015, 3),
            (100, 200, 7),
            (101, 250, 64),
            (16, 18, 1),
            (17, 18, 1),
            (16, MAX_LABEL, 1),
            (16, MAX_LABEL, 4),
            (16, MAX_LABEL, 64),
            (1000, 500_001, 13),
            (524_289, MAX_LABEL, 2),
        ];
        for &(first, last, n) in cases {
            let slices = LabelSlices::new(
                LabelConfig {
                    first,
                    last,
                    quarantine_ns: 0,
                },
                n,
            )
            .unwrap();
            let params = ClusterParams::new(first, last, n).unwrap();
            for label in FIRST_UNRESERVED..=MAX_LABEL {
                assert_eq!(
                    params.owner(label),
                    slices.owner_of(label).map(u32::from),
                    "{first}-{last} in {n}: label {label}"
                );
            }
            for k in 0..n {
                let slice = slices.slice(k, 0).unwrap();
                let (lo, hi) = params.slice(u32::from(k));
                if n > 1 {
                    assert_eq!(
                        (lo, hi),
                        (slice.first, slice.last),
                        "{first}-{last} {k}/{n}"
                    );
                }
                assert_eq!(slices.owner_of(lo), Some(k));
                assert_eq!(slices.owner_of(hi), Some(k));
            }
        }
    }

    #[test]
    fn errors_are_those_of_slbd() {
        assert_eq!(
            ClusterParams::new(16, 20, 4).unwrap_err().to_string(),
            "label range 16..=20 holds 2 pairs: too few for 4 instances (each needs at least one pair)"
        );
        assert_eq!(
            ClusterParams::new(16, 100, 65).unwrap_err(),
            SliceError::Instances(65)
        );
        assert!(ClusterParams::new(3, 100, 2).is_err());
        assert!(ClusterParams::new(16, 1 << 20, 2).is_err());
    }
}
