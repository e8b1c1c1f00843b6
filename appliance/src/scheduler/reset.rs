//! TCP resets: for refused sessions (service acceptance control, claim 11
//! in docs/claims.md, with `refuse: rst`), and to both ends of the sessions
//! of a server that went down with `on_down: reset` (below, [`Pending`]).
//! RFC 9293 §3.10.7.1, the reply to a segment for no connection:
//! `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>` when the segment had no ACK
//! (a SYN), `<SEQ=SEG.ACK><CTL=RST>` otherwise.

use slb_core::labels::LabelPair;
use slb_core::session::SessionKey;
use slb_wire::classify::{IpFrame, L4};
use slb_wire::{ethernet, ipv4, ipv6, tcp, EtherType, IpProtocol, MacAddr, TcpFlags};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// Largest frame [`build`] writes: 802.1Q + IPv6 + TCP.
pub const MAX_LEN: usize = 18 + 40 + 20;

/// Writes into `out` the reset answering the TCP segment `frame` (as
/// classified in `ip`), from `our_mac` back to the sender's MAC, and
/// returns its length. None if `frame` is not TCP or too short.
pub fn build(
    frame: &[u8],
    ip: &IpFrame,
    our_mac: [u8; 6],
    out: &mut [u8; MAX_LEN],
) -> Option<usize> {
    let seg = tcp::Packet::new_checked(frame.get(ip.l4_offset..ip.l3_end)?).ok()?;
    let flags = seg.flags();
    if flags.contains(TcpFlags::RST) {
        return None; // never answer a reset with a reset
    }
    let seg_len = seg.payload().len() as u32
        + u32::from(flags.contains(TcpFlags::SYN))
        + u32::from(flags.contains(TcpFlags::FIN));
    let (seq, ack, rflags) = if flags.contains(TcpFlags::ACK) {
        (seg.ack_number(), 0, TcpFlags::RST)
    } else {
        (
            0,
            seg.seq_number().wrapping_add(seg_len),
            TcpFlags(TcpFlags::RST.0 | TcpFlags::ACK.0),
        )
    };
    let (sport, dport) = (seg.src_port(), seg.dst_port());
    let client_mac = MacAddr::from_bytes(frame.get(6..12)?);

    // L2: back to the sender, keeping an 802.1Q tag if there was one.
    let l2 = ip.l3_offset;
    out[..l2].copy_from_slice(frame.get(..l2)?);
    ethernet::rewrite_macs(&mut out[..], MacAddr(our_mac), client_mac).ok()?;
    let (src, dst) = (ip.flow.dst, ip.flow.src);
    let ip_len = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut p = ipv4::Packet::new_unchecked(&mut out[l2..l2 + 20]);
            p.set_version(4);
            p.set_header_len(20);
            p.set_dscp_ecn(0, 0);
            p.set_total_len(40);
            p.set_ident(0);
            p.set_frag(true, false, 0);
            p.set_ttl(64);
            p.set_protocol(IpProtocol::Tcp);
            p.set_src_addr(s);
            p.set_dst_addr(d);
            p.fill_checksum();
            set_ethertype(out, l2, EtherType::IPV4);
            20
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            ipv6::Repr {
                src_addr: s,
                dst_addr: d,
                next_header: IpProtocol::Tcp,
                payload_len: 20,
                hop_limit: 64,
            }
            .emit(&mut ipv6::Packet::new_unchecked(&mut out[l2..l2 + 40]));
            set_ethertype(out, l2, EtherType::IPV6);
            40
        }
        _ => return None,
    };
    let t = l2 + ip_len;
    out[t..t + 20].fill(0);
    let mut p = tcp::Packet::new_unchecked(&mut out[t..t + 20]);
    p.set_src_port(dport);
    p.set_dst_port(sport);
    p.set_seq_number(seq);
    p.set_ack_number(ack);
    p.set_header_len(20);
    p.set_flags(rflags);
    p.set_window_len(0);
    p.set_urgent_at(0);
    p.fill_checksum(src, dst);
    Some(t + 20)
}

fn set_ethertype(out: &mut [u8], l2: usize, t: u16) {
    out[l2 - 2..l2].copy_from_slice(&t.to_be_bytes());
}

// ---- `on_down: reset`: resets to both ends of an ended session ----------
//
// The scheduler does not follow sequence numbers (the workers switch a
// session's frames without reporting them), and a reset with a guessed
// sequence number does nothing useful: under RFC 5961 §3.2 (Linux since
// 3.6) a RST is accepted only when its SEQ is exactly RCV.NXT; one
// elsewhere in the window draws a challenge ACK, one outside it is dropped
// silently. So each end is asked first: slbd sends it an ACK whose SEQ is
// (but for odds of window / 2^32) outside its receive window, which RFC
// 9293 §3.10.7.4 answers with `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>` (Linux:
// `tcp_send_dupack`, at most one per socket per 500 ms; should the SEQ
// fall in the window, the ACK field, far behind SND.UNA for any session
// that moved less than 2 GB, draws a challenge ACK instead). The answer's
// ACK is the end's RCV.NXT: slbd replies `<SEQ=SEG.ACK><CTL=RST>` (the
// reset for a segment of no connection, above), which the end accepts. An
// end that answers nothing (a dead server) gets no reset; one that answers
// with a RST (it has no connection any more) is left alone, and its RST is
// handled as before.
//
// The answers come back on the ended session's labels (in quarantine, so
// not reused meanwhile) or, from a plain client, unlabelled to the VIP:
// the scheduler sees them as dead labels or new-session candidates and
// looks them up here first, while an ended session waits ([`ANSWER_NS`]).

