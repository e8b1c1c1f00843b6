//! Tests of `frames.rs`: each frame an Initial may carry, the errors, the
//! ClientHello put back together from out-of-order and overlapping CRYPTO
//! frames across Initials and datagrams, and that no bytes panic.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]

use super::super::packet::tests::build_initial;
use super::super::rfc9001_vectors::*;
use super::super::varint::write_varint;
use super::*;
use proptest::prelude::*;

/// A CRYPTO frame: type, offset and length as 2-byte varints (offset 4
/// bytes when over 16383), then the data.
fn crypto(offset: usize, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x06];
    let mut v = [0u8; 4];
    let n = if offset < 1 << 14 { 2 } else { 4 };
    write_varint(&mut v, offset as u64, n).unwrap();
    f.extend_from_slice(&v[..n]);
    write_varint(&mut v, data.len() as u64, 2).unwrap();
    f.extend_from_slice(&v[..2]);
    f.extend_from_slice(data);
    f
}

/// A ClientHello of `len` body bytes: handshake header, then bytes that
/// differ from offset to offset.
fn hello(len: usize) -> Vec<u8> {
    let mut h = vec![1, (len >> 16) as u8, (len >> 8) as u8, len as u8];
    h.extend((0..len).map(|i| (i * 7 + 3) as u8));
    h
}

/// §A.2's ClientHello: the CRYPTO frame's data (offset 0, 241 bytes).
fn a2_hello() -> Vec<u8> {
    hex(A2_CRYPTO_FRAME)[4..].to_vec()
}

/// The server name the RFC's ClientHello asks for, found by a plain
/// search (the `tls` module parses ClientHellos; this only checks that
/// the bytes came through).
fn names_example_com(h: &[u8]) -> bool {
    h.windows(11).any(|w| w == b"example.com")
}

#[test]
fn each_frame() {
    let mut p = vec![0, 0, 0, 0x01];
    // ACK: largest 10, delay 0, 2 ranges, first range 1, (gap, len) x2.
    p.extend_from_slice(&[0x02, 10, 0, 2, 1, 0, 1, 0, 1]);
    // ACK_ECN: largest 0x4000 in 4 bytes, no range, 3 counts.
    p.extend_from_slice(&[0x03, 0x80, 0, 0x40, 0, 0, 0, 0, 1, 2, 3]);
    p.extend_from_slice(&crypto(5, b"abc"));
    // CONNECTION_CLOSE: error 0x0a, frame type 6, reason "no".
    p.extend_from_slice(&[0x1c, 0x0a, 0x06, 2, b'n', b'o', 0, 0]);
    let got: Vec<_> = Frames::new(&p).collect::<Result<_, _>>().unwrap();
    assert_eq!(
        got,
        [
            Frame::Padding { len: 3 },
            Frame::Ping,
            Frame::Ack { largest: 10 },
            Frame::Ack { largest: 0x4000 },
            Frame::Crypto {
                offset: 5,
                data: b"abc"
            },
            Frame::ConnectionClose { error_code: 0x0a },
            Frame::Padding { len: 2 },
        ]
    );
}

