//! [`SessionRecord`]: one session as another instance (session sync) or a
//! later run of this one (the state file) needs it, in a compact binary
//! form.
//!
//! A record names everything by value, never by this instance's ids: the
//! service by its key (protocol, VIP, VIP port), the server by its
//! address, the labels by the C2S label (cluster-unique: each instance
//! assigns from its own slice). Times are relative (milliseconds left on
//! the session's timer, milliseconds since it was admitted): clocks of two
//! boxes, or of two runs, share no origin.
//!
//! ```text
//!  0      flags   bit 0 IPv6, bit 1 UDP, bit 2 the server replied,
//!                 bit 3 ended (the sender ended the session: drop it)
//!  1      state   0 syn_sent, 1 established, 2 closing (client FIN),
//!                 3 closing (server FIN), 4 linger, 5 udp, 6 reset
//!  2..6   C2S label (big endian; S2C = C2S + 1)
//!         VIP (4 or 16), VIP port (2), client (4 or 16), client port (2),
//!         server (4 or 16), client MAC (6), ingress port (2),
//!         remaining ms (4), age ms (4)
//! ```
//!
//! 38 bytes for IPv4, 74 for IPv6. Decoding never panics: a short or
//! malformed record is an error naming what is wrong.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::session::{Direction, Protocol, SessionKey, SessionState};

/// Length of an IPv4 record.
pub const V4_LEN: usize = 38;
/// Length of an IPv6 record.
pub const V6_LEN: usize = 74;

const F_V6: u8 = 1;
const F_UDP: u8 = 2;
const F_REPLIED: u8 = 4;
const F_ENDED: u8 = 8;
const F_KNOWN: u8 = F_V6 | F_UDP | F_REPLIED | F_ENDED;

/// One session, by value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    pub key: SessionKey,
    /// The client-to-server label (odd).
    pub c2s: u32,
    pub server: IpAddr,
    pub client_mac: [u8; 6],
    pub ingress_port: u16,
    pub state: SessionState,
    /// Milliseconds left on the session's timer.
    pub remaining_ms: u32,
    /// Milliseconds since the session was admitted.
    pub age_ms: u32,
    /// The server has replied (no response-time sample is taken again).
    pub replied: bool,
    /// The sender ended the session: a receiver drops its copy.
    pub ended: bool,
}

/// Why bytes are not a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record truncated: {need} bytes needed, {have} left")]
    Truncated { need: usize, have: usize },
    #[error("record flags {0:#04x} has unknown bits")]
    Flags(u8),
    #[error("record state {0} is not a session state")]
    State(u8),
    #[error("record state {0} does not fit its protocol")]
    StateProtocol(u8),
    #[error("record label {0} is not an odd unreserved 20-bit label")]
    Label(u32),
    #[error("record addresses mix IPv4 and IPv6")]
    Family,
}

fn state_code(s: SessionState) -> u8 {
    match s {
        SessionState::SynSent => 0,
        SessionState::Established => 1,
        SessionState::Closing(Direction::ClientToServer) => 2,
        SessionState::Closing(Direction::ServerToClient) => 3,
        SessionState::Linger => 4,
        SessionState::Udp => 5,
        SessionState::Reset => 6,
    }
}

fn state_of(code: u8) -> Result<SessionState, RecordError> {
    Ok(match code {
        0 => SessionState::SynSent,
        1 => SessionState::Established,
        2 => SessionState::Closing(Direction::ClientToServer),
        3 => SessionState::Closing(Direction::ServerToClient),
        4 => SessionState::Linger,
        5 => SessionState::Udp,
        6 => SessionState::Reset,
        c => return Err(RecordError::State(c)),
    })
}

impl SessionRecord {
    /// Encoded length of this record.
    pub fn len(&self) -> usize {
        if self.key.vip.is_ipv6() {
            V6_LEN
        } else {
            V4_LEN
        }
    }

