//! `udp` checks, and the UDP answers of `dns` checks (judged in `dns.rs`):
//! the answer side. The probe (the configured payload from a
//! [`PROBE_PORTS`](crate::channels::PROBE_PORTS) port) goes out of
//! [`HealthMonitor::poll`]; a datagram back from the server's checked port
//! to the probe's source port settles it: a success when it holds the
//! expected bytes (any datagram when none are configured), else a failure
//! (the server answered, but not what it should).
//!
//! UDP gives no signal for a closed port except an ICMP port unreachable,
//! which slbd does not match to probes: a closed port is silence, and the
//! probe times out.

use super::dns::{self, Verdict};
use super::{Action, HealthMonitor};
use slb_config::HealthKind;
use std::net::IpAddr;

/// The verdict on a reply to a `udp` probe: `Ok` or why it failed.
pub fn judge(expect: Option<&[u8]>, reply: &[u8]) -> Result<(), &'static str> {
    match expect {
        Some(e) if !contains(reply, e) => Err("reply without the expected bytes"),
        _ => Ok(()),
    }
}

/// Whether `needle` (non-empty) occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

impl HealthMonitor {
    /// A UDP datagram from `from`:`from_port` to probe source port
    /// `to_port`. Returns whether it answered a pending probe (else it is
    /// ignored).
    pub fn udp_answer(
        &mut self,
        from: IpAddr,
        from_port: u16,
        to_port: u16,
        payload: &[u8],
        now: u64,
        actions: &mut Vec<Action>,
    ) -> bool {
        let found = self.probes.iter().find_map(|(k, p)| {
            let pd = p.pending.as_ref().filter(|pd| pd.src_port == to_port)?;
            if p.target.addr != from {
                return None;
            }
            let (verdict, success) = match &p.target.health.kind {
                HealthKind::Udp(u) if u.port == from_port => {
                    let v = match judge(u.expect.as_deref(), payload) {
                        Ok(()) => Verdict::Up,
                        Err(why) => Verdict::Down(why.into()),
                    };
                    (v, "udp_reply")
                }
                HealthKind::Dns(d) if d.port == from_port => {
                    let qtype = d.query_type.code();
                    let v = dns::judge(pd.dns_id, &d.name, qtype, payload);
                    (v, "noerror")
                }
                _ => return None,
            };
            (verdict != Verdict::NotOurs).then_some((*k, pd.sent_at, verdict, success))
        });
        let Some((key, sent_at, verdict, success)) = found else {
            return false;
        };
        if let Some(p) = self.probes.get_mut(&key) {
            p.pending = None;
        }
        match verdict {
            Verdict::Down(why) => self.result(key, false, why, now, None, actions),
            _ => {
                let rtt = now.saturating_sub(sent_at);
                self.result(key, true, success, now, Some(rtt), actions);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{changes, monitor, target, MS, S1};
    use super::super::ProbeKind;
    use super::*;
    use crate::channels::PROBE_PORTS;
    use slb_config::{ServerState as Admin, UdpCheck};

    fn udp(expect: Option<&[u8]>) -> HealthKind {
        HealthKind::Udp(UdpCheck {
            port: 5353,
            send: b"ping".to_vec(),
            expect: expect.map(<[u8]>::to_vec),
        })
    }

    /// Polls at `now`; the one UDP probe's source port.
    fn probe(m: &mut HealthMonitor, now: u64) -> u16 {
        let mut a = Vec::new();
        m.poll(now, &mut a);
        match &a[..] {
            [Action::Probe {
                kind:
                    ProbeKind::Udp {
                        src_port,
                        dst_port: 5353,
                        payload,
                    },
                ..
            }] if payload == b"ping" => *src_port,
            _ => panic!("no UDP probe: {a:?}"),
        }
    }

    #[test]
    fn judge_looks_for_the_expected_bytes_anywhere() {
        assert_eq!(judge(None, b""), Ok(()));
        assert_eq!(judge(Some(b"pong"), b"xxpongxx"), Ok(()));
        assert_eq!(
            judge(Some(b"pong"), b"pon"),
            Err("reply without the expected bytes")
        );
        assert_eq!(
            judge(Some(b"pong"), b""),
            Err("reply without the expected bytes")
        );
        assert!(!contains(b"abc", b""));
    }

    #[test]
    fn a_reply_with_the_expected_bytes_is_a_success() {
        let mut m = monitor(target(udp(Some(b"pong")), Admin::Up));
        let port = probe(&mut m, MS);
        assert!(PROBE_PORTS.contains(&port));
        let s: IpAddr = "198.18.1.11".parse().unwrap();
        let mut a = Vec::new();
        // Not from the server's checked port, not to the probe's port, not
        // from the server: ignored.
        assert!(!m.udp_answer(s, 5354, port, b"pong", 2 * MS, &mut a));
        assert!(!m.udp_answer(s, 5353, port + 1, b"pong", 2 * MS, &mut a));
        let other: IpAddr = "198.18.1.12".parse().unwrap();
        assert!(!m.udp_answer(other, 5353, port, b"pong", 2 * MS, &mut a));
        assert!(m.udp_answer(s, 5353, port, b"a pong!", 3 * MS, &mut a));
        let p = m.probe(S1).unwrap();
        assert_eq!(
            (p.successes, p.last_result.as_deref(), p.rtt_ewma_ns),
            (1, Some("udp_reply"), Some(2 * MS))
        );
        // Answered: a second datagram matches nothing.
        assert!(!m.udp_answer(s, 5353, port, b"pong", 4 * MS, &mut a));
    }

    #[test]
    fn wrong_replies_and_silence_take_the_server_down() {
        let mut m = monitor(target(udp(Some(b"pong")), Admin::Up));
        let s: IpAddr = "198.18.1.11".parse().unwrap();
        let mut a = Vec::new();
        // fall 3: two wrong replies, then a timeout.
        for i in 0..2 {
            let t = MS + i * 100 * MS;
            let port = probe(&mut m, t);
            assert!(m.udp_answer(s, 5353, port, b"nope", t + MS, &mut a));
        }
        assert!(changes(&a).is_empty());
        assert_eq!(
            m.probe(S1).unwrap().last_result.as_deref(),
            Some("reply without the expected bytes")
        );
        probe(&mut m, 201 * MS);
        m.poll(260 * MS, &mut a);
        assert_eq!(changes(&a), vec![false]);
        assert_eq!(m.probe(S1).unwrap().last_result.as_deref(), Some("timeout"));
    }

    #[test]
    fn without_expected_bytes_any_reply_will_do() {
        let mut m = monitor(target(udp(None), Admin::Up));
        let port = probe(&mut m, MS);
        let mut a = Vec::new();
        assert!(m.udp_answer(
            "198.18.1.11".parse().unwrap(),
            5353,
            port,
            b"",
            2 * MS,
            &mut a
        ));
        assert_eq!(m.probe(S1).unwrap().successes, 1);
    }
}
