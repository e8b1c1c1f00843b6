//! `timeouts`: session idle timeouts per protocol and TCP state.

use std::time::Duration;

use super::checker::Checker;
use crate::document::TimeoutsDoc;
use crate::model::Timeouts;

/// A week: far beyond any sensible idle timeout, low enough that timer
/// arithmetic (`Instant + Duration`, TSC cycles) cannot overflow.
const TIMEOUT_MAX_S: u64 = 7 * 24 * 3600;

pub(super) fn timeouts(c: &mut Checker, doc: Option<&TimeoutsDoc>) -> Timeouts {
    let d = Timeouts::default();
    let Some(doc) = doc else { return d };
    let max_ms = TIMEOUT_MAX_S * 1000;
    let ms = |c: &mut Checker, name: &str, v: Option<u64>, default: Duration| {
        Duration::from_millis(c.field(
            format_args!("timeouts.{name}"),
            v,
            default.as_millis() as u64,
            1,
            max_ms,
        ))
    };
    let tcp_syn = ms(c, "tcp_syn_ms", doc.tcp_syn_ms, d.tcp_syn);
    let tcp_linger = ms(c, "tcp_linger_ms", doc.tcp_linger_ms, d.tcp_linger);
    let s = |c: &mut Checker, name: &str, v: Option<u64>, default: Duration| {
        Duration::from_secs(c.field(
            format_args!("timeouts.{name}"),
            v,
            default.as_secs(),
            1,
            TIMEOUT_MAX_S,
        ))
    };
    Timeouts {
        tcp_syn,
        tcp_established: s(
            c,
            "tcp_established_s",
            doc.tcp_established_s,
            d.tcp_established,
        ),
        tcp_closing: s(c, "tcp_closing_s", doc.tcp_closing_s, d.tcp_closing),
        tcp_linger,
        udp: s(c, "udp_s", doc.udp_s, d.udp),
    }
}