/// How long an ended session's ends have to answer their probe.
pub const ANSWER_NS: u64 = 1_000_000_000;
/// SEQ and ACK of the probes: any value does (ISNs are random), these
/// are easy to spot in a capture.
pub const PROBE_SEQ: u32 = 0x5b5b_0000;
pub const PROBE_ACK: u32 = 0x5b5b_0000;

/// What the resets of one ended session need.
#[derive(Clone, Copy, Debug)]
pub struct Ends {
    pub key: SessionKey,
    pub labels: LabelPair,
    /// Plain client: unlabelled toward it.
    pub plain: bool,
    /// The client's next hop: slbd's port and the MAC.
    pub client_port: u8,
    pub client_mac: [u8; 6],
    /// The server: slbd's port and the MAC (None: not resolved, no probe).
    pub server: Option<(u8, [u8; 6])>,
    pub(crate) deadline: u64,
}

/// Which end answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    Client,
    Server,
}

/// (client, client port, VIP, VIP port): how a plain client's answer is
/// found.
pub(crate) type Flow = (IpAddr, u16, IpAddr, u16);

/// Ended sessions waiting for their ends' answers.
#[derive(Default)]
pub struct Pending {
    /// By C2S label (a label-aware client's answer) and S2C label (the
    /// server's).
    pub(crate) by_label: HashMap<u32, Ends>,
    /// By (client, client port, VIP, VIP port): a plain client's answer.
    pub(crate) by_flow: HashMap<Flow, Ends>,
    /// (deadline, C2S label, flow), oldest first.
    order: VecDeque<(u64, u32, Flow)>,
    /// Ended, probes not sent yet (sessions end where no frame can be
    /// sent, e.g. on a passive health signal; the next round sends them).
    pub(crate) due: Vec<Ends>,
}

pub(crate) fn flow_of(k: &SessionKey) -> Flow {
    (k.client, k.client_port, k.vip, k.vip_port)
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Session `ends` ended: probe its ends at the next round.
    pub fn push(&mut self, ends: Ends) {
        self.due.push(ends);
    }

    pub(crate) fn insert(&mut self, ends: Ends) {
        let (c2s, s2c) = (ends.labels.c2s(), ends.labels.s2c());
        if !ends.plain {
            self.by_label.insert(c2s, ends);
        } else {
            self.by_flow.insert(flow_of(&ends.key), ends);
        }
        if ends.server.is_some() {
            self.by_label.insert(s2c, ends);
        }
        self.order
            .push_back((ends.deadline, c2s, flow_of(&ends.key)));
    }

    /// Forgets the sessions whose time to answer is over.
    pub(crate) fn expire(&mut self, now: u64) {
        while let Some(&(deadline, c2s, flow)) = self.order.front() {
            if deadline > now {
                break;
            }
            self.order.pop_front();
            for label in [c2s, c2s + 1] {
                if self
                    .by_label
                    .get(&label)
                    .is_some_and(|e| e.deadline == deadline)
                {
                    self.by_label.remove(&label);
                }
            }
            if self
                .by_flow
                .get(&flow)
                .is_some_and(|e| e.deadline == deadline)
            {
                self.by_flow.remove(&flow);
            }
        }
    }
}

/// The answer's ACK number, when `ip` is a TCP segment with ACK and
/// without RST or SYN (a SYN-ACK from a listener is answered too: its
/// half-open connection goes).
pub(crate) fn answer_ack(data: &[u8], ip: &IpFrame) -> Option<u32> {
    let L4::Tcp { flags } = ip.l4 else {
        return None;
    };
    if !flags.contains(TcpFlags::ACK) || flags.contains(TcpFlags::RST) {
        return None;
    }
    let seg = tcp::Packet::new_checked(data.get(ip.l4_offset..ip.l3_end)?).ok()?;
    Some(seg.ack_number())
}

#[cfg(test)]
mod tests {
    use super::*;
    use slb_core::session::Protocol;

    fn ends(client_port: u16, c2s: u32, plain: bool, deadline: u64) -> Ends {
        Ends {
            key: SessionKey {
                protocol: Protocol::Tcp,
                vip: "198.18.100.1".parse().unwrap(),
                vip_port: 80,
                client: "198.18.0.11".parse().unwrap(),
                client_port,
            },
            labels: LabelPair::containing(c2s).unwrap(),
            plain,
            client_port: 0,
            client_mac: [2, 0, 0, 0, 0, 1],
            server: Some((1, [2, 0, 0, 0, 0, 2])),
            deadline,
        }
    }

    /// Waiting sessions are found by label (label-aware client: C2S;
    /// server: S2C) or by flow (plain client), and forgotten at their
    /// deadline, a newer wait for the same flow surviving an older one's.
    #[test]
    fn pending_lookups_and_expiry() {
        let mut p = Pending::default();
        assert!(p.is_empty());
        p.insert(ends(40000, 17, false, 100));
        p.insert(ends(40001, 19, true, 200));
        assert!(p.by_label.contains_key(&17) && p.by_label.contains_key(&18));
        assert!(p.by_label.contains_key(&20) && !p.by_label.contains_key(&19));
        let flow = flow_of(&ends(40001, 19, true, 0).key);
        assert!(p.by_flow.contains_key(&flow));
        // The same flow again, on another pair, later.
        p.insert(ends(40001, 21, true, 300));
        p.expire(99);
        assert_eq!(p.by_label.len(), 4);
        p.expire(100);
        assert!(!p.by_label.contains_key(&17) && !p.by_label.contains_key(&18));
        p.expire(200);
        assert!(p.by_flow.contains_key(&flow), "the newer wait stays");
        assert!(!p.by_label.contains_key(&20));
        p.expire(300);
        assert!(p.is_empty() && p.by_flow.is_empty() && p.by_label.is_empty());
    }
}