#[test]
fn frame_errors() {
    let cases: &[(&[u8], QuicError)] = &[
        // STREAM, NEW_TOKEN, HANDSHAKE_DONE, application CONNECTION_CLOSE.
        (
            &[0x08, 0, 0],
            QuicError::FrameNotAllowed { frame_type: 0x08 },
        ),
        (&[0x07, 0], QuicError::FrameNotAllowed { frame_type: 0x07 }),
        (&[0x1e], QuicError::FrameNotAllowed { frame_type: 0x1e }),
        (
            &[0x1d, 0, 0],
            QuicError::FrameNotAllowed { frame_type: 0x1d },
        ),
        (&[0x40], QuicError::FrameTruncated { frame_type: 0 }),
        (
            &[0x02, 1, 0, 5, 0, 1, 1],
            QuicError::FrameTruncated { frame_type: 2 },
        ),
        (
            &[0x03, 1, 0, 0, 0, 1, 1],
            QuicError::FrameTruncated { frame_type: 3 },
        ),
        (
            &[0x06, 0, 5, 1, 2],
            QuicError::FrameTruncated { frame_type: 6 },
        ),
        (&[0x06, 0], QuicError::FrameTruncated { frame_type: 6 }),
        (
            &[0x1c, 0, 0, 3, b'a'],
            QuicError::FrameTruncated { frame_type: 0x1c },
        ),
        (
            &[0x06, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 0],
            QuicError::CryptoOffsetOverflow,
        ),
    ];
    for (p, want) in cases {
        let mut f = Frames::new(p);
        let got = f.by_ref().find_map(Result::err);
        assert_eq!(got, Some(*want), "{p:02x?}");
        assert_eq!(f.next(), None, "the walk ends at an error");
        let mut r = CryptoReassembly::new();
        assert_eq!(r.feed_frames(p), Err(*want));
    }
    assert_eq!(
        CryptoReassembly::new().feed_frames(&[]),
        Err(QuicError::NoFrames)
    );
}

/// RFC 9001 §A.2's packet, through `feed_datagram`: the whole
/// ClientHello from one Initial.
#[test]
fn rfc9001_a2_client_hello() {
    let keys = InitialKeys::client(&hex(A1.dcid));
    let mut d = hex(A2_PROTECTED);
    let mut r = CryptoReassembly::new();
    assert_eq!(r.feed_datagram(&mut d, &keys), Ok(1));
    let h = r.client_hello().unwrap();
    assert_eq!(h, &a2_hello()[..]);
    assert_eq!(r.client_hello_len(), Some(241));
    assert!(names_example_com(h));
}

/// The ClientHello split over two Initials (CRYPTO at 0 and at N), fed
/// in either order, in two datagrams or coalesced in one.
#[test]
fn client_hello_across_two_initials() {
    let dcid = hex(A1.dcid);
    let keys = InitialKeys::client(&dcid);
    let h = a2_hello();
    for n in [1, 3, 4, 5, 100, 240] {
        let one = build_initial(&dcid, b"", b"", 0, &crypto(0, &h[..n]), 1200);
        let two = build_initial(&dcid, b"", b"", 1, &crypto(n, &h[n..]), 1200);
        for (a, b) in [(&one, &two), (&two, &one)] {
            let mut r = CryptoReassembly::new();
            assert_eq!(r.feed_datagram(&mut a.clone(), &keys), Ok(1));
            assert!(!r.is_complete(), "split at {n}");
            assert_eq!(r.feed_datagram(&mut b.clone(), &keys), Ok(1));
            assert_eq!(r.client_hello(), Some(&h[..]), "split at {n}");
            assert!(names_example_com(r.client_hello().unwrap()));

            let mut both = a.clone();
            both.extend_from_slice(b);
            let mut r = CryptoReassembly::new();
            assert_eq!(r.feed_datagram(&mut both, &keys), Ok(2));
            assert_eq!(r.client_hello(), Some(&h[..]));
        }
    }
}

/// What `contiguous` and `client_hello_len` say along the way.
#[test]
fn progress() {
    let h = hello(3000);
    let mut r = CryptoReassembly::new();
    r.feed_frames(&crypto(2000, &h[2000..])).unwrap();
    assert_eq!((r.contiguous(), r.client_hello_len()), (&[][..], None));
    r.feed_frames(&crypto(2, &h[2..1000])).unwrap();
    assert_eq!(r.contiguous(), b"");
    r.feed_frames(&crypto(0, &h[..2])).unwrap();
    assert_eq!(r.contiguous(), &h[..1000]);
    assert_eq!(r.client_hello_len(), Some(3004));
    assert_eq!(r.client_hello(), None);
    // An overlap that agrees, then the gap.
    r.feed_frames(&crypto(900, &h[900..2100])).unwrap();
    assert_eq!(r.client_hello(), Some(&h[..]));
    // Retransmitted data that agrees changes nothing.
    r.feed_frames(&crypto(10, &h[10..20])).unwrap();
    assert_eq!(r.client_hello(), Some(&h[..]));
}

