//! The checks over a stream (`http`), on the monitor's side: a segment
//! from the server goes to its probe's connection (`stream.rs`), whose
//! segments back and verdict become actions and a result.

use super::stream::Segment;
use super::{stream_port, Action, HealthMonitor};
use std::net::IpAddr;

impl HealthMonitor {
    /// A TCP segment from `from`:`from_port` to probe source port
    /// `to_port`, for a probe over a stream (`http`). Returns whether it
    /// belonged to one (else the caller tries the `tcp` checks).
    pub fn stream_segment(
        &mut self,
        from: IpAddr,
        from_port: u16,
        to_port: u16,
        seg: &Segment,
        now: u64,
        actions: &mut Vec<Action>,
    ) -> bool {
        let found = self.probes.iter_mut().find(|(_, p)| {
            p.target.addr == from
                && stream_port(&p.target.health.kind) == Some(from_port)
                && p.pending.as_ref().is_some_and(|pd| pd.src_port == to_port)
        });
        let Some((&key, p)) = found else {
            return false;
        };
        let Some(pd) = p.pending.as_mut() else {
            return false;
        };
        let Some(conn) = pd.stream.as_mut() else {
            return false;
        };
        let mut out = Vec::new();
        let verdict = conn.on_segment(seg, &mut out);
        actions.extend(out.into_iter().map(|send| Action::Segment {
            addr: from,
            src_port: to_port,
            dst_port: from_port,
            send,
        }));
        let sent_at = pd.sent_at;
        match verdict {
            None => {}
            Some(Ok(what)) => {
                p.pending = None;
                let rtt = now.saturating_sub(sent_at);
                self.result(key, true, what, now, Some(rtt), actions);
            }
            Some(Err(why)) => {
                p.pending = None;
                self.result(key, false, why, now, None, actions);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{changes, monitor, target, MS, S1};
    use super::super::{Action, HealthMonitor, ProbeKind, TcpAnswer};
    use super::*;
    use crate::scheduler::health::http::request;
    use crate::scheduler::health::http::tests::check;
    use crate::scheduler::health::stream::tests::IRS;
    use crate::scheduler::health::stream::Send;
    use slb_config::HealthKind;
    use slb_config::ServerState as Admin;
    use slb_wire::TcpFlags;

    const S: &str = "198.18.1.11";

    /// Polls at `now`: the SYN's source port and ISS.
    fn probe(m: &mut HealthMonitor, now: u64) -> (u16, u32) {
        let mut a = Vec::new();
        m.poll(now, &mut a);
        match &a[..] {
            [Action::Probe {
                kind:
                    ProbeKind::Tcp {
                        src_port,
                        dst_port: 80,
                        seq,
                    },
                ..
            }] => (*src_port, *seq),
            _ => panic!("no SYN: {a:?}"),
        }
    }

    fn segments(a: &[Action]) -> Vec<Send> {
        a.iter()
            .filter_map(|x| match x {
                Action::Segment {
                    src_port,
                    dst_port: 80,
                    send,
                    ..
                } => {
                    assert!(crate::channels::PROBE_PORTS.contains(src_port));
                    Some(send.clone())
                }
                _ => None,
            })
            .collect()
    }

    /// Runs one probe at `now` whose server answers `response` in one
    /// segment after the SYN-ACK; returns the actions.
    fn exchange(m: &mut HealthMonitor, now: u64, response: &[u8]) -> Vec<Action> {
        let s: IpAddr = S.parse().unwrap();
        let (port, iss) = probe(m, now);
        let mut a = Vec::new();
        let synack = Segment {
            flags: TcpFlags::SYN | TcpFlags::ACK,
            seq: IRS,
            ack: iss + 1,
            payload: b"",
        };
        assert!(m.stream_segment(s, 80, port, &synack, now + MS, &mut a));
        let req = segments(&a);
        assert_eq!(req.len(), 1);
        assert_eq!(req[0].payload, request(&check(None)));
        let data = Segment {
            flags: TcpFlags::ACK | TcpFlags::PSH,
            seq: IRS + 1,
            ack: iss + 1 + req[0].payload.len() as u32,
            payload: response,
        };
        assert!(m.stream_segment(s, 80, port, &data, now + 2 * MS, &mut a));
        a
    }

    #[test]
    fn status_in_range_is_up_and_out_of_range_down_with_the_status() {
        let mut m = monitor(target(HealthKind::Http(check(None)), Admin::Up));
        let a = exchange(&mut m, MS, b"HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(segments(&a).last().map(|s| s.flags), Some(TcpFlags::RST));
        let p = m.probe(S1).unwrap();
        assert_eq!(
            (p.successes, p.last_result.as_deref(), p.rtt_ewma_ns),
            (1, Some("status 200"), Some(2 * MS))
        );
        let mut all = Vec::new();
        for i in 1..=3 {
            all.extend(exchange(
                &mut m,
                MS + i * 100 * MS,
                b"HTTP/1.1 503 Busy\r\n",
            ));
        }
        assert_eq!(changes(&all), vec![false]);
        assert_eq!(
            m.probe(S1).unwrap().last_result.as_deref(),
            Some("status 503")
        );
    }

    #[test]
    fn a_timeout_resets_the_open_connection_and_late_segments_are_not_taken() {
        let mut m = monitor(target(HealthKind::Http(check(None)), Admin::Up));
        let s: IpAddr = S.parse().unwrap();
        let (port, iss) = probe(&mut m, MS);
        let mut a = Vec::new();
        let synack = Segment {
            flags: TcpFlags::SYN | TcpFlags::ACK,
            seq: IRS,
            ack: iss + 1,
            payload: b"",
        };
        assert!(m.stream_segment(s, 80, port, &synack, 2 * MS, &mut a));
        a.clear();
        m.poll(60 * MS, &mut a);
        let rst = segments(&a);
        assert_eq!(rst.len(), 1);
        assert_eq!(rst[0].flags, TcpFlags::RST);
        assert_eq!(m.probe(S1).unwrap().last_result.as_deref(), Some("timeout"));
        let late = Segment {
            flags: TcpFlags::ACK,
            seq: IRS + 1,
            ack: 0,
            payload: b"HTTP/1.1 200 OK\r\n",
        };
        assert!(!m.stream_segment(s, 80, port, &late, 61 * MS, &mut a));
        // Not a tcp check either: a SYN-ACK to a tcp answer is ignored.
        assert!(!m.tcp_answer(s, 80, port, TcpAnswer::SynAck, 61 * MS, &mut a));
    }
}
