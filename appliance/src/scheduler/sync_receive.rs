//! Session sync, the receiving side (issue 15): a peer's datagram, punted
//! by a worker (UDP to slbd's own address on `cluster.sync.port`), checked
//! and applied on the scheduler.
//!
//! A datagram counts only when it comes from a configured peer's address
//! and names that peer as its sender, with a valid UDP checksum and a
//! header and records that parse in full; anything else is dropped whole
//! and counted (`sync_bad_datagrams`). Records install the peer's sessions
//! with its labels (`install.rs`: live on every core at once); an `ended`
//! record ends the copy. A dump request starts a dump to that peer, a dump
//! end completes this instance's wait for that peer (`sync.rs`).

use super::Scheduler;
use crate::counters::{Event, PathDrop};
use crate::frame::Frame;
use slb_core::session::Origin;
use slb_core::session_record::SessionRecord;
use slb_wire::classify::{classify, Classified, L4};
use slb_wire::sync::{self as wire, Kind};
use slb_wire::udp;

/// Why a sync datagram was refused (logged at debug).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadDatagram {
    /// Sync is not configured here.
    Off,
    /// Not a whole unfragmented UDP datagram.
    NotUdp,
    /// Its UDP checksum does not verify.
    Checksum,
    /// Its source is no configured peer's address.
    NotAPeer,
    /// Its header does not parse.
    Header,
    /// Its sender is not the peer at its source address.
    Sender,
    /// A record does not parse, or the count is wrong.
    Records,
}

impl<F: Frame> Scheduler<F> {
    /// A punted sync datagram received on `port`.
    pub(crate) fn punted_sync(&mut self, port: u8, f: F, now: u64) {
        if let Err(why) = self.sync_datagram(&f, now) {
            tracing::debug!(?why, port, "session sync: datagram refused");
            self.counters.event(Event::SyncBadDatagrams);
            if self.shared.drops.enabled() {
                self.drop_frame(PathDrop::ToAppliance, Some(port), &f, None);
            }
        }
    }

    fn sync_datagram(&mut self, f: &F, now: u64) -> Result<(), BadDatagram> {
        if self.sync.port().is_none() {
            return Err(BadDatagram::Off);
        }
        let data = f.data();
        let Ok(Classified::Ip(ip)) = classify(data) else {
            return Err(BadDatagram::NotUdp);
        };
        if ip.l4 != L4::Udp || ip.first_fragment {
            return Err(BadDatagram::NotUdp);
        }
        let l4 = data
            .get(ip.l4_offset..ip.l3_end)
            .ok_or(BadDatagram::NotUdp)?;
        let dgram = udp::Packet::new_checked(l4).map_err(|_| BadDatagram::NotUdp)?;
        if !dgram.verify_checksum(ip.flow.src, ip.flow.dst) {
            return Err(BadDatagram::Checksum);
        }
        let peer = self
            .peers
            .iter()
            .find(|p| p.addr == ip.flow.src)
            .map(|p| p.instance)
            .ok_or(BadDatagram::NotAPeer)?;
        let payload = l4
            .get(udp::HEADER_LEN..usize::from(dgram.len()))
            .ok_or(BadDatagram::NotUdp)?;
        let msg = wire::Packet::new_checked(payload).map_err(|_| BadDatagram::Header)?;
        if msg.sender() != peer {
            return Err(BadDatagram::Sender);
        }
        match msg.kind() {
            Kind::DumpRequest => self.sync.dump_requested(peer, now),
            Kind::DumpEnd => self.sync.dump_ended(peer),
            Kind::Records => {
                let mut recs = std::mem::take(&mut self.sync.decoded);
                recs.clear();
                let parsed = decode_all(msg.records(), msg.count(), &mut recs);
                if parsed.is_ok() {
                    for rec in &recs {
                        self.counters.event(Event::SyncRecordsReceived);
                        // Refusals are counted by their reason.
                        let _ = self.install_record(rec, Origin::Synced, now);
                    }
                }
                self.sync.decoded = recs;
                parsed?;
            }
        }
        Ok(())
    }
}

/// Every record of `bytes` into `out`: exactly `count` of them, nothing
/// left over.
fn decode_all(
    mut bytes: &[u8],
    count: u16,
    out: &mut Vec<SessionRecord>,
) -> Result<(), BadDatagram> {
    for _ in 0..count {
        let (rec, len) = SessionRecord::decode(bytes).map_err(|_| BadDatagram::Records)?;
        out.push(rec);
        bytes = &bytes[len..];
    }
    if bytes.is_empty() {
        Ok(())
    } else {
        Err(BadDatagram::Records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use slb_core::session::{Protocol, SessionKey, SessionState};

    fn rec(c2s: u32) -> SessionRecord {
        SessionRecord {
            key: SessionKey {
                protocol: Protocol::Tcp,
                vip: "198.18.100.1".parse().unwrap(),
                vip_port: 80,
                client: "198.18.0.50".parse().unwrap(),
                client_port: 40000,
            },
            c2s,
            server: "198.18.1.11".parse().unwrap(),
            client_mac: [2, 0, 0, 0, 0, 1],
            ingress_port: 0,
            state: SessionState::Established,
            remaining_ms: 1000,
            age_ms: 2000,
            replied: true,
            ended: false,
        }
    }

    #[test]
    fn exactly_count_records() {
        let mut b = Vec::new();
        rec(1001).encode(&mut b).unwrap();
        rec(1003).encode(&mut b).unwrap();
        let mut out = Vec::new();
        assert_eq!(decode_all(&b, 2, &mut out), Ok(()));
        assert_eq!(out, [rec(1001), rec(1003)]);
        for (bytes, count) in [(&b[..], 1), (&b[..], 3), (&b[..b.len() - 1], 2)] {
            assert_eq!(
                decode_all(bytes, count, &mut Vec::new()),
                Err(BadDatagram::Records)
            );
        }
    }

    proptest! {
        #[test]
        fn decoding_any_bytes_never_panics(
            b in proptest::collection::vec(any::<u8>(), 0..200),
            count in 0u16..8,
        ) {
            let _ = decode_all(&b, count, &mut Vec::new());
        }
    }
}