#[test]
fn reassembly_errors() {
    let h = hello(100);
    let mut r = CryptoReassembly::new();
    r.feed_frames(&crypto(0, &h[..50])).unwrap();
    let mut bad = h[40..60].to_vec();
    bad[5] ^= 1;
    assert_eq!(
        r.feed_frames(&crypto(40, &bad)),
        Err(QuicError::CryptoMismatch { offset: 45 })
    );
    assert_eq!(
        r.feed_frames(&crypto(100, &[0; 5])),
        Err(QuicError::CryptoPastClientHello {
            end: 105,
            hello_end: 104
        })
    );

    // Data past the end seen before the header is.
    let mut r = CryptoReassembly::new();
    r.feed_frames(&crypto(100, &[0; 5])).unwrap();
    assert_eq!(
        r.feed_frames(&crypto(0, &h[..4])),
        Err(QuicError::CryptoPastClientHello {
            end: 105,
            hello_end: 104
        })
    );

    let mut r = CryptoReassembly::new();
    assert_eq!(
        r.feed_frames(&crypto(0, &[2, 0, 0, 1])),
        Err(QuicError::NotClientHello { msg_type: 2 })
    );
    let mut r = CryptoReassembly::new();
    assert_eq!(
        r.feed_frames(&crypto(0, &[1, 0, 0x10, 0])),
        Err(QuicError::ClientHelloTooLarge { len: 4096 })
    );
    let mut r = CryptoReassembly::new();
    assert_eq!(
        r.feed_frames(&crypto(4000, &[0; 97])),
        Err(QuicError::CryptoPastCapacity { end: 4097 })
    );
    // The largest ClientHello that fits.
    let mut r = CryptoReassembly::new();
    let big = hello(CRYPTO_CAPACITY - 4);
    r.feed_frames(&crypto(0, &big[..2000])).unwrap();
    r.feed_frames(&crypto(2000, &big[2000..])).unwrap();
    assert_eq!(r.client_hello(), Some(&big[..]));
}

