//! `labels`: the MPLS label range and the quarantine of freed labels.

use std::time::Duration;

use super::checker::Checker;
use crate::document::LabelsDoc;
use crate::model::Labels;

const QUARANTINE_MAX_MS: u64 = 600_000;

pub(super) fn labels(c: &mut Checker, doc: Option<&LabelsDoc>) -> Labels {
    let d = Labels::default();
    let Some(doc) = doc else { return d };
    let mut ok = true;
    let first = match doc.first {
        None => d.first,
        Some(v) if v < u64::from(Labels::MIN) => {
            c.err(
                "labels.first",
                format!(
                    "must be at least {}: labels 0-15 are reserved by RFC 3032 (got {v})",
                    Labels::MIN
                ),
            );
            ok = false;
            d.first
        }
        Some(v) if v > u64::from(Labels::MAX) => {
            c.err(
                "labels.first",
                format!(
                    "must be at most {}, the largest 20-bit MPLS label (got {v})",
                    Labels::MAX
                ),
            );
            ok = false;
            d.first
        }
        Some(v) => v as u32,
    };
    let last = match doc.last {
        None => d.last,
        Some(v) if v > u64::from(Labels::MAX) => {
            c.err(
                "labels.last",
                format!(
                    "must be at most {}, the largest 20-bit MPLS label (got {v})",
                    Labels::MAX
                ),
            );
            ok = false;
            d.last
        }
        Some(v) => v as u32,
    };
    let quarantine = c.field(
        "labels.quarantine_ms",
        doc.quarantine_ms,
        2000,
        0,
        QUARANTINE_MAX_MS,
    );
    let labels = Labels {
        first,
        last,
        quarantine: Duration::from_millis(quarantine),
    };
    if ok && labels.pairs() == 0 {
        c.err(
            "labels",
            format!(
                "range {first}..={last} holds no label pair (an odd client-to-server label N with N+1 <= last)"
            ),
        );
    }
    labels
}