    /// Never empty; for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Appends the record to `out`. A record whose addresses mix families
    /// is refused (no session has one).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), RecordError> {
        let v6 = self.key.vip.is_ipv6();
        if self.key.client.is_ipv6() != v6 || self.server.is_ipv6() != v6 {
            return Err(RecordError::Family);
        }
        let mut flags = 0;
        if v6 {
            flags |= F_V6;
        }
        if self.key.protocol == Protocol::Udp {
            flags |= F_UDP;
        }
        if self.replied {
            flags |= F_REPLIED;
        }
        if self.ended {
            flags |= F_ENDED;
        }
        out.push(flags);
        out.push(state_code(self.state));
        out.extend_from_slice(&self.c2s.to_be_bytes());
        put_addr(out, self.key.vip);
        out.extend_from_slice(&self.key.vip_port.to_be_bytes());
        put_addr(out, self.key.client);
        out.extend_from_slice(&self.key.client_port.to_be_bytes());
        put_addr(out, self.server);
        out.extend_from_slice(&self.client_mac);
        out.extend_from_slice(&self.ingress_port.to_be_bytes());
        out.extend_from_slice(&self.remaining_ms.to_be_bytes());
        out.extend_from_slice(&self.age_ms.to_be_bytes());
        Ok(())
    }

    /// The record at the start of `bytes`, and its length.
    pub fn decode(bytes: &[u8]) -> Result<(SessionRecord, usize), RecordError> {
        let head = bytes.get(..2).ok_or(RecordError::Truncated {
            need: 2,
            have: bytes.len(),
        })?;
        let flags = head[0];
        if flags & !F_KNOWN != 0 {
            return Err(RecordError::Flags(flags));
        }
        let v6 = flags & F_V6 != 0;
        let need = if v6 { V6_LEN } else { V4_LEN };
        if bytes.len() < need {
            return Err(RecordError::Truncated {
                need,
                have: bytes.len(),
            });
        }
        let state = state_of(head[1])?;
        let protocol = if flags & F_UDP != 0 {
            Protocol::Udp
        } else {
            Protocol::Tcp
        };
        if (protocol == Protocol::Udp) != (state == SessionState::Udp) {
            return Err(RecordError::StateProtocol(head[1]));
        }
        let mut r = Reader { bytes, at: 2 };
        let c2s = r.u32();
        if c2s & 1 == 0
            || !(crate::labels::FIRST_UNRESERVED..crate::labels::MAX_LABEL).contains(&c2s)
        {
            return Err(RecordError::Label(c2s));
        }
        let vip = r.addr(v6);
        let vip_port = r.u16();
        let client = r.addr(v6);
        let client_port = r.u16();
        let server = r.addr(v6);
        let mut client_mac = [0; 6];
        client_mac.copy_from_slice(r.take(6));
        let ingress_port = r.u16();
        let remaining_ms = r.u32();
        let age_ms = r.u32();
        debug_assert_eq!(r.at, need);
        Ok((
            SessionRecord {
                key: SessionKey {
                    protocol,
                    vip,
                    vip_port,
                    client,
                    client_port,
                },
                c2s,
                server,
                client_mac,
                ingress_port,
                state,
                remaining_ms,
                age_ms,
                replied: flags & F_REPLIED != 0,
                ended: flags & F_ENDED != 0,
            },
            need,
        ))
    }
}

fn put_addr(out: &mut Vec<u8>, a: IpAddr) {
    match a {
        IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
        IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
    }
}

