//! `drops`: the drop trace ([`crate::shared::drop_trace`]) turned on or
//! off and read, on the scheduler lcore like the other views. Reading
//! copies at most [`PER_LCORE`] records per lcore and formats the newest
//! `limit`: bounded, and only when an operator asks.

use crate::counters::PathDrop;
use crate::frame::Frame;
use crate::scheduler::Scheduler;
use crate::shared::drop_trace::{headers, Record, NO_PORT, PER_LCORE};
use slb_proto as proto;
use slb_proto::ErrorBody;
use slb_wire::DropReason;
use std::fmt::Write as _;
use std::net::IpAddr;

/// Every drop reason's counter name.
fn reason_names() -> impl Iterator<Item = &'static str> {
    DropReason::ALL
        .iter()
        .map(|r| r.as_str())
        .chain(PathDrop::ALL.iter().map(|r| r.as_str()))
}

fn protocol_name(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        58 => "icmpv6".into(),
        n => n.to_string(),
    }
}

fn endpoint(a: Option<IpAddr>, port: Option<u16>) -> Option<String> {
    Some(match (a?, port) {
        (IpAddr::V4(a), Some(p)) => format!("{a}:{p}"),
        (IpAddr::V6(a), Some(p)) => format!("[{a}]:{p}"),
        (a, None) => a.to_string(),
    })
}

/// TCP flags as letters, in `tcpdump`'s order.
pub(crate) fn flag_letters(f: u8) -> String {
    [
        (0x02, 'S'),
        (0x10, 'A'),
        (0x01, 'F'),
        (0x04, 'R'),
        (0x08, 'P'),
        (0x20, 'U'),
    ]
    .iter()
    .filter(|(bit, _)| f & bit != 0)
    .map(|(_, c)| *c)
    .collect()
}

impl<F: Frame> Scheduler<F> {
    pub(crate) fn view_drops(&self, a: &proto::DropsArgs) -> Result<proto::Drops, ErrorBody> {
        if let Some(r) = &a.reason {
            if !reason_names().any(|n| n == r) {
                return Err(ErrorBody::invalid(format!(
                    "reason: no drop reason {r:?}; reasons: {}",
                    reason_names().collect::<Vec<_>>().join(", ")
                )));
            }
        }
        let trace = &self.shared.drops;
        if let Some(on) = a.enable {
            trace.set_enabled(on);
        }
        let mut records = trace.records();
        if let Some(r) = &a.reason {
            records.retain(|x| x.reason.as_str() == r);
        }
        let matched = records.len();
        let skip = matched.saturating_sub(a.limit() as usize);
        Ok(proto::Drops {
            enabled: trace.enabled(),
            per_lcore: PER_LCORE as u64,
            matched: matched as u64,
            drops: records[skip..].iter().map(|r| self.drop_row(r)).collect(),
        })
    }

    fn drop_row(&self, r: &Record) -> proto::DropRecord {
        let h = headers(&r.bytes);
        let mut hex = String::with_capacity(r.bytes.len() * 2);
        for b in &r.bytes {
            let _ = write!(hex, "{b:02x}");
        }
        let port = (r.port != NO_PORT).then(|| {
            self.config
                .ports
                .get(usize::from(r.port))
                .map(|p| p.name.clone())
                .unwrap_or_else(|| r.port.to_string())
        });
        proto::DropRecord {
            at_s: r.at_ns as f64 / 1e9,
            lcore: if r.lcore == self.local_id {
                "scheduler".into()
            } else {
                format!("worker {}", r.lcore)
            },
            port,
            reason: r.reason.as_str().into(),
            len: u64::from(r.len),
            vlan: h.vlan,
            label: h.label,
            protocol: h.protocol.map(protocol_name),
            src: endpoint(h.src, h.src_port),
            dst: endpoint(h.dst, h.dst_port),
            tcp_flags: h.tcp_flags.map(flag_letters),
            late: r.late.map(|l| proto::Late {
                ended: l.ended.as_str().into(),
                after_us: u64::from(l.micros),
            }),
            bytes: hex,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_like_tcpdump() {
        assert_eq!(flag_letters(0x12), "SA");
        assert_eq!(flag_letters(0x11), "AF");
        assert_eq!(flag_letters(0x04), "R");
        assert_eq!(flag_letters(0x18), "AP");
        assert_eq!(flag_letters(0), "");
    }

    #[test]
    fn every_reason_is_named_once() {
        let mut names: Vec<_> = reason_names().collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
        assert!(names.contains(&"stray_after_end"));
    }
}
