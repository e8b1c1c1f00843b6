//! Tests of `packet.rs`: RFC 9001 Appendix A's packets, every header
//! error, coalesced datagrams, and that no bytes panic.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]

use super::super::rfc9001_vectors::*;
use super::super::varint::write_varint;
use super::*;
use proptest::prelude::*;

/// A client Initial, protected: DCID `dcid`, SCID `scid`, token `token`,
/// packet number `pn` in 4 bytes, then `frames` and PADDING up to a
/// packet of at least `pad_to` bytes.
pub(crate) fn build_initial(
    dcid: &[u8],
    scid: &[u8],
    token: &[u8],
    pn: u32,
    frames: &[u8],
    pad_to: usize,
) -> Vec<u8> {
    let mut p = vec![0xc3];
    p.extend_from_slice(&VERSION_1.to_be_bytes());
    p.push(dcid.len() as u8);
    p.extend_from_slice(dcid);
    p.push(scid.len() as u8);
    p.extend_from_slice(scid);
    let mut v = [0u8; 2];
    write_varint(&mut v, token.len() as u64, 2).unwrap();
    p.extend_from_slice(&v);
    p.extend_from_slice(token);
    let head = p.len() + 2;
    let payload = frames.len().max(pad_to.saturating_sub(head + 4 + 16));
    write_varint(&mut v, (4 + payload + 16) as u64, 2).unwrap();
    p.extend_from_slice(&v);
    p.extend_from_slice(&pn.to_be_bytes());
    p.extend_from_slice(frames);
    p.resize(head + 4 + payload + 16, 0);
    protect_initial(&mut p, &InitialKeys::client(dcid)).unwrap();
    p
}

/// §A.2's payload: the CRYPTO frame, then PADDING to 1162 bytes.
fn a2_payload() -> Vec<u8> {
    let mut p = hex(A2_CRYPTO_FRAME);
    p.resize(A2_PAYLOAD_LEN, 0);
    p
}

/// RFC 9001 §A.2: the client's protected Initial decrypts to the RFC's
/// header and payload.
#[test]
fn rfc9001_a2_decrypt() {
    let dcid = hex(A1.dcid);
    let keys = InitialKeys::client(&dcid);
    let mut p = hex(A2_PROTECTED);
    assert_eq!(p.len(), 1200);
    let i = decrypt_initial(&mut p, &keys).unwrap();
    assert_eq!(i.dcid, &dcid[..]);
    assert_eq!(i.scid, b"");
    assert_eq!(i.token, b"");
    assert_eq!(i.packet_number, 2);
    assert_eq!(i.packet_len, 1200);
    assert_eq!(i.payload, &a2_payload()[..]);
    let header = hex(A2_HEADER);
    assert_eq!(p[..header.len()], header[..]);
}

/// §A.2 the other way: protecting the RFC's header and payload gives the
/// RFC's packet, byte for byte; the sample and mask are the RFC's.
#[test]
fn rfc9001_a2_protect() {
    let keys = InitialKeys::client(&hex(A1.dcid));
    let mut p = hex(A2_HEADER);
    p.extend_from_slice(&a2_payload());
    p.resize(p.len() + 16, 0xa5);
    protect_initial(&mut p, &keys).unwrap();
    assert_eq!(p, hex(A2_PROTECTED));
    let pn_offset = hex(A2_HEADER).len() - 4;
    assert_eq!(p[pn_offset + 4..pn_offset + 20], hex(A2_SAMPLE)[..]);
    assert_eq!(mask(&keys, &p, pn_offset).unwrap()[..5], hex(A2_MASK)[..]);
}

/// RFC 9001 §A.3: the server's Initial (2-byte packet number, an SCID,
/// no DCID) with the server's keys, both ways.
#[test]
fn rfc9001_a3_server_initial() {
    let keys = InitialKeys::server(&hex(A1.dcid));
    let mut p = hex(A3_PROTECTED);
    let i = decrypt_initial(&mut p, &keys).unwrap();
    assert_eq!(i.dcid, b"");
    assert_eq!(i.scid, &hex("f067a5502a4262b5")[..]);
    assert_eq!(i.packet_number, 1);
    assert_eq!(i.payload, &hex(A3_PAYLOAD)[..]);
    let header = hex(A3_HEADER);
    assert_eq!(p[..header.len()], header[..]);
    protect_initial(&mut p, &keys).unwrap();
    assert_eq!(p, hex(A3_PROTECTED));
}

#[test]
fn wrong_keys_do_not_decrypt() {
    let mut p = hex(A2_PROTECTED);
    let keys = InitialKeys::server(&hex(A1.dcid));
    assert_eq!(decrypt_initial(&mut p, &keys), Err(QuicError::Decrypt));
    let mut p = hex(A2_PROTECTED);
    let keys = InitialKeys::client(&hex("8394c8f03e515709"));
    assert_eq!(decrypt_initial(&mut p, &keys), Err(QuicError::Decrypt));
}

