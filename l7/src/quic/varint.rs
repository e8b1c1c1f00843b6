//! QUIC's variable-length integers (RFC 9000 §16): read by
//! [`crate::reader::Reader::varint`], written here for the tests.
//!
//! ```text
//!  2MSB  length  usable bits  range
//!   00     1         6        0..=63
//!   01     2        14        0..=16383
//!   10     4        30        0..=1073741823
//!   11     8        62        0..=4611686018427387903
//! ```
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

/// The largest value a variable-length integer holds (2^62 - 1).
pub const VARINT_MAX: u64 = (1 << 62) - 1;

/// Writes `v` as a variable-length integer of exactly `len` bytes (1, 2, 4
/// or 8) into `out` (tests build packets with it); `None` when `v` does not
/// fit, `len` is not one of those or `out` is shorter than `len`.
#[cfg(test)]
pub(crate) fn write_varint(out: &mut [u8], v: u64, len: usize) -> Option<()> {
    let prefix: u8 = match len {
        1 if v < 1 << 6 => 0x00,
        2 if v < 1 << 14 => 0x40,
        4 if v < 1 << 30 => 0x80,
        8 if v <= VARINT_MAX => 0xc0,
        _ => return None,
    };
    let out = out.get_mut(..len)?;
    let be = v.to_be_bytes();
    out.copy_from_slice(be.get(8 - len..)?);
    *out.first_mut()? |= prefix;
    Some(())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::reader::Reader;
    use proptest::prelude::*;

    /// RFC 9000 §A.1's sample decodings.
    const SAMPLES: &[(&[u8], u64)] = &[
        (
            &[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c],
            151_288_809_941_952_652,
        ),
        (&[0x9d, 0x7f, 0x3e, 0x7d], 494_878_333),
        (&[0x7b, 0xbd], 15_293),
        (&[0x25], 37),
        (&[0x40, 0x25], 37),
    ];

    #[test]
    fn rfc9000_samples() {
        for (bytes, want) in SAMPLES {
            let mut r = Reader::new(bytes);
            assert_eq!(r.varint(), Some(*want), "{bytes:02x?}");
            assert_eq!(r.remaining(), 0);
            let mut out = [0u8; 8];
            write_varint(&mut out, *want, bytes.len()).unwrap();
            assert_eq!(&out[..bytes.len()], *bytes);
        }
    }

    #[test]
    fn truncated_leaves_position() {
        let mut r = Reader::new(&[0x01, 0x80, 0x00]);
        assert_eq!(r.u8(), Some(1));
        assert_eq!(r.varint(), None);
        assert_eq!(r.pos(), 1);
        assert_eq!(r.bytes(3), None);
        assert_eq!(r.bytes(2), Some(&[0x80, 0x00][..]));
        assert_eq!(r.u8(), None);
    }

    #[test]
    fn write_refuses_what_does_not_fit() {
        let mut out = [0u8; 8];
        assert_eq!(write_varint(&mut out, 64, 1), None);
        assert_eq!(write_varint(&mut out, 1 << 14, 2), None);
        assert_eq!(write_varint(&mut out, 1 << 30, 4), None);
        assert_eq!(write_varint(&mut out, 1 << 62, 8), None);
        assert_eq!(write_varint(&mut out, 1, 3), None);
        assert_eq!(write_varint(&mut out[..1], 1, 2), None);
    }

    proptest! {
        #[test]
        fn round_trip(v in 0..=VARINT_MAX, len_log in 0u32..4) {
            let len = 1usize << len_log;
            let mut out = [0u8; 8];
            if write_varint(&mut out, v, len).is_some() {
                let mut r = Reader::new(&out[..len]);
                prop_assert_eq!(r.varint(), Some(v));
            } else {
                prop_assert!(v >= 1u64 << (8 * len - 2));
            }
        }
    }
}