/// Only the first packet's DCID counts (RFC 9000 §12.2); other packet
/// types are skipped; a bad Initial is an error.
#[test]
fn feed_datagram_skips() {
    let dcid = hex(A1.dcid);
    let keys = InitialKeys::client(&dcid);
    let h = hello(50);
    let mut d = build_initial(&dcid, b"", b"", 0, &crypto(0, &h[..20]), 0);
    // The server's Initial (another DCID), skipped.
    d.extend_from_slice(&hex(A3_PROTECTED));
    // A Handshake packet, skipped.
    d.extend_from_slice(&[0xe0, 0, 0, 0, 1, 0, 0, 0x40, 20]);
    d.extend_from_slice(&[0xaa; 20]);
    d.extend_from_slice(&build_initial(&dcid, b"", b"", 1, &crypto(20, &h[20..]), 0));
    d.extend_from_slice(&[0; 100]);
    let mut r = CryptoReassembly::new();
    assert_eq!(r.feed_datagram(&mut d, &keys), Ok(2));
    assert_eq!(r.client_hello(), Some(&h[..]));

    let mut d = hex(A2_PROTECTED);
    d[1100] ^= 1;
    assert_eq!(
        CryptoReassembly::new().feed_datagram(&mut d, &keys),
        Err(QuicError::Decrypt)
    );
    // A Version Negotiation packet: no Initial.
    let mut d = vec![0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    assert_eq!(CryptoReassembly::new().feed_datagram(&mut d, &keys), Ok(0));
}

proptest! {
    /// Any payload: fed or an error, never a panic; whatever is
    /// contiguous is what the frames said.
    #[test]
    fn any_frames(p in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut r = CryptoReassembly::new();
        let _ = r.feed_frames(&p);
        prop_assert!(r.contiguous().len() <= CRYPTO_CAPACITY);
        if let Some(h) = r.client_hello() {
            prop_assert_eq!(h.first(), Some(&1));
        }
    }

    /// CRYPTO frames of made-up offsets and lengths, in any order: no
    /// panic.
    #[test]
    fn any_crypto_frames(
        frames in proptest::collection::vec((0usize..5000, proptest::collection::vec(any::<u8>(), 0..300)), 0..12),
    ) {
        let mut r = CryptoReassembly::new();
        for (off, data) in frames {
            let _ = r.feed_frames(&crypto(off, &data));
        }
        let _ = r.client_hello();
    }

    /// A ClientHello cut into overlapping pieces, fed in any order, comes
    /// back whole, and only once every byte is in.
    #[test]
    fn pieces_in_any_order(
        len in 0usize..(CRYPTO_CAPACITY - 4),
        cuts in proptest::collection::vec((0.0f64..1.0, 0.0f64..1.0), 1..10),
        order in any::<u64>(),
    ) {
        let h = hello(len);
        let mut pieces: Vec<(usize, usize)> = cuts
            .iter()
            .map(|&(a, b)| {
                let (a, b) = ((a * h.len() as f64) as usize, (b * h.len() as f64) as usize);
                (a.min(b), a.max(b))
            })
            .collect();
        // And pieces that cover everything, so it completes.
        let step = h.len().div_ceil(3);
        pieces.extend((0..h.len()).step_by(step).map(|s| (s, (s + step).min(h.len()))));
        let n = pieces.len();
        let mut idx: Vec<usize> = (0..n).collect();
        let mut o = order;
        for i in (1..n).rev() {
            idx.swap(i, (o % (i as u64 + 1)) as usize);
            o /= i as u64 + 1;
        }
        let mut r = CryptoReassembly::new();
        for (k, &i) in idx.iter().enumerate() {
            let (a, b) = pieces[i];
            r.feed_frames(&crypto(a, &h[a..b])).unwrap();
            prop_assert!(h.starts_with(r.contiguous()));
            if k + 1 < n && r.is_complete() {
                prop_assert_eq!(r.contiguous().len(), h.len());
            }
        }
        prop_assert_eq!(r.client_hello(), Some(&h[..]));
    }

    /// Any datagram, with keys from its own DCID: no panic.
    #[test]
    fn any_datagram(mut d in proptest::collection::vec(any::<u8>(), 0..1400)) {
        let dcid = Header::parse(&d).map(|h| h.dcid.to_vec()).unwrap_or_default();
        let keys = InitialKeys::client(&dcid);
        let _ = CryptoReassembly::new().feed_datagram(&mut d, &keys);
    }

    /// A valid Initial of arbitrary frames: feeding the datagram does
    /// what feeding its plaintext does (the frames and their PADDING).
    #[test]
    fn any_frames_in_a_valid_initial(frames in proptest::collection::vec(any::<u8>(), 1..400)) {
        let dcid = [9u8; 8];
        let mut d = build_initial(&dcid, b"", b"", 0, &frames, 1200);
        // 19 header bytes, 4 of packet number, 16 of tag.
        let mut plain = frames.clone();
        plain.resize(frames.len().max(1200 - 19 - 4 - 16), 0);
        let mut r = CryptoReassembly::new();
        let fed = r.feed_datagram(&mut d, &InitialKeys::client(&dcid));
        let mut want = CryptoReassembly::new();
        let expect = want.feed_frames(&plain);
        prop_assert_eq!(fed, expect.map(|()| 1));
        prop_assert_eq!(r.contiguous(), want.contiguous());
    }
}