/// Each header error, named by its field.
#[test]
fn header_errors() {
    let keys = InitialKeys::client(&hex(A1.dcid));
    let good = hex(A2_PROTECTED);
    let with = |at: usize, b: &[u8]| {
        let mut p = good.clone();
        p.splice(at..at + b.len(), b.iter().copied());
        p
    };
    let cases: Vec<(Vec<u8>, QuicError)> = vec![
        (
            vec![],
            QuicError::Truncated {
                field: "first byte",
            },
        ),
        (vec![0xc0, 0, 0], QuicError::Truncated { field: "version" }),
        (with(0, &[0x40]), QuicError::ShortHeader),
        (with(1, &[0, 0, 0, 0]), QuicError::VersionNegotiation),
        (
            with(1, &[0x6b, 0x33, 0x43, 0xcf]),
            QuicError::UnsupportedVersion {
                version: 0x6b33_43cf,
            },
        ),
        (with(0, &[0x80]), QuicError::FixedBitClear),
        (
            with(0, &[0xe0]),
            QuicError::NotInitial {
                packet_type: PacketType::Handshake,
            },
        ),
        (
            with(0, &[0xd0]),
            QuicError::NotInitial {
                packet_type: PacketType::ZeroRtt,
            },
        ),
        (with(5, &[21]), QuicError::CidTooLong { len: 21 }),
        (with(14, &[21]), QuicError::CidTooLong { len: 21 }),
        (good[..5].to_vec(), QuicError::Truncated { field: "dcid" }),
        (good[..10].to_vec(), QuicError::Truncated { field: "dcid" }),
        (good[..14].to_vec(), QuicError::Truncated { field: "scid" }),
        (with(14, &[3]), QuicError::Truncated { field: "token" }),
        (
            good[..15].to_vec(),
            QuicError::Truncated {
                field: "token length",
            },
        ),
        (with(15, &[0x7f]), QuicError::Truncated { field: "token" }),
        (
            good[..17].to_vec(),
            QuicError::Truncated { field: "length" },
        ),
        (
            with(16, &[0x44, 0x9f]),
            QuicError::LengthPastDatagram {
                length: 1183,
                available: 1182,
            },
        ),
        (
            with(16, &[0x40, 19]),
            QuicError::TooShortForSample { length: 19 },
        ),
        (with(16, &[0x40, 20]), QuicError::Decrypt),
    ];
    for (mut p, want) in cases {
        let head = p[..p.len().min(24)].to_vec();
        let got = decrypt_initial(&mut p, &keys).map(|i| i.packet_number);
        assert_eq!(got, Err(want), "{head:02x?}");
        assert!(!want.as_str().is_empty() && !want.to_string().is_empty());
    }
}

/// A reserved bit set under header protection is found once the packet
/// authenticates.
#[test]
fn reserved_bits_after_decrypt() {
    let dcid = hex(A1.dcid);
    let keys = InitialKeys::client(&dcid);
    let mut p = hex(A2_HEADER);
    p[0] |= 0x04;
    p.extend_from_slice(&a2_payload());
    p.resize(p.len() + 16, 0);
    protect_initial(&mut p, &keys).unwrap();
    assert_eq!(
        decrypt_initial(&mut p, &keys),
        Err(QuicError::ReservedBits { first: 0xc7 })
    );
}

/// Coalesced packets: the RFC's client Initial, the server's Initial, a
/// Handshake packet, then trailing zeros (read as a short header).
#[test]
fn coalesced_packets() {
    let mut hs = vec![0xe0, 0, 0, 0, 1, 0, 0, 0x40, 20];
    hs.extend_from_slice(&[0xaa; 20]);
    let mut d = hex(A2_PROTECTED);
    d.extend_from_slice(&hex(A3_PROTECTED));
    d.extend_from_slice(&hs);
    d.extend_from_slice(&[0; 7]);
    let kinds: Vec<(PacketType, usize)> = packets(&mut d)
        .map(|p| p.map(|p| (p.packet_type, p.bytes.len())).unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            (PacketType::Initial, 1200),
            (PacketType::Initial, hex(A3_PROTECTED).len()),
            (PacketType::Handshake, hs.len()),
            (PacketType::Short, 7),
        ]
    );
    let mut it = packets(&mut d);
    let p = it.next().unwrap().unwrap();
    let keys = InitialKeys::client(&hex(A1.dcid));
    assert_eq!(decrypt_initial(p.bytes, &keys).unwrap().packet_number, 2);
}

