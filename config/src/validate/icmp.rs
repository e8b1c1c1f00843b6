//! `icmp`: what slbd answers of ICMP and how fast, per lcore.

use super::checker::Checker;
use crate::document::IcmpDoc;
use crate::model::{Icmp, IcmpRate};

/// Far above what any lcore should send or punt; low enough that the
/// token bucket's arithmetic stays small.
const PER_S_MAX: u64 = 1_000_000;
const BURST_MAX: u64 = 100_000;

pub(super) fn icmp(c: &mut Checker, doc: Option<&IcmpDoc>) -> Icmp {
    let d = Icmp::default();
    let Some(doc) = doc else { return d };
    let rate = |c: &mut Checker, name: &str, per_s, burst, default: IcmpRate| IcmpRate {
        per_s: c.field(
            format_args!("icmp.{name}_per_s"),
            per_s,
            default.per_s.into(),
            0,
            PER_S_MAX,
        ) as u32,
        burst: c.field(
            format_args!("icmp.{name}_burst"),
            burst,
            default.burst.into(),
            0,
            BURST_MAX,
        ) as u32,
    };
    Icmp {
        vip_echo: doc.vip_echo.unwrap_or(d.vip_echo),
        echo: rate(c, "echo", doc.echo_per_s, doc.echo_burst, d.echo),
        too_big: rate(
            c,
            "too_big",
            doc.too_big_per_s,
            doc.too_big_burst,
            d.too_big,
        ),
        errors: rate(c, "errors", doc.errors_per_s, doc.errors_burst, d.errors),
    }
}