/// Reads fields of a record whose length was checked.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let s = &self.bytes[self.at..self.at + n];
        self.at += n;
        s
    }
    fn u16(&mut self) -> u16 {
        let b = self.take(2);
        u16::from_be_bytes([b[0], b[1]])
    }
    fn u32(&mut self) -> u32 {
        let b = self.take(4);
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }
    fn addr(&mut self, v6: bool) -> IpAddr {
        if v6 {
            let mut o = [0; 16];
            o.copy_from_slice(self.take(16));
            IpAddr::V6(Ipv6Addr::from(o))
        } else {
            let b = self.take(4);
            IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v4_record() -> SessionRecord {
        SessionRecord {
            key: SessionKey {
                protocol: Protocol::Tcp,
                vip: "198.18.100.1".parse().unwrap(),
                vip_port: 80,
                client: "198.18.1.10".parse().unwrap(),
                client_port: 40000,
            },
            c2s: 1001,
            server: "198.18.2.11".parse().unwrap(),
            client_mac: [2, 0, 0, 0, 0, 9],
            ingress_port: 1,
            state: SessionState::Established,
            remaining_ms: 899_000,
            age_ms: 1_500,
            replied: true,
            ended: false,
        }
    }

    /// The IPv4 layout, byte for byte.
    #[test]
    fn ipv4_record_bytes() {
        let mut out = Vec::new();
        v4_record().encode(&mut out).unwrap();
        #[rustfmt::skip]
        let want: [u8; V4_LEN] = [
            0x04, 1, 0, 0, 0x03, 0xe9,
            198, 18, 100, 1, 0, 80,
            198, 18, 1, 10, 0x9c, 0x40,
            198, 18, 2, 11,
            2, 0, 0, 0, 0, 9, 0, 1,
            0x00, 0x0d, 0xb7, 0xb8,
            0x00, 0x00, 0x05, 0xdc,
        ];
        assert_eq!(out, want);
        assert_eq!(SessionRecord::decode(&out).unwrap(), (v4_record(), V4_LEN));
    }

    #[test]
    fn malformed_records_are_errors_naming_the_field() {
        let mut out = Vec::new();
        v4_record().encode(&mut out).unwrap();
        for n in 0..V4_LEN {
            assert!(
                matches!(
                    SessionRecord::decode(&out[..n]),
                    Err(RecordError::Truncated { .. })
                ),
                "{n}"
            );
        }
        let mut bad = out.clone();
        bad[0] |= 0x80;
        assert_eq!(SessionRecord::decode(&bad), Err(RecordError::Flags(0x84)));
        let mut bad = out.clone();
        bad[1] = 9;
        assert_eq!(SessionRecord::decode(&bad), Err(RecordError::State(9)));
        let mut bad = out.clone();
        bad[1] = 5; // udp state on a TCP record
        assert_eq!(
            SessionRecord::decode(&bad),
            Err(RecordError::StateProtocol(5))
        );
        let mut bad = out.clone();
        bad[5] = 0xea; // even label
        assert_eq!(SessionRecord::decode(&bad), Err(RecordError::Label(1002)));
        let mut mixed = v4_record();
        mixed.server = "2001:db8::1".parse().unwrap();
        assert_eq!(mixed.encode(&mut Vec::new()), Err(RecordError::Family));
    }

    fn addr(v6: bool, x: u128) -> IpAddr {
        if v6 {
            IpAddr::V6(Ipv6Addr::from(x))
        } else {
            IpAddr::V4(Ipv4Addr::from(x as u32))
        }
    }

    proptest! {
        /// Every record survives a round trip; every byte string decodes
        /// to a record or an error, never a panic.
        #[test]
        fn round_trip(v6 in any::<bool>(), udp in any::<bool>(), a in any::<u128>(),
                      b in any::<u128>(), c in any::<u128>(), ports in any::<(u16, u16, u16)>(),
                      label in 8u32..524_287, st in 0u8..7, times in any::<(u32, u32)>(),
                      bits in any::<(bool, bool)>(), mac in any::<[u8; 6]>()) {
            let state = if udp { SessionState::Udp } else {
                let s = state_of(st).unwrap();
                if s == SessionState::Udp { SessionState::Established } else { s }
            };
            let r = SessionRecord {
                key: SessionKey {
                    protocol: if udp { Protocol::Udp } else { Protocol::Tcp },
                    vip: addr(v6, a), vip_port: ports.0, client: addr(v6, b), client_port: ports.1,
                },
                c2s: label * 2 + 1,
                server: addr(v6, c),
                client_mac: mac,
                ingress_port: ports.2,
                state,
                remaining_ms: times.0,
                age_ms: times.1,
                replied: bits.0,
                ended: bits.1,
            };
            let mut out = Vec::new();
            r.encode(&mut out).unwrap();
            prop_assert_eq!(out.len(), r.len());
            prop_assert_eq!(SessionRecord::decode(&out).unwrap(), (r, out.len()));
        }

        #[test]
        fn any_bytes_decode_or_fail(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            if let Ok((r, n)) = SessionRecord::decode(&bytes) {
                prop_assert_eq!(n, r.len());
                let mut out = Vec::new();
                r.encode(&mut out).unwrap();
                prop_assert_eq!(&out[..], &bytes[..n]);
            }
        }
    }
}