/// What runs to the end of the datagram, and a bad packet ends the walk.
#[test]
fn packets_to_the_end_and_errors() {
    for (first, version, want) in [
        (0xc0, 0, PacketType::VersionNegotiation),
        (0xc0, 2, PacketType::OtherVersion(2)),
        (0xf0, 1, PacketType::Retry),
    ] {
        let mut d = vec![first];
        d.extend_from_slice(&u32::to_be_bytes(version));
        d.extend_from_slice(&[0, 0]);
        d.extend_from_slice(&[0x55; 16]);
        let got: Vec<_> = packets(&mut d).map(|p| p.unwrap().packet_type).collect();
        assert_eq!(got, [want]);
    }
    let mut d = hex(A2_PROTECTED);
    d.extend_from_slice(&[0xc0, 0, 0, 0, 1, 30]);
    d.extend_from_slice(&hex(A2_PROTECTED));
    let got: Vec<_> = packets(&mut d).map(|p| p.map(|p| p.packet_type)).collect();
    assert_eq!(
        got,
        [
            Ok(PacketType::Initial),
            Err(QuicError::CidTooLong { len: 30 })
        ]
    );
    assert_eq!(packets(&mut []).count(), 0);
}

#[test]
fn retry_header() {
    let mut d = vec![0xf0, 0, 0, 0, 1, 1, 9, 2, 7, 8, b't', b'k'];
    d.extend_from_slice(&[0x55; 16]);
    let h = Header::parse(&d).unwrap();
    assert_eq!(h.packet_type, PacketType::Retry);
    assert_eq!(
        (h.dcid, h.scid, h.token),
        (&[9][..], &[7, 8][..], &b"tk"[..])
    );
    assert_eq!(
        Header::parse(&d[..25]),
        Err(QuicError::Truncated {
            field: "retry integrity tag"
        })
    );
}

/// The built Initials the other tests use decrypt to what went in.
#[test]
fn build_round_trip() {
    let frames = [0x01, 0x06, 0x00, 0x03, 1, 2, 3];
    let mut p = build_initial(&[7; 20], &[1, 2], b"token", 0x0102_0304, &frames, 1200);
    assert_eq!(p.len(), 1200);
    let keys = InitialKeys::client(&[7; 20]);
    let i = decrypt_initial(&mut p, &keys).unwrap();
    assert_eq!(
        (i.dcid, i.scid, i.token),
        (&[7; 20][..], &[1, 2][..], &b"token"[..])
    );
    assert_eq!(i.packet_number, 0x0102_0304);
    assert_eq!(i.payload[..frames.len()], frames);
    assert!(i.payload[frames.len()..].iter().all(|&b| b == 0));
}

/// Every single-byte change to the RFC's packet is an error (the AEAD's,
/// or a header field's), never a panic and never a decrypted packet.
#[test]
fn every_byte_flipped_fails() {
    let keys = InitialKeys::client(&hex(A1.dcid));
    let good = hex(A2_PROTECTED);
    for at in 0..good.len() {
        for x in [0x01, 0x80, 0xff] {
            let mut p = good.clone();
            p[at] ^= x;
            assert!(
                decrypt_initial(&mut p, &keys).is_err(),
                "byte {at} ^ {x:#x}"
            );
        }
    }
}

proptest! {
    /// Any bytes: an error or an Initial, never a panic, whatever the
    /// keys (derived from the bytes' own DCID when they have one).
    #[test]
    fn any_packet(mut d in proptest::collection::vec(any::<u8>(), 0..1400)) {
        let dcid = Header::parse(&d).map(|h| h.dcid.to_vec()).unwrap_or_default();
        let keys = InitialKeys::client(&dcid);
        let mut copy = d.clone();
        for p in packets(&mut copy).flatten() {
            let _ = decrypt_initial(p.bytes, &keys);
        }
        if let Ok(i) = decrypt_initial(&mut d, &keys) {
            prop_assert!(i.packet_len <= d.len());
        }
    }

    /// Any byte of the RFC's packet changed to any other value: an error.
    #[test]
    fn corrupt_a2(at in 0usize..1200, x in 1u8..=255) {
        let keys = InitialKeys::client(&hex(A1.dcid));
        let mut p = hex(A2_PROTECTED);
        p[at] ^= x;
        prop_assert!(decrypt_initial(&mut p, &keys).is_err());
    }

    /// A valid Initial with its header bytes made up: protect then
    /// decrypt gives the frames back.
    #[test]
    fn protect_decrypt_round_trip(
        dcid in proptest::collection::vec(any::<u8>(), 0..=20),
        scid in proptest::collection::vec(any::<u8>(), 0..=20),
        token in proptest::collection::vec(any::<u8>(), 0..40),
        pn in any::<u32>(),
        frames in proptest::collection::vec(any::<u8>(), 1..300),
    ) {
        let mut p = build_initial(&dcid, &scid, &token, pn, &frames, 0);
        let i = decrypt_initial(&mut p, &InitialKeys::client(&dcid)).unwrap();
        prop_assert_eq!(i.payload, &frames[..]);
        prop_assert_eq!(i.packet_number, u64::from(pn));
    }
}
